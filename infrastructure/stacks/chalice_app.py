"""The Chalice app (runtime/) as CDK resources: the ONLY module that knows chalice.cdk and SAM ids.

`chalice.cdk.Chalice` packages runtime/ into a SAM template and includes it. This adapter gives
the other modules what Chalice leaves out, without knowing what any service does:
- a role per group of functions, made in CDK (the services grant to them: `role`), each with its
  functions' own log groups (with retention) and X-Ray, which the adapter switches on;
- functions other constructs can really grant to and target (`function`);
- per-function environment variables and dependencies (`add_environment`, `add_function_dependency`);
- the SAM properties a service asks for: `on_cw_event` rules moved onto the custom bus with a
  dead-letter queue (`route_rules_to_bus`), `on_sns_message` subscriptions pointed at CDK topics
  (`subscribe_to_topics`), `on_sqs_message` event sources pointed at CDK queues
  (`consume_queues`), an on-failure destination for every asynchronously invoked function
  (`send_async_failures_to`), and the REST API's stage settings (`configure_rest_api`);
- the cdk-nag acknowledgments for the resources the SAM transform generates, which cdk-nag cannot
  see in the synthesized template (`acknowledge_generated`).

Per-function roles: chalice 1.34 reads the construct's `stage_config` as user-provided parameters,
and looks those up only at the top level (`Config._chain_lookup`), so a
`stage_config["lambda_functions"][name]["iam_role_arn"]` is silently ignored and every function
gets the stage's `iam_role_arn`. The adapter therefore overrides each SAM function's `Role` with its
group's role; a function in no group fails the synth. (Per-function Lambda timeouts and memory sizes
cannot travel through `stage_config` either: they stay in runtime/.chalice/config.json. A memory
size that depends on the deployment, such as the economy profile's, is a property override:
`set_memory`; so are a function's layers, `set_layers`.)
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sam as sam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from constructs import Construct, IConstruct

from stacks.bundle_bytecode import compile_bundle
from stacks.file_lock import exclusive
from stacks.nag import Acknowledgments, acknowledge
from stacks.rule_targets import MAX_EVENT_AGE, RETRY_ATTEMPTS

#: runtime/, the Chalice project.
RUNTIME_DIR = Path(__file__).resolve().parents[2] / "runtime"
#: Where compiled bundles are kept between synths: Chalice's own cache folder (gitignored).
BYTECODE_CACHE = RUNTIME_DIR / ".chalice" / "deployments"
#: The REST API's handler: Chalice's function name for it, and the logical id its SAM package gives it.
REST_API_HANDLER = "api_handler"
REST_API_HANDLER_LOGICAL_ID = "APIHandler"
#: The SAM API's OpenApiVersion: any 3.x stops SAM's extra `Stage` stage (see the constructor).
SAM_API_OPENAPI_VERSION = "3.0.1"
#: SAM event source types that become EventBridge rules.
EVENTBRIDGE_EVENT_TYPES = frozenset({"CloudWatchEvent", "EventBridgeRule"})
#: SAM event source type of an `on_sns_message` subscription.
SNS_EVENT_TYPE = "SNS"
#: SAM event source type of an `on_sqs_message` handler (an event source mapping: Lambda polls).
SQS_EVENT_TYPE = "SQS"
#: SAM event source type of an `@app.schedule` handler (an EventBridge schedule rule).
SCHEDULE_EVENT_TYPE = "Schedule"
#: What Lambda's poller calls on a queue with the function's role (Lambda's SQS event source documentation).
SQS_POLLER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
#: What the Lambda runtime sends to X-Ray with Tracing Active (no resource-level permissions).
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
XRAY_REASON = (
    "xray:PutTraceSegments and xray:PutTelemetryRecords (Lambda's Tracing Active) have no resource-level "
    "permissions: '*' is the only resource."
)
#: The cdk-nag finding for a '*' resource in a role's policy; a service that grants other actions
#: without resource-level permissions acknowledges it on the policy with a reason that covers X-Ray too.
WILDCARD_RESOURCE_FINDING = "AwsSolutions-IAM5[Resource::*]"

#: Asynchronous invocations (EventBridge rules, SNS subscriptions): Lambda's own retries after a
#: failed attempt (its default, written out) and how long an event may wait for them.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = cdk.Duration.hours(6)

#: A scheduled run that waited longer than this (throttled) is dropped: the next run reads the same.
SCHEDULED_RUN_MAX_AGE_SECONDS = 60

#: Lambda's memory range, in MB (CloudFormation's MemorySize).
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10_240

#: The acknowledgments for the Lambda functions the SAM transform generates from Chalice's template.
_GENERATED_FUNCTION_ACKNOWLEDGMENTS: Acknowledgments = {
    "AwsSolutions-L1": (
        "Chalice packages the dependencies for the Python that runs the packaging; the project pins "
        "python3.12 (Amazon Linux 2023; tests check every wheel in the bundle against it). Move both together."
    ),
}


@dataclass(frozen=True)
class FunctionRole:
    """A least-privilege role shared by some of the app's functions (as Chalice registers them)."""

    functions: tuple[str, ...]
    description: str


