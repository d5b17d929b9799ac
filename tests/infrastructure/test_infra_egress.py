"""Egress's idempotency table: Powertools' DynamoDB persistence layer finds its key and TTL there."""

from __future__ import annotations

import inspect

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from chalicelib.contracts import names
from chalicelib.settings import (
    DEFAULT_MAX_REPLY_AGE_SECONDS,
    DEFAULT_POST_BUDGET,
    DEFAULT_POST_BUDGET_WINDOW_SECONDS,
)
from stacks.chalice_app import function_logical_id
from stacks.egress import PARTITION_KEY, TTL_ATTRIBUTE, VISIBILITY_TIMEOUT, max_receive_count

from tests.infrastructure.templates import egress_queue, functions, of_type, only


def test_key_and_ttl_are_the_persistence_layers_defaults():
    """The runtime builds the layer with its defaults; a rename on either side would break idempotency."""
    parameters = inspect.signature(DynamoDBPersistenceLayer.__init__).parameters
    assert parameters["key_attr"].default == PARTITION_KEY == "id"
    assert parameters["expiry_attr"].default == TTL_ATTRIBUTE == "expiration"
    # No sort key by default: the partition key alone identifies a record.
    assert parameters["sort_key_attr"].default is None


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_table_is_on_demand_encrypted_recoverable_and_expires_records(synth):
    table_id = synth.template["Outputs"]["IdempotencyTableName"]["Value"]["Ref"]
    table = synth.template["Resources"][table_id]
    assert table["Type"] == "AWS::DynamoDB::Table"
    properties = table["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": PARTITION_KEY, "AttributeType": "S"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    # The records only matter for hours; the table goes with the stack.
    assert table["DeletionPolicy"] == "Delete"


# --- Egress's queue -------------------------------------------------------------------------------


def test_the_receive_count_outlasts_the_reply_age() -> None:
    """Waiting for the budget (one receive per visibility timeout) never dead-letters a reply before
    the runtime skips it as too old."""
    visibility = VISIBILITY_TIMEOUT.to_seconds()
    for age in (60, DEFAULT_MAX_REPLY_AGE_SECONDS, 6 * 3600):
        assert max_receive_count(age) * visibility >= age + visibility
    with pytest.raises(ValueError, match="maxReplyAgeSeconds"):
        max_receive_count(5 * 24 * 3600)  # beyond the queue's retention


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_the_egress_queue_is_encrypted_tls_only_unnamed_and_dead_lettered(synth):
    resources = synth.template["Resources"]
    queue_id = egress_queue(synth.template)
    properties = resources[queue_id]["Properties"]
    assert properties["SqsManagedSseEnabled"] is True
    assert "QueueName" not in properties  # generated per stack: two stages never clash
    assert properties["VisibilityTimeout"] == VISIBILITY_TIMEOUT.to_seconds()
    redrive = properties["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == max_receive_count(DEFAULT_MAX_REPLY_AGE_SECONDS)
    (dead_letters,) = redrive["deadLetterTargetArn"]["Fn::GetAtt"][:1]
    assert dead_letters.startswith("EgressQueueDeadLetters")
    assert resources[dead_letters]["Properties"]["SqsManagedSseEnabled"] is True
    # The dead-letter queue alarms on its depth (and, like every alarm, notifies the operations topic).
    alarms = [
        alarm["Properties"]
        for alarm in of_type(synth.template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}]
    ]
    (alarm,) = alarms
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 1
    assert alarm["AlarmActions"]
    # TLS only, and only the egress rule may send.
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in of_type(synth.template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)
    (rule_id,) = [
        k
        for k, r in of_type(synth.template, "AWS::Events::Rule").items()
        if r["Properties"]["EventPattern"] == names.EGRESS_QUEUE_PATTERN
    ]
    (sender,) = [s for s in policy if s["Effect"] == "Allow"]
    assert sender["Principal"] == {"Service": "events.amazonaws.com"}
    assert "sqs:SendMessage" in sender["Action"]  # with what CDK's SqsQueue target always adds
    assert sender["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_a_rule_on_the_bus_feeds_send_tweet_to_the_queue(synth):
    queue_id = egress_queue(synth.template)
    (rule,) = [
        r["Properties"]
        for r in of_type(synth.template, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"] == names.EGRESS_QUEUE_PATTERN
    ]
    bus = only(synth.template, "AWS::Events::EventBus")
    assert rule["EventBusName"] == {"Ref": bus}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("PlumbingTargetDeadLetters")
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_egress_reads_the_queue_through_an_event_source_mapping(synth):
    """After the SAM transform: one mapping, batch size 1, from the CDK queue to egress_post_reply,
    which no EventBridge rule invokes any more (it would post a second time)."""
    function_id = function_logical_id("egress_post_reply")
    queue_id = egress_queue(synth.template)
    (events,) = [f["Properties"]["Events"] for k, f in functions(synth.template).items() if k == function_id]
    assert [e["Type"] for e in events.values()] == ["SQS"]
    mappings = [
        m["Properties"]
        for m in of_type(synth.expanded, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    (mapping,) = mappings
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["BatchSize"] == 1
    assert not [
        r
        for r in of_type(synth.expanded, "AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern") == names.EGRESS_QUEUE_PATTERN
        and any(t["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]} for t in r["Properties"]["Targets"])
    ]


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_egress_gets_its_budget_and_age_settings(synth):
    function = functions(synth.template)[function_logical_id("egress_post_reply")]
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["POST_BUDGET"] == str(DEFAULT_POST_BUDGET)
    assert variables["POST_BUDGET_WINDOW_SECONDS"] == str(DEFAULT_POST_BUDGET_WINDOW_SECONDS)
    assert variables["MAX_REPLY_AGE_SECONDS"] == str(DEFAULT_MAX_REPLY_AGE_SECONDS)
