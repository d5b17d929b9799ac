"""The analysis workflow's one definition (chalicelib.contracts.workflow) against what reads it.

Its task functions are the Chalice app's (runtime/app.py, with the analysis blueprint's prefix),
the synthesized state machine has exactly its states, Retry and Catch, and the functions' limits
(runtime/.chalice/config.json) are the same in the template and in the local runtime.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from botlocal.chalice_app import find_runtime_dir, function_limits
from chalicelib.contracts import workflow
from chalicelib.kernel.errors import TransientError
from stacks.chalice_app import REST_API_HANDLER, function_logical_id

ANALYSIS_BLUEPRINT = "chalicelib.analysis.blueprint"


def _chalice_app() -> Any:
    """runtime/app.py's Chalice object (runtime/ is first on the path: the module `app`)."""
    return importlib.import_module("app").app


def _pure_lambda_functions() -> dict[str, Any]:
    return {function.name: function for function in _chalice_app().pure_lambda_functions}


def test_every_task_runs_a_function_the_chalice_app_registers() -> None:
    registered = _chalice_app().handler_map
    functions = _pure_lambda_functions()
    for task in workflow.TASKS:
        assert task.function in registered, task
        assert task.function in functions, f"{task.function} is not an @lambda_function"
        assert functions[task.function].handler_string.startswith(f"{ANALYSIS_BLUEPRINT}."), task


def test_the_analysis_blueprint_has_no_function_the_workflow_does_not_run() -> None:
    analysis = {
        name for name, f in _pure_lambda_functions().items() if f.handler_string.startswith(f"{ANALYSIS_BLUEPRINT}.")
    }
    assert analysis == {task.function for task in workflow.TASKS}
    # runtime/app.py registers the blueprint with the prefix the definition names.
    assert all(name.startswith(workflow.FUNCTION_PREFIX) for name in analysis)


def test_state_and_function_names_are_unique() -> None:
    states = [task.state for task in workflow.TASKS] + [workflow.ANALYSE, workflow.ANALYSE_IMAGES, workflow.FAILED]
    assert len(set(states)) == len(states)
    assert len({task.function for task in workflow.TASKS}) == len(workflow.TASKS)
    assert workflow.CATCH.next_state == workflow.PUBLISH_FAILURE.state
    assert workflow.PUBLISH_FAILURE.state not in workflow.CAUGHT_STATES


def test_the_retried_error_is_the_one_the_functions_raise() -> None:
    """Retry matches an error by its name: the class name of the exception a task raises."""
    assert TransientError.__name__ == workflow.TRANSIENT_ERROR
    assert workflow.RETRY.retries_error(workflow.TRANSIENT_ERROR)
    assert not workflow.RETRY.retries_error("ValueError")
    assert workflow.CATCH.catches("ValueError")


def test_the_retry_policy_is_the_deployed_one() -> None:
    """1 + 4 attempts, 1 s doubling to at most 10 s, full jitter (the choice is explained in the module)."""
    retry = workflow.RETRY
    assert (retry.attempts, retry.interval_seconds, retry.backoff_rate, retry.max_delay_seconds, retry.jitter) == (
        5,
        1,
        2.0,
        10,
        "FULL",
    )
    assert [retry.delay_ceiling(n) for n in range(1, 6)] == [1, 2, 4, 8, 10]
    with pytest.raises(ValueError, match="from 1"):
        retry.delay_ceiling(0)
    # Even if every step used all its retries, the waits stay inside an Express execution.
    assert sum(retry.delay_ceiling(n) for n in range(1, retry.attempts)) * 4 < workflow.EXECUTION_TIMEOUT_SECONDS


# The synthesized state machine ---------------------------------------------------------------------


