"""What reaches a person: an email address on the topics, and a monthly cost budget.

`subscribe_email` puts one address on the operations topic (alarms, the budget) and on the alert
topic (negative messages); SNS mails a confirmation link first and delivers nothing until it is
clicked. Email delivery needs no permission on the topics' keys: only publishers do (CloudWatch
and Budgets on the operations key, the alerting function on the alert key).

`MonthlyBudget` is an AWS Budgets cost budget for the month: it notifies when actual spend passes
ACTUAL_THRESHOLD_PERCENT of the limit and when the forecast passes FORECAST_THRESHOLD_PERCENT,
by email (the alert address, if any) and on the operations topic (Operations.admit_budgets lets
Budgets publish there). It watches the account's whole bill: the stack's own cost can only be told
apart once a cost allocation tag is activated in the Billing console, which no template can do.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

#: Notify when the month's actual cost passes this share of the limit...
ACTUAL_THRESHOLD_PERCENT = 80
#: ... and when AWS forecasts the month will end above the limit.
FORECAST_THRESHOLD_PERCENT = 100


def subscribe_email(email: str, topics: Sequence[sns.ITopic]) -> None:
    """An email subscription of `email` on each topic (pending until its owner confirms it)."""
    for topic in topics:
        topic.add_subscription(subscriptions.EmailSubscription(email))


class MonthlyBudget(Construct):
    """A monthly cost budget of `limit_usd` (no fixed name: two stages get two budgets)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, limit_usd: float, topic: sns.Topic, email: str | None
    ) -> None:
        super().__init__(scope, construct_id)
        subscribers = [budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic.topic_arn)]
        if email:
            subscribers.append(budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=email))

        def notification(
            notification_type: str, threshold: float
        ) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=notification_type,
                    comparison_operator="GREATER_THAN",
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=subscribers,
            )

        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=limit_usd, unit="USD"),
            ),
            notifications_with_subscribers=[
                notification("ACTUAL", ACTUAL_THRESHOLD_PERCENT),
                notification("FORECASTED", FORECAST_THRESHOLD_PERCENT),
            ],
        )
        # Budgets checks at creation that it may publish to the topic: after the topic's policy
        # (Operations.admit_budgets), which the Ref to the topic alone does not order.
        policy = topic.node.try_find_child("Policy")
        if policy is None:
            raise ValueError("the budget's topic has no policy admitting AWS Budgets (Operations.admit_budgets)")
        self.budget.node.add_dependency(policy)
