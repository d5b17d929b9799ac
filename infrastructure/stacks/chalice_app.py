"""The Chalice app (runtime/) as CDK resources: the ONLY module that knows chalice.cdk and SAM ids.

`chalice.cdk.Chalice` packages runtime/ into a SAM template and includes it. This wrapper adds what
Chalice leaves out: a least-privilege role per group of functions made in CDK, the custom bus for
every `on_cw_event` rule, the CDK topic for every `on_sns_message` subscription, a log group with
retention per function, X-Ray tracing, a failure queue for every asynchronously invoked function,
logging and throttling on the REST API, and functions other constructs can really grant to
(`function()`).

Per-function roles: chalice 1.34 reads the construct's `stage_config` as user-provided parameters,
and looks those up only at the top level (`Config._chain_lookup`), so a
`stage_config["lambda_functions"][name]["iam_role_arn"]` is silently ignored and every function
gets the stage's `iam_role_arn`. The wrapper therefore overrides each SAM function's `Role` with its
group's role (`FUNCTION_GROUPS`); a function in no group fails the synth.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sam as sam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from chalicelib.settings import FEATURE_CELEBRITIES, FEATURE_LABELS, FEATURE_TEXT
from constructs import Construct, IConstruct

from stacks.egress import IDEMPOTENCY_ACTIONS
from stacks.nag import Acknowledgments, acknowledge, logical_id
from stacks.rule_targets import MAX_EVENT_AGE, RETRY_ATTEMPTS

#: runtime/, the Chalice project.
RUNTIME_DIR = Path(__file__).resolve().parents[2] / "runtime"
#: The route X calls (chalicelib/ingress/blueprint.py).
WEBHOOK_PATH = "twitter"
#: The REST API's handler: Chalice's function name for it, and the logical id its SAM package gives it.
REST_API_HANDLER = "api_handler"
REST_API_HANDLER_LOGICAL_ID = "APIHandler"
#: SAM event source types that become EventBridge rules.
EVENTBRIDGE_EVENT_TYPES = frozenset({"CloudWatchEvent", "EventBridgeRule"})
#: SAM event source type of an `on_sns_message` subscription.
SNS_EVENT_TYPE = "SNS"
#: The Rekognition call behind each image feature (chalicelib/adapters/rekognition.py). None of the
#: analysis actions supports resource-level permissions.
REKOGNITION_ACTIONS: Mapping[str, str] = {
    FEATURE_LABELS: "rekognition:DetectLabels",
    FEATURE_CELEBRITIES: "rekognition:RecognizeCelebrities",
    FEATURE_TEXT: "rekognition:DetectText",
}
#: The Comprehend calls every text analysis makes (chalicelib/adapters/comprehend.py)...
COMPREHEND_ACTIONS = (
    "comprehend:DetectDominantLanguage",
    "comprehend:DetectSentiment",
    "comprehend:DetectEntities",
)
#: ...and the one it makes only when key phrases are switched on (textKeyPhrases).
KEY_PHRASES_ACTION = "comprehend:DetectKeyPhrases"
#: What the Lambda runtime sends to X-Ray with Tracing Active (no resource-level permissions).
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")

#: The role groups: the functions (as Chalice registers them) that share one least-privilege role.
#: Every function of the app must be in exactly one group; the synth fails otherwise.
INGRESS = "Ingress"
PLUMBING = "Plumbing"
ANALYSIS = "Analysis"
ALERTING = "Alerting"
RESPONDING_PHOTOS = "RespondingPhotos"
RESPONDING_TEXT = "RespondingText"
LEX_FULFILMENT = "LexFulfilment"
EGRESS = "Egress"
FUNCTION_GROUPS: Mapping[str, tuple[str, ...]] = {
    # The REST API's handler (Chalice names it api_handler): the public webhook.
    INGRESS: (REST_API_HANDLER,),
    PLUMBING: ("plumbing_access_revoked",),
    ANALYSIS: (
        "analysis_download_media",
        "analysis_analyse_image",
        "analysis_analyse_text",
        "analysis_publish_analysis",
        "analysis_publish_failure",
    ),
    ALERTING: ("alerting_alert_negative", "alerting_forward_alert"),
    # Two roles: only the text responder talks to Lex, only the photo responder touches photos.
    RESPONDING_PHOTOS: ("responding_reply_to_photos",),
    RESPONDING_TEXT: ("responding_reply_to_text",),
    LEX_FULFILMENT: ("responding_lex_fulfilment",),
    EGRESS: ("egress_post_reply",),
}

#: Asynchronous invocations (EventBridge rules, SNS subscriptions): Lambda's own retries after a
#: failed attempt (its default, written out) and how long an event may wait for them.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = cdk.Duration.hours(6)
#: SQS's maximum: time to notice the alarm, fix the handler and redrive.
HANDLER_FAILURES_RETENTION = cdk.Duration.days(14)

#: Replies go to X (chalicelib.settings.EGRESS_X); the dry-run outbox is for the local runtime only.
BOT_EGRESS = "x"
#: Webhook traffic is a handful of requests per second; anything far above it is abuse or a loop.
API_THROTTLING_RATE_LIMIT = 50
API_THROTTLING_BURST_LIMIT = 100

_API_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",'
    '"httpMethod":"$context.httpMethod","path":"$context.path","status":"$context.status",'
    '"responseLength":"$context.responseLength","integrationError":"$context.integration.error"}'
)

#: Findings cdk-nag reports on the resources SAM generates from Chalice's template, by resource type.
#: cdk-nag cannot see AWS::Serverless::* resources, so tests/infrastructure expands the template with
#: the SAM translator and checks it again with these acknowledgments (SAM's logical ids vary).
SAM_GENERATED_ACKNOWLEDGMENTS: Mapping[str, Acknowledgments] = {
    "AWS::Lambda::Function": {
        "AwsSolutions-L1": (
            "Chalice packages the dependencies for the Python that runs the packaging; the project pins "
            "python3.11 (tests check every wheel in the bundle against it). Move both together."
        ),
    },
    "AWS::ApiGateway::RestApi": {
        "AwsSolutions-APIG2": (
            "X posts its own, changing payloads; the handler validates the HMAC signature of the raw "
            "body and parses defensively, which an API Gateway request model cannot express."
        ),
    },
    "AWS::ApiGateway::Stage": {
        "AwsSolutions-APIG3": (
            "The only caller is X's webhook delivery; requests without a valid X signature are rejected "
            "by the handler before any work, and the stage is throttled. A WAF web ACL adds fixed cost "
            "without a rule that fits this traffic."
        ),
    },
}


class ChaliceApp(Construct):
    """runtime/ deployed by Chalice, with its IAM, logging, tracing, failure queue and bus wiring done in CDK."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus: events.IEventBus,
        twitter_secret_name: str,
        oversize_bucket: s3.IBucket,
        oversize_prefix: str,
        bot_user_id: str | None,
        log_retention: logs.RetentionDays,
        media_bucket: s3.IBucket,
        alert_topic: sns.ITopic,
        topics: Mapping[str, sns.ITopic],
        image_features: Sequence[str],
        text_key_phrases: bool,
        idempotency_table: dynamodb.ITable,
        blur_unrecognised_faces: bool,
        chat_webhook_secret_name: str | None = None,
        source_dir: Path = RUNTIME_DIR,
    ) -> None:
        """`topics`: the CDK topic for each topic name an `on_sns_message` handler declares."""
        super().__init__(scope, construct_id)

        self.handler_failures, self.handler_failures_alarm = self._handler_failures(bus)
        self.roles = self._roles(
            bus=bus,
            twitter_secret_name=twitter_secret_name,
            oversize_bucket=oversize_bucket,
            oversize_prefix=oversize_prefix,
            media_bucket=media_bucket,
            alert_topic=alert_topic,
            image_features=image_features,
            text_key_phrases=text_key_phrases,
            idempotency_table=idempotency_table,
            chat_webhook_secret_name=chat_webhook_secret_name,
        )
        environment = {
            "BOT_RUNTIME": "aws",
            "EVENT_BUS_NAME": bus.event_bus_name,
            "TWITTER_SECRET_NAME": twitter_secret_name,
            "OVERSIZE_BUCKET": oversize_bucket.bucket_name,
            "MEDIA_BUCKET": media_bucket.bucket_name,
            "ALERT_TOPIC_ARN": alert_topic.topic_arn,
            "IMAGE_FEATURES": ",".join(image_features),
            "TEXT_KEY_PHRASES": "true" if text_key_phrases else "false",
            "BLUR_UNRECOGNISED_FACES": "true" if blur_unrecognised_faces else "false",
            "BOT_EGRESS": BOT_EGRESS,
            "IDEMPOTENCY_TABLE": idempotency_table.table_name,
        }
        if bot_user_id:
            environment["BOT_USER_ID"] = bot_user_id
        if chat_webhook_secret_name:
            environment["CHAT_WEBHOOK_SECRET_NAME"] = chat_webhook_secret_name

        self.chalice = Chalice(
            self,
            "Chalice",
            source_dir=str(source_dir),
            stage_config={
                # CDK owns the roles: Chalice's generated policy only sees what app.py calls directly.
                # Chalice wants one role ARN for the stage; every function's Role is then replaced
                # with its group's role below (the logs-only one is named here so nothing more is
                # ever granted by accident).
                "manage_iam_role": False,
                "iam_role_arn": self.roles[PLUMBING].role_arn,
                # Tracing Active: the functions continue the state machine's and the API's traces.
                "xray": True,
                "environment_variables": environment,
            },
        )
        packaged = _packaged_template(self.chalice)
        self.functions = _sam_resources(self.chalice, sam.CfnFunction)
        self._group_of = _groups_by_logical_id(self.functions)
        for function_id, function in self.functions.items():
            role = self.roles[self._group_of[function_id]]
            function.add_property_override("Role", role.role_arn)
            self._log_to_own_group(function_id, function, role, log_retention)
            # Create functions after their role's policy, so the first invocations are allowed
            # (the role itself is a GetAtt already).
            function.node.add_dependency(role.node.find_child("DefaultPolicy"))
            _route_rules_to_bus(function, packaged["Resources"][function_id], bus, self.handler_failures)
            _route_subscriptions_to_topics(function, packaged["Resources"][function_id], topics)
            if _is_invoked_asynchronously(packaged["Resources"][function_id]):
                self._send_failures_to_queue(function, role)
        self.api_account = self._api_gateway_account()
        for api in _sam_resources(self.chalice, sam.CfnApi).values():
            self._log_and_throttle(api, log_retention)
            api.node.add_dependency(self.api_account)

        endpoint = self.chalice.sam_template.get_output("EndpointURL").value
        #: https://<api>.execute-api.<region>.amazonaws.com/api/twitter
        self.webhook_url = cdk.Fn.join("", [cdk.Token.as_string(endpoint), WEBHOOK_PATH])
        self._imported: dict[str, lambda_.IFunction] = {}

    def function(self, name: str) -> lambda_.IFunction:
        """The function Chalice registered as `name` (e.g. "analysis_download_media").

        Unlike `Chalice.get_function()`, whose function ignores add_permission and grants, this one
        is imported as living in this stack's account and region, so grants to it take effect
        (LambdaInvoke's lambda:InvokeFunction, targets' permissions).
        """
        if name not in self._imported:
            function = self._sam_function(name)
            self._imported[name] = lambda_.Function.from_function_attributes(
                self,
                f"Imported{function.node.id}",
                function_arn=function.get_att("Arn").to_string(),
                same_environment=True,
            )
        return self._imported[name]

    def role_of(self, name: str) -> iam.Role:
        """The role of the function Chalice registered as `name` (shared with its group)."""
        self._sam_function(name)
        return self.roles[self._group_of[function_logical_id(name)]]

    def add_environment(self, name: str, variables: Mapping[str, str]) -> None:
        """Environment variables for one function only (the stage's apply to every function).

        For values that name a resource which itself refers to a Chalice function (the Lex alias
        names its fulfilment function): on every function they would make a dependency cycle.
        """
        function = self._sam_function(name)
        for key, value in variables.items():
            function.add_property_override(f"Environment.Variables.{key}", value)

    def add_function_dependency(self, name: str, *dependencies: IConstruct) -> None:
        """Create the function `name` only after `dependencies` (e.g. a policy it needs from its first call)."""
        function = self._sam_function(name)
        for dependency in dependencies:
            function.node.add_dependency(dependency)

    def _sam_function(self, name: str) -> sam.CfnFunction:
        logical = function_logical_id(name)
        if logical not in self.functions:
            raise KeyError(f"the Chalice app has no function {name!r} (known: {sorted(self.functions)})")
        return self.functions[logical]

    def _handler_failures(self, bus: events.IEventBus) -> tuple[sqs.Queue, cloudwatch.Alarm]:
        """Events the asynchronously invoked functions could not handle, and events EventBridge could not hand them.

        Lambda's on-failure destination (EventInvokeConfig), not the function's DeadLetterQueue:
        the destination's record carries the error message and stack trace with the event (a DLQ
        message has only the event and an error code), and it is the mechanism AWS recommends for
        asynchronous invocation. Both write to an SQS queue with the function role's permission.
        """
        queue = sqs.Queue(
            self,
            "HandlerFailures",
            # SSE-SQS: EventBridge cannot write to a queue encrypted with the AWS-managed KMS key.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=HANDLER_FAILURES_RETENTION,
        )
        acknowledge(
            queue,
            {
                "AwsSolutions-SQS3": (
                    "This queue is itself the dead-letter queue (on-failure destination) of the Chalice "
                    "functions and of their EventBridge rules; it needs no dead-letter queue of its own."
                )
            },
        )
        # The Chalice rules are generated by the SAM transform (their ids are SAM's): allow every
        # rule on the bot's bus, in this account and region, to dead-letter an event here.
        rules_on_bus = cdk.Stack.of(self).format_arn(
            service="events", resource="rule", resource_name=f"{bus.event_bus_name}/*"
        )
        queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowChaliceRulesOnTheBus",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions={"ArnLike": {"aws:SourceArn": rules_on_bus}},
            )
        )
        alarm = cloudwatch.Alarm(
            self,
            "HandlerFailuresAlarm",
            alarm_description=(
                "A Chalice function failed an event after Lambda's retries, or EventBridge could not deliver "
                "one to it; see the HandlerFailures queue."
            ),
            metric=queue.metric_approximate_number_of_messages_visible(
                statistic=cloudwatch.Stats.MAXIMUM, period=cdk.Duration.minutes(5)
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return queue, alarm

    def _send_failures_to_queue(self, function: sam.CfnFunction, role: iam.Role) -> None:
        function.add_property_override(
            "EventInvokeConfig",
            {
                "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
                "MaximumEventAgeInSeconds": int(ASYNC_MAX_EVENT_AGE.to_seconds()),
                "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": self.handler_failures.queue_arn}},
            },
        )
        # Lambda sends the failure record with the function's execution role. Only SendMessage:
        # grant_send_messages would add GetQueueAttributes and GetQueueUrl, which Lambda never calls.
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.handler_failures.queue_arn])
        )

    def _roles(
        self,
        *,
        bus: events.IEventBus,
        twitter_secret_name: str,
        oversize_bucket: s3.IBucket,
        oversize_prefix: str,
        media_bucket: s3.IBucket,
        alert_topic: sns.ITopic,
        image_features: Sequence[str],
        text_key_phrases: bool,
        idempotency_table: dynamodb.ITable,
        chat_webhook_secret_name: str | None,
    ) -> dict[str, iam.Role]:
        """One role per group, each with only what its functions' adapters call.

        Chalice's policy scan never sees chalicelib, so everything is granted here. Every role
        also gets its functions' log groups (`_log_to_own_group`) and X-Ray.
        """
        descriptions = {
            INGRESS: "The X bot's webhook (REST API handler): publish to the bus, read the X secret.",
            PLUMBING: "The X bot's plumbing handlers: logs only.",
            ANALYSIS: "The X bot's analysis tasks: photos, Rekognition, Comprehend, publish to the bus.",
            ALERTING: "The X bot's alerting: publish to the alert topic, forward to the chat webhook.",
            RESPONDING_PHOTOS: "The X bot's photo responder: annotate photos, publish replies.",
            RESPONDING_TEXT: "The X bot's text responder: ask the Lex bot, publish replies.",
            LEX_FULFILMENT: "The X bot's Lex fulfilment function: logs only.",
            EGRESS: "The X bot's egress: post replies on X, idempotently.",
        }
        roles = {
            group: iam.Role(
                self,
                f"{group}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=descriptions[group],
            )
            for group in FUNCTION_GROUPS
        }
        twitter_secret = _secret_arn(self, "TwitterSecret", twitter_secret_name)
        oversized = oversize_bucket.arn_for_objects(f"{oversize_prefix}*")
        oversized_ack = (
            f"AwsSolutions-IAM5[Resource::<{logical_id(oversize_bucket)}.Arn>/{oversize_prefix}*]",
            "The shared publisher offloads an event over EventBridge's 256 KB to a key generated per event "
            "under this prefix; the grant is limited to PutObject under that prefix.",
        )
        media_objects = media_bucket.arn_for_objects("*")
        media_ack = (
            f"AwsSolutions-IAM5[Resource::<{logical_id(media_bucket)}.Arn>/*]",
            "Photos are stored under a key generated per photo (YYYY/MM/DD/<uuid>.<ext>); the grant is only "
            "object reads/writes on the media bucket, which holds nothing else.",
        )
        xray_reason = (
            "xray:PutTraceSegments and xray:PutTelemetryRecords (Lambda's Tracing Active) have no resource-level "
            "permissions: '*' is the only resource."
        )

        def grant(group: str, actions: Sequence[str], resources: Sequence[str]) -> None:
            roles[group].add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=list(resources)))

        # Publishers: PutEvents on the bus, and the oversized-payload prefix the publisher offloads to.
        for group in (INGRESS, ANALYSIS, RESPONDING_PHOTOS, RESPONDING_TEXT):
            bus.grant_put_events_to(roles[group])
            grant(group, ["s3:PutObject"], [oversized])
        # Only GetSecretValue: grant_read would add DescribeSecret, which the runtime never calls.
        # The secret uses the account's aws/secretsmanager key, which needs no kms grant.
        for group in (INGRESS, EGRESS):
            grant(group, ["secretsmanager:GetSecretValue"], [twitter_secret])

        # Analysis: the download step writes photos, Rekognition reads them with the caller's rights.
        grant(ANALYSIS, ["s3:PutObject", "s3:GetObject"], [media_objects])
        grant(ANALYSIS, analysis_actions(image_features, text_key_phrases), ["*"])
        # Alerting: sns:Publish, and what SNS needs from the publisher on a topic encrypted with a
        # customer key (written out: grant_publish would add the wildcard kms:GenerateDataKey*).
        grant(ALERTING, ["sns:Publish"], [alert_topic.topic_arn])
        if alert_topic.master_key is not None:
            grant(ALERTING, ["kms:GenerateDataKey", "kms:Decrypt"], [alert_topic.master_key.key_arn])
        if chat_webhook_secret_name:
            grant(
                ALERTING,
                ["secretsmanager:GetSecretValue"],
                [_secret_arn(self, "ChatWebhookSecret", chat_webhook_secret_name)],
            )
        # Responding/photos reads the analysed photo and stores the annotated one.
        grant(RESPONDING_PHOTOS, ["s3:GetObject", "s3:PutObject"], [media_objects])
        # Responding/text: lex:RecognizeText comes from ConversationBot.grant_recognize_text (bot_stack).
        # Egress: uploads the annotated photo, keys an idempotency record per event (Powertools).
        grant(EGRESS, ["s3:GetObject"], [media_objects])
        grant(EGRESS, IDEMPOTENCY_ACTIONS, [idempotency_table.table_arn])

        for group, role in roles.items():
            grant(group, XRAY_ACTIONS, ["*"])
            acknowledgments = {"AwsSolutions-IAM5[Resource::*]": xray_reason}
            if group == ANALYSIS:
                acknowledgments["AwsSolutions-IAM5[Resource::*]"] = (
                    "Rekognition DetectLabels/RecognizeCelebrities/DetectText and Comprehend DetectSentiment/"
                    "DetectEntities/DetectKeyPhrases/DetectDominantLanguage have no resource-level permissions "
                    "(the Service Authorization Reference lists no resource type for them); neither have "
                    f"X-Ray's trace actions. {xray_reason}"
                )
            if group in (INGRESS, ANALYSIS, RESPONDING_PHOTOS, RESPONDING_TEXT):
                acknowledgments[oversized_ack[0]] = oversized_ack[1]
            if group in (ANALYSIS, RESPONDING_PHOTOS, EGRESS):
                acknowledgments[media_ack[0]] = media_ack[1]
            acknowledge(role, acknowledgments)
        return roles

    def _log_to_own_group(
        self, function_id: str, function: sam.CfnFunction, role: iam.IRole, log_retention: logs.RetentionDays
    ) -> None:
        # Lambda's default group (/aws/lambda/<name>) would be created on first use with no
        # retention; an own group per function keeps retention in code and the grant exact.
        log_group = logs.LogGroup(
            self, f"{function_id}Log", retention=log_retention, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        function.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
        function.add_property_override("LoggingConfig.LogFormat", "JSON")
        log_group.grant_write(role)

    def _api_gateway_account(self) -> apigateway.CfnAccount:
        # API Gateway writes access and execution logs only once the region's account settings name
        # a role it can use (one setting per account and region, as CDK's RestApi does it).
        role = iam.Role(
            self,
            "ApiGatewayCloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
            ],
        )
        # Kept on stack deletion: other APIs in the account keep logging through this setting.
        role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        managed_policy = "arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
        acknowledge(
            role,
            {
                f"AwsSolutions-IAM4[Policy::{managed_policy}]": (
                    "AWS's documented service-role policy for API Gateway logging; API Gateway creates log "
                    "groups for every API of the account, so it cannot be narrowed to this stack."
                ),
            },
        )
        account = apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return account

    def _log_and_throttle(self, api: sam.CfnApi, log_retention: logs.RetentionDays) -> None:
        log_group = logs.LogGroup(
            self, "ApiAccessLog", retention=log_retention, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        api.add_property_override(
            "AccessLogSetting",
            # API Gateway wants the group's ARN without the ":*" of its Arn attribute.
            {"DestinationArn": _arn_without_wildcard(log_group), "Format": _API_ACCESS_LOG_FORMAT},
        )
        api.add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "LoggingLevel": "ERROR",
                    # Request bodies are users' private messages: never in the execution log.
                    "DataTraceEnabled": False,
                    "MetricsEnabled": True,
                    "ThrottlingRateLimit": API_THROTTLING_RATE_LIMIT,
                    "ThrottlingBurstLimit": API_THROTTLING_BURST_LIMIT,
                }
            ],
        )


