"""Stages side by side, the API Gateway account setting, tear-down, and what reaches a person.

The default stage (the session synth) keeps today's stack and names. Two more synths, stages "a"
and "b" as the README deploys them side by side (b leaves the API Gateway account setting to a),
share no physical name; "a" also has an alert address and a budget. `cdk destroy` deletes every
resource but those stacks/teardown.py keeps on purpose, and nothing left would stop it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalicelib.contracts import datalake
from stacks.analytics import Analytics
from stacks.config import STACK_NAME, STAGE_MAX_LENGTH
from stacks.notifications import ACTUAL_THRESHOLD_PERCENT, FORECAST_THRESHOLD_PERCENT
from stacks.plumbing import METRIC_NAMESPACE
from stacks.teardown import KEPT, kept_resources

from tests.infrastructure.physical_names import physical_names, unscanned_identifiers
from tests.infrastructure.synthesis import REGION, Synth, synthesize_with
from tests.infrastructure.templates import of_type, only
from tests.infrastructure.test_infra_compliance import _lint

pytestmark = [pytest.mark.slow]
#: The default stage's tests share the session synth with the other infrastructure tests.
DEFAULT = pytest.mark.xdist_group("synth")
#: The stages' two synths (about 40 s each), on a worker of their own.
STAGES = pytest.mark.xdist_group("stages")

ALERT_EMAIL = "ops@example.com"
BUDGET_USD = 20
#: Both with the mentions poller too (`ingress=both`), so its schedule and table are compared as well.
STAGE_A = {"stage": "a", "ingress": "both", "alertEmail": ALERT_EMAIL, "monthlyBudgetUsd": str(BUDGET_USD)}
#: Stage b's name is as long as a stage may be, with hyphens: every name it ends up in must take it
#: (cfn-lint checks their patterns and lengths below).
LONGEST_STAGE = "b-" + "x" * (STAGE_MAX_LENGTH - 5) + "-20"
STAGE_B = {"stage": LONGEST_STAGE, "ingress": "both", "apiGatewayAccount": "false"}


@pytest.fixture(scope="session")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synth]:
    return {
        "a": synthesize_with(tmp_path_factory.mktemp("stage-a"), STAGE_A),
        "b": synthesize_with(tmp_path_factory.mktemp("stage-b"), STAGE_B),
    }


def _resources(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from template["Resources"].items()


# The default stage: today's stack and names ---------------------------------------------------


@DEFAULT
def test_the_default_stage_keeps_todays_stack_and_names(synth):
    assert synth.stack.stack_name == STACK_NAME == "XBot"
    names = physical_names(synth.template)
    for name in (
        "AWS::Athena::WorkGroup XBot-analytics",
        f"AWS::Glue::Database {datalake.DATABASE_NAME}",
        f"AWS::Glue::Table {datalake.DATABASE_NAME}.{datalake.TABLE_NAME}",
        "AWS::Logs::LogGroup /aws/events/XBot/catch-all",
        "AWS::Logs::LogGroup /aws/vendedlogs/states/XBot-analysis",
        "AWS::Lex::Bot XBot-XBotConversation",
        "AWS::Events::EventBus XBotPlumbingBusB9B5C747",
        f"metric {METRIC_NAMESPACE}/MESSAGE_RECEIVED",
    ):
        assert name in names, name
    assert datalake.DATABASE_NAME == "xbot_datalake"
    assert METRIC_NAMESPACE == STACK_NAME


@DEFAULT
def test_the_default_stage_subscribes_no_one_and_has_no_budget(synth):
    assert of_type(synth.template, "AWS::Budgets::Budget") == {}
    protocols = {s["Properties"]["Protocol"] for s in of_type(synth.expanded, "AWS::SNS::Subscription").values()}
    assert "email" not in protocols


# Two stages side by side ----------------------------------------------------------------------


@STAGES
def test_stages_name_their_stacks(stages):
    assert {name: s.stack.stack_name for name, s in stages.items()} == {"a": "XBot-a", "b": f"XBot-{LONGEST_STAGE}"}


@STAGES
@pytest.mark.parametrize("template", ["template", "expanded"])
def test_two_stages_share_no_physical_name(stages, template):
    a, b = (physical_names(getattr(stages[stage], template)) for stage in ("a", "b"))
    # The names the stages set (not only generated ones) were found, and each carries its stage.
    assert f"AWS::Glue::Database {datalake.DATABASE_NAME}_a" in a
    database_b = f"{datalake.DATABASE_NAME}_{LONGEST_STAGE.replace('-', '_')}"
    assert f"AWS::Glue::Table {database_b}.{datalake.TABLE_NAME}" in b
    assert "AWS::Athena::WorkGroup XBot-a-analytics" in a
    assert f"AWS::Lex::Bot XBot-{LONGEST_STAGE}-XBotConversation" in b
    assert "metric XBot-a/MESSAGE_RECEIVED" in a
    # The region's API Gateway account setting is set by stage a only.
    assert "singleton AWS::ApiGateway::Account" in a
    assert {name: a[name] for name in set(a) & set(b)} == {}
    # Every resource type's identifying property (CloudFormation's resource schemas) was compared:
    # none is named by a key the scan above does not read.
    for stage in ("a", "b"):
        assert unscanned_identifiers(getattr(stages[stage], template), region=REGION) == {}


@STAGES
def test_the_table_keeps_its_name_in_every_stage(stages):
    for stage in stages.values():
        (table,) = of_type(stage.template, "AWS::Glue::Table").values()
        assert table["Properties"]["TableInput"]["Name"] == datalake.TABLE_NAME == "analysed-messages-table"
        analytics = stage.stack.node.find_child("Analytics")
        assert isinstance(analytics, Analytics)
        assert table["Properties"]["DatabaseName"] == analytics.database_name
        for query in of_type(stage.template, "AWS::Athena::NamedQuery").values():
            assert query["Properties"]["Database"] == analytics.database_name


# The API Gateway account setting: one per region -------------------------------------------------


def _api_account(synth: Synth) -> tuple[dict[str, Any], dict[str, Any]] | None:
    accounts = list(of_type(synth.template, "AWS::ApiGateway::Account").values())
    if not accounts:
        return None
    (account,) = accounts
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    return account, synth.template["Resources"][role_id]


@DEFAULT
def test_the_default_stage_owns_the_api_gateway_account_setting_and_keeps_it(synth):
    owned = _api_account(synth)
    assert owned is not None
    for resource in owned:
        # Destroying the stage leaves the setting and its role: other APIs keep logging.
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    (api,) = of_type(synth.template, "AWS::Serverless::Api").values()
    assert only(synth.template, "AWS::ApiGateway::Account") in api["DependsOn"]


@STAGES
def test_only_one_stage_owns_the_api_gateway_account_setting(stages):
    owned_a, owned_b = _api_account(stages["a"]), _api_account(stages["b"])
    assert owned_a is not None and owned_b is None
    for resource in owned_a:
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    # Stage b makes no CloudWatch role for API Gateway, and still logs (through the region's setting).
    for role in of_type(stages["b"].template, "AWS::IAM::Role").values():
        assert "AmazonAPIGatewayPushToCloudWatchLogs" not in json.dumps(role)
    (api,) = of_type(stages["b"].template, "AWS::Serverless::Api").values()
    assert "DestinationArn" in api["Properties"]["AccessLogSetting"]
    assert api["Properties"]["MethodSettings"][0]["LoggingLevel"] == "ERROR"
    assert not [d for d in api.get("DependsOn", []) if "ApiGatewayAccount" in d]


# Tear-down -------------------------------------------------------------------------------------


def _check_teardown(synth: Synth) -> None:
    template = synth.template
    kept = kept_resources(synth.stack)
    retained = {k for k, r in _resources(template) if r.get("DeletionPolicy", "Delete") != "Delete"}
    # Everything kept is listed (and documented), everything listed is kept.
    assert retained == set(kept), sorted(retained ^ set(kept))
    assert {kept[k] for k in retained} <= set(KEPT)
    for logical_id in retained:
        assert template["Resources"][logical_id]["DeletionPolicy"] == "Retain", logical_id
    # The SAM transform adds nothing that is kept (functions, the API, its stage and deployment).
    assert {k for k, r in _resources(synth.expanded) if r.get("DeletionPolicy", "Delete") != "Delete"} == retained
    # No bucket blocks the deletion: CloudFormation cannot delete a bucket with objects in it, so
    # each one is kept (a lifecycle rule empties all but the data lake) or emptied on deletion.
    auto_deleted = {
        r["Properties"]["BucketName"]["Ref"]
        for r in of_type(template, "Custom::S3AutoDeleteObjects").values()
        if isinstance(r["Properties"].get("BucketName"), dict)
    }
    for bucket_id in of_type(template, "AWS::S3::Bucket"):
        assert bucket_id in retained or bucket_id in auto_deleted, f"bucket {bucket_id} would block cdk destroy"
    # The workgroup goes with its query history and saved queries.
    for workgroup in of_type(template, "AWS::Athena::WorkGroup").values():
        assert workgroup["Properties"]["RecursiveDeleteOption"] is True
    for table_id, table in of_type(template, "AWS::DynamoDB::Table").items():
        assert not table["Properties"].get("DeletionProtectionEnabled"), table_id
    # What is kept stays readable: nothing kept is encrypted with (or names) a key the stack
    # schedules for deletion with it.
    keys = set(of_type(template, "AWS::KMS::Key"))
    for logical_id in retained:
        named = json.dumps(template["Resources"][logical_id])
        assert not [key for key in keys if f'"{key}"' in named], logical_id
    # Log groups, keys, the archive and the Lex bot go with the stack.
    for resource_type in ("AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::Events::Archive", "AWS::Lex::Bot"):
        for logical_id in of_type(template, resource_type):
            assert logical_id not in retained, logical_id


@DEFAULT
def test_destroy_deletes_everything_but_the_kept_list(synth):
    _check_teardown(synth)
    assert set(kept_resources(synth.stack).values()) == set(KEPT)


@DEFAULT
def test_every_kept_bucket_and_the_glue_database_are_stack_outputs(synth):
    """The README's purge commands start from the outputs (saved before `make destroy`)."""
    outputs = {json.dumps(output["Value"]) for output in synth.template["Outputs"].values()}
    kept_buckets = [k for k in kept_resources(synth.stack) if k in of_type(synth.template, "AWS::S3::Bucket")]
    assert len(kept_buckets) == 4
    for bucket_id in kept_buckets:
        assert json.dumps({"Ref": bucket_id}) in outputs, bucket_id
    assert synth.template["Outputs"]["GlueDatabaseName"]["Value"] == datalake.DATABASE_NAME


