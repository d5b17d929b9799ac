"""Egress's idempotency table: Powertools' DynamoDB persistence layer finds its key and TTL there."""

from __future__ import annotations

import inspect

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from stacks.egress import PARTITION_KEY, TTL_ATTRIBUTE


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