def analysis_actions(image_features: Sequence[str], text_key_phrases: bool) -> tuple[str, ...]:
    """The Rekognition and Comprehend actions the analysis tasks call with this configuration."""
    return (
        *(REKOGNITION_ACTIONS[feature] for feature in image_features),
        *COMPREHEND_ACTIONS,
        *((KEY_PHRASES_ACTION,) if text_key_phrases else ()),
    )


def function_logical_id(name: str) -> str:
    """The logical id Chalice gives the function it registered as `name` (kept by the construct)."""
    # chalice/package.py renames the REST API's handler.
    return REST_API_HANDLER_LOGICAL_ID if name == REST_API_HANDLER else to_cfn_resource_name(name)


def _groups_by_logical_id(functions: Mapping[str, sam.CfnFunction]) -> dict[str, str]:
    """Each packaged function's role group; fails on a function in no group, or a group member that is gone."""
    groups = {function_logical_id(name): group for group, names in FUNCTION_GROUPS.items() for name in names}
    if missing := sorted(set(functions) - set(groups)):
        raise KeyError(f"Chalice functions {missing} are in no role group: add them to FUNCTION_GROUPS")
    if stale := sorted(set(groups) - set(functions)):
        raise KeyError(f"FUNCTION_GROUPS names functions the Chalice app does not have: {stale}")
    return groups


