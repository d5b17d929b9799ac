"""The CloudWatch dashboard (stacks/dashboard.py): the pipeline's health by service, above the event counts.

The dashboard's body is an Fn::Join of JSON text and references (region, queues, topic, state
machine, functions); `_body` puts it back together with a placeholder for each reference, so the
widgets can be read as CloudWatch will, and each placeholder says which resources it refers to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalicelib.contracts import names, workflow
from chalicelib.settings import DEFAULT_MAX_REPLY_AGE_SECONDS
from stacks.bot_stack import SERVICE_ROLES
from stacks.chalice_app import function_logical_id
from stacks.plumbing import METRIC_NAMESPACE

from tests.infrastructure.templates import of_type, only

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

#: The health groups' headers, top to bottom, then the event counts' (kept from before, lower down).
HEALTH_GROUPS = ("Messages", "Egress", "Failure queues", "Analysis", "Functions")
EVENT_GROUPS = ("Domain events", "Raw X events")
#: CloudWatch's limits: a body of 1 MB at most (the template's own limit is 1 MB too), 500 widgets.
BODY_LIMIT_BYTES = 1_000_000
WIDGET_LIMIT = 500

_PLACEHOLDER = re.compile(r"«(\d+)»")


@dataclass(frozen=True)
class Body:
    widgets: list[dict[str, Any]]
    #: The references in the body, by placeholder number.
    references: list[Any]
    text_length: int

    def group(self, header: str) -> list[dict[str, Any]]:
        """The widgets below the text header that starts with "# <header>", down to the next header."""
        group: list[dict[str, Any]] | None = None
        for widget in sorted(self.widgets, key=lambda w: (w["y"], w["x"])):
            if widget["type"] == "text":
                if group is not None:
                    return group
                if widget["properties"]["markdown"].startswith(f"# {header}"):
                    group = []
            elif group is not None:
                group.append(widget)
        assert group is not None, f"no header {header!r}"
        return group

    def resources(self, value: str) -> set[str]:
        """The logical ids a dimension value refers to ("«3»" -> the references of placeholder 3)."""
        return {
            logical_id
            for number in _PLACEHOLDER.findall(value)
            for logical_id in _logical_ids(self.references[int(number)])
        }


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    options: dict[str, Any]


def _body(synth) -> Body:
    (dashboard,) = of_type(synth.template, "AWS::CloudWatch::Dashboard").values()
    document = synth.stack.resolve(dashboard["Properties"]["DashboardBody"])
    delimiter, parts = document["Fn::Join"]
    references: list[Any] = []
    text: list[str] = []
    for part in parts:
        if isinstance(part, str):
            text.append(part)
        else:
            references.append(part)
            text.append(f"«{len(references) - 1}»")
    joined = delimiter.join(text)
    return Body(widgets=json.loads(joined)["widgets"], references=references, text_length=len(joined.encode()))


def _logical_ids(reference: Any) -> Iterator[str]:
    """Every resource a CloudFormation expression refers to (Ref or GetAtt, however nested)."""
    if isinstance(reference, dict):
        for key, value in reference.items():
            if key == "Ref" and not value.startswith("AWS::"):
                yield value
            elif key == "Fn::GetAtt":
                yield value[0]
            else:
                yield from _logical_ids(value)
    elif isinstance(reference, list):
        for item in reference:
            yield from _logical_ids(item)


def _metrics(widget: dict[str, Any]) -> list[Metric]:
    """A metric widget's metrics, each row [namespace, name, dimension, value, ..., {options}]."""
    found = []
    for row in widget["properties"].get("metrics", []):
        options = row[-1] if isinstance(row[-1], dict) else {}
        fields = row[:-1] if options else row
        namespace, name, *pairs = fields
        found.append(Metric(namespace, name, dict(zip(pairs[::2], pairs[1::2], strict=True)), options))
    return found


def _titled(group: list[dict[str, Any]], fragment: str) -> list[dict[str, Any]]:
    widgets = [w for w in group if fragment in w["properties"].get("title", "")]
    assert widgets, f"no widget titled with {fragment!r}"
    return widgets


