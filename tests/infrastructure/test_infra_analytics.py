"""Firehose -> S3 data lake -> Glue table -> Athena workgroup and named queries."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match
from chalicelib.contracts import datalake, names, queries
from stacks.rule_targets import MAX_EVENT_AGE, RETRY_ATTEMPTS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _data_lake_bucket(template: dict[str, Any]) -> str:
    ref = template["Outputs"]["DataLakeBucketName"]["Value"]
    return str(ref["Ref"])


def _table_input(template: dict[str, Any]) -> dict[str, Any]:
    (table,) = _of_type(template, "AWS::Glue::Table").values()
    return dict(table["Properties"]["TableInput"])


def test_firehose_writes_newline_delimited_events_by_hour(synth):
    bucket = _data_lake_bucket(synth.template)
    (stream,) = _of_type(synth.template, "AWS::KinesisFirehose::DeliveryStream").values()
    properties = stream["Properties"]
    assert properties["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}
    s3 = properties["ExtendedS3DestinationConfiguration"]
    assert s3["BucketARN"] == {"Fn::GetAtt": [bucket, "Arn"]}
    assert s3["Prefix"] == datalake.EVENTS_PREFIX + "!{timestamp:yyyy/MM/dd/HH}/"
    assert "!{firehose:error-output-type}" in s3["ErrorOutputPrefix"]
    processors = s3["ProcessingConfiguration"]
    assert processors["Enabled"] is True
    assert [p["Type"] for p in processors["Processors"]] == ["AppendDelimiterToRecord"]


def test_every_event_goes_to_firehose(synth):
    (bus,) = _of_type(synth.template, "AWS::Events::EventBus")
    (stream,) = _of_type(synth.template, "AWS::KinesisFirehose::DeliveryStream")
    synth.assertions.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": {"Ref": bus},
            "EventPattern": names.CATCH_ALL_PATTERN,
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [stream, "Arn"]}})],
        },
    )


def test_firehose_target_has_dead_letter_queue_and_retry_policy(synth):
    (queue,) = [k for k in _of_type(synth.template, "AWS::SQS::Queue") if k.startswith("PlumbingTargetDeadLetters")]
    (stream,) = _of_type(synth.template, "AWS::KinesisFirehose::DeliveryStream")
    synth.assertions.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [stream, "Arn"]},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [queue, "Arn"]}},
                        "RetryPolicy": {
                            "MaximumRetryAttempts": RETRY_ATTEMPTS,
                            "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds()),
                        },
                    }
                )
            ],
        },
    )


def test_s3_destination_acknowledgments_stay_on_the_destination_role_policy(synth):
    acknowledged = {
        logical_id
        for logical_id, resource in synth.template["Resources"].items()
        if any(
            "CDK's S3Bucket destination" in rule["reason"]
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        )
    }
    (policy,) = acknowledged
    assert synth.template["Resources"][policy]["Type"] == "AWS::IAM::Policy"
    (role,) = synth.template["Resources"][policy]["Properties"]["Roles"]
    assume = synth.template["Resources"][role["Ref"]]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in assume] == [{"Service": "firehose.amazonaws.com"}]


def test_data_lake_bucket_is_private_encrypted_and_logged(synth):
    buckets = _of_type(synth.template, "AWS::S3::Bucket")
    bucket = buckets[_data_lake_bucket(synth.template)]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["LoggingConfiguration"]["DestinationBucketName"]["Ref"] in buckets
    assert bucket["LifecycleConfiguration"]["Rules"]


def test_every_bucket_refuses_plain_http(synth):
    buckets = _of_type(synth.template, "AWS::S3::Bucket")
    policies = {
        policy["Properties"]["Bucket"]["Ref"]: policy["Properties"]["PolicyDocument"]["Statement"]
        for policy in _of_type(synth.template, "AWS::S3::BucketPolicy").values()
    }
    assert set(policies) == set(buckets)
    for bucket, statements in policies.items():
        denies = [
            s
            for s in statements
            if s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denies, bucket


def test_glue_database_and_table(synth):
    synth.assertions.has_resource_properties(
        "AWS::Glue::Database", {"DatabaseInput": Match.object_like({"Name": datalake.DATABASE_NAME})}
    )
    (table,) = _of_type(synth.template, "AWS::Glue::Table").values()
    assert table["Properties"]["DatabaseName"] == datalake.DATABASE_NAME
    table_input = _table_input(synth.template)
    assert table_input["Name"] == datalake.TABLE_NAME
    storage = table_input["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
        (name, datalake.hive_type(hive_type)) for name, hive_type in datalake.COLUMNS
    ]
    detail = next(c["Type"] for c in storage["Columns"] if c["Name"] == "detail")
    assert detail.startswith("struct<Text:string,Author:string,")
    assert "Analysis:struct<TextSentiment:string," in detail
    assert table_input["PartitionKeys"] == [{"Name": datalake.PARTITION_COLUMN, "Type": "string"}]


def test_table_reads_json_with_the_openx_serde(synth):
    storage = _table_input(synth.template)["StorageDescriptor"]
    serde = storage["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert serde["Parameters"] == {
        "mapping.detail_type": "detail-type",
        "case.insensitive": "true",
        "ignore.malformed.json": "true",
    }
    bucket = _data_lake_bucket(synth.template)
    assert synth.stack.resolve(storage["Location"]) == {
        "Fn::Join": ["", ["s3://", {"Ref": bucket}, "/" + datalake.EVENTS_PREFIX]]
    }


def test_partitions_are_projected_from_the_hourly_folders(synth):
    parameters = _table_input(synth.template)["Parameters"]
    column = datalake.PARTITION_COLUMN
    assert parameters["projection.enabled"] == "true"
    assert parameters[f"projection.{column}.type"] == "date"
    assert parameters[f"projection.{column}.format"] == "yyyy/MM/dd/HH"
    assert parameters[f"projection.{column}.interval"] == "1"
    assert parameters[f"projection.{column}.interval.unit"] == "HOURS"
    assert parameters[f"projection.{column}.range"] == "2025/01/01/00,NOW"
    bucket = _data_lake_bucket(synth.template)
    assert parameters["storage.location.template"] == {
        "Fn::Join": ["", ["s3://", {"Ref": bucket}, "/" + datalake.EVENTS_PREFIX + "${" + column + "}/"]]
    }


def test_athena_workgroup_enforces_encrypted_results_in_its_own_bucket(synth):
    (workgroup,) = _of_type(synth.template, "AWS::Athena::WorkGroup").values()
    configuration = workgroup["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    result = configuration["ResultConfiguration"]
    assert result["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    (results_bucket,) = [
        part["Ref"] for part in result["OutputLocation"]["Fn::Join"][1] if isinstance(part, dict) and "Ref" in part
    ]
    assert results_bucket in _of_type(synth.template, "AWS::S3::Bucket")
    assert results_bucket != _data_lake_bucket(synth.template)


def test_a_named_query_per_sample_query(synth):
    (workgroup,) = _of_type(synth.template, "AWS::Athena::WorkGroup")
    named = {
        q["Properties"]["Name"]: q["Properties"] for q in _of_type(synth.template, "AWS::Athena::NamedQuery").values()
    }
    assert set(named) == {q.name for q in queries.SAMPLE_QUERIES}
    for query in queries.SAMPLE_QUERIES:
        assert named[query.name]["QueryString"] == query.sql
        assert named[query.name]["Database"] == datalake.DATABASE_NAME
        assert named[query.name]["WorkGroup"] == {"Ref": workgroup}