def _secret_arn(scope: Construct, construct_id: str, name: str) -> str:
    """The ARN of a secret by name.

    An imported name gives a partial ARN; the real one ends in "-" and six random characters.
    """
    secret = secretsmanager.Secret.from_secret_name_v2(scope, construct_id, name)
    return f"{secret.secret_arn}-??????"


def _is_invoked_asynchronously(packaged: Mapping[str, Any]) -> bool:
    """Whether an EventBridge rule or SNS subscription invokes the function: both invoke asynchronously,
    and Lambda drops a failing event after its retries unless an on-failure destination takes it."""
    return any(
        event.get("Type") in EVENTBRIDGE_EVENT_TYPES | {SNS_EVENT_TYPE}
        for event in packaged["Properties"].get("Events", {}).values()
    )


_R = TypeVar("_R", bound=cdk.CfnResource)


def _sam_resources(chalice: Chalice, resource_type: type[_R]) -> dict[str, _R]:
    """The included resources of one type, by their (preserved) logical id."""
    return {child.node.id: child for child in chalice.sam_template.node.children if isinstance(child, resource_type)}


def _packaged_template(chalice: Chalice) -> dict[str, Any]:
    """The SAM template `chalice package` wrote.

    Read from the file because jsii cannot hand back the included function's Events to Python
    (deserialising the SAM event-source union fails), and the construct keeps the path private.
    """
    path = Path(chalice._sam_package_dir) / "sam.json"
    template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return template


