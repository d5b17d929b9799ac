"""The CloudWatch dashboard: the pipeline's health by service, then the event counts per detail-type.

Made here, from the constructs of every service, because no service's module sees them all. From
top to bottom:
- Messages: received, analysed, failed, answered, skipped, alerts raised (totals over the chosen
  time range, then per 5 minutes), from the catch-all log's metric per detail-type and the alert topic;
- Egress: the replies waiting in its queue, the oldest one's age (against the age past which a
  reply is skipped), its dead-letter queue;
- Failure queues: the depth of every dead-letter queue (each one's alarm fires at one message);
- Analysis: the state machine's executions (succeeded, failed, timed out) and their duration;
- Functions: each Lambda function's errors and duration (p95), one pair of graphs per service;
- Events: one graph per known detail-type, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from chalicelib.contracts import names
from constructs import Construct

from stacks.plumbing import COUNT_PERIOD

#: A dashboard row is 24 columns wide.
_FULL_WIDTH = 24
#: Graphs per dashboard row (6 columns each) and their height.
_WIDGETS_PER_ROW = 4
_GRAPH_HEIGHT = 6
#: What every per-5-minutes graph adds up over: the event counts' own period.
PERIOD = COUNT_PERIOD
#: Only the detail-types the contracts name get a metric filter, so only those get a graph.
_ONE_GRAPH_EACH = "(one graph per known detail-type; others are not graphed)"

#: The messages' counts, by label: the detail-types of the catch-all log's metrics.
RECEIVED = ("received", names.MESSAGE_RECEIVED)
ANALYSED = ("analysed", names.MESSAGE_ANALYSED)
ANALYSIS_FAILED = ("analysis failed", names.MESSAGE_ANALYSIS_FAILED)
ANSWERED = ("answered", names.REPLY_POSTED)
#: Ingress's guard (the bot's own posts) and Responding's and Egress's (a reply not sent).
SKIPPED = (("skipped at ingress", names.MESSAGE_SKIPPED), ("reply skipped", names.REPLY_SKIPPED))


def pipeline_dashboard(
    scope: Construct,
    construct_id: str,
    *,
    event_counts: Mapping[str, cloudwatch.Metric],
    alert_topic: sns.ITopic,
    reply_queue: sqs.IQueue,
    reply_dead_letters: sqs.IQueue,
    max_reply_age: cdk.Duration,
    failure_queues: Mapping[str, sqs.IQueue],
    state_machine: sfn.IStateMachine,
    execution_timeout: cdk.Duration,
    functions: Mapping[str, Mapping[str, lambda_.IFunction]],
) -> cloudwatch.Dashboard:
    """The dashboard `construct_id` in `scope` (no fixed name: CloudFormation generates one per stack).

    `event_counts`: the catch-all log's metric per detail-type (stacks/plumbing.py);
    `reply_queue`: Egress's queue and `reply_dead_letters` its dead-letter queue (also one of
    `failure_queues`, title -> queue); `max_reply_age`: past it Egress skips a reply; `functions`:
    service -> the service's functions by name.
    """
    dashboard = cloudwatch.Dashboard(scope, construct_id, default_interval=cdk.Duration.days(1))

    def counted(label: str, detail_type: str) -> cloudwatch.Metric:
        # Plumbing's metrics are already sums per PERIOD: only the label is the dashboard's.
        return event_counts[detail_type].with_(label=label)

    alerts = alert_topic.metric_number_of_messages_published(
        label="alerts raised", statistic=cloudwatch.Stats.SUM, period=PERIOD
    )
    skipped = [counted(*item) for item in SKIPPED]

    _header(dashboard, "# Messages", "What happened to the messages the bot received (events on the bus).")
    dashboard.add_widgets(
        cloudwatch.SingleValueWidget(
            title="Messages over the time range",
            metrics=[
                counted(*RECEIVED),
                counted(*ANALYSED),
                counted(*ANALYSIS_FAILED),
                counted(*ANSWERED),
                *skipped,
                alerts,
            ],
            # Totals over the dashboard's time range, not the last 5 minutes' value.
            set_period_to_time_range=True,
            width=_FULL_WIDTH,
            height=3,
        )
    )
    _add_in_rows(
        dashboard,
        [
            _graph(
                "Messages received, analysed, answered per 5 min",
                [counted(*RECEIVED), counted(*ANALYSED), counted(*ANSWERED)],
            ),
            _graph("Analyses failed per 5 min", [counted(*ANALYSIS_FAILED)]),
            _graph("Skipped by guards per 5 min", skipped),
            _graph("Alerts raised (alert topic) per 5 min", [alerts]),
        ],
    )

    _header(dashboard, "# Egress", "Replies and direct-message answers waiting to be posted on X.")
    _add_in_rows(
        dashboard,
        [
            _graph(
                "Replies waiting in the egress queue",
                [
                    reply_queue.metric_approximate_number_of_messages_visible(
                        label="waiting", statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
                    ),
                    # Taken by egress_post_reply, or back after the visibility timeout (posting budget).
                    reply_queue.metric_approximate_number_of_messages_not_visible(
                        label="in flight or held back", statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
                    ),
                ],
            ),
            _graph(
                "Oldest reply waiting (seconds)",
                [
                    reply_queue.metric_approximate_age_of_oldest_message(
                        label="age of the oldest", statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
                    )
                ],
                annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=max_reply_age.to_seconds(), label="older replies are skipped (maxReplyAgeSeconds)"
                    )
                ],
            ),
            _graph(
                "Egress dead letters: replies that failed every receive",
                [
                    reply_dead_letters.metric_approximate_number_of_messages_visible(
                        label="dead letters", statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
                    )
                ],
                annotations=[cloudwatch.HorizontalAnnotation(value=1, label="alarm")],
            ),
        ],
    )

    _header(
        dashboard,
        "# Failure queues",
        "Messages waiting in each dead-letter queue: each queue's alarm fires at one; redrive after the fix.",
    )
    _add_in_rows(
        dashboard,
        [
            _graph(
                f"{title}: messages waiting",
                [
                    queue.metric_approximate_number_of_messages_visible(
                        label=title, statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD
                    )
                ],
                annotations=[cloudwatch.HorizontalAnnotation(value=1, label="alarm")],
            )
            for title, queue in failure_queues.items()
        ],
    )

    _header(dashboard, "# Analysis", "The analysis state machine (one Express execution per MESSAGE_RECEIVED).")
    _add_in_rows(
        dashboard,
        [
            _graph(
                "Analysis executions per 5 min",
                [
                    state_machine.metric_succeeded(label="succeeded", statistic=cloudwatch.Stats.SUM, period=PERIOD),
                    state_machine.metric_failed(label="failed", statistic=cloudwatch.Stats.SUM, period=PERIOD),
                    state_machine.metric_timed_out(label="timed out", statistic=cloudwatch.Stats.SUM, period=PERIOD),
                ],
            ),
            _graph(
                "Analysis execution time (ms)",
                [
                    state_machine.metric_time(label="p95", statistic=cloudwatch.Stats.percentile(95), period=PERIOD),
                    state_machine.metric_time(label="average", statistic=cloudwatch.Stats.AVERAGE, period=PERIOD),
                ],
                annotations=[
                    cloudwatch.HorizontalAnnotation(value=execution_timeout.to_milliseconds(), label="timeout")
                ],
            ),
        ],
    )

    _header(dashboard, "# Functions", "Each Lambda function's errors and duration, by service.")
    _add_in_rows(
        dashboard,
        [
            graph
            for service, by_name in functions.items()
            for graph in (
                _graph(
                    f"{service} functions: errors per 5 min",
                    [
                        function.metric_errors(label=name, statistic=cloudwatch.Stats.SUM, period=PERIOD)
                        for name, function in by_name.items()
                    ],
                ),
                _graph(
                    f"{service} functions: duration p95 (ms)",
                    [
                        function.metric_duration(label=name, statistic=cloudwatch.Stats.percentile(95), period=PERIOD)
                        for name, function in by_name.items()
                    ],
                ),
            )
        ],
    )

    for title, header, detail_types in (
        ("Domain", "Domain events", names.DOMAIN_DETAIL_TYPES),
        ("Raw", "Raw X events", names.RAW_DETAIL_TYPES),
    ):
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"# {header} {_ONE_GRAPH_EACH}", width=_FULL_WIDTH, height=1)
        )
        _add_in_rows(
            dashboard,
            [
                _graph(f"{title} detail-type {detail_type}: events per 5 min", [event_counts[detail_type]], height=5)
                for detail_type in detail_types
            ],
        )
    return dashboard


def _header(dashboard: cloudwatch.Dashboard, title: str, subtitle: str) -> None:
    dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"{title}\n{subtitle}", width=_FULL_WIDTH, height=2))


def _graph(
    title: str,
    metrics: Sequence[cloudwatch.IMetric],
    *,
    annotations: Sequence[cloudwatch.HorizontalAnnotation] = (),
    height: int = _GRAPH_HEIGHT,
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(metrics),
        left_annotations=list(annotations),
        # From zero: a count or a depth that wobbles between 0 and 1 must not look like a surge.
        left_y_axis=cloudwatch.YAxisProps(min=0),
        width=_FULL_WIDTH // _WIDGETS_PER_ROW,
        height=height,
    )


def _add_in_rows(dashboard: cloudwatch.Dashboard, widgets: Sequence[cloudwatch.IWidget]) -> None:
    for start in range(0, len(widgets), _WIDGETS_PER_ROW):
        dashboard.add_widgets(*widgets[start : start + _WIDGETS_PER_ROW])
