"""The analysis workflow: MESSAGE_RECEIVED -> an Express Step Functions state machine -> MESSAGE_ANALYSED.

DownloadMedia -> Analyse (Parallel: Map over the photos || the text) -> PublishAnalysis; anything
that fails after its retries -> PublishFailure (MESSAGE_ANALYSIS_FAILED) -> a Fail state, so a
failure is published and still shows as a failed execution. The tasks are the Chalice app's pure
Lambda functions (chalicelib/analysis/blueprint.py); their input and output contract is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from chalicelib.contracts import names
from constructs import Construct

from stacks.buckets import private_bucket
from stacks.nag import acknowledge
from stacks.patterns import to_event_pattern
from stacks.rule_targets import DeadLettered

#: Error names a task retries: the functions' own TransientError (throttling, service hiccups,
#: timeouts; chalicelib/analysis/errors.py) and Lambda's own service errors.
RETRIED_ERRORS = (
    "TransientError",
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)
RETRY_INTERVAL = cdk.Duration.seconds(1)
RETRY_BACKOFF_RATE = 2.0
#: Attempts after the first; with full jitter the waits stay under ~1+2+4+8 s, far inside an
#: Express execution's five minutes even when several steps retry.
RETRY_MAX_ATTEMPTS = 4
RETRY_MAX_DELAY = cdk.Duration.seconds(10)
#: Photos analysed at once per message (X allows four per post).
MAP_MAX_CONCURRENCY = 4
#: An Express execution may run for at most five minutes.
EXECUTION_TIMEOUT = cdk.Duration.minutes(5)


@dataclass(frozen=True)
class AnalysisFunctions:
    """The workflow's tasks: the Chalice functions analysis_download_media, ..._publish_failure."""

    download_media: lambda_.IFunction
    analyse_image: lambda_.IFunction
    analyse_text: lambda_.IFunction
    publish_analysis: lambda_.IFunction
    publish_failure: lambda_.IFunction


def media_bucket(scope: Construct, construct_id: str, *, access_logs: s3.IBucket, retention: cdk.Duration) -> s3.Bucket:
    """Photos between download, analysis (Rekognition reads them there) and the reply.

    Everything expires after `retention`: long enough for the reply to annotate the photo.
    """
    return private_bucket(
        scope,
        construct_id,
        access_logs=access_logs,
        lifecycle_rules=[s3.LifecycleRule(id="expire-media", expiration=retention)],
        # Kept on stack deletion like the other buckets (CloudFormation cannot delete a non-empty
        # bucket); its lifecycle rule empties it within `retention`.
    )


