"""Analysis (chalicelib/analysis): MESSAGE_RECEIVED -> an Express Step Functions state machine -> MESSAGE_ANALYSED.

The state machine is built from the workflow's one definition (chalicelib.contracts.workflow): its
states, the Chalice function each task invokes, Retry and Catch. Anything that fails after its
retries -> PublishFailure (MESSAGE_ANALYSIS_FAILED) -> a Fail state, so a failure is published and
still shows as a failed execution. Also the analysis functions' role: the photos, Rekognition,
Comprehend, and publishing.

With the economy profile (`small_models`), the text and photo tasks run the small models of the
economy layer: their role gets no Comprehend and no DetectLabels, only the Rekognition calls the
economy image analyser still makes (RecognizeCelebrities, DetectText: chalicelib/adapters/economy.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

# The economy profile's features Rekognition still answers: the labels come from the small models,
# so DetectLabels is never called.
from chalicelib.adapters.economy_images import REKOGNITION_FEATURES as ECONOMY_REKOGNITION_FEATURES
from chalicelib.contracts import names, workflow
from chalicelib.kernel.features import FEATURE_CELEBRITIES, FEATURE_LABELS, FEATURE_TEXT
from chalicelib.kernel.media_keys import DELETION_MARKS_PREFIX, USERS_PREFIX
from constructs import Construct

from stacks.chalice_app import WILDCARD_RESOURCE_FINDING, XRAY_REASON, ChaliceApp, FunctionRole
from stacks.grants import EventPublishing, grant_media, grant_post_folder_deletion
from stacks.nag import acknowledge, acknowledge_grants, logical_id
from stacks.patterns import to_event_pattern
from stacks.rule_targets import DeadLettered
from stacks.small_models import SmallModels

ANALYSIS = "Analysis"
#: The handler that deletes the photos of deleted posts and revoked users (chalicelib/analysis/deletion.py).
MEDIA_DELETION = "AnalysisMediaDeletion"
DELETE_MEDIA_FUNCTION = "analysis_delete_media"
ROLES = {
    ANALYSIS: FunctionRole(
        functions=tuple(task.function for task in workflow.TASKS),
        description="The X bot's analysis tasks: photos, Rekognition, Comprehend (or small models), publish events.",
    ),
    # A role of its own: the only one that may delete photos, and it may do nothing else with them.
    MEDIA_DELETION: FunctionRole(
        functions=(DELETE_MEDIA_FUNCTION,),
        description="The X bot's media deletion: delete the photos of deleted posts and revoked users.",
    ),
}

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

#: The economy profile's analysis functions and their memory in MB (docs/economy-profile-plan.md,
#: section 5; `botctl cost --profile economy` bills the same figures: a test checks they agree).
#: The photo task gets one full vCPU (1,769 MB): loading the label, face and text models is about
#: 4 s of CPU on a cold start, and a photo about 1 s; at 512 MB it would be about 14 s and 3 s.
#: The text task needs about 40 MiB and 0.5 s of CPU cold (fastText, VADER): 512 MB, as today.
ECONOMY_MEMORY_MB: Mapping[str, int] = {
    workflow.ANALYSE_IMAGE.function: 1769,
    workflow.ANALYSE_TEXT.function: 512,
}

#: Step Functions' jitter strategies, by the contract's name for them.
_JITTER = {"FULL": sfn.JitterType.FULL, "NONE": sfn.JitterType.NONE}


def analysis_actions(
    image_features: Sequence[str], text_key_phrases: bool, *, small_models: bool = False
) -> tuple[str, ...]:
    """The Rekognition and Comprehend actions the analysis tasks call with this configuration.

    With the small models (the economy profile), no Comprehend action and no DetectLabels: the text
    and the labels are analysed in the function (key phrases too, by YAKE)."""
    if small_models:
        return tuple(
            REKOGNITION_ACTIONS[feature] for feature in image_features if feature in ECONOMY_REKOGNITION_FEATURES
        )
    return (
        *(REKOGNITION_ACTIONS[feature] for feature in image_features),
        *COMPREHEND_ACTIONS,
        *((KEY_PHRASES_ACTION,) if text_key_phrases else ()),
    )


#: What chalicelib.adapters.dynamodb_claims calls: a conditional put to claim, a put to complete,
#: a delete to release.
CLAIM_ACTIONS = ("dynamodb:PutItem", "dynamodb:DeleteItem")


def attach_to(
    app: ChaliceApp,
    *,
    publishing: EventPublishing,
    media: s3.IBucket,
    image_features: Sequence[str],
    text_key_phrases: bool,
    idempotency_table: dynamodb.ITable,
    image_environment: Mapping[str, str],
    small_models: SmallModels | None = None,
) -> None:
    """The analysis role: the download step writes photos, Rekognition reads them with the caller's
    rights, Comprehend analyses the text, the last step publishes.

    `small_models` (the economy profile): the text and photo tasks run them (ECONOMY_MEMORY_MB), and
    the role gets neither Comprehend nor DetectLabels. The photo task still reads the photo from the
    media bucket (s3:GetObject, below) to label it in the function."""
    role = app.role(ANALYSIS)
    if image_environment:
        # Only the photo step reads the triggers (CELEBRITIES_WHEN_LABELS, TEXT_WHEN_LABELS).
        app.add_environment(workflow.ANALYSE_IMAGE.function, image_environment)
    if small_models is not None:
        small_models.use_in(app, ECONOMY_MEMORY_MB)
    publishing.grant(role)
    publishing.grant_read_oversized(role)  # a claim-checked MESSAGE_RECEIVED is read back by each task
    grant_media(role, media, actions=["s3:PutObject", "s3:GetObject"])
    # Store then check (chalicelib/analysis/media.py): a photo stored for a post marked deleted
    # while it was downloaded is deleted with its post's folder at once.
    grant_post_folder_deletion(role, media, who="The download step (a photo stored while its post was deleted)")
    # One analysis per post: its claim is an item of the idempotency table.
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(CLAIM_ACTIONS), resources=[idempotency_table.table_arn])
    )
    actions = analysis_actions(image_features, text_key_phrases, small_models=small_models is not None)
    if actions:  # economy with neither celebrities nor text: no Rekognition call at all
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(actions), resources=["*"]))
    # Deletions (TWITTER_DELETED, TWITTER_PERMISSION_REVOKED): the handler's rule on the bus comes
    # from its @on_cw_event (plumbing.attach_to moves every such rule onto the custom bus).
    deletion = app.role(MEDIA_DELETION)
    publishing.grant(deletion)  # MEDIA_DELETED
    publishing.grant_read_oversized(deletion)
    grant_media_deletion(deletion, media)
    if small_models is None:
        services = (
            "Rekognition DetectLabels/RecognizeCelebrities/DetectText and Comprehend DetectSentiment/"
            "DetectEntities/DetectKeyPhrases/DetectDominantLanguage"
        )
    else:
        # The economy profile: only the Rekognition calls it still makes.
        services = " and ".join(actions)
    if services:  # else X-Ray's is the only '*', and the role acknowledges it (ChaliceApp)
        acknowledge_grants(
            role,
            {
                WILDCARD_RESOURCE_FINDING: (
                    f"{services} have no resource-level permissions "
                    "(the Service Authorization Reference lists no resource type for them); neither have "
                    f"X-Ray's trace actions. {XRAY_REASON}"
                ),
            },
        )


def grant_media_deletion(role: iam.Role, media: s3.IBucket) -> None:
    """What chalicelib.adapters.s3_media's delete_prefix calls: ListObjectsV2 (s3:ListBucket, on the
    bucket, for prefixes under users/ only) and DeleteObjects (s3:DeleteObject on each key, under
    users/ only); and the deleted post's mark (s3:PutObject under deleted/ only), written before the
    folder is emptied, so that a photo stored afterwards is recognised and deleted by the download
    step or Egress. No s3:GetObject and no versions: the bucket is not versioned."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[media.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{USERS_PREFIX}*"]}},
        )
    )
    grant_post_folder_deletion(
        role,
        media,
        who="Deletions",
        reason=(
            "A deleted post's photos (and a revoked user's) are deleted by prefix, users/<user id>/ or "
            "users/<user id>/posts/<post id>/, whose keys are generated per photo: the grant is "
            "s3:DeleteObject only, under users/ only."
        ),
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:PutObject"], resources=[media.arn_for_objects(f"{DELETION_MARKS_PREFIX}*")])
    )
    acknowledge_grants(
        role,
        {
            f"AwsSolutions-IAM5[Resource::<{logical_id(media)}.Arn>/{DELETION_MARKS_PREFIX}*]": (
                "One empty mark per deleted post, its key derived from its ids "
                "(deleted/users/<user id>/posts/<post id>.mark): s3:PutObject only, under deleted/ only."
            ),
        },
    )