class ChaliceApp(Construct):
    """runtime/ deployed by Chalice, with a role per group of functions, their logging and tracing done in CDK."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        roles: Mapping[str, FunctionRole],
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
        source_dir: Path = RUNTIME_DIR,
    ) -> None:
        """`roles`: role name -> the functions that share it; every function of the app must be in exactly one.
        `environment`: the variables every function gets (the stage's)."""
        super().__init__(scope, construct_id)

        self._roles = {
            name: iam.Role(
                self,
                f"{name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=role.description,
            )
            for name, role in roles.items()
        }
        for role in self._roles.values():
            role.add_to_principal_policy(iam.PolicyStatement(actions=list(XRAY_ACTIONS), resources=["*"]))
            acknowledge(role, {WILDCARD_RESOURCE_FINDING: XRAY_REASON})

        self._chalice = _ChaliceWithBytecode(
            self,
            "Chalice",
            source_dir=str(source_dir),
            stage_config={
                # CDK owns the roles: Chalice's generated policy only sees what app.py calls directly.
                # Chalice wants one role ARN for the stage; it is never deployed, because every
                # function's Role is replaced with its group's role below (a function in no group
                # fails the synth).
                "manage_iam_role": False,
                "iam_role_arn": next(iter(self._roles.values())).role_arn,
                # Tracing Active: the functions continue the state machine's and the API's traces.
                "xray": True,
                "environment_variables": dict(environment),
            },
        )
        self._packaged = _packaged_template(self._chalice)["Resources"]
        self._functions = _sam_resources(self._chalice, sam.CfnFunction)
        self._role_of = _roles_by_logical_id(self._functions, roles)
        for function_id, function in self._functions.items():
            role = self._roles[self._role_of[function_id]]
            function.add_property_override("Role", role.role_arn)
            self._log_to_own_group(function_id, function, role, log_retention)
            # Create functions after their role's policy, so the first invocations are allowed
            # (the role itself is a GetAtt already).
            function.node.add_dependency(role.node.find_child("DefaultPolicy"))
        # One API stage: unless OpenApiVersion is set, SAM also gives the API's deployment the
        # StageName "Stage", a second stage with none of the throttling and logging of Chalice's
        # ("api", `configure_rest_api`). Any 3.x value stops it; SAM leaves Chalice's swagger 2.0
        # DefinitionBody as it is (it converts only a body without a "swagger" key).
        for api in _sam_resources(self._chalice, sam.CfnApi).values():
            api.add_property_override("OpenApiVersion", SAM_API_OPENAPI_VERSION)
        self._imported: dict[str, lambda_.IFunction] = {}
        self._generated_acknowledgments: dict[str, dict[str, str]] = {}
        self.acknowledge_generated("AWS::Lambda::Function", _GENERATED_FUNCTION_ACKNOWLEDGMENTS)

    # Functions and roles -------------------------------------------------------------------------

    def log_group(self, name: str) -> logs.ILogGroup:
        """The log group of the function Chalice registered as `name` (its own, with the retention)."""
        # Made in _log_to_own_group as this construct's child "<function's logical id>Log".
        log_group = self.node.find_child(f"{function_logical_id(name)}Log")
        assert isinstance(log_group, logs.LogGroup)
        return log_group

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

    def role(self, name: str) -> iam.Role:
        """The role called `name` (a key of the constructor's `roles`)."""
        return self._roles[name]

    def add_environment(self, name: str, variables: Mapping[str, str]) -> None:
        """Environment variables for one function only (the stage's apply to every function).

        For values that name a resource which itself refers to a Chalice function (the Lex alias
        names its fulfilment function): on every function they would make a dependency cycle.
        """
        function = self._sam_function(name)
        for key, value in variables.items():
            function.add_property_override(f"Environment.Variables.{key}", value)

    def set_layers(self, name: str, *layers: lambda_.ILayerVersion) -> None:
        """Lambda layers for one function only: its Layers property. runtime/.chalice/config.json
        sets no "layers" (it would put them on every function), and Chalice's automatic layer is off."""
        self._sam_function(name).add_property_override("Layers", [layer.layer_version_arn for layer in layers])

    def set_memory(self, name: str, memory_mb: int) -> None:
        """The memory of one function, in place of runtime/.chalice/config.json's (for a size that
        depends on the deployment: config.json cannot vary by CDK context). Lambda's CPU share
        grows with it (one vCPU at 1,769 MB)."""
        if not MIN_MEMORY_MB <= memory_mb <= MAX_MEMORY_MB:
            raise ValueError(f"Lambda memory must be {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB, got {memory_mb} for {name}")
        self._sam_function(name).add_property_override("MemorySize", memory_mb)

    def add_function_dependency(self, name: str, *dependencies: IConstruct) -> None:
        """Create the function `name` only after `dependencies` (e.g. a policy it needs from its first call)."""
        function = self._sam_function(name)
        for dependency in dependencies:
            function.node.add_dependency(dependency)

    # Event sources ---------------------------------------------------------------------------------

    def route_rules_to_bus(self, *, bus: events.IEventBus, dead_letter_queue: sqs.IQueue) -> None:
        """Put every `on_cw_event` rule on `bus` (Chalice leaves them on the default one).

        With EventBridge's retry policy written out and `dead_letter_queue` for events it still
        could not hand to the function (throttled, function missing, permission denied): those
        never reach the function, so its on-failure destination would not see them.
        """
        for function_id, function in self._functions.items():
            for event_name, _event in self._events(function_id, EVENTBRIDGE_EVENT_TYPES):
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
        # The rules are generated by the SAM transform (their ids are SAM's): allow every rule on
        # the bus, in this account and region, to dead-letter an event to the queue.
        rules_on_bus = cdk.Stack.of(self).format_arn(
            service="events", resource="rule", resource_name=f"{bus.event_bus_name}/*"
        )
        dead_letter_queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowChaliceRulesOnTheBus",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[dead_letter_queue.queue_arn],
                conditions={"ArnLike": {"aws:SourceArn": rules_on_bus}},
            )
        )

    def subscribe_to_topics(self, topics: Mapping[str, sns.ITopic]) -> None:
        """Subscribe every `on_sns_message` handler to the CDK topic of the name it declares.

        Chalice declares the topic by name (an ARN built with Fn::Sub in this account and region); CDK
        makes the topic, so the subscription must name its real ARN. A name with no CDK topic fails the
        synth rather than subscribing to a topic nobody created.
        """
        for function_id, function in self._functions.items():
            for event_name, event in self._events(function_id, {SNS_EVENT_TYPE}):
                name = _topic_name(event["Properties"]["Topic"])
                if name not in topics:
                    raise KeyError(f"{event_name} subscribes to SNS topic {name!r}, which the stack does not create")
                function.add_property_override(f"Events.{event_name}.Properties.Topic", topics[name].topic_arn)

    def consume_queues(self, queues: Mapping[str, sqs.IQueue]) -> None:
        """Point every `on_sqs_message` handler at the CDK queue of the name it declares.

        Chalice declares the queue by name (an ARN built with Fn::Sub); CDK makes the queue with a
        generated name, so two stacks never clash, and the event source must name its real ARN. The
        function's role gets what Lambda's poller needs (SAM's SQSPollerPolicy is only added to a
        role SAM makes). A name with no CDK queue fails the synth.
        """
        for function_id, function in self._functions.items():
            for event_name, event in self._events(function_id, {SQS_EVENT_TYPE}):
                name = _queue_name(event["Properties"]["Queue"])
                if name not in queues:
                    raise KeyError(f"{event_name} reads SQS queue {name!r}, which the stack does not create")
                queue = queues[name]
                function.add_property_override(f"Events.{event_name}.Properties.Queue", queue.queue_arn)
                role = self._roles[self._role_of[function_id]]
                # Only the poller's actions: grant_consume_messages would add GetQueueUrl and
                # ChangeMessageVisibility, which the poller does not need.
                role.add_to_principal_policy(
                    iam.PolicyStatement(actions=list(SQS_POLLER_ACTIONS), resources=[queue.queue_arn])
                )
                # The event source mapping checks the role when it is created.
                function.node.add_dependency(role.node.find_child("DefaultPolicy"))

    def set_schedule(self, name: str, expression: str | None) -> None:
        """The schedule of the `@app.schedule` function `name`: `expression` (e.g. "rate(3 minutes)")
        in place of the one in the decorator, which cannot read the deployment's context; or, with
        None, no schedule at all (the SAM event is removed: the function stays, nothing invokes it).

        A scheduled run that fails is not retried by Lambda (its asynchronous retries would call
        the same failing thing twice more, against X's rate limit): the next run is the retry.
        """
        function = self._sam_function(name)
        logical = function_logical_id(name)
        scheduled = self._events(logical, {SCHEDULE_EVENT_TYPE})
        if not scheduled:
            raise KeyError(f"the Chalice function {name!r} has no schedule")
        every_event = self._packaged[logical]["Properties"].get("Events", {})
        if expression is None:
            if len(scheduled) == len(every_event):
                function.add_property_deletion_override("Events")
            else:
                for event_name, _event in scheduled:
                    function.add_property_deletion_override(f"Events.{event_name}")
            return
        for event_name, _event in scheduled:
            function.add_property_override(f"Events.{event_name}.Properties.Schedule", expression)
        function.add_property_override(
            "EventInvokeConfig", {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": SCHEDULED_RUN_MAX_AGE_SECONDS}
        )

    def send_async_failures_to(self, queue: sqs.IQueue) -> None:
        """An on-failure destination for every function an EventBridge rule or SNS subscription invokes.

        Both invoke asynchronously, and Lambda drops a failing event after its retries unless an
        on-failure destination takes it. The destination (EventInvokeConfig), not the function's
        DeadLetterQueue: its record carries the error message and stack trace with the event (a DLQ
        message has only the event and an error code), and it is the mechanism AWS recommends for
        asynchronous invocation. Lambda writes it with the function's role.
        """
        asynchronous = EVENTBRIDGE_EVENT_TYPES | {SNS_EVENT_TYPE}
        for function_id, function in self._functions.items():
            if not any(self._events(function_id, asynchronous)):
                continue
            function.add_property_override(
                "EventInvokeConfig",
                {
                    "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": int(ASYNC_MAX_EVENT_AGE.to_seconds()),
                    "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": queue.queue_arn}},
                },
            )
            # Only SendMessage: grant_send_messages would add GetQueueAttributes and GetQueueUrl,
            # which Lambda never calls.
            self._roles[self._role_of[function_id]].add_to_principal_policy(
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn])
            )

    # The REST API --------------------------------------------------------------------------------

    def configure_rest_api(
        self,
        *,
        access_log_destination_arn: str,
        access_log_format: str,
        method_settings: Sequence[Mapping[str, Any]],
        after: Sequence[IConstruct] = (),
    ) -> None:
        """The REST API stage's access log and method settings; the API is created after `after`."""
        for api in _sam_resources(self._chalice, sam.CfnApi).values():
            api.add_property_override(
                "AccessLogSetting", {"DestinationArn": access_log_destination_arn, "Format": access_log_format}
            )
            api.add_property_override("MethodSettings", [dict(settings) for settings in method_settings])
            for dependency in after:
                api.node.add_dependency(dependency)

    @property
    def api_url(self) -> str:
        """https://<api>.execute-api.<region>.amazonaws.com/api/ (with the trailing slash)."""
        return cdk.Token.as_string(self._chalice.sam_template.get_output("EndpointURL").value)

    # cdk-nag -------------------------------------------------------------------------------------

    def acknowledge_generated(self, resource_type: str, acknowledgments: Acknowledgments) -> None:
        """Acknowledge findings on every resource of `resource_type` the SAM transform generates.

        cdk-nag skips AWS::Serverless::* resources; tests/infrastructure expands the template with
        the SAM translator and checks it again with these (SAM's logical ids vary, so by type).
        """
        self._generated_acknowledgments.setdefault(resource_type, {}).update(acknowledgments)

    @property
    def generated_acknowledgments(self) -> Mapping[str, Acknowledgments]:
        """Resource type -> the acknowledgments for the resources of that type SAM generates."""
        return {resource_type: dict(rules) for resource_type, rules in self._generated_acknowledgments.items()}

    # ---------------------------------------------------------------------------------------------

    def _sam_function(self, name: str) -> sam.CfnFunction:
        logical = function_logical_id(name)
        if logical not in self._functions:
            raise KeyError(f"the Chalice app has no function {name!r} (known: {sorted(self._functions)})")
        return self._functions[logical]

    def _events(self, function_id: str, types: Collection[str]) -> list[tuple[str, Any]]:
        """The packaged function's event sources of these SAM types, by event name.

        Read from the packaged template, because jsii cannot hand back the included function's
        Events to Python (deserialising the SAM event-source union fails).
        """
        return [
            (event_name, event)
            for event_name, event in self._packaged[function_id]["Properties"].get("Events", {}).items()
            if event.get("Type") in types
        ]

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