def _definition(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The state machine's properties and its ASL, each function ARN as <LogicalId.Arn>."""
    ((properties,),) = [
        [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    ]
    (delimiter, parts) = properties["DefinitionString"]["Fn::Join"]

    def marker(part: Any) -> str:
        if isinstance(part, str):
            return part
        if part == {"Ref": "AWS::Partition"}:
            return "aws"
        (target, attribute) = part["Fn::GetAtt"]
        return f"<{target}.{attribute}>"

    definition: dict[str, Any] = json.loads(delimiter.join(marker(part) for part in parts))
    return properties, definition


def _states(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state by name, nested ones (Parallel branches, Map item processors) included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_states(branch["States"]))
        if "ItemProcessor" in state:
            found.update(_states(state["ItemProcessor"]["States"]))
    return found


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
def test_the_state_machine_is_the_definition(synth) -> None:
    _properties, definition = _definition(synth.template)
    states = _states(definition["States"])
    assert definition["StartAt"] == workflow.DOWNLOAD_MEDIA.state
    assert definition["TimeoutSeconds"] == workflow.EXECUTION_TIMEOUT_SECONDS

    tasks = {name: state for name, state in states.items() if state["Type"] == "Task"}
    assert set(tasks) == {task.state for task in workflow.TASKS}
    retry = workflow.RETRY
    for task in workflow.TASKS:
        state = tasks[task.state]
        assert state["Parameters"]["FunctionName"] == f"<{function_logical_id(task.function)}.Arn>", task
        assert state["Retry"] == [
            {
                "ErrorEquals": list(retry.errors),
                "IntervalSeconds": retry.interval_seconds,
                "MaxAttempts": retry.retries,
                "BackoffRate": retry.backoff_rate,
                "MaxDelaySeconds": retry.max_delay_seconds,
                "JitterStrategy": retry.jitter,
            }
        ], task

    caught = {name: state["Catch"] for name, state in states.items() if "Catch" in state}
    assert set(caught) == set(workflow.CAUGHT_STATES)
    for name, catch in caught.items():
        assert catch == [
            {
                "ErrorEquals": list(workflow.CATCH.errors),
                "ResultPath": workflow.CATCH.result_path,
                "Next": workflow.CATCH.next_state,
            }
        ], name

    assert states[workflow.ANALYSE]["Type"] == "Parallel"
    assert states[workflow.ANALYSE_IMAGES]["Type"] == "Map"
    assert states[workflow.ANALYSE_IMAGES]["MaxConcurrency"] == workflow.MAX_CONCURRENT_IMAGES
    assert states[workflow.FAILED]["Type"] == "Fail"
    assert states[workflow.PUBLISH_FAILURE.state]["Next"] == workflow.FAILED
    # One analysis per post: after the download, a post another arrival has claimed ends at once.
    assert states[workflow.DOWNLOAD_MEDIA.state]["Next"] == workflow.FIRST_ARRIVAL
    choice = states[workflow.FIRST_ARRIVAL]
    assert choice["Type"] == "Choice"
    assert choice["Choices"] == [
        {"Variable": "$.media.Claimed", "BooleanEquals": False, "Next": workflow.ALREADY_ANALYSED}
    ]
    assert choice["Default"] == workflow.ANALYSE
    assert states[workflow.ALREADY_ANALYSED]["Type"] == "Succeed"
    assert set(states) == {
        *(task.state for task in workflow.TASKS),
        workflow.FIRST_ARRIVAL,
        workflow.ALREADY_ANALYSED,
        workflow.ANALYSE,
        workflow.ANALYSE_IMAGES,
        workflow.FAILED,
    }


# The functions' limits: one home (runtime/.chalice/config.json), read by both runtimes -----------


def test_function_limits_are_set_only_for_functions_the_app_has() -> None:
    config = json.loads((find_runtime_dir() / ".chalice" / "config.json").read_text(encoding="utf-8"))
    configured = set(config.get("lambda_functions", {}))
    for stage in config.get("stages", {}).values():
        configured |= set(stage.get("lambda_functions", {}))
    assert configured <= set(_chalice_app().handler_map) | {REST_API_HANDLER}


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
@pytest.mark.parametrize("function", [*(task.function for task in workflow.TASKS), REST_API_HANDLER])
def test_the_local_runtime_gives_each_function_its_deployed_limits(synth, function: str) -> None:
    properties = synth.template["Resources"][function_logical_id(function)]["Properties"]
    assert function_limits(find_runtime_dir(), function) == (properties["Timeout"], properties["MemorySize"])
