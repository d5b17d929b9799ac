"""Rule targets of the local bus: what a matching event is delivered to.

On AWS a target is whatever an EventBridge rule points at: the Chalice app's Lambda functions
(from `@app.on_cw_event`) and the targets CDK adds (Firehose, Step Functions, ...). Locally each is
a Target: a stable name, the rule's pattern and a callable that takes the envelope. A target
succeeds by returning and fails by raising; the dispatcher retries failures.

`build_targets` is the one place the local targets are assembled; add new CDK stand-ins to
`cdk_stand_ins` (e.g. a local Step Functions stand-in on MESSAGE_RECEIVED_PATTERN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.contracts.names import CATCH_ALL_PATTERN

from botlocal.datalake import LocalDataLake
from botlocal.layout import LocalLayout
from botlocal.patterns import CompiledPattern, compile_pattern

Deliver = Callable[[dict[str, Any]], None]

#: Target-name prefixes say what a target stands for, as an ARN would.
LAMBDA_PREFIX = "lambda:"
FIREHOSE_PREFIX = "firehose:"


@dataclass(frozen=True)
class Target:
    """One rule and its target. The name is stored with each delivery, so keep it stable."""

    name: str
    pattern: Mapping[str, Any]
    deliver: Deliver
    compiled: CompiledPattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a target needs a name")
        try:
            compiled = compile_pattern(self.pattern)
        except ValueError as error:
            raise ValueError(f"target {self.name!r} has an invalid event pattern: {error}") from None
        object.__setattr__(self, "compiled", compiled)

    def matches(self, envelope: Mapping[str, Any]) -> bool:
        return self.compiled.matches(envelope)


class TargetRegistry:
    """Targets by name, in registration order."""

    def __init__(self, targets: Iterable[Target] = ()) -> None:
        self._targets: dict[str, Target] = {}
        for target in targets:
            self.add(target)

    def add(self, target: Target) -> None:
        if target.name in self._targets:
            raise ValueError(f"a target named {target.name!r} is already registered")
        self._targets[target.name] = target

    def get(self, name: str) -> Target | None:
        return self._targets.get(name)

    def matching(self, envelope: Mapping[str, Any]) -> list[Target]:
        return [target for target in self._targets.values() if target.matches(envelope)]

    def names(self) -> list[str]:
        return list(self._targets)

    def __iter__(self) -> Iterator[Target]:
        return iter(list(self._targets.values()))

    def __len__(self) -> int:
        return len(self._targets)


def cdk_stand_ins(layout: LocalLayout) -> list[Target]:
    """Local stand-ins for the targets only CDK creates (the app's own handlers are found apart)."""
    return [_datalake_target(layout)]


def _datalake_target(layout: LocalLayout) -> Target:
    """Firehose: every event of the bot into the data lake (the CDK rule uses the same pattern)."""
    datalake = LocalDataLake(layout.datalake)

    def deliver(envelope: dict[str, Any]) -> None:
        datalake.append(envelope)

    return Target(name=f"{FIREHOSE_PREFIX}datalake", pattern=CATCH_ALL_PATTERN, deliver=deliver)


def build_targets(layout: LocalLayout, app_targets: Iterable[Target]) -> TargetRegistry:
    """Every local target: the Chalice app's event handlers, then the CDK stand-ins."""
    return TargetRegistry([*app_targets, *cdk_stand_ins(layout)])
