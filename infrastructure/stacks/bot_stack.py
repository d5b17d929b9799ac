"""The whole bot in one stack: the units, and what each service adds to the Chalice app.

Each runtime service X (chalicelib/X) has its module stacks/X.py: its roles (`ROLES`), and
`attach_to(app, ...)`, which gives its roles their grants and adds its rules, edge and alarms.
The units that exist only here (analytics, buckets) and the helpers have modules of their own.

`-c profile=economy` (config.profile) builds the economy layer and gives it to the services whose
functions run the small models (analysis, responding), in place of Comprehend, DetectLabels and the
Lex bot; the default profile neither builds nor imports the layer's build code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from chalicelib.contracts import workflow
from constructs import Construct

from stacks import alerting, analysis, egress, ingress, notifications, plumbing, responding
from stacks.analytics import Analytics
from stacks.buckets import media_bucket
from stacks.chalice_app import ChaliceApp, FunctionRole
from stacks.config import BotConfig
from stacks.dashboard import pipeline_dashboard
from stacks.grants import EventPublishing, secret_arn
from stacks.operations import Operations
from stacks.small_models import SmallModels, build_layer

#: Each service's roles (its module's ROLES), in the pipeline's order: the dashboard graphs the
#: functions service by service.
SERVICE_ROLES: Mapping[str, Mapping[str, FunctionRole]] = {
    "Ingress": ingress.ROLES,
    "Plumbing": plumbing.ROLES,
    "Analysis": analysis.ROLES,
    "Alerting": alerting.ROLES,
    "Responding": responding.ROLES,
    "Egress": egress.ROLES,
}
#: Every role of the Chalice app, by service: each function of the app is in exactly one.
FUNCTION_ROLES: Mapping[str, FunctionRole] = {
    name: role for roles in SERVICE_ROLES.values() for name, role in roles.items()
}
#: The economy profile's functions (those that run the small models) and their memory in MB, from
#: the services that own them; botlocal's cost model (counting.ECONOMY_MEMORY_MB) bills the same
#: figures, and tests/infrastructure/test_infra_economy_profile.py checks that they agree.
ECONOMY_MEMORY_MB: Mapping[str, int] = {**analysis.ECONOMY_MEMORY_MB, **responding.ECONOMY_MEMORY_MB}


class BotStack(cdk.Stack):
    """Webhook + Lambda functions (Chalice), the bus and its plumbing, the data lake, analysis, alerting,
    the conversational bot (Lex V2) and Egress's idempotency table."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BotConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)

        archive_retention = cdk.Duration.days(config.archive_retention_days)
        bus_plumbing = plumbing.Plumbing(
            self,
            "Plumbing",
            archive_retention=archive_retention,
            log_retention=config.log_retention,
            metric_namespace=config.stack_name,
        )
        data_lake = Analytics(
            self,
            "Analytics",
            bus=bus_plumbing.bus,
            dead_letter_queue=bus_plumbing.dead_letter_queue,
            log_retention=config.log_retention,
            access_log_retention=cdk.Duration.days(config.log_retention_days),
            # An archived event can be replayed as long as the archive keeps it; its payload must be there too.
            oversized_retention=archive_retention,
            database_name=config.glue_database_name,
        )
        media = media_bucket(
            self,
            "Media",
            access_logs=data_lake.access_logs,
            retention=cdk.Duration.days(config.media_retention_days),
        )
        alerts = alerting.Alerting(self, "Alerting")
        # Every alarm of the stack (made before or after this line) notifies the operations topic.
        operations = Operations(self, "Operations")
        operations.notify_every_alarm_in(self)
        # A person on the other end: the alarms, the budget and the negative-message alerts by email.
        if config.alert_email:
            notifications.subscribe_email(config.alert_email, [operations.topic, alerts.topic])
        if config.monthly_budget_usd is not None:
            operations.admit_budgets()
            notifications.MonthlyBudget(
                self, "Budget", limit_usd=config.monthly_budget_usd, topic=operations.topic, email=config.alert_email
            )
        idempotency = egress.idempotency_table(self, "EgressIdempotency")
        publishing = EventPublishing(bus=bus_plumbing.bus, oversize_bucket=data_lake.bucket)
        twitter_secret = secret_arn(self, "TwitterSecret", config.twitter_secret_name)
        chat_webhook_secret = (
            secret_arn(self, "ChatWebhookSecret", config.chat_webhook_secret_name)
            if config.chat_webhook_secret_name
            else None
        )

        # The stage's variables: every function gets all of them (chalicelib/settings.py reads them).
        environment = {
            **publishing.environment,
            "TWITTER_SECRET_NAME": config.twitter_secret_name,
            "MEDIA_BUCKET": media.bucket_name,
            "ALERT_TOPIC_ARN": alerts.topic.topic_arn,
            "IMAGE_FEATURES": ",".join(config.image_features),
            "TEXT_KEY_PHRASES": "true" if config.text_key_phrases else "false",
            "BLUR_UNRECOGNISED_FACES": "true" if config.blur_unrecognised_faces else "false",
            "NEGATIVE_REPLIES": config.negative_replies,
            "BOT_EGRESS": egress.BOT_EGRESS,
            "IDEMPOTENCY_TABLE": idempotency.table_name,
            **config.reply_guard_environment,
            **config.egress_environment,
        }
        if config.bot_user_id:
            environment["BOT_USER_ID"] = config.bot_user_id
        if config.chat_webhook_secret_name:
            environment["CHAT_WEBHOOK_SECRET_NAME"] = config.chat_webhook_secret_name
        app = ChaliceApp(self, "App", roles=FUNCTION_ROLES, environment=environment, log_retention=config.log_retention)
        # Built (or taken from its cache) only for the economy profile.
        small_models: SmallModels | None = build_layer(self, "EconomyLayer") if config.economy else None

        webhook = ingress.attach_to(
            app,
            publishing=publishing,
            twitter_secret=twitter_secret,
            log_retention=config.log_retention,
            api_gateway_account=config.api_gateway_account,
        )
        # The mentions poller (-c ingress=poll|both): its schedule, checkpoint table and grants;
        # none of them with the default, webhook only.
        poll_checkpoint = ingress.checkpoint_table(self, "PollCheckpoint") if config.polls else None
        ingress.attach_poller(
            app,
            publishing=publishing,
            twitter_secret=twitter_secret,
            checkpoint=poll_checkpoint,
            interval_minutes=config.poll_interval_minutes,
        )
        if poll_checkpoint is not None:
            cdk.CfnOutput(self, "PollCheckpointTableName", value=poll_checkpoint.table_name)
            # What the guide runs once after a deploy (the first run starts from then) and reads when
            # no mention is answered.
            cdk.CfnOutput(
                self,
                "PollerFunctionName",
                value=app.function(ingress.POLL_FUNCTION).function_name,
                description="Invoke it once to start polling now; otherwise its schedule starts it.",
            )
            cdk.CfnOutput(self, "PollerLogGroupName", value=app.log_group(ingress.POLL_FUNCTION).log_group_name)
        handler_failures = plumbing.attach_to(app, plumbing=bus_plumbing)
        analysis.attach_to(
            app,
            publishing=publishing,
            media=media,
            image_features=config.image_features,
            text_key_phrases=config.text_key_phrases,
            idempotency_table=idempotency,
            image_environment=config.analysis_environment,
            small_models=small_models,
        )
        analysis_workflow = analysis.AnalysisWorkflow(
            self,
            "Analysis",
            functions={task.function: app.function(task.function) for task in workflow.TASKS},
            bus=bus_plumbing.bus,
            dead_letter_queue=bus_plumbing.dead_letter_queue,
            log_retention=config.log_retention,
        )
        alerting.attach_to(
            app,
            alerting=alerts,
            publishing=publishing,
            chat_webhook_secret=chat_webhook_secret,
            idempotency_table=idempotency,
        )
        # Text replies: the responder asks the bot; Lex calls the fulfilment function through the alias.
        # The economy profile has no Lex bot: the responder matches intents in its own process.
        conversation = (
            None
            if small_models is not None
            else responding.ConversationBot(
                self, "Conversation", fulfilment=app.function(responding.LEX_FULFILMENT_FUNCTION)
            )
        )
        responding.attach_to(
            app,
            publishing=publishing,
            media=media,
            conversation_bot=conversation,
            idempotency_table=idempotency,
            alerting=alerts,
            small_models=small_models,
        )
        reply_queue = egress.ReplyQueue(
            self,
            "EgressQueue",
            bus=bus_plumbing.bus,
            rule_dead_letter_queue=bus_plumbing.dead_letter_queue,
            max_reply_age_seconds=config.max_reply_age_seconds,
        )
        egress.attach_to(
            app,
            publishing=publishing,
            twitter_secret=twitter_secret,
            media=media,
            idempotency_table=idempotency,
            queue=reply_queue,
        )
        # In Plumbing's construct, where the dashboard has always been: the same logical id keeps
        # the deployed dashboard (and its name) instead of replacing it.
        dashboard = pipeline_dashboard(
            bus_plumbing,
            "Dashboard",
            event_counts=bus_plumbing.metrics,
            alert_topic=alerts.topic,
            reply_queue=reply_queue.queue,
            reply_dead_letters=reply_queue.dead_letters.queue,
            max_reply_age=cdk.Duration.seconds(config.max_reply_age_seconds),
            failure_queues={
                "Rule targets' dead letters (TargetDeadLetters)": bus_plumbing.dead_letter_queue,
                "Functions' failures (HandlerFailures)": handler_failures.queue,
                "Egress dead letters (EgressQueue DeadLetters)": reply_queue.dead_letters.queue,
            },
            state_machine=analysis_workflow.state_machine,
            execution_timeout=cdk.Duration.seconds(workflow.EXECUTION_TIMEOUT_SECONDS),
            functions={
                service: {name: app.function(name) for role in roles.values() for name in role.functions}
                for service, roles in SERVICE_ROLES.items()
            },
        )

        cdk.CfnOutput(self, "WebhookUrl", value=webhook.url, description="Register this URL with X.")
        cdk.CfnOutput(self, "EventBusName", value=bus_plumbing.bus.event_bus_name)
        cdk.CfnOutput(self, "DataLakeBucketName", value=data_lake.bucket.bucket_name)
        # The kept buckets' names (stacks/teardown.py): what to purge by hand after `cdk destroy`.
        cdk.CfnOutput(self, "AccessLogsBucketName", value=data_lake.access_logs.bucket_name)
        cdk.CfnOutput(self, "AthenaResultsBucketName", value=data_lake.results_bucket.bucket_name)
        cdk.CfnOutput(self, "GlueDatabaseName", value=data_lake.database_name)
        cdk.CfnOutput(self, "AthenaWorkGroup", value=data_lake.workgroup.ref)
        cdk.CfnOutput(self, "DashboardName", value=dashboard.dashboard_name)
        cdk.CfnOutput(self, "MediaBucketName", value=media.bucket_name)
        cdk.CfnOutput(self, "AlertTopicArn", value=alerts.topic.topic_arn)
        cdk.CfnOutput(
            self,
            "OperationsTopicArn",
            value=operations.topic.topic_arn,
            description="Subscribe to it to be told when an alarm fires or recovers.",
        )
        cdk.CfnOutput(self, "AnalysisStateMachineArn", value=analysis_workflow.state_machine.state_machine_arn)
        if conversation is not None:
            cdk.CfnOutput(self, "LexBotId", value=conversation.bot_id)
            cdk.CfnOutput(self, "LexBotAliasId", value=conversation.alias_id)
        cdk.CfnOutput(self, "IdempotencyTableName", value=idempotency.table_name)
        # The failure queues, by the names the dashboard and the README give them: where a message
        # that was not answered ends up.
        cdk.CfnOutput(self, "TargetDeadLettersQueueUrl", value=bus_plumbing.dead_letter_queue.queue_url)
        cdk.CfnOutput(self, "HandlerFailuresQueueUrl", value=handler_failures.queue.queue_url)
        cdk.CfnOutput(self, "EgressDeadLettersQueueUrl", value=reply_queue.dead_letters.queue.queue_url)

        #: The Chalice app's construct (its SAM-generated resources' acknowledgments, for the tests).
        self.app = app
