"""The mentions poller in the template: nothing of it with the default (-c ingress=webhook); with
-c ingress=poll, its schedule at the interval, its checkpoint table and least-privilege grants,
an alarm on its errors; cfn-lint and cdk-nag clean either way."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from chalicelib.adapters.dynamodb_checkpoint import PARTITION_KEY
from chalicelib.settings import DEFAULT_POLL_INTERVAL_MINUTES
from stacks import ingress
from stacks.bot_stack import BotStack
from stacks.chalice_app import SCHEDULE_EVENT_TYPE, function_logical_id
from stacks.config import BotConfig

from tests.infrastructure.sam_expansion import nag_violations
from tests.infrastructure.synthesis import Synth, synthesize_with
from tests.infrastructure.templates import functions, of_type, permissions, role_of
from tests.infrastructure.test_infra_compliance import _lint

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

POLLER = function_logical_id(ingress.POLL_FUNCTION)
INTERVAL = 5


@pytest.fixture(scope="module")
def polling(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize_with(tmp_path_factory.mktemp("poll"), {"ingress": "poll", "pollIntervalMinutes": str(INTERVAL)})


def poller_schedules(expanded: dict[str, Any]) -> list[dict[str, Any]]:
    """The schedule rules (after the SAM transform) that invoke the poller."""
    return [
        rule
        for rule in of_type(expanded, "AWS::Events::Rule").values()
        if "ScheduleExpression" in rule["Properties"] and POLLER in json.dumps(rule["Properties"].get("Targets"))
    ]


def checkpoint_tables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in of_type(template, "AWS::DynamoDB::Table").items() if k.startswith("PollCheckpoint")}


def test_webhook_mode_has_no_schedule_no_table_and_no_grant(synth: Synth) -> None:
    poller = functions(synth.template)[POLLER]
    assert "Events" not in poller["Properties"]
    assert checkpoint_tables(synth.template) == {}
    assert poller_schedules(synth.expanded) == []
    granted = permissions(synth.template, role_of(synth.template, ingress.POLL_FUNCTION))
    assert not [a for a in granted if a.startswith(("dynamodb:", "events:", "secretsmanager:"))]
    # The webhook stays.
    assert "WebhookUrl" in synth.template["Outputs"]


def test_poll_mode_schedules_the_poller_at_the_interval(polling: Synth) -> None:
    events = functions(polling.template)[POLLER]["Properties"]["Events"]
    (schedule,) = events.values()
    assert schedule["Type"] == SCHEDULE_EVENT_TYPE
    assert schedule["Properties"]["Schedule"] == f"rate({INTERVAL} minutes)"
    # Up to POLL_MAX_PAGES pages of 10 s each (runtime/.chalice/config.json); a run cut short resumes.
    assert functions(polling.template)[POLLER]["Properties"]["Timeout"] == 60
    # A failed run is not retried by Lambda: the next run is the retry.
    config = functions(polling.template)[POLLER]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 0
    (rule,) = poller_schedules(polling.expanded)
    assert rule["Properties"]["ScheduleExpression"] == f"rate({INTERVAL} minutes)"
    # The webhook stays in every mode.
    assert "WebhookUrl" in polling.template["Outputs"]


def test_poll_mode_has_an_encrypted_checkpoint_table_without_a_fixed_name(polling: Synth) -> None:
    ((logical_id, table),) = checkpoint_tables(polling.template).items()
    properties = table["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}]
    assert ingress.CHECKPOINT_PARTITION_KEY == PARTITION_KEY
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert "TableName" not in properties
    environment = functions(polling.template)[POLLER]["Properties"]["Environment"]["Variables"]
    assert environment["POLL_CHECKPOINT_TABLE"] == {"Ref": logical_id}
    others = [f for k, f in functions(polling.template).items() if k != POLLER]
    assert not [
        f for f in others if "POLL_CHECKPOINT_TABLE" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]


def test_poll_mode_grants_the_poller_only_what_it_calls(polling: Synth) -> None:
    ((table, _),) = checkpoint_tables(polling.template).items()
    granted = permissions(polling.template, role_of(polling.template, ingress.POLL_FUNCTION))
    dynamodb = {action: resources for action, resources in granted.items() if action.startswith("dynamodb:")}
    assert dynamodb == {
        "dynamodb:GetItem": [{"Fn::GetAtt": [table, "Arn"]}],
        "dynamodb:PutItem": [{"Fn::GetAtt": [table, "Arn"]}],
    }
    # Publishing only to the bot's bus (and an oversized event's detail into the lake), the X secret
    # only, its own log group only: nothing else.
    (bus,) = of_type(polling.template, "AWS::Events::EventBus")
    assert granted["events:PutEvents"] == [{"Fn::GetAtt": [bus, "Arn"]}]
    (secret,) = granted["secretsmanager:GetSecretValue"]
    assert json.dumps(secret).endswith(':secret:TwitterSecret-??????"]]}')
    assert set(granted) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "events:PutEvents",
        "s3:PutObject",
        "secretsmanager:GetSecretValue",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    (oversized,) = granted["s3:PutObject"]
    assert json.dumps(oversized).endswith('"/oversized/*"]]}')
    (log_group,) = {json.dumps(r) for action in ("logs:CreateLogStream", "logs:PutLogEvents") for r in granted[action]}
    poller_log = functions(polling.template)[POLLER]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert log_group == json.dumps({"Fn::GetAtt": [poller_log, "Arn"]})
    # No other role touches the checkpoint.
    for name in ("api_handler", "egress_post_reply"):
        other = permissions(polling.template, role_of(polling.template, name))
        assert not [r for resources in other.values() for r in resources if r == {"Fn::GetAtt": [table, "Arn"]}]


def test_poll_mode_alarms_on_the_pollers_errors(polling: Synth) -> None:
    alarms = [
        a["Properties"]
        for a in of_type(polling.template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "Errors"
        and any(
            "poll" in str(d.get("Value")).lower() or POLLER in str(d.get("Value"))
            for d in a["Properties"].get("Dimensions", [])
        )
    ]
    assert len(alarms) == 1
    assert alarms[0]["AlarmActions"] and alarms[0]["OKActions"]  # the operations topic


def test_poll_mode_passes_cfn_lint_and_cdk_nag(polling: Synth, tmp_path: Any) -> None:
    assert _lint(polling.template) == []
    assert _lint(polling.expanded) == []
    assert isinstance(polling.stack, BotStack)
    acknowledged = polling.stack.app.generated_acknowledgments
    assert nag_violations(polling.template, polling.expanded, tmp_path, sam_acknowledgments=acknowledged) == []


@pytest.mark.parametrize("mode", ["poll", "both"])
def test_polling_without_bot_user_id_fails_synth_with_a_clear_message(mode: str) -> None:
    app = cdk.App(context={"ingress": mode})
    with pytest.raises(ValueError, match="needs botUserId"):
        BotConfig.from_context(app.node)


def test_the_ingress_context_defaults_to_the_webhook_and_checks_its_values() -> None:
    config = BotConfig.from_context(cdk.App().node)
    assert config.ingress == "webhook" and not config.polls
    assert config.poll_interval_minutes == DEFAULT_POLL_INTERVAL_MINUTES
    both = BotConfig.from_context(cdk.App(context={"ingress": "both", "botUserId": "1"}).node)
    assert both.polls
    with pytest.raises(ValueError, match="ingress must be one of"):
        BotConfig.from_context(cdk.App(context={"ingress": "stream"}).node)
    with pytest.raises(ValueError, match="pollIntervalMinutes"):
        BotConfig.from_context(cdk.App(context={"pollIntervalMinutes": "0"}).node)
    assert ingress.rate_expression(1) == "rate(1 minute)"


def test_poll_mode_names_the_poller_and_its_log_for_the_guide(polling: Synth, synth: Synth) -> None:
    outputs = polling.template["Outputs"]
    # The function's name (from its ARN), and the log group its LoggingConfig writes to.
    name = {"Fn::Select": [6, {"Fn::Split": [":", {"Fn::GetAtt": [POLLER, "Arn"]}]}]}
    assert outputs["PollerFunctionName"]["Value"] == name
    logging = functions(polling.template)[POLLER]["Properties"]["LoggingConfig"]
    assert outputs["PollerLogGroupName"]["Value"] == logging["LogGroup"]
    assert "PollerFunctionName" not in synth.template["Outputs"]
    assert "PollerLogGroupName" not in synth.template["Outputs"]


def test_every_failure_queue_is_an_output(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    queues = set(of_type(synth.template, "AWS::SQS::Queue"))
    named = {
        outputs[name]["Value"]["Ref"]
        for name in ("TargetDeadLettersQueueUrl", "HandlerFailuresQueueUrl", "EgressDeadLettersQueueUrl")
    }
    assert named <= queues and len(named) == 3
    # Every queue whose name says it holds failures is among them.
    assert {q for q in queues if "DeadLetters" in q or "Failures" in q} == named
