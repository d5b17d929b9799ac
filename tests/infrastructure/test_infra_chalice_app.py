"""The Chalice app as deployed (stacks/chalice_app.py and what the services attach to it): its rules
on the custom bus, its roles, environment, limits, logging and tracing.

Service by service: the webhook's edge in test_infra_ingress.py, the failure queue in
test_infra_plumbing.py, the Lex bot in test_infra_responding.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match
from stacks.alerting import ALERTING
from stacks.analysis import (
    ANALYSIS,
    CLAIM_ACTIONS,
    COMPREHEND_ACTIONS,
    KEY_PHRASES_ACTION,
    MEDIA_DELETION,
    REKOGNITION_ACTIONS,
    analysis_actions,
)
from stacks.bot_stack import FUNCTION_ROLES, BotStack
from stacks.chalice_app import (
    EVENTBRIDGE_EVENT_TYPES,
    SNS_EVENT_TYPE,
    SQS_POLLER_ACTIONS,
    XRAY_ACTIONS,
    ChaliceApp,
    function_logical_id,
)
from stacks.egress import EGRESS
from stacks.grants import COUNTER_ACTIONS, IDEMPOTENCY_ACTIONS
from stacks.ingress import INGRESS, POLLER
from stacks.plumbing import PLUMBING
from stacks.responding import LEX_FULFILMENT, MODERATION_ACTIONS, OPT_OUT_ACTIONS, RESPONDING_PHOTOS, RESPONDING_TEXT

from tests.infrastructure.synthesis import REGION as SYNTH_REGION
from tests.infrastructure.synthesis import TEST_CONTEXT
from tests.infrastructure.templates import (
    RULE_FUNCTIONS,
    egress_queue,
    handler_failures,
    of_type,
    only,
    permissions,
    role_of,
)
from tests.infrastructure.templates import functions as _functions

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

#: Role -> the functions (as Chalice registers them) that share it.
FUNCTION_GROUPS = {name: role.functions for name, role in FUNCTION_ROLES.items()}


def _bus(template: dict[str, Any]) -> str:
    return only(template, "AWS::Events::EventBus")


def _topic(template: dict[str, Any]) -> str:
    """The alert topic (the operations topic is the other one, and no function uses it)."""
    topic: str = template["Outputs"]["AlertTopicArn"]["Value"]["Ref"]
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
    functions = set(of_type(synth.expanded, "AWS::Lambda::Function"))
    permissions = [p["Properties"] for p in of_type(synth.expanded, "AWS::Lambda::Permission").values()]
    checked = 0
    for rule_id, rule in of_type(synth.expanded, "AWS::Events::Rule").items():
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
    functions = set(of_type(synth.expanded, "AWS::Lambda::Function"))
    permissions = [p["Properties"] for p in of_type(synth.expanded, "AWS::Lambda::Permission").values()]
    topic = {"Ref": _topic(synth.template)}
    checked = 0
    for subscription_id, subscription in of_type(synth.expanded, "AWS::SNS::Subscription").items():
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
        # No BOT_ADAPTERS: deployed functions use the default, AWS adapters (never the local ones).
        assert "BOT_ADAPTERS" not in variables and "BOT_RUNTIME" not in variables, logical_id
        assert variables["MEDIA_BUCKET"] == synth.template["Outputs"]["MediaBucketName"]["Value"], logical_id
        assert variables["ALERT_TOPIC_ARN"] == {"Ref": _topic(synth.template)}, logical_id
        assert variables["IMAGE_FEATURES"] == "labels,celebrities,text", logical_id
        assert variables["TEXT_KEY_PHRASES"] == "false", logical_id
        assert variables["CHAT_WEBHOOK_SECRET_NAME"] == TEST_CONTEXT["chatWebhookSecretName"], logical_id
        assert variables["BLUR_UNRECOGNISED_FACES"] == "true", logical_id
        assert variables["BOT_EGRESS"] == "x", logical_id
        assert variables["IDEMPOTENCY_TABLE"] == synth.template["Outputs"]["IdempotencyTableName"]["Value"], logical_id
        # The Responding guards' defaults (the test context sets none).
        assert variables["REPLIES_PER_AUTHOR"] == "5", logical_id
        assert variables["REPLIES_PER_CONVERSATION"] == "10", logical_id
        assert variables["REPLY_WINDOW_SECONDS"] == "900", logical_id
        assert variables["REPLY_CHAIN_MAX_DEPTH"] == "3", logical_id


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


def test_functions_run_python312_on_x86_64_with_their_groups_role(synth):
    roles = of_type(synth.template, "AWS::IAM::Role")
    by_group: dict[str, set[str]] = {}
    for group, members in FUNCTION_GROUPS.items():
        for name in members:
            properties = _functions(synth.template)[function_logical_id(name)]["Properties"]
            assert properties["Runtime"] == "python3.12", name
            assert properties["Architectures"] == ["x86_64"], name
            (role, attribute) = properties["Role"]["Fn::GetAtt"]
            assert role in roles and attribute == "Arn", name
            by_group.setdefault(group, set()).add(role)
    # Every function is in a group, each group has one role, and no two groups share one.
    assert sum(len(members) for members in FUNCTION_GROUPS.values()) == len(_functions(synth.template))
    assert all(len(group_roles) == 1 for group_roles in by_group.values()), by_group
    assert len(set.union(*by_group.values())) == len(FUNCTION_GROUPS)


def test_each_function_logs_to_its_own_group(synth):
    groups = of_type(synth.template, "AWS::Logs::LogGroup")
    used = [f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in _functions(synth.template).values()]
    assert len(set(used)) == len(used)
    assert set(used) <= set(groups)


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
    # Readers of photos may list the bucket (the bucket itself, not its objects): a missing photo is then NoSuchKey.
    media_reader: dict[str, list[Any]] = {
        "s3:GetObject": media,
        "s3:ListBucket": [{"Fn::GetAtt": [outputs["MediaBucketName"]["Value"]["Ref"], "Arn"]}],
    }
    failures = [{"Fn::GetAtt": [handler_failures(template), "Arn"]}]
    (key, _arn) = template["Resources"][_topic(template)]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"]
    table = [{"Fn::GetAtt": [outputs["IdempotencyTableName"]["Value"]["Ref"], "Arn"]}]
    alias = only(template, "AWS::Lex::BotAlias")
    twitter: Any = ":secret:TwitterSecret-??????"
    chat: Any = f":secret:{TEST_CONTEXT['chatWebhookSecretName']}-??????"
    publisher: dict[str, list[Any]] = {"events:PutEvents": bus, "s3:PutObject": oversized}
    async_invoked: dict[str, list[Any]] = {"sqs:SendMessage": failures}
    # Every consumer of an event that may be claim-checked reads it back, under the prefix only.
    oversized_reader: dict[str, list[Any]] = {"s3:GetObject": oversized}
    oversized_and_media_reader: dict[str, list[Any]] = {**media_reader, "s3:GetObject": oversized + media}
    media_bucket = {"Fn::GetAtt": [outputs["MediaBucketName"]["Value"]["Ref"], "Arn"]}
    posting_switch = {
        "Fn::Join": [
            "",
            [
                f"arn:aws:ssm:{SYNTH_REGION}:",
                {"Ref": "AWS::AccountId"},
                ":parameter/",
                {"Ref": only(template, "AWS::SSM::Parameter")},
            ],
        ]
    }
    expected: dict[str, dict[str, list[Any]]] = {
        INGRESS: {**publisher, "secretsmanager:GetSecretValue": [twitter]},
        # The session synth is webhook-only: the poller is deployed with no grant and no schedule
        # (tests/infrastructure/test_infra_poller.py checks its grants with -c ingress=poll).
        POLLER: {},
        PLUMBING: {**async_invoked},
        ANALYSIS: {
            **publisher,
            "s3:PutObject": oversized + media,
            **oversized_and_media_reader,
            **{action: ["*"] for action in analysis_actions(("labels", "celebrities", "text"), False)},
            # One analysis per post: the claim is an item of the idempotency table.
            **{action: table for action in CLAIM_ACTIONS},
            # Store then check: a photo stored while its post was deleted on X goes at once, under users/ only.
            "s3:DeleteObject": [{"Fn::Join": ["", [media_bucket, "/users/*"]]}],
        },
        # Deleted posts and revoked users: list and delete under users/ only, mark the deletion
        # under deleted/ only, publish MEDIA_DELETED.
        MEDIA_DELETION: {
            **async_invoked,
            **publisher,
            **oversized_reader,
            "s3:PutObject": [*oversized, {"Fn::Join": ["", [media_bucket, "/deleted/*"]]}],
            "s3:ListBucket": [media_bucket],
            "s3:DeleteObject": [{"Fn::Join": ["", [media_bucket, "/users/*"]]}],
        },
        ALERTING: {
            **async_invoked,
            **oversized_reader,
            "sns:Publish": [{"Ref": _topic(template)}],
            "kms:GenerateDataKey": [{"Fn::GetAtt": [key, "Arn"]}],
            "kms:Decrypt": [{"Fn::GetAtt": [key, "Arn"]}],
            "secretsmanager:GetSecretValue": [chat],
            # One alert per post: Powertools idempotency records in the same table as Egress's.
            **{action: table for action in IDEMPOTENCY_ACTIONS},
        },
        RESPONDING_PHOTOS: {
            **async_invoked,
            **publisher,
            "s3:PutObject": oversized + media,
            **oversized_and_media_reader,
            # The guards' counters: "count#..." items of the idempotency table.
            **{action: table for action in COUNTER_ACTIONS},
            # Who said "stop": "optout#..." items of the same table (UpdateItem twice: two statements,
            # each with its own key condition).
            **{action: table for action in OPT_OUT_ACTIONS},
            # One alert per withheld photo's post: Powertools idempotency records, as Alerting's.
            **{action: table for action in IDEMPOTENCY_ACTIONS},
            "dynamodb:GetItem": table + table,
            "dynamodb:UpdateItem": table + table + table,
            # The moderation check before a repost ('*': no resource-level permission), and its alert.
            **{action: ["*"] for action in MODERATION_ACTIONS},
            "sns:Publish": [{"Ref": _topic(template)}],
            "kms:GenerateDataKey": [{"Fn::GetAtt": [key, "Arn"]}],
            "kms:Decrypt": [{"Fn::GetAtt": [key, "Arn"]}],
        },
        RESPONDING_TEXT: {
            **async_invoked,
            **publisher,
            **oversized_reader,
            "lex:RecognizeText": [{"Fn::GetAtt": [alias, "Arn"]}],
            **{action: table for action in COUNTER_ACTIONS},
            **{action: table for action in OPT_OUT_ACTIONS},
            "dynamodb:UpdateItem": table + table,
        },
        LEX_FULFILMENT: {},
        EGRESS: {
            # Not invoked asynchronously: Lambda polls Egress's queue with the function's role.
            **{action: [{"Fn::GetAtt": [egress_queue(template), "Arn"]}] for action in SQS_POLLER_ACTIONS},
            # REPLY_POSTED (or REPLY_SKIPPED) for each reply.
            **publisher,
            "secretsmanager:GetSecretValue": [twitter],
            **oversized_and_media_reader,
            **{action: table for action in IDEMPOTENCY_ACTIONS},
            # The kill switch, read at each post: that parameter only.
            "ssm:GetParameter": [posting_switch],
            # What was stored for a post deleted on X while it was analysed: under users/ only.
            "s3:DeleteObject": [{"Fn::Join": ["", [media_bucket, "/users/*"]]}],
        },
    }
    for group, granted in expected.items():
        logs = _log_groups_of(template, group)
        granted.update({"logs:CreateLogStream": logs, "logs:PutLogEvents": logs})
        granted.update({action: ["*"] for action in XRAY_ACTIONS})
    return expected


@pytest.mark.parametrize("group", list(FUNCTION_GROUPS))
def test_each_role_is_least_privilege(synth, group):
    role = role_of(synth.template, FUNCTION_GROUPS[group][0])
    actual = permissions(synth.template, role)
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
        KEY_PHRASES_ACTION,
        *MODERATION_ACTIONS,
    }
    assert "*" not in json.dumps(actual["logs:PutLogEvents"]).replace('"Arn"', "")


def test_functions_are_traced(synth):
    for logical_id, function in _functions(synth.template).items():
        assert function["Properties"]["Tracing"] == "Active", logical_id
    for logical_id, function in of_type(synth.expanded, "AWS::Lambda::Function").items():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}, logical_id


def test_the_services_acknowledge_the_resources_sam_generates(synth):
    """Each SAM-generated type's acknowledgments come from the module of the resource they are about."""
    assert isinstance(synth.stack, BotStack)
    app = synth.stack.app
    assert isinstance(app, ChaliceApp)
    assert synth.stack.node.find_child("App") is app
    assert {t: set(rules) for t, rules in app.generated_acknowledgments.items()} == {
        "AWS::Lambda::Function": {"AwsSolutions-L1"},
        "AWS::ApiGateway::RestApi": {"AwsSolutions-APIG2"},
        "AWS::ApiGateway::Stage": {"AwsSolutions-APIG3"},
    }


def test_outputs(synth):
    synth.assertions.has_output("AthenaWorkGroup", {"Value": {"Ref": Match.any_value()}})
    synth.assertions.has_output("DataLakeBucketName", {"Value": {"Ref": Match.any_value()}})
