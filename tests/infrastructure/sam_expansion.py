"""Check what CloudFormation will really deploy: the template after the SAM transform, offline.

cdk-nag and cfn-lint's resource rules skip AWS::Serverless::* resources, which is where the Chalice
app lives. The SAM translator (the code behind the AWS::Serverless-2016-10-31 transform) expands
them here without an AWS account, and cdk-nag runs again on the result through CfnInclude, with:
- the acknowledgments of the resources CDK made, which the synthesized template carries in each
  resource's Metadata (`write_suppressions_to_cloud_formation=True` in app.py), and
- for the resources SAM generated, the ones the services gave the Chalice app's construct
  (`ChaliceApp.acknowledge_generated`, read back from `ChaliceApp.generated_acknowledgments`).

Only the tests use it (the CDK app itself needs no SAM translator).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
from aws_cdk import cloudformation_include
from cdk_nag import AwsSolutionsChecks
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from stacks.nag import Acknowledgments, acknowledge

Template = dict[str, Any]
SAM_PREFIX = "AWS::Serverless::"


def expand_sam(template: Mapping[str, Any], *, region: str) -> Template:
    """The template with its SAM resources replaced by plain CloudFormation, as the transform would.

    Offline: no managed policy lookups (this app names none), and the boto session is only asked
    for its region and partition.
    """
    translator = Translator(
        managed_policy_map={},
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=region),
    )
    expanded: Template = translator.translate(
        copy.deepcopy(dict(template)),
        parameter_values={},
        get_managed_policy_map=dict,
    )
    return expanded


def sam_generated(original: Mapping[str, Any], expanded: Mapping[str, Any]) -> set[str]:
    """Logical ids of the resources the transform made (or remade from a SAM resource)."""
    before = original["Resources"]
    return {
        logical_id
        for logical_id in expanded["Resources"]
        if logical_id not in before or before[logical_id]["Type"].startswith(SAM_PREFIX)
    }


def nag_violations(
    original: Mapping[str, Any],
    expanded: Mapping[str, Any],
    workdir: Path,
    *,
    sam_acknowledgments: Mapping[str, Acknowledgments],
) -> list[dict[str, Any]]:
    """AwsSolutions findings on the expanded template that nothing acknowledges (`sam_acknowledgments`:
    resource type -> the acknowledgments for the resources of that type the transform generated)."""
    template_file = workdir / "sam-expanded.template.json"
    template_file.write_text(json.dumps(expanded), encoding="utf-8")

    app = cdk.App(outdir=str(workdir / "sam-expanded.out"))
    stack = cdk.Stack(app, "SamExpanded", synthesizer=cdk.BootstraplessSynthesizer())
    included = cloudformation_include.CfnInclude(stack, "Template", template_file=str(template_file))
    generated = sam_generated(original, expanded)
    for logical_id, resource in expanded["Resources"].items():
        acknowledgments = dict(_carried_acknowledgments(resource))
        if logical_id in generated:
            acknowledgments.update(sam_acknowledgments.get(resource["Type"], {}))
        acknowledge(included.get_resource(logical_id), acknowledgments)

    report = AwsSolutionsChecks().validate_scope(stack)
    return [
        {
            "rule": violation.rule_name,
            "description": violation.description,
            "resources": [r.resource_logical_id or r.construct_path for r in violation.violating_resources],
        }
        for violation in report.violations
    ]


def _carried_acknowledgments(resource: Mapping[str, Any]) -> dict[str, str]:
    rules = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    return {rule["id"]: rule["reason"] for rule in rules}
