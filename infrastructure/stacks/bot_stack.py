"""The whole bot in one stack: the units, and the grants between them."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from chalicelib.alerting.blueprint import ALERT_TOPIC_NAME
from chalicelib.publishing import OVERSIZED_PREFIX
from constructs import Construct

from stacks.alerting import Alerting
from stacks.analysis import AnalysisFunctions, AnalysisWorkflow, media_bucket
from stacks.analytics import Analytics
from stacks.chalice_app import ChaliceApp
from stacks.config import BotConfig
from stacks.conversation import ConversationBot
from stacks.egress import idempotency_table
from stacks.plumbing import Plumbing


class BotStack(cdk.Stack):
    """Webhook + Lambda functions (Chalice), the bus and its plumbing, the data lake, analysis, alerting,
    the conversational bot (Lex V2) and Egress's idempotency table."""

    def __init__(self, scope: Construct, construct_id: str, *, config: BotConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)

        archive_retention = cdk.Duration.days(config.archive_retention_days)
        plumbing = Plumbing(
            self,
            "Plumbing",
            archive_retention=archive_retention,
            log_retention=config.log_retention,
        )
        analytics = Analytics(
            self,
            "Analytics",
            bus=plumbing.bus,
            dead_letter_queue=plumbing.dead_letter_queue,
            log_retention=config.log_retention,
            access_log_retention=cdk.Duration.days(config.log_retention_days),
            # An archived event can be replayed as long as the archive keeps it; its payload must be there too.
            oversized_retention=archive_retention,
        )
        media = media_bucket(
            self,
            "Media",
            access_logs=analytics.access_logs,
            retention=cdk.Duration.days(config.media_retention_days),
        )
        alerting = Alerting(self, "Alerting")
        idempotency = idempotency_table(self, "EgressIdempotency")
        app = ChaliceApp(
            self,
            "App",
            bus=plumbing.bus,
            twitter_secret_name=config.twitter_secret_name,
            oversize_bucket=analytics.bucket,
            oversize_prefix=OVERSIZED_PREFIX,
            bot_user_id=config.bot_user_id,
            log_retention=config.log_retention,
            media_bucket=media,
            alert_topic=alerting.topic,
            topics={ALERT_TOPIC_NAME: alerting.topic},
            image_features=config.image_features,
            text_key_phrases=config.text_key_phrases,
            chat_webhook_secret_name=config.chat_webhook_secret_name,
            idempotency_table=idempotency,
            blur_unrecognised_faces=config.blur_unrecognised_faces,
        )
        analysis = AnalysisWorkflow(
            self,
            "Analysis",
            functions=AnalysisFunctions(
                download_media=app.function("analysis_download_media"),
                analyse_image=app.function("analysis_analyse_image"),
                analyse_text=app.function("analysis_analyse_text"),
                publish_analysis=app.function("analysis_publish_analysis"),
                publish_failure=app.function("analysis_publish_failure"),
            ),
            bus=plumbing.bus,
            dead_letter_queue=plumbing.dead_letter_queue,
            log_retention=config.log_retention,
        )

        # Text replies: the responder asks the bot; Lex calls the fulfilment function through the alias.
        conversation = ConversationBot(self, "Conversation", fulfilment=app.function("responding_lex_fulfilment"))
        recognize_text = conversation.grant_recognize_text(app.role_of("responding_reply_to_text"))
        app.add_environment(
            "responding_reply_to_text",
            {
                "LEX_BOT_ID": conversation.bot_id,
                "LEX_BOT_ALIAS_ID": conversation.alias_id,
                "LEX_LOCALE_ID": conversation.locale_id,
            },
        )
        app.add_function_dependency("responding_reply_to_text", recognize_text)

        cdk.CfnOutput(self, "WebhookUrl", value=app.webhook_url, description="Register this URL with X.")
        cdk.CfnOutput(self, "EventBusName", value=plumbing.bus.event_bus_name)
        cdk.CfnOutput(self, "DataLakeBucketName", value=analytics.bucket.bucket_name)
        cdk.CfnOutput(self, "AthenaWorkGroup", value=analytics.workgroup.ref)
        cdk.CfnOutput(self, "DashboardName", value=plumbing.dashboard.dashboard_name)
        cdk.CfnOutput(self, "MediaBucketName", value=media.bucket_name)
        cdk.CfnOutput(self, "AlertTopicArn", value=alerting.topic.topic_arn)
        cdk.CfnOutput(self, "AnalysisStateMachineArn", value=analysis.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "LexBotId", value=conversation.bot_id)
        cdk.CfnOutput(self, "LexBotAliasId", value=conversation.alias_id)
        cdk.CfnOutput(self, "IdempotencyTableName", value=idempotency.table_name)
