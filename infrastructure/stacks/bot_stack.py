"""The whole bot in one stack: the units, and the grants between them."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from chalicelib.publishing import OVERSIZED_PREFIX
from constructs import Construct

from stacks.analytics import Analytics
from stacks.chalice_app import ChaliceApp
from stacks.config import BotConfig
from stacks.plumbing import Plumbing


class BotStack(cdk.Stack):
    """Webhook + Lambda functions (Chalice), the event bus and its plumbing, and the data lake."""

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
        app = ChaliceApp(
            self,
            "App",
            bus=plumbing.bus,
            twitter_secret_name=config.twitter_secret_name,
            oversize_bucket=analytics.bucket,
            oversize_prefix=OVERSIZED_PREFIX,
            bot_user_id=config.bot_user_id,
            log_retention=config.log_retention,
        )

        cdk.CfnOutput(self, "WebhookUrl", value=app.webhook_url, description="Register this URL with X.")
        cdk.CfnOutput(self, "EventBusName", value=plumbing.bus.event_bus_name)
        cdk.CfnOutput(self, "DataLakeBucketName", value=analytics.bucket.bucket_name)
        cdk.CfnOutput(self, "AthenaWorkGroup", value=analytics.workgroup.ref)
        cdk.CfnOutput(self, "DashboardName", value=plumbing.dashboard.dashboard_name)
