"""cfn-lint and cdk-nag (AwsSolutions) on the synthesized template and on its SAM expansion."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint
from cfnlint.config import ManualArgs
from stacks.bot_stack import BotStack
from stacks.nag import Acknowledgments

from tests.infrastructure.sam_expansion import nag_violations, sam_generated

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]

REGIONS = ["us-east-1", "eu-west-1"]
#: cfn-lint rules this project ignores, each with the reason. Errors, warnings and informational
#: checks run; add a rule here only with a reason.
IGNORED_CFN_LINT_RULES: dict[str, str] = {
    "I1022": "Style only: CDK renders every string concatenation as Fn::Join with an empty delimiter.",
}


def _lint(template: dict[str, Any]) -> list[str]:
    config = ManualArgs(regions=REGIONS, ignore_checks=list(IGNORED_CFN_LINT_RULES), include_checks=["I"])
    return [
        f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in lint(json.dumps(template), config=config)
    ]


def test_cfn_lint_synthesized_template(synth):
    assert _lint(synth.template) == []


def test_cfn_lint_sam_expanded_template(synth):
    assert "Transform" not in synth.expanded
    assert not [r for r in synth.expanded["Resources"].values() if r["Type"].startswith("AWS::Serverless::")]
    assert _lint(synth.expanded) == []


def test_cdk_nag_has_no_unacknowledged_findings(synth):
    # synth already ran the plugin (it fails on findings); this repeats it for a readable diff.
    report = AwsSolutionsChecks().validate_scope(synth.stack)
    assert [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations] == []


def test_every_acknowledgment_has_a_reason(synth):
    for logical_id, resource in synth.template["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            assert len(rule["reason"]) > 40, (logical_id, rule)


def _sam_acknowledgments(synth) -> Mapping[str, Acknowledgments]:
    """What the services acknowledged for the resources the SAM transform generates (by type)."""
    assert isinstance(synth.stack, BotStack)
    return synth.stack.app.generated_acknowledgments


def test_cdk_nag_after_the_sam_transform(synth, tmp_path):
    assert (
        nag_violations(synth.template, synth.expanded, tmp_path, sam_acknowledgments=_sam_acknowledgments(synth)) == []
    )


def test_every_sam_acknowledgment_is_still_needed(synth, tmp_path):
    """Without the acknowledgments for SAM's resources, exactly those findings come back."""
    findings = nag_violations(synth.template, synth.expanded, tmp_path, sam_acknowledgments={})
    types = {logical_id: synth.expanded["Resources"][logical_id]["Type"] for logical_id in synth.expanded["Resources"]}
    found = {(types[path.rsplit("/", 1)[-1]], finding["rule"]) for finding in findings for path in finding["resources"]}
    acknowledged = {
        (resource_type, rule) for resource_type, rules in _sam_acknowledgments(synth).items() for rule in rules
    }
    assert found == acknowledged
    assert {path.rsplit("/", 1)[-1] for f in findings for path in f["resources"]} <= sam_generated(
        synth.template, synth.expanded
    )