def _route_rules_to_bus(
    function: sam.CfnFunction, packaged: Mapping[str, Any], bus: events.IEventBus, dead_letter_queue: sqs.IQueue
) -> None:
    """Put every `on_cw_event` rule on the custom bus (Chalice leaves them on the default one).

    With EventBridge's retry policy written out and a dead-letter queue for events it still could
    not hand to the function (throttled, function missing, permission denied): those never reach
    the function, so its on-failure destination would not see them.
    """
    for event_name, event in packaged["Properties"].get("Events", {}).items():
        if event.get("Type") in EVENTBRIDGE_EVENT_TYPES:
            prefix = f"Events.{event_name}.Properties"
            function.add_property_override(f"{prefix}.EventBusName", bus.event_bus_name)
            function.add_property_override(f"{prefix}.DeadLetterConfig", {"Arn": dead_letter_queue.queue_arn})
            function.add_property_override(
                f"{prefix}.RetryPolicy",
                {
                    "MaximumRetryAttempts": RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds()),
                },
            )


def _route_subscriptions_to_topics(
    function: sam.CfnFunction, packaged: Mapping[str, Any], topics: Mapping[str, sns.ITopic]
) -> None:
    """Subscribe every `on_sns_message` handler to the CDK topic of that name.

    Chalice declares the topic by name (an ARN built with Fn::Sub in this account and region); CDK
    makes the topic, so the subscription must name its real ARN. A name with no CDK topic fails the
    synth rather than subscribing to a topic nobody created.
    """
    for event_name, event in packaged["Properties"].get("Events", {}).items():
        if event.get("Type") != SNS_EVENT_TYPE:
            continue
        name = _topic_name(event["Properties"]["Topic"])
        if name not in topics:
            raise KeyError(f"{event_name} subscribes to SNS topic {name!r}, which the stack does not create")
        function.add_property_override(f"Events.{event_name}.Properties.Topic", topics[name].topic_arn)


def _topic_name(topic: Any) -> str:
    """The topic's name from the ARN Chalice wrote: a string or {"Fn::Sub": "arn:...:<name>"}."""
    arn = topic.get("Fn::Sub") if isinstance(topic, dict) else topic
    if not isinstance(arn, str):
        raise TypeError(f"unexpected SNS topic reference in the Chalice template: {topic!r}")
    return arn.rsplit(":", 1)[-1]


def _arn_without_wildcard(log_group: logs.ILogGroup) -> str:
    return cdk.Stack.of(log_group).format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_group.log_group_name,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