@STAGES
def test_destroy_deletes_everything_but_the_kept_list_in_every_stage(stages):
    _check_teardown(stages["a"])
    _check_teardown(stages["b"])
    # Stage b owns no API Gateway account setting: it keeps only its buckets.
    assert set(kept_resources(stages["b"].stack).values()) == set(KEPT) - {
        "App/ApiGatewayCloudWatchRole",
        "App/ApiGatewayAccount",
    }


# Alerts by email, and the budget ---------------------------------------------------------------


@STAGES
def test_the_alert_email_is_subscribed_to_the_operations_and_alert_topics(stages):
    template = stages["a"].template
    topics = {k: t["Properties"]["DisplayName"] for k, t in of_type(template, "AWS::SNS::Topic").items()}
    subscribed = {
        s["Properties"]["TopicArn"]["Ref"]
        for s in of_type(template, "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email" and s["Properties"]["Endpoint"] == ALERT_EMAIL
    }
    assert sorted(topics[t] for t in subscribed) == ["X bot alerts", "X bot operations"]
    assert not [
        s
        for s in of_type(stages["b"].template, "AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    ]


def _operations(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (topic_id,) = [
        k
        for k, t in of_type(template, "AWS::SNS::Topic").items()
        if t["Properties"]["DisplayName"] == "X bot operations"
    ]
    return topic_id, template["Resources"][topic_id]


@STAGES
def test_the_budget_is_monthly_cost_and_notifies_the_address_and_the_operations_topic(stages):
    template = stages["a"].template
    (budget_id,) = of_type(template, "AWS::Budgets::Budget")
    budget = template["Resources"][budget_id]
    properties = budget["Properties"]
    assert properties["Budget"] == {
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": BUDGET_USD, "Unit": "USD"},
    }
    topic_id, _ = _operations(template)
    thresholds = set()
    for notification in properties["NotificationsWithSubscribers"]:
        thresholds.add((notification["Notification"]["NotificationType"], notification["Notification"]["Threshold"]))
        assert {(s["SubscriptionType"], json.dumps(s["Address"])) for s in notification["Subscribers"]} == {
            ("EMAIL", json.dumps(ALERT_EMAIL)),
            ("SNS", json.dumps({"Ref": topic_id})),
        }
    assert thresholds == {("ACTUAL", ACTUAL_THRESHOLD_PERCENT), ("FORECASTED", FORECAST_THRESHOLD_PERCENT)}
    # Budgets checks it may publish when the budget is created: the topic policy comes first.
    (policy_id,) = [
        k
        for k, p in of_type(template, "AWS::SNS::TopicPolicy").items()
        if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    assert policy_id in budget["DependsOn"]
    assert of_type(stages["b"].template, "AWS::Budgets::Budget") == {}


def _statements_for(document: dict[str, Any], service: str) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if s.get("Principal") == {"Service": service}]


@STAGES
def test_budgets_and_cloudwatch_may_publish_to_the_encrypted_operations_topic(stages):
    template = stages["a"].template
    topic_id, topic = _operations(template)
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key_policy = template["Resources"][key_id]["Properties"]["KeyPolicy"]
    (topic_policy,) = [
        p for p in of_type(template, "AWS::SNS::TopicPolicy").values() if {"Ref": topic_id} in p["Properties"]["Topics"]
    ]
    for service in ("cloudwatch.amazonaws.com", "budgets.amazonaws.com"):
        (key_statement,) = _statements_for(key_policy, service)
        assert set(key_statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
        (publish,) = _statements_for(topic_policy["Properties"]["PolicyDocument"], service)
        assert publish["Action"] == "sns:Publish"
        # Only this account's alarms and budgets (confused-deputy guard).
        assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    (budgets_on_key,) = _statements_for(key_policy, "budgets.amazonaws.com")
    assert budgets_on_key["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ":budgets::" in json.dumps(budgets_on_key["Condition"]["ArnLike"])
    # Without a budget, Budgets is not admitted.
    assert "budgets.amazonaws.com" not in json.dumps(stages["b"].template)


@STAGES
def test_stages_with_alerts_and_a_budget_pass_cfn_lint(stages):
    # cdk-nag ran at synth (it fails the synth on any finding); cfn-lint here, on stage b too: the
    # longest stage name in every name it is part of (cfn-lint checks each against its pattern and length).
    assert len(LONGEST_STAGE) == STAGE_MAX_LENGTH
    for stage in ("a", "b"):
        assert _lint(stages[stage].template) == []
        assert _lint(stages[stage].expanded) == []
