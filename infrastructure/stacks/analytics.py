"""Every event into an S3 data lake (Firehose), a Glue table over it, and Athena to query it."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from chalicelib.contracts import datalake, names, queries
from chalicelib.contracts.oversized import OVERSIZED_PREFIX
from constructs import Construct

from stacks.buckets import access_logs_bucket, private_bucket
from stacks.nag import acknowledge, logical_id
from stacks.patterns import to_event_pattern
from stacks.rule_targets import DeadLettered

#: Firehose writes records it could not deliver here, by error type.
ERRORS_PREFIX = "errors/"
#: Folders as the partition projection expects them: events/YYYY/MM/DD/HH/.
EVENTS_FOLDER_FORMAT = "yyyy/MM/dd/HH"
#: The first hour the partition projection lists; older folders are never queried.
PROJECTION_START = "2025/01/01/00"
#: Query results expire after this; a kept results bucket (stack deleted) empties itself as fast.
RESULTS_RETENTION = cdk.Duration.days(30)
#: Guard against a runaway query: Athena cancels anything scanning more than this.
BYTES_SCANNED_CUTOFF_PER_QUERY = 10 * 1024**3


class Analytics(Construct):
    """The data lake: Firehose -> S3 (newline-delimited JSON) -> Glue table -> Athena workgroup."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus: events.IEventBus,
        dead_letter_queue: sqs.IQueue,
        log_retention: logs.RetentionDays,
        access_log_retention: cdk.Duration,
        oversized_retention: cdk.Duration,
        database_name: str = datalake.DATABASE_NAME,
    ) -> None:
        """`database_name`: the stage's Glue database (BotConfig.glue_database_name); the table in it
        keeps its name (datalake.TABLE_NAME) in every stage."""
        super().__init__(scope, construct_id)
        self.database_name = database_name

        self.access_logs = access_logs_bucket(self, "AccessLogs", retention=access_log_retention)
        self.bucket = private_bucket(
            self,
            "DataLake",
            access_logs=self.access_logs,
            lifecycle_rules=[
                # Events are read rarely after their first weeks; Intelligent-Tiering moves them down.
                s3.LifecycleRule(
                    id="tier-events",
                    prefix=datalake.EVENTS_PREFIX,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                            transition_after=cdk.Duration.days(0),
                        )
                    ],
                ),
                # The runtime stores events too large for EventBridge under OVERSIZED_PREFIX and puts a
                # reference on the bus; keep them as long as the archive can replay those.
                s3.LifecycleRule(id="expire-oversized", prefix=OVERSIZED_PREFIX, expiration=oversized_retention),
                s3.LifecycleRule(id="expire-errors", prefix=ERRORS_PREFIX, expiration=cdk.Duration.days(30)),
            ],
        )

        self.delivery_stream = self._delivery_stream(log_retention)
        self.rule = events.Rule(
            self,
            "ToDataLakeRule",
            event_bus=bus,
            event_pattern=to_event_pattern(names.CATCH_ALL_PATTERN),
            description="Every event the bot publishes -> Firehose -> the S3 data lake.",
            targets=[
                DeadLettered(targets.FirehoseDeliveryStream(self.delivery_stream), dead_letter_queue=dead_letter_queue)
            ],
        )

        self.database = self._database()
        self.table = self._table()
        self.results_bucket = private_bucket(
            self,
            "AthenaResults",
            access_logs=self.access_logs,
            lifecycle_rules=[s3.LifecycleRule(id="expire-results", expiration=RESULTS_RETENTION)],
            # Kept on stack deletion (stacks/teardown.py): once Athena has been queried the bucket is
            # not empty, CloudFormation cannot delete it and `cdk destroy` would fail. Emptying it on
            # deletion would take CDK's auto-delete custom resource (a Lambda function, its role and
            # runtime); its lifecycle rule empties it within RESULTS_RETENTION instead.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.workgroup = self._workgroup()
        self._named_queries()

    def _delivery_stream(self, log_retention: logs.RetentionDays) -> firehose.DeliveryStream:
        log_group = logs.LogGroup(
            self, "DeliveryLog", retention=log_retention, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        destination = firehose.S3Bucket(
            self.bucket,
            data_output_prefix=f"{datalake.EVENTS_PREFIX}!{{timestamp:{EVENTS_FOLDER_FORMAT}}}/",
            error_output_prefix=f"{ERRORS_PREFIX}!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/",
            # One JSON document per line: what Athena's JSON SerDe (and the local DuckDB) read.
            processors=[firehose.AppendDelimiterToRecordProcessor()],
            compression=firehose.Compression.GZIP,
            buffering_interval=cdk.Duration.minutes(5),
            buffering_size=cdk.Size.mebibytes(64),
            logging_config=firehose.EnableLogging(log_group),
        )
        stream = firehose.DeliveryStream(
            self,
            "ToDataLake",
            destination=destination,
            encryption=firehose.StreamEncryption.aws_owned_key(),
        )
        # CDK retains the log stream it makes for the destination; it lives in the log group, which
        # is deleted with the stack, so a retained stream would only be a dangling Retain.
        for child in log_group.node.children:
            if isinstance(child, logs.LogStream):
                child.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        # CDK's S3Bucket destination always creates its role with bucket.grantReadWrite (Get*, List*,
        # DeleteObject*, Abort*, Put* on the bucket and its objects); the destination offers no narrower grant.
        why = (
            "CDK's S3Bucket destination always grants its role read/write on the data lake bucket, "
            "including s3:DeleteObject* and s3:GetObject*, which Firehose does not need (it lists the "
            "bucket and writes objects). Accepted because the role's trust policy admits only "
            "firehose.amazonaws.com and only this delivery stream uses it; narrowing it would mean replacing the "
            "DeliveryStream L2 with the L1 CfnDeliveryStream and a role of our own."
        )
        bucket_objects = f"AwsSolutions-IAM5[Resource::<{logical_id(self.bucket)}.Arn>/*]"
        # Only the destination role's policy: the EventBridge -> Firehose role the rule target adds
        # under the same stream ("EventsRole") is not covered.
        destination_policy = stream.node.find_child("S3 Destination Role").node.find_child("DefaultPolicy")
        acknowledge(
            destination_policy,
            {
                **{
                    f"AwsSolutions-IAM5[Action::{action}]": why
                    for action in ("s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*")
                },
                bucket_objects: why,
            },
        )
        return stream

    def _database(self) -> glue.CfnDatabase:
        return glue.CfnDatabase(
            self,
            "Database",
            catalog_id=cdk.Stack.of(self).account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description="The X bot's events, as Firehose writes them.",
            ),
        )

    def _table(self) -> glue.CfnTable:
        events_location = f"s3://{self.bucket.bucket_name}/{datalake.EVENTS_PREFIX}"
        serde_parameters = {
            # The JSON key of a column, where the names differ (detail_type <- "detail-type").
            **{f"mapping.{column}": key for column, key in datalake.JSON_KEY_OF_COLUMN.items()},
            # Events keep their field case (Text, Author); Glue lowercases column and field names.
            "case.insensitive": "true",
            # One bad line must not fail every query over its hour.
            "ignore.malformed.json": "true",
        }
        table = glue.CfnTable(
            self,
            "Table",
            catalog_id=cdk.Stack.of(self).account,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=datalake.TABLE_NAME,
                description="Every event on the bot's bus (EventBridge envelope, typed detail).",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    # Partition projection: Athena computes the hourly folders; no crawler, no MSCK REPAIR.
                    "projection.enabled": "true",
                    f"projection.{datalake.PARTITION_COLUMN}.type": "date",
                    f"projection.{datalake.PARTITION_COLUMN}.format": EVENTS_FOLDER_FORMAT,
                    f"projection.{datalake.PARTITION_COLUMN}.range": f"{PROJECTION_START},NOW",
                    f"projection.{datalake.PARTITION_COLUMN}.interval": "1",
                    f"projection.{datalake.PARTITION_COLUMN}.interval.unit": "HOURS",
                    "storage.location.template": f"{events_location}${{{datalake.PARTITION_COLUMN}}}/",
                },
                partition_keys=[glue.CfnTable.ColumnProperty(name=datalake.PARTITION_COLUMN, type="string")],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=events_location,
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name, type=datalake.hive_type(hive_type))
                        for name, hive_type in datalake.COLUMNS
                    ],
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    compressed=True,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters=serde_parameters,
                    ),
                ),
            ),
        )
        table.node.add_dependency(self.database)
        return table

    def _workgroup(self) -> athena.CfnWorkGroup:
        return athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=f"{cdk.Stack.of(self).stack_name}-analytics",
            description="Queries over the X bot's data lake.",
            # Deleting the stack also deletes the saved queries and query history in it.
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                # Clients cannot point results elsewhere or turn encryption off.
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=BYTES_SCANNED_CUTOFF_PER_QUERY,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="AUTO",
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results_bucket.bucket_name}/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3",
                    ),
                ),
            ),
        )

    def _named_queries(self) -> None:
        for query in queries.SAMPLE_QUERIES:
            named = athena.CfnNamedQuery(
                self,
                f"Query-{query.name}",
                name=query.name,
                description=query.description,
                database=self.database_name,
                query_string=query.sql,
                work_group=self.workgroup.ref,
            )
            # The workgroup is a Ref already; the database is a plain name, so order it explicitly.
            named.node.add_dependency(self.table)