def _annotations(widget: dict[str, Any]) -> list[float]:
    return [a["value"] for a in widget["properties"].get("annotations", {}).get("horizontal", [])]


@pytest.fixture(scope="module")
def body(synth) -> Body:
    return _body(synth)


def test_health_groups_come_first_then_the_event_counts(body):
    headers = sorted((w for w in body.widgets if w["type"] == "text"), key=lambda w: w["y"])
    titles = [h["properties"]["markdown"].split("\n")[0].removeprefix("# ") for h in headers]
    assert [t.split(" (")[0] for t in titles] == [*HEALTH_GROUPS, *EVENT_GROUPS]
    for group in (*HEALTH_GROUPS, *EVENT_GROUPS):
        assert body.group(group), f"the group {group} has no widget"


def test_messages_received_analysed_failed_answered_skipped_and_alerts(synth, body):
    group = body.group("Messages")
    counted = {
        (m.name, m.options["label"])
        for w in group
        for m in _metrics(w)
        if m.namespace == METRIC_NAMESPACE and m.options.get("stat") == "Sum"
    }
    expected = {
        (names.MESSAGE_RECEIVED, "received"),
        (names.MESSAGE_ANALYSED, "analysed"),
        (names.MESSAGE_ANALYSIS_FAILED, "analysis failed"),
        (names.REPLY_POSTED, "answered"),
        (names.MESSAGE_SKIPPED, "skipped at ingress"),
        (names.REPLY_SKIPPED, "reply skipped"),
    }
    assert counted == expected
    # The totals over the time range show every count, the alerts included.
    (totals,) = [w for w in group if w["properties"]["view"] == "singleValue"]
    assert totals["properties"]["setPeriodToTimeRange"] is True
    assert {m.options["label"] for m in _metrics(totals)} == {label for _, label in expected} | {"alerts raised"}

    (skipped,) = _titled(group, "Skipped by guards")
    assert {m.name for m in _metrics(skipped)} == {names.MESSAGE_SKIPPED, names.REPLY_SKIPPED}
    (failed,) = _titled(group, "Analyses failed")
    assert [m.name for m in _metrics(failed)] == [names.MESSAGE_ANALYSIS_FAILED]

    alert_topic = next(
        k
        for k, v in of_type(synth.template, "AWS::SNS::Topic").items()
        if v["Properties"]["DisplayName"] == "X bot alerts"
    )
    (alerts,) = _titled(group, "Alerts raised")
    (metric,) = _metrics(alerts)
    assert (metric.namespace, metric.name, metric.options["stat"]) == ("AWS/SNS", "NumberOfMessagesPublished", "Sum")
    assert body.resources(metric.dimensions["TopicName"]) == {alert_topic}


def _egress_queues(template: dict[str, Any]) -> tuple[str, str]:
    """Egress's queue (the one queue with a dead-letter queue) and that dead-letter queue."""
    queues = of_type(template, "AWS::SQS::Queue")
    (replies,) = [k for k, v in queues.items() if "RedrivePolicy" in v["Properties"]]
    dead_letters = queues[replies]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    return replies, dead_letters