class AnalysisWorkflow(Construct):
    """The Express state machine, its log group, and the rule that starts it for every MESSAGE_RECEIVED."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: AnalysisFunctions,
        bus: events.IEventBus,
        dead_letter_queue: sqs.IQueue,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)

        # The vended-logs prefix keeps CloudWatch Logs' account-wide resource policy small
        # (Step Functions' documented recommendation). DESTROY because the name is fixed.
        self.log_group = logs.LogGroup(
            self,
            "Log",
            log_group_name=f"/aws/vendedlogs/states/{cdk.Stack.of(self).stack_name}-analysis",
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_chainable(self._definition(functions)),
            timeout=EXECUTION_TIMEOUT,
            tracing_enabled=True,
            # Express executions keep no history: the log is the only record of what happened.
            # Level ALL keeps every state's start, retry, failure and error name, which is what
            # tells a failed execution's story; without execution data, because the states' input
            # and output are users' messages and their analysis (text, entities, faces), which
            # must not be copied into CloudWatch Logs for everyone who can read logs. ERROR with
            # data would still log the failing message's full text. Correlate with the events in
            # the data lake by execution name / event id instead.
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment="MESSAGE_RECEIVED -> download photos -> analyse photos and text -> MESSAGE_ANALYSED (or _FAILED).",
        )
        self._acknowledge_role(functions)
        # CDK makes the state machine depend on its role and on the role's policy; the role is a
        # GetAtt already (cfn-lint W3005), the policy must stay (the first execution needs it).
        role_policy = self.state_machine.role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(role_policy, cdk.CfnResource)
        state_machine_resource = self.state_machine.node.default_child
        assert isinstance(state_machine_resource, cdk.CfnResource)
        state_machine_resource.add_override("DependsOn", [cdk.Stack.of(self).get_logical_id(role_policy)])

        self.failed_alarm, self.timed_out_alarm = self._alarms()

        self.rule = events.Rule(
            self,
            "MessageReceivedRule",
            event_bus=bus,
            event_pattern=to_event_pattern(names.MESSAGE_RECEIVED_PATTERN),
            description="MESSAGE_RECEIVED -> the analysis workflow (the whole event is its input).",
            targets=[DeadLettered(targets.SfnStateMachine(self.state_machine), dead_letter_queue=dead_letter_queue)],
        )

    def _alarms(self) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
        """Failed and timed-out executions: Express executions keep no history, and a States.Timeout
        or States.Runtime failure escapes the Catch (no MESSAGE_ANALYSIS_FAILED is published)."""

        def alarm(construct_id: str, metric: cloudwatch.Metric, description: str) -> cloudwatch.Alarm:
            return cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description=description,
                metric=metric,
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        period = cdk.Duration.minutes(5)
        return (
            alarm(
                "ExecutionsFailedAlarm",
                self.state_machine.metric_failed(statistic=cloudwatch.Stats.SUM, period=period),
                "Analysis executions failed (after publishing MESSAGE_ANALYSIS_FAILED, or without it on a "
                "runtime error); see the state machine's log group.",
            ),
            alarm(
                "ExecutionsTimedOutAlarm",
                self.state_machine.metric_timed_out(statistic=cloudwatch.Stats.SUM, period=period),
                "Analysis executions timed out: no MESSAGE_ANALYSED nor MESSAGE_ANALYSIS_FAILED was published.",
            ),
        )

    def _definition(self, functions: AnalysisFunctions) -> sfn.IChainable:
        download = self._task(
            "DownloadMedia",
            functions.download_media,
            payload={"Message.$": "$.detail"},
            # Keep the event; add the stored photos (each an ImageResult, possibly with its Error).
            result_selector={"Images.$": "$.Payload.Images"},
            result_path="$.media",
        )

        analyse_image = self._task("AnalyseImage", functions.analyse_image, payload=None, output_path="$.Payload")
        images = sfn.Map(
            self,
            "AnalyseImages",
            items_path="$.media.Images",
            max_concurrency=MAP_MAX_CONCURRENCY,
        )
        images.item_processor(analyse_image)

        text = self._task(
            "AnalyseText", functions.analyse_text, payload={"Message.$": "$.detail"}, output_path="$.Payload"
        )

        analyse = sfn.Parallel(
            self,
            "Analyse",
            # Branch outputs arrive in branch order: [the photos' results, the text's analysis].
            result_selector={"Images.$": "$[0]", "Text.$": "$[1]"},
            result_path="$.analysis",
        )
        analyse.branch(images)
        analyse.branch(text)

        publish = self._task(
            "PublishAnalysis",
            functions.publish_analysis,
            payload={"Message.$": "$.detail", "Text.$": "$.analysis.Text", "Images.$": "$.analysis.Images"},
            result_selector={"EventId.$": "$.Payload.EventId"},
            result_path="$.published",
        )

        publish_failure = self._task(
            "PublishFailure",
            functions.publish_failure,
            payload={"Message.$": "$.detail", "Error.$": "$.error.Error", "Cause.$": "$.error.Cause"},
            result_selector={"EventId.$": "$.Payload.EventId"},
            result_path="$.published",
        )
        # After MESSAGE_ANALYSIS_FAILED is out, the execution still ends failed, with the original error.
        failed = sfn.Fail(self, "AnalysisFailed", error_path="$.error.Error", cause_path="$.error.Cause")
        publish_failure.next(failed)

        for state in (download, analyse, publish):
            state.add_catch(publish_failure, errors=[sfn.Errors.ALL], result_path="$.error")

        return download.next(analyse).next(publish)

    def _task(
        self,
        state_id: str,
        function: lambda_.IFunction,
        *,
        payload: dict[str, str] | None,
        result_selector: dict[str, str] | None = None,
        result_path: str | None = None,
        output_path: str | None = None,
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            state_id,
            lambda_function=function,
            # None: the state's input as it is (a Map item is the ImageResult itself).
            payload=sfn.TaskInput.from_object(payload) if payload is not None else None,
            # Our own retry below covers Lambda's service errors too, with jitter.
            retry_on_service_exceptions=False,
            result_selector=result_selector,
            result_path=result_path,
            output_path=output_path,
        )
        task.add_retry(
            errors=list(RETRIED_ERRORS),
            interval=RETRY_INTERVAL,
            backoff_rate=RETRY_BACKOFF_RATE,
            max_attempts=RETRY_MAX_ATTEMPTS,
            max_delay=RETRY_MAX_DELAY,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    def _acknowledge_role(self, functions: AnalysisFunctions) -> None:
        policy = self.state_machine.role.node.find_child("DefaultPolicy")
        invoke_versions = (
            "LambdaInvoke grants lambda:InvokeFunction on the function and on '<arn>:*' (its versions and "
            "aliases); the state machine calls the unqualified function only, but CDK offers no narrower grant."
        )
        service_wide = (
            "Step Functions' documented policy for {what}: these actions have no resource-level permissions, "
            "so the resource must be '*'."
        )
        acknowledge(
            policy,
            {
                **{
                    f"AwsSolutions-IAM5[Resource::<{_function_logical_id(function)}.Arn>:*]": invoke_versions
                    for function in _all(functions)
                },
                "AwsSolutions-IAM5[Resource::*]": service_wide.format(
                    what="vended log delivery (logs:CreateLogDelivery, ...) and X-Ray (xray:PutTraceSegments, ...)"
                ),
            },
        )


def _all(functions: AnalysisFunctions) -> Sequence[lambda_.IFunction]:
    return (
        functions.download_media,
        functions.analyse_image,
        functions.analyse_text,
        functions.publish_analysis,
        functions.publish_failure,
    )


def _function_logical_id(function: lambda_.IFunction) -> str:
    """The logical id behind an imported function's ARN (a GetAtt of the SAM function)."""
    resolved = cdk.Stack.of(function).resolve(function.function_arn)
    (target, _attribute) = resolved["Fn::GetAtt"]
    return str(target)