def function_logical_id(name: str) -> str:
    """The logical id Chalice gives the function it registered as `name` (kept by the construct)."""
    # chalice/package.py renames the REST API's handler.
    return REST_API_HANDLER_LOGICAL_ID if name == REST_API_HANDLER else to_cfn_resource_name(name)


def _roles_by_logical_id(functions: Mapping[str, sam.CfnFunction], roles: Mapping[str, FunctionRole]) -> dict[str, str]:
    """Each packaged function's role; fails on a function in no role (or in two), or a role member that is gone."""
    by_logical_id: dict[str, str] = {}
    for name, role in roles.items():
        for function in role.functions:
            logical = function_logical_id(function)
            if logical in by_logical_id:
                raise KeyError(f"Chalice function {function!r} is in two roles: {by_logical_id[logical]}, {name}")
            by_logical_id[logical] = name
    if missing := sorted(set(functions) - set(by_logical_id)):
        raise KeyError(f"Chalice functions {missing} are in no role: add them to a service's roles")
    if stale := sorted(set(by_logical_id) - set(functions)):
        raise KeyError(f"roles name functions the Chalice app does not have: {stale}")
    return by_logical_id


def _sam_resources[R: cdk.CfnResource](chalice: Chalice, resource_type: type[R]) -> dict[str, R]:
    """The included resources of one type, by their (preserved) logical id."""
    return {child.node.id: child for child in chalice.sam_template.node.children if isinstance(child, resource_type)}