def _queue_metrics(body: Body, group: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(queue's logical id, metric name) -> the widget, for every SQS metric of the group."""
    found = {}
    for widget in group:
        for metric in _metrics(widget):
            if metric.namespace == "AWS/SQS":
                (queue,) = body.resources(metric.dimensions["QueueName"])
                found[(queue, metric.name)] = widget
    return found


def test_egress_replies_waiting_oldest_age_and_dead_letters(synth, body):
    replies, dead_letters = _egress_queues(synth.template)
    metrics = _queue_metrics(body, body.group("Egress"))
    assert {
        (replies, "ApproximateNumberOfMessagesVisible"),
        (replies, "ApproximateAgeOfOldestMessage"),
        (dead_letters, "ApproximateNumberOfMessagesVisible"),
    } <= set(metrics)
    assert "Replies waiting" in metrics[(replies, "ApproximateNumberOfMessagesVisible")]["properties"]["title"]
    # The oldest reply's age against the age past which Egress skips it.
    assert _annotations(metrics[(replies, "ApproximateAgeOfOldestMessage")]) == [DEFAULT_MAX_REPLY_AGE_SECONDS]


def test_every_dead_letter_queue_has_its_depth_graphed(synth, body):
    # Every queue of the stack is a dead-letter queue, except the one that has a dead-letter queue itself.
    replies, _ = _egress_queues(synth.template)
    dead_letter_queues = set(of_type(synth.template, "AWS::SQS::Queue")) - {replies}
    assert len(dead_letter_queues) == 3
    metrics = _queue_metrics(body, body.group("Failure queues"))
    assert set(metrics) == {(queue, "ApproximateNumberOfMessagesVisible") for queue in dead_letter_queues}
    for widget in metrics.values():
        # The line each queue's alarm fires at.
        assert _annotations(widget) == [1]
        assert all(m.options["stat"] == "Maximum" for m in _metrics(widget))


def test_analysis_executions_and_their_duration(synth, body):
    state_machine = only(synth.template, "AWS::StepFunctions::StateMachine")
    group = body.group("Analysis")
    by_name: dict[str, list[Metric]] = {}
    for widget in group:
        for metric in _metrics(widget):
            assert metric.namespace == "AWS/States"
            assert body.resources(metric.dimensions["StateMachineArn"]) == {state_machine}
            by_name.setdefault(metric.name, []).append(metric)
    assert set(by_name) == {"ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionTime"}
    # CloudWatch's default statistic, Average, is left out of the body.
    assert {m.options.get("stat", "Average") for m in by_name["ExecutionTime"]} == {"p95", "Average"}
    (duration,) = _titled(group, "execution time")
    assert _annotations(duration) == [workflow.EXECUTION_TIMEOUT_SECONDS * 1000]


def test_every_function_has_its_errors_and_duration_in_its_service_group(synth, body):
    group = body.group("Functions")
    graphed: dict[tuple[str, str], set[str]] = {}
    for widget in group:
        service = widget["properties"]["title"].split(" functions:")[0]
        for metric in _metrics(widget):
            assert metric.namespace == "AWS/Lambda"
            (function,) = body.resources(metric.dimensions["FunctionName"])
            graphed.setdefault((service, metric.name), set()).add(function)
    by_service = {
        service: {function_logical_id(f) for role in roles.values() for f in role.functions}
        for service, roles in SERVICE_ROLES.items()
    }
    assert set(graphed) == {(service, name) for service in by_service for name in ("Errors", "Duration")}
    for (service, name), functions in graphed.items():
        assert functions == by_service[service], (service, name)
    # Every Lambda function of the template (after the SAM transform), each in exactly one service.
    lambda_functions = of_type(synth.expanded, "AWS::Lambda::Function")
    assert sorted(f for functions in by_service.values() for f in functions) == sorted(lambda_functions)


def test_durations_are_p95_and_errors_are_sums(body):
    for widget in body.group("Functions"):
        for metric in _metrics(widget):
            assert metric.options["stat"] == {"Errors": "Sum", "Duration": "p95"}[metric.name], metric


def test_event_counts_keep_one_graph_per_known_detail_type(body):
    graphs = body.group("Domain events") + body.group("Raw X events")
    per_type = {m.name for w in graphs for m in _metrics(w)}
    assert per_type == set(names.ALL_DETAIL_TYPES)
    assert len(graphs) == len(names.ALL_DETAIL_TYPES)
    for detail_type in names.ALL_DETAIL_TYPES:
        assert any(f"detail-type {detail_type}:" in w["properties"]["title"] for w in graphs), detail_type
    headers = [w["properties"]["markdown"] for w in body.widgets if w["type"] == "text"]
    for group in EVENT_GROUPS:
        assert any(h.startswith(f"# {group} (one graph per known detail-type") for h in headers), group


def test_the_dashboard_stays_far_below_cloudwatch_limits(body):
    assert body.text_length < BODY_LIMIT_BYTES // 10
    assert len(body.widgets) < WIDGET_LIMIT // 5


def test_the_output_names_the_dashboard(synth):
    dashboard = only(synth.template, "AWS::CloudWatch::Dashboard")
    assert synth.template["Outputs"]["DashboardName"]["Value"] == {"Ref": dashboard}
