"""The physical names a template sets: what must differ between two stages in one account and region.

A resource property whose key ends in "Name" names something, unless it is known to be scoped
(a column, an intent, a role's inline policy, a dimension) or a reference to another resource. A
name that is an intrinsic over another resource (a Ref, a GetAtt) is generated with that resource
and differs with it; a string, or a join of strings and pseudo parameters (account, region), is the
same in every stage of an account and region unless the stage is in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

Template = dict[str, Any]

#: Same in every stage of an account and region: these keep a literal name literal.
_PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix"}

#: Properties ending in "Name" that name nothing account- or region-wide, with the reason.
NOT_PHYSICAL_NAMES: dict[str, str] = {
    r"AWS::CloudWatch::Alarm Dimensions\.\d+\.Name": "a dimension of the metric",
    r"AWS::CloudWatch::Alarm (Metrics\.\d+\.MetricStat\.Metric\.)?MetricName": "the metric watched (see MetricFilter)",
    r"AWS::CloudWatch::Alarm Metrics\.\d+\.MetricStat\.Metric\.Dimensions\.\d+\.Name": "a dimension of the metric",
    r"AWS::Logs::MetricFilter MetricTransformations\.\d+\.MetricName": "scoped by its namespace (compared with it)",
    r"AWS::Glue::Table (TableInput\.Name|DatabaseName)": "scoped by its database (compared with it)",
    r"AWS::Glue::Table TableInput\.(StorageDescriptor\.Columns|PartitionKeys)\.\d+\.Name": "a column",
    r"AWS::Glue::Table TableInput\.StorageDescriptor\.SerdeInfo\.Name": "the SerDe's label",
    r"AWS::DynamoDB::Table .*AttributeName": "a key or TTL attribute",
    r"AWS::SNS::Topic DisplayName": "the sender name shown in emails, not unique",
    r"AWS::Athena::NamedQuery Name": "a saved query's label; Athena identifies it by id",
    r"AWS::Lex::Bot BotLocales\.\d+\.(Intents|SlotTypes)\.\d+\.Name": "scoped by the bot",
    r"AWS::Lex::Bot BotLocales\.\d+\.Intents\.\d+\.Slots\.\d+\.(Name|SlotTypeName)": "scoped by the bot",
    r"AWS::Lex::BotAlias BotAliasName": "scoped by the bot",
    r"AWS::IAM::Policy PolicyName": "an inline policy, scoped by its role",
    r"AWS::IAM::Role Policies\.\d+\.PolicyName": "an inline policy, scoped by its role",
    r"AWS::Serverless::Api StageName": "scoped by the API",
    r"AWS::ApiGateway::(Stage|Deployment) StageName": "scoped by the API",
    r"AWS::Serverless::Function Events\.\w+\.Properties\.EventBusName": "a reference to the bus",
    r"AWS::Serverless::Function Events\.\w+\.Properties\.Name": "see the AWS::Events::Rule it expands to",
    r"AWS::Serverless::Function (Handler|Runtime)Name": "not a name",
    r"AWS::Events::Rule EventBusName": "a reference to the bus",
    r"AWS::Lambda::Permission FunctionName": "a reference to the function",
    r"AWS::Logs::(MetricFilter|LogStream|SubscriptionFilter) LogGroupName": "a reference to the log group",
    r"AWS::Logs::LogStream LogStreamName": "scoped by its log group",
    r"AWS::KinesisFirehose::DeliveryStream .*CloudWatchLoggingOptions\.Log(Group|Stream)Name": "references",
    r"AWS::StepFunctions::StateMachine .*LogGroupName": "a reference to the log group",
    r"AWS::Budgets::Budget .*": "see BUDGET below",
}
_NOT_PHYSICAL = [re.compile(f"^{pattern}$") for pattern in NOT_PHYSICAL_NAMES]


#: Resource types with no name at all, of which an account has one per region: two stages that
#: both make one collide (the second overwrites the first's setting) whatever their names.
SINGLETONS: dict[str, str] = {
    "AWS::ApiGateway::Account": "the region's API Gateway account setting (its CloudWatch role)",
    "AWS::Glue::DataCatalogEncryptionSettings": "the region's Data Catalog encryption settings",
    "AWS::GuardDuty::Detector": "one detector per account and region",
    "AWS::SecurityHub::Hub": "one hub per account and region",
    "AWS::Macie::Session": "one session per account and region",
}
#: Settable primary identifiers (CloudFormation's primaryIdentifier) that are references to another
#: resource, not a name of their own: the resource they name is compared instead.
IDENTIFYING_REFERENCES: dict[str, str] = {
    "CatalogId": "the account (a Glue table is scoped by its database)",
    "Bucket": "the bucket a bucket policy is attached to",
    "BotId": "the Lex bot an alias or version belongs to",
    "RestApiId": "the API a stage or deployment belongs to",
    "Qualifier": "a version or alias of the function it configures",
}


def unscanned_identifiers(template: Template, *, region: str) -> dict[str, list[str]]:
    """Per resource type of the template, the settable properties that identify a resource in its
    account and region (the primaryIdentifier of CloudFormation's resource schema, as cfn-lint ships
    it) which physical_names does not read: not a key ending in "Name", nor a known reference. Empty
    when every type's identifying name is compared between stages."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    missed: dict[str, list[str]] = {}
    for resource_type in sorted({resource["Type"] for resource in template["Resources"].values()}):
        try:
            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
        except ResourceNotFoundError:
            missed[resource_type] = ["(no resource schema: look at its names by hand)"]
            continue
        read_only = set(schema.get("readOnlyProperties", []))
        settable = [p.removeprefix("/properties/") for p in schema.get("primaryIdentifier", []) if p not in read_only]
        unread = [p for p in settable if not p.endswith("Name") and p.split("/")[-1] not in IDENTIFYING_REFERENCES]
        if unread:
            missed[resource_type] = unread
    return missed