class AnalysisWorkflow(Construct):
    """The Express state machine, its log group and alarms, and the rule that starts it for every MESSAGE_RECEIVED."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        bus: events.IEventBus,
        dead_letter_queue: sqs.IQueue,
        log_retention: logs.RetentionDays,
    ) -> None:
        """`functions`: the Chalice function each task invokes, by its name (workflow.TASKS' `function`)."""
        super().__init__(scope, construct_id)
        if missing := sorted({task.function for task in workflow.TASKS} - set(functions)):
            raise KeyError(f"the workflow's tasks need the functions {missing}")
        self._functions = functions

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
            definition_body=sfn.DefinitionBody.from_chainable(self._definition()),
            timeout=cdk.Duration.seconds(workflow.EXECUTION_TIMEOUT_SECONDS),
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
        self._acknowledge_role()
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

    def _definition(self) -> sfn.IChainable:
        download = self._task(
            workflow.DOWNLOAD_MEDIA,
            # The event id owns the post's claim: a retry of the same event is not turned away.
            payload={"Message.$": "$.detail", "EventId.$": "$.id"},
            # Keep the event; add the stored photos (each an ImageResult, possibly with its Error).
            result_selector={"Claimed.$": "$.Payload.Claimed", "Images.$": "$.Payload.Images"},
            result_path="$.media",
        )

        analyse_image = self._task(workflow.ANALYSE_IMAGE, payload=None, output_path="$.Payload")
        images = sfn.Map(
            self,
            workflow.ANALYSE_IMAGES,
            items_path="$.media.Images",
            max_concurrency=workflow.MAX_CONCURRENT_IMAGES,
        )
        images.item_processor(analyse_image)

        text = self._task(workflow.ANALYSE_TEXT, payload={"Message.$": "$.detail"}, output_path="$.Payload")

        analyse = sfn.Parallel(
            self,
            workflow.ANALYSE,
            # Branch outputs arrive in branch order: [the photos' results, the text's analysis].
            result_selector={"Images.$": "$[0]", "Text.$": "$[1]"},
            result_path="$.analysis",
        )
        analyse.branch(images)
        analyse.branch(text)

        publish = self._task(
            workflow.PUBLISH_ANALYSIS,
            payload={"Message.$": "$.detail", "Text.$": "$.analysis.Text", "Images.$": "$.analysis.Images"},
            result_selector={"EventId.$": "$.Payload.EventId"},
            result_path="$.published",
        )

        catch = workflow.CATCH
        publish_failure = self._task(
            workflow.PUBLISH_FAILURE,
            payload={
                "Message.$": "$.detail",
                "Error.$": f"{catch.result_path}.Error",
                "Cause.$": f"{catch.result_path}.Cause",
            },
            result_selector={"EventId.$": "$.Payload.EventId"},
            result_path="$.published",
        )
        # After MESSAGE_ANALYSIS_FAILED is out, the execution still ends failed, with the original error.
        failed = sfn.Fail(
            self, workflow.FAILED, error_path=f"{catch.result_path}.Error", cause_path=f"{catch.result_path}.Cause"
        )
        publish_failure.next(failed)

        states: dict[str, sfn.TaskStateBase | sfn.Parallel] = {
            workflow.DOWNLOAD_MEDIA.state: download,
            workflow.ANALYSE: analyse,
            workflow.PUBLISH_ANALYSIS.state: publish,
            workflow.PUBLISH_FAILURE.state: publish_failure,
        }
        for state in workflow.CAUGHT_STATES:
            states[state].add_catch(states[catch.next_state], errors=list(catch.errors), result_path=catch.result_path)

        # A post already analysed (or being analysed by another arrival) ends at once, successfully.
        first_arrival = (
            sfn.Choice(self, workflow.FIRST_ARRIVAL)
            .when(sfn.Condition.boolean_equals("$.media.Claimed", False), sfn.Succeed(self, workflow.ALREADY_ANALYSED))
            .otherwise(analyse.next(publish))
        )
        return download.next(first_arrival)

    def _task(
        self,
        task: workflow.Task,
        *,
        payload: dict[str, str] | None,
        result_selector: dict[str, str] | None = None,
        result_path: str | None = None,
        output_path: str | None = None,
    ) -> tasks.LambdaInvoke:
        state = tasks.LambdaInvoke(
            self,
            task.state,
            lambda_function=self._functions[task.function],
            # None: the state's input as it is (a Map item is the ImageResult itself).
            payload=sfn.TaskInput.from_object(payload) if payload is not None else None,
            # The workflow's own retry below covers Lambda's service errors too, with jitter.
            retry_on_service_exceptions=False,
            result_selector=result_selector,
            result_path=result_path,
            output_path=output_path,
        )
        retry = workflow.RETRY
        state.add_retry(
            errors=list(retry.errors),
            interval=cdk.Duration.seconds(retry.interval_seconds),
            backoff_rate=retry.backoff_rate,
            max_attempts=retry.retries,
            max_delay=cdk.Duration.seconds(retry.max_delay_seconds),
            jitter_strategy=_JITTER[retry.jitter],
        )
        return state

    def _acknowledge_role(self) -> None:
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
                    for function in (self._functions[task.function] for task in workflow.TASKS)
                },
                "AwsSolutions-IAM5[Resource::*]": service_wide.format(
                    what="vended log delivery (logs:CreateLogDelivery, ...) and X-Ray (xray:PutTraceSegments, ...)"
                ),
            },
        )


def _function_logical_id(function: lambda_.IFunction) -> str:
    """The logical id behind an imported function's ARN (a GetAtt of the SAM function)."""
    resolved = cdk.Stack.of(function).resolve(function.function_arn)
    (target, _attribute) = resolved["Fn::GetAtt"]
    return str(target)
