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


def physical_names(template: Template) -> dict[str, str]:
    """Every literal physical name (or scoped name, with its scope) -> where it is set."""
    names: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        resource_type = resource["Type"]
        properties = resource.get("Properties", {})
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
    if function == "Fn::Sub" and isinstance(argument, str):
        variables = set(re.findall(r"\$\{([^}!]+)\}", argument))
        return argument if variables <= _PSEUDO_PARAMETERS else None
    return None