def physical_names(template: Template) -> dict[str, str]:
    """Every literal physical name (or scoped name, with its scope), and every singleton -> where it is set."""
    names: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        resource_type = resource["Type"]
        properties = resource.get("Properties", {})
        if resource_type in SINGLETONS:
            names[f"singleton {resource_type}"] = logical_id
        for path, value in _name_properties(properties):
            where = f"{resource_type} {path}"
            literal = _literal(value)
            if literal is None:
                continue
            if not any(pattern.match(where) for pattern in _NOT_PHYSICAL):
                names[f"{resource_type} {literal}"] = f"{logical_id}.{path}"
        scoped = _scoped_name(resource_type, properties)
        if scoped is not None:
            names[scoped] = logical_id
    for output_id, output in template.get("Outputs", {}).items():
        export = _literal(output.get("Export", {}).get("Name"))
        if export is not None:
            names[f"export {export}"] = f"Outputs.{output_id}"
    return names


def _scoped_name(resource_type: str, properties: dict[str, Any]) -> str | None:
    """Names unique only with their scope: a table in its database, a metric in its namespace."""
    if resource_type == "AWS::Glue::Table":
        database, table = _literal(properties["DatabaseName"]), _literal(properties["TableInput"]["Name"])
        return f"{resource_type} {database}.{table}" if database and table else None
    if resource_type == "AWS::Logs::MetricFilter":
        (transformation,) = properties["MetricTransformations"]
        return f"metric {transformation['MetricNamespace']}/{transformation['MetricName']}"
    if resource_type == "AWS::Budgets::Budget":
        # BUDGET: a budget's name is account-wide (Budgets is global), when it is set.
        name = _literal(properties["Budget"].get("BudgetName"))
        return f"{resource_type} {name}" if name else None
    return None


def _name_properties(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return
        for key, item in value.items():
            item_path = f"{path}.{key}" if path else key
            if key.endswith("Name"):
                yield item_path, item
            yield from _name_properties(item, item_path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _name_properties(item, f"{path}.{index}")


def _literal(value: Any) -> str | None:
    """The name if it refers to no other resource (strings and pseudo parameters only), else None."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    if function == "Ref":
        return f"${{{argument}}}" if argument in _PSEUDO_PARAMETERS else None
    if function == "Fn::Join":
        delimiter, parts = argument
        rendered = [_literal(part) for part in parts]
        return None if any(part is None for part in rendered) else delimiter.join(str(part) for part in rendered)
    if function == "Fn::Sub":
        # "${Var}" is a pseudo parameter, a resource, or (list form) a variable given beside the string.
        text, given = (argument, {}) if isinstance(argument, str) else argument
        for variable in set(re.findall(r"\$\{([^}!]+)\}", text)) - _PSEUDO_PARAMETERS:
            value = _literal(given[variable]) if variable in given else None
            if value is None:
                return None
            text = text.replace(f"${{{variable}}}", value)
        return str(text)
    return None