def _packaged_template(chalice: Chalice) -> dict[str, Any]:
    """The SAM template `chalice package` wrote (the construct keeps its path private)."""
    path = Path(chalice._sam_package_dir) / "sam.json"
    template: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return template


class _ChaliceWithBytecode(Chalice):
    """`chalice.cdk.Chalice` whose deployment zip carries compiled bytecode (stacks/bundle_bytecode.py):
    Lambda's /var/task is read-only, so without it every cold start compiles the bundle's sources
    (the webhook's import took about 2.7 times as long). The construct packages the app and then
    stages the zip as an asset, both in its constructor: its packaging step (chalice 1.34's
    `_package_app`, pinned) is the one place to add the bytecode in between."""

    def _package_app(self) -> None:
        with chalice_packaging():
            super()._package_app()
        compile_bundle(Path(self._sam_package_dir) / "deployment.zip", cache=BYTECODE_CACHE)


@contextmanager
def chalice_packaging() -> Iterator[None]:
    """Around a `chalice package` of runtime/ (the synth's, `make bench`'s). Chalice writes its cached
    package (.chalice/deployments/<hash>-python3.12.zip) in place and reuses any file of that name:
    a packaging beside this one would take a half-written zip for a finished one. So one packaging
    at a time, and a zip a killed one left unfinished is removed before Chalice looks for it."""
    with exclusive(BYTECODE_CACHE / ".package.lock"):
        drop_unfinished_packages(BYTECODE_CACHE)
        yield


def drop_unfinished_packages(folder: Path) -> list[Path]:
    """Removes the zips in `folder` that have no central directory (written by a packaging that was
    killed or is still running), which Chalice would otherwise reuse; returns them."""
    unfinished = [path for path in sorted(folder.glob("*.zip")) if not zipfile.is_zipfile(path)]
    for path in unfinished:
        path.unlink(missing_ok=True)
    return unfinished


def _queue_name(queue: Any) -> str:
    """The queue's name from the ARN Chalice wrote: a string or {"Fn::Sub": "arn:...:<name>"}."""
    arn = queue.get("Fn::Sub") if isinstance(queue, dict) else queue
    if not isinstance(arn, str):
        raise TypeError(f"unexpected SQS queue reference in the Chalice template: {queue!r}")
    return arn.rsplit(":", 1)[-1]


def _topic_name(topic: Any) -> str:
    """The topic's name from the ARN Chalice wrote: a string or {"Fn::Sub": "arn:...:<name>"}."""
    arn = topic.get("Fn::Sub") if isinstance(topic, dict) else topic
    if not isinstance(arn, str):
        raise TypeError(f"unexpected SNS topic reference in the Chalice template: {topic!r}")
    return arn.rsplit(":", 1)[-1]
