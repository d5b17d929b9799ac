"""The Chalice app (runtime/) as CDK resources: the ONLY module that knows chalice.cdk and SAM ids.

`chalice.cdk.Chalice` packages runtime/ into a SAM template and includes it. This wrapper adds what
Chalice leaves out: a least-privilege role made in CDK, the custom bus for every `on_cw_event`
rule, the CDK topic for every `on_sns_message` subscription, a log group with retention per
function, logging and throttling on the REST API, and functions other constructs can really grant
to (`function()`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sam as sam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from stacks.nag import Acknowledgments, acknowledge, logical_id

#: runtime/, the Chalice project.
RUNTIME_DIR = Path(__file__).resolve().parents[2] / "runtime"
#: The route X calls (chalicelib/ingress/blueprint.py).
WEBHOOK_PATH = "twitter"
#: SAM event source types that become EventBridge rules.
EVENTBRIDGE_EVENT_TYPES = frozenset({"CloudWatchEvent", "EventBridgeRule"})
#: SAM event source type of an `on_sns_message` subscription.
SNS_EVENT_TYPE = "SNS"
#: Rekognition and Comprehend calls the analysis adapters make (chalicelib/adapters/). None of
#: these actions supports resource-level permissions.
ANALYSIS_ACTIONS = (
    "rekognition:DetectLabels",
    "rekognition:RecognizeCelebrities",
    "rekognition:DetectText",
    "comprehend:DetectSentiment",
    "comprehend:DetectEntities",
    "comprehend:DetectKeyPhrases",
    "comprehend:DetectDominantLanguage",
)
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
    """runtime/ deployed by Chalice, with its IAM, logging and bus wiring done in CDK."""

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
        chat_webhook_secret_name: str | None = None,
        source_dir: Path = RUNTIME_DIR,
    ) -> None:
        """`topics`: the CDK topic for each topic name an `on_sns_message` handler declares."""
        super().__init__(scope, construct_id)

        self.role = self._role(bus, twitter_secret_name, oversize_bucket, oversize_prefix)
        self._grant_analysis(media_bucket, alert_topic, chat_webhook_secret_name)
        environment = {
            "BOT_RUNTIME": "aws",
            "EVENT_BUS_NAME": bus.event_bus_name,
            "TWITTER_SECRET_NAME": twitter_secret_name,
            "OVERSIZE_BUCKET": oversize_bucket.bucket_name,
            "MEDIA_BUCKET": media_bucket.bucket_name,
            "ALERT_TOPIC_ARN": alert_topic.topic_arn,
            "IMAGE_FEATURES": ",".join(image_features),
            "TEXT_KEY_PHRASES": "true" if text_key_phrases else "false",
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
                # CDK owns the role: Chalice's generated policy only sees what app.py calls directly.
                "manage_iam_role": False,
                "iam_role_arn": self.role.role_arn,
                "environment_variables": environment,
            },
        )
        packaged = _packaged_template(self.chalice)
        self.functions = _sam_resources(self.chalice, sam.CfnFunction)
        for function_id, function in self.functions.items():
            self._log_to_own_group(function_id, function, log_retention)
            # Create functions after their role's policy, so the first invocations are allowed
            # (the role itself is a GetAtt already).
            function.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
            _route_rules_to_bus(function, packaged["Resources"][function_id], bus)
            _route_subscriptions_to_topics(function, packaged["Resources"][function_id], topics)
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
            logical = function_logical_id(name)
            if logical not in self.functions:
                raise KeyError(f"the Chalice app has no function {name!r} (known: {sorted(self.functions)})")
            self._imported[name] = lambda_.Function.from_function_attributes(
                self,
                f"Imported{logical}",
                function_arn=self.functions[logical].get_att("Arn").to_string(),
                same_environment=True,
            )
        return self._imported[name]

    def _role(
        self,
        bus: events.IEventBus,
        twitter_secret_name: str,
        oversize_bucket: s3.IBucket,
        oversize_prefix: str,
    ) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The X bot's Lambda functions (Chalice app).",
        )
        bus.grant_put_events_to(role)
        secret = secretsmanager.Secret.from_secret_name_v2(self, "TwitterSecret", twitter_secret_name)
        # Only GetSecretValue: grant_read would add DescribeSecret, which the runtime never calls.
        # The secret uses the account's aws/secretsmanager key, which needs no kms grant.
        # An imported name gives a partial ARN; the real one ends in "-" and six random characters.
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[f"{secret.secret_arn}-??????"])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[oversize_bucket.arn_for_objects(f"{oversize_prefix}*")],
            )
        )
        acknowledge(
            role,
            {
                f"AwsSolutions-IAM5[Resource::<{logical_id(oversize_bucket)}.Arn>/{oversize_prefix}*]": (
                    "Object keys under the prefix are generated per oversized event; the grant is limited "
                    "to PutObject under that prefix."
                ),
            },
        )
        return role

    def _grant_analysis(
        self, media_bucket: s3.IBucket, alert_topic: sns.ITopic, chat_webhook_secret_name: str | None
    ) -> None:
        """What the analysis and alerting adapters call; Chalice's policy scan never sees chalicelib."""
        # Photos are written by the download step and read by the analysis (Rekognition reads the
        # S3 object with the caller's permissions) and later by the reply.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"], resources=[media_bucket.arn_for_objects("*")])
        )
        self.role.add_to_principal_policy(iam.PolicyStatement(actions=list(ANALYSIS_ACTIONS), resources=["*"]))
        # sns:Publish, and what SNS needs from the publisher on a topic encrypted with a customer key
        # (written out: grant_publish would add the wildcard kms:GenerateDataKey*).
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[alert_topic.topic_arn])
        )
        if alert_topic.master_key is not None:
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[alert_topic.master_key.key_arn]
                )
            )
        if chat_webhook_secret_name:
            secret = secretsmanager.Secret.from_secret_name_v2(self, "ChatWebhookSecret", chat_webhook_secret_name)
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"], resources=[f"{secret.secret_arn}-??????"]
                )
            )
        acknowledge(
            self.role,
            {
                f"AwsSolutions-IAM5[Resource::<{logical_id(media_bucket)}.Arn>/*]": (
                    "Photos are stored under a key generated per photo (YYYY/MM/DD/<uuid>.<ext>); the grant is "
                    "only PutObject and GetObject on the media bucket, which holds nothing else."
                ),
                "AwsSolutions-IAM5[Resource::*]": (
                    "Rekognition DetectLabels/RecognizeCelebrities/DetectText and Comprehend DetectSentiment/"
                    "DetectEntities/DetectKeyPhrases/DetectDominantLanguage have no resource-level permissions "
                    "(the Service Authorization Reference lists no resource type for them): '*' is the only resource."
                ),
            },
        )

    def _log_to_own_group(self, function_id: str, function: sam.CfnFunction, log_retention: logs.RetentionDays) -> None:
        # Lambda's default group (/aws/lambda/<name>) would be created on first use with no
        # retention; an own group per function keeps retention in code and the grant exact.
        log_group = logs.LogGroup(
            self, f"{function_id}Log", retention=log_retention, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        function.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
        function.add_property_override("LoggingConfig.LogFormat", "JSON")
        log_group.grant_write(self.role)

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


def function_logical_id(name: str) -> str:
    """The logical id Chalice gives the function it registered as `name` (kept by the construct)."""
    return to_cfn_resource_name(name)


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


def _route_rules_to_bus(function: sam.CfnFunction, packaged: Mapping[str, Any], bus: events.IEventBus) -> None:
    """Put every `on_cw_event` rule on the custom bus; Chalice leaves them on the default one."""
    for event_name, event in packaged["Properties"].get("Events", {}).items():
        if event.get("Type") in EVENTBRIDGE_EVENT_TYPES:
            function.add_property_override(f"Events.{event_name}.Properties.EventBusName", bus.event_bus_name)


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
