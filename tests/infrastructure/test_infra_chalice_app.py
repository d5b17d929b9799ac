"""The Chalice app as deployed: its rules on the custom bus, its role, logging and the webhook."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from chalicelib.contracts import names
from stacks.chalice_app import (
    ALERTING,
    ANALYSIS,
    COMPREHEND_ACTIONS,
    EGRESS,
    EVENTBRIDGE_EVENT_TYPES,
    FUNCTION_GROUPS,
    INGRESS,
    KEY_PHRASES_ACTION,
    LEX_FULFILMENT,
    PLUMBING,
    REKOGNITION_ACTIONS,
    RESPONDING_PHOTOS,
    RESPONDING_TEXT,
    REST_API_HANDLER,
    SNS_EVENT_TYPE,
    WEBHOOK_PATH,
    XRAY_ACTIONS,
    analysis_actions,
    function_logical_id,
)
from stacks.egress import IDEMPOTENCY_ACTIONS
from stacks.rule_targets import MAX_EVENT_AGE, RETRY_ATTEMPTS

from tests.infrastructure.synthesis import TEST_CONTEXT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

#: Chalice functions (as registered) that must have an EventBridge rule on the custom bus, with its pattern.
RULE_FUNCTIONS = {
    "plumbing_access_revoked": names.ACCESS_REVOKED_PATTERN,
    "alerting_alert_negative": names.NEGATIVE_MESSAGE_PATTERN,
    "responding_reply_to_photos": names.ANALYSED_WITH_IMAGES_PATTERN,
    "responding_reply_to_text": names.ANALYSED_TEXT_ONLY_PATTERN,
    "egress_post_reply": names.SEND_TWEET_PATTERN,
}


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _bus(template: dict[str, Any]) -> str:
    (bus,) = _of_type(template, "AWS::Events::EventBus")
    return bus


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    functions = _of_type(template, "AWS::Serverless::Function")
    assert functions, "the Chalice app has no functions"
    return functions


def _topic(template: dict[str, Any]) -> str:
    (topic,) = _of_type(template, "AWS::SNS::Topic")
    return topic


def _rules_by_function(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        logical_id: [
            event
            for event in function["Properties"].get("Events", {}).values()
            if event["Type"] in EVENTBRIDGE_EVENT_TYPES
        ]
        for logical_id, function in _functions(template).items()
    }


def test_every_chalice_event_rule_is_on_the_custom_bus(synth):
    bus = _bus(synth.template)
    rules = _rules_by_function(synth.template)
    for name, pattern in RULE_FUNCTIONS.items():
        assert [e["Properties"]["Pattern"] for e in rules[function_logical_id(name)]] == [pattern], name
    for logical_id, events in rules.items():
        for event in events:
            assert event["Properties"]["EventBusName"] == {"Ref": bus}, logical_id


def test_every_chalice_sns_subscription_is_on_the_cdk_topic(synth):
    subscriptions = [
        event
        for function in _functions(synth.template).values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == SNS_EVENT_TYPE
    ]
    assert subscriptions, "expected the @on_sns_message handler alerting.forward_alert"
    for event in subscriptions:
        assert event["Properties"]["Topic"] == {"Ref": _topic(synth.template)}


def test_after_the_transform_every_rule_may_invoke_its_function(synth):
    functions = set(_of_type(synth.expanded, "AWS::Lambda::Function"))
    permissions = [p["Properties"] for p in _of_type(synth.expanded, "AWS::Lambda::Permission").values()]
    checked = 0
    for rule_id, rule in _of_type(synth.expanded, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            arn = target["Arn"]
            if not (isinstance(arn, dict) and arn.get("Fn::GetAtt", [None])[0] in functions):
                continue
            function = arn["Fn::GetAtt"][0]
            assert rule["Properties"]["EventBusName"] == {"Ref": _bus(synth.template)}, rule_id
            matching = [
                p
                for p in permissions
                if p["Action"] == "lambda:InvokeFunction"
                and p["Principal"] == "events.amazonaws.com"
                and p["FunctionName"] in ({"Ref": function}, {"Fn::GetAtt": [function, "Arn"]})
                and p["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}
            ]
            assert matching, f"{rule_id} -> {function} has no Lambda::Permission for events.amazonaws.com"
            checked += 1
    assert checked, "no EventBridge rule targets a Chalice function"


def test_after_the_transform_every_subscription_may_invoke_its_function(synth):
    functions = set(_of_type(synth.expanded, "AWS::Lambda::Function"))
    permissions = [p["Properties"] for p in _of_type(synth.expanded, "AWS::Lambda::Permission").values()]
    topic = {"Ref": _topic(synth.template)}
    checked = 0
    for subscription_id, subscription in _of_type(synth.expanded, "AWS::SNS::Subscription").items():
        properties = subscription["Properties"]
        if properties["Protocol"] != "lambda":
            continue
        endpoint = properties["Endpoint"]
        function = endpoint.get("Fn::GetAtt", [None])[0] if isinstance(endpoint, dict) else None
        assert function in functions, subscription_id
        # The topic CDK made (encrypted, TLS only), not one named like it that nobody created.
        assert properties["TopicArn"] == topic, subscription_id
        assert any(
            p["Action"] == "lambda:InvokeFunction"
            and p["Principal"] == "sns.amazonaws.com"
            and p["FunctionName"] in ({"Ref": function}, {"Fn::GetAtt": [function, "Arn"]})
            and p["SourceArn"] == properties["TopicArn"]
            for p in permissions
        ), f"{subscription_id} -> {function} has no Lambda::Permission for sns.amazonaws.com"
        checked += 1
    assert checked, "no SNS subscription targets a Chalice function (alerting.forward_alert)"


def test_environment_of_every_function(synth):
    buckets = synth.template["Outputs"]["DataLakeBucketName"]["Value"]
    for logical_id, function in _functions(synth.template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["EVENT_BUS_NAME"] == {"Ref": _bus(synth.template)}, logical_id
        assert variables["TWITTER_SECRET_NAME"] == "TwitterSecret", logical_id
        assert variables["BOT_USER_ID"] == "1234567890123456789", logical_id
        assert variables["OVERSIZE_BUCKET"] == buckets, logical_id
        assert variables["BOT_RUNTIME"] == "aws", logical_id
        assert variables["MEDIA_BUCKET"] == synth.template["Outputs"]["MediaBucketName"]["Value"], logical_id
        assert variables["ALERT_TOPIC_ARN"] == {"Ref": _topic(synth.template)}, logical_id
        assert variables["IMAGE_FEATURES"] == "labels,celebrities,text", logical_id
        assert variables["TEXT_KEY_PHRASES"] == "false", logical_id
        assert variables["CHAT_WEBHOOK_SECRET_NAME"] == TEST_CONTEXT["chatWebhookSecretName"], logical_id
        assert variables["BLUR_UNRECOGNISED_FACES"] == "true", logical_id
        assert variables["BOT_EGRESS"] == "x", logical_id
        assert variables["IDEMPOTENCY_TABLE"] == synth.template["Outputs"]["IdempotencyTableName"]["Value"], logical_id


def test_only_the_text_responder_knows_the_lex_bot(synth):
    """The alias names the fulfilment function: the bot's ids on every function would be a dependency cycle."""
    outputs = synth.template["Outputs"]
    lex_variables = {
        "LEX_BOT_ID": outputs["LexBotId"]["Value"],
        "LEX_BOT_ALIAS_ID": outputs["LexBotAliasId"]["Value"],
        "LEX_LOCALE_ID": "en_US",
    }
    text_responder = function_logical_id("responding_reply_to_text")
    for logical_id, function in _functions(synth.template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        if logical_id == text_responder:
            assert {k: variables[k] for k in lex_variables} == lex_variables
        else:
            assert not set(lex_variables) & set(variables), logical_id


def test_analysis_functions_get_more_memory_and_time_than_the_webhook(synth):
    functions = _functions(synth.template)
    for logical_id in ("AnalysisDownloadMedia", "AnalysisAnalyseImage", "AnalysisAnalyseText"):
        assert functions[logical_id]["Properties"]["MemorySize"] == 512, logical_id
        assert functions[logical_id]["Properties"]["Timeout"] == 60, logical_id
    # The webhook must answer X fast and cheaply; it keeps the app's defaults.
    assert functions["APIHandler"]["Properties"]["MemorySize"] == 256
    assert functions["APIHandler"]["Properties"]["Timeout"] == 30


@pytest.mark.parametrize(
    ("name", "memory", "timeout"),
    [
        ("responding_reply_to_photos", 512, 60),  # Pillow decodes, draws and blurs the photos
        ("responding_reply_to_text", 256, 30),
        ("responding_lex_fulfilment", 128, 10),  # picks a joke or a fact; Lex waits for it
        ("egress_post_reply", 256, 60),  # may wait for X's rate-limit reset within its budget
    ],
)
def test_reply_functions_memory_and_timeout(synth, name, memory, timeout):
    properties = _functions(synth.template)[function_logical_id(name)]["Properties"]
    assert (properties["MemorySize"], properties["Timeout"]) == (memory, timeout)


def test_functions_run_python311_on_x86_64_with_their_groups_role(synth):
    roles = _of_type(synth.template, "AWS::IAM::Role")
    by_group: dict[str, set[str]] = {}
    for group, members in FUNCTION_GROUPS.items():
        for name in members:
            properties = _functions(synth.template)[function_logical_id(name)]["Properties"]
            assert properties["Runtime"] == "python3.11", name
            assert properties["Architectures"] == ["x86_64"], name
            (role, attribute) = properties["Role"]["Fn::GetAtt"]
            assert role in roles and attribute == "Arn", name
            by_group.setdefault(group, set()).add(role)
    # Every function is in a group, each group has one role, and no two groups share one.
    assert sum(len(members) for members in FUNCTION_GROUPS.values()) == len(_functions(synth.template))
    assert all(len(group_roles) == 1 for group_roles in by_group.values()), by_group
    assert len(set.union(*by_group.values())) == len(FUNCTION_GROUPS)


def test_each_function_logs_to_its_own_group(synth):
    groups = _of_type(synth.template, "AWS::Logs::LogGroup")
    used = [f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in _functions(synth.template).values()]
    assert len(set(used)) == len(used)
    assert set(used) <= set(groups)


def _role_of(template: dict[str, Any], name: str) -> str:
    role: str = _functions(template)[function_logical_id(name)]["Properties"]["Role"]["Fn::GetAtt"][0]
    return role


def _permissions(template: dict[str, Any], role: str) -> dict[str, list[Any]]:
    """Every action the role is allowed, with the resources it is allowed on."""
    assert not _of_type(template, "AWS::IAM::Role")[role]["Properties"].get("ManagedPolicyArns")
    assert not _of_type(template, "AWS::IAM::Role")[role]["Properties"].get("Policies")
    statements = [
        statement
        for policy in _of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_action: dict[str, list[Any]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            by_action.setdefault(action, []).extend(resources)
    return by_action


def _log_groups_of(template: dict[str, Any], group: str) -> list[dict[str, Any]]:
    return sorted(
        (
            {"Fn::GetAtt": [f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}
            for f in (_functions(template)[function_logical_id(name)] for name in FUNCTION_GROUPS[group])
        ),
        key=json.dumps,
    )


def _expected_permissions(template: dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
    """Per role group, exactly what it may do (with the test context: all image features, no key phrases)."""
    bus = [{"Fn::GetAtt": [_bus(template), "Arn"]}]
    outputs = template["Outputs"]
    lake = outputs["DataLakeBucketName"]["Value"]["Ref"]
    oversized = [{"Fn::Join": ["", [{"Fn::GetAtt": [lake, "Arn"]}, "/oversized/*"]]}]
    media = [{"Fn::Join": ["", [{"Fn::GetAtt": [outputs["MediaBucketName"]["Value"]["Ref"], "Arn"]}, "/*"]]}]
    (queue,) = [k for k in _of_type(template, "AWS::SQS::Queue") if k.startswith("AppHandlerFailures")]
    failures = [{"Fn::GetAtt": [queue, "Arn"]}]
    (key,) = _of_type(template, "AWS::KMS::Key")
    table = [{"Fn::GetAtt": [outputs["IdempotencyTableName"]["Value"]["Ref"], "Arn"]}]
    (alias,) = _of_type(template, "AWS::Lex::BotAlias")
    twitter: Any = ":secret:TwitterSecret-??????"
    chat: Any = f":secret:{TEST_CONTEXT['chatWebhookSecretName']}-??????"
    publisher: dict[str, list[Any]] = {"events:PutEvents": bus, "s3:PutObject": oversized}
    async_invoked: dict[str, list[Any]] = {"sqs:SendMessage": failures}
    expected: dict[str, dict[str, list[Any]]] = {
        INGRESS: {**publisher, "secretsmanager:GetSecretValue": [twitter]},
        PLUMBING: {**async_invoked},
        ANALYSIS: {
            **publisher,
            "s3:PutObject": oversized + media,
            "s3:GetObject": media,
            **{action: ["*"] for action in analysis_actions(("labels", "celebrities", "text"), False)},
        },
        ALERTING: {
            **async_invoked,
            "sns:Publish": [{"Ref": _topic(template)}],
            "kms:GenerateDataKey": [{"Fn::GetAtt": [key, "Arn"]}],
            "kms:Decrypt": [{"Fn::GetAtt": [key, "Arn"]}],
            "secretsmanager:GetSecretValue": [chat],
        },
        RESPONDING_PHOTOS: {**async_invoked, **publisher, "s3:PutObject": oversized + media, "s3:GetObject": media},
        RESPONDING_TEXT: {**async_invoked, **publisher, "lex:RecognizeText": [{"Fn::GetAtt": [alias, "Arn"]}]},
        LEX_FULFILMENT: {},
        EGRESS: {
            **async_invoked,
            "secretsmanager:GetSecretValue": [twitter],
            "s3:GetObject": media,
            **{action: table for action in IDEMPOTENCY_ACTIONS},
        },
    }
    for group, permissions in expected.items():
        logs = _log_groups_of(template, group)
        permissions.update({"logs:CreateLogStream": logs, "logs:PutLogEvents": logs})
        permissions.update({action: ["*"] for action in XRAY_ACTIONS})
    return expected


@pytest.mark.parametrize("group", list(FUNCTION_GROUPS))
def test_each_role_is_least_privilege(synth, group):
    role = _role_of(synth.template, FUNCTION_GROUPS[group][0])
    actual = _permissions(synth.template, role)
    expected = _expected_permissions(synth.template)[group]
    assert set(actual) == set(expected)
    for action, resources in expected.items():
        if resources and isinstance(resources[0], str) and resources[0].startswith(":secret:"):
            (secret,) = actual[action]
            assert resources[0] in json.dumps(secret), action
        else:
            assert sorted(actual[action], key=json.dumps) == sorted(resources, key=json.dumps), action
    # "*" only where the service has no resource-level permissions.
    wildcard = {a for a, resources in actual.items() if "*" in resources}
    assert wildcard <= set(XRAY_ACTIONS) | set(REKOGNITION_ACTIONS.values()) | set(COMPREHEND_ACTIONS) | {
        KEY_PHRASES_ACTION
    }
    assert "*" not in json.dumps(actual["logs:PutLogEvents"]).replace('"Arn"', "")


def test_webhook_role_cannot_analyse_alert_store_idempotency_or_talk_to_lex(synth):
    """The public function: a bug or an injection in the webhook must not reach the paid or private services."""
    actions = _permissions(synth.template, _role_of(synth.template, REST_API_HANDLER))
    forbidden = ("rekognition:", "comprehend:", "sns:", "kms:", "dynamodb:", "lex:")
    assert [a for a in actions if a.startswith(forbidden)] == []
    # The webhook role is used by no other function.
    assert [
        n
        for names in FUNCTION_GROUPS.values()
        for n in names
        if _role_of(synth.template, n) == _role_of(synth.template, REST_API_HANDLER)
    ] == [REST_API_HANDLER]


@pytest.mark.parametrize(
    ("features", "key_phrases", "expected"),
    [
        (("labels",), False, {"rekognition:DetectLabels"}),
        (
            ("celebrities", "text"),
            True,
            {"rekognition:RecognizeCelebrities", "rekognition:DetectText", KEY_PHRASES_ACTION},
        ),
        ((), False, set()),
    ],
)
def test_analysis_actions_follow_the_configuration(features, key_phrases, expected):
    assert set(analysis_actions(features, key_phrases)) == expected | set(COMPREHEND_ACTIONS)


def test_functions_are_traced(synth):
    for logical_id, function in _functions(synth.template).items():
        assert function["Properties"]["Tracing"] == "Active", logical_id
    for logical_id, function in _of_type(synth.expanded, "AWS::Lambda::Function").items():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}, logical_id


def _handler_failures(template: dict[str, Any]) -> str:
    (queue,) = [k for k in _of_type(template, "AWS::SQS::Queue") if k.startswith("AppHandlerFailures")]
    return queue


def _asynchronously_invoked(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: f
        for k, f in _functions(template).items()
        if any(
            e["Type"] in EVENTBRIDGE_EVENT_TYPES | {SNS_EVENT_TYPE} for e in f["Properties"].get("Events", {}).values()
        )
    }


def test_handler_failures_queue_is_encrypted_tls_only_and_keeps_14_days(synth):
    queue = _handler_failures(synth.template)
    properties = synth.template["Resources"][queue]["Properties"]
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [
        p["Properties"]
        for p in _of_type(synth.template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    statements = policy["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    # Only rules on the bot's bus, in this account.
    source = json.dumps(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert json.dumps([":rule/", {"Ref": _bus(synth.template)}, "/*"])[1:-1] in source
    assert '{"Ref": "AWS::AccountId"}' in source


def test_every_asynchronously_invoked_function_sends_failures_to_the_queue(synth):
    queue = {"Fn::GetAtt": [_handler_failures(synth.template), "Arn"]}
    functions = _asynchronously_invoked(synth.template)
    assert {function_logical_id(n) for n in RULE_FUNCTIONS} | {function_logical_id("alerting_forward_alert")} == set(
        functions
    )
    for logical_id, function in functions.items():
        config = function["Properties"]["EventInvokeConfig"]
        assert config["MaximumRetryAttempts"] == 2, logical_id
        assert config["DestinationConfig"] == {"OnFailure": {"Type": "SQS", "Destination": queue}}, logical_id
    # After the transform: one Lambda EventInvokeConfig per function, on $LATEST (what the rules invoke).
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in _of_type(synth.expanded, "AWS::Lambda::EventInvokeConfig").values()
    }
    assert set(configs) == set(functions)
    for logical_id, config in configs.items():
        assert config["Qualifier"] == "$LATEST", logical_id
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": queue}}, logical_id


def test_every_chalice_rule_dead_letters_undeliverable_events(synth):
    queue = {"Fn::GetAtt": [_handler_failures(synth.template), "Arn"]}
    functions = set(_functions(synth.template))
    checked = 0
    for rule_id, rule in _of_type(synth.expanded, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            arn = target["Arn"]
            if not (isinstance(arn, dict) and arn.get("Fn::GetAtt", [None])[0] in functions):
                continue
            assert target["DeadLetterConfig"] == {"Arn": queue}, rule_id
            assert target["RetryPolicy"] == {
                "MaximumRetryAttempts": RETRY_ATTEMPTS,
                "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds()),
            }, rule_id
            checked += 1
    assert checked == len(RULE_FUNCTIONS)


def test_alarm_on_any_handler_failure(synth):
    queue = _handler_failures(synth.template)
    synth.assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
        },
    )


def test_rest_api_logs_and_throttles(synth):
    (api,) = _of_type(synth.template, "AWS::Serverless::Api").values()
    assert "DestinationArn" in api["Properties"]["AccessLogSetting"]
    (settings,) = api["Properties"]["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0
    # API Gateway refuses log settings until the account names its CloudWatch role.
    (account,) = _of_type(synth.template, "AWS::ApiGateway::Account")
    assert account in api["DependsOn"]
    (stage,) = _of_type(synth.expanded, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["MethodSettings"] == [settings]


def test_outputs(synth):
    outputs = synth.template["Outputs"]
    webhook = json.dumps(outputs["WebhookUrl"]["Value"])
    assert "execute-api" in webhook
    assert webhook.endswith(f'"{WEBHOOK_PATH}"]]}}')
    synth.assertions.has_output("AthenaWorkGroup", {"Value": {"Ref": Match.any_value()}})
    synth.assertions.has_output("DataLakeBucketName", {"Value": {"Ref": Match.any_value()}})
