"""Ingress (stacks/ingress.py): the webhook's role, and the REST API's edge (logging, throttling, URL)."""

from __future__ import annotations

import json

import pytest
from stacks.bot_stack import FUNCTION_ROLES
from stacks.chalice_app import REST_API_HANDLER
from stacks.ingress import API_THROTTLING_BURST_LIMIT, API_THROTTLING_RATE_LIMIT, WEBHOOK_PATH

from tests.infrastructure.templates import of_type, permissions, role_of

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("synth")]


def test_webhook_role_cannot_analyse_alert_store_idempotency_or_talk_to_lex(synth):
    """The public function: a bug or an injection in the webhook must not reach the paid or private services."""
    actions = permissions(synth.template, role_of(synth.template, REST_API_HANDLER))
    forbidden = ("rekognition:", "comprehend:", "sns:", "kms:", "dynamodb:", "lex:")
    assert [a for a in actions if a.startswith(forbidden)] == []
    # The webhook role is used by no other function.
    assert [
        n
        for role in FUNCTION_ROLES.values()
        for n in role.functions
        if role_of(synth.template, n) == role_of(synth.template, REST_API_HANDLER)
    ] == [REST_API_HANDLER]


def test_rest_api_logs_and_throttles(synth):
    (api,) = of_type(synth.template, "AWS::Serverless::Api").values()
    assert "DestinationArn" in api["Properties"]["AccessLogSetting"]
    (settings,) = api["Properties"]["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (
        API_THROTTLING_RATE_LIMIT,
        API_THROTTLING_BURST_LIMIT,
    )
    # API Gateway refuses log settings until the account names its CloudWatch role.
    (account,) = of_type(synth.template, "AWS::ApiGateway::Account")
    assert account in api["DependsOn"]
    (stage,) = of_type(synth.expanded, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["MethodSettings"] == [settings]


def test_the_api_has_one_stage_throttled_and_logged(synth):
    """SAM's extra `Stage` stage (a deployment's StageName) had neither throttling nor logs."""
    (api,) = of_type(synth.template, "AWS::Serverless::Api").values()
    (stage,) = of_type(synth.expanded, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == api["Properties"]["StageName"]
    # A deployment with a StageName creates that stage too, outside any AWS::ApiGateway::Stage.
    deployments = of_type(synth.expanded, "AWS::ApiGateway::Deployment").values()
    assert deployments
    assert [d["Properties"]["StageName"] for d in deployments if "StageName" in d["Properties"]] == []
    assert stage["Properties"]["AccessLogSetting"] == api["Properties"]["AccessLogSetting"]
    assert "DestinationArn" in stage["Properties"]["AccessLogSetting"]
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (
        API_THROTTLING_RATE_LIMIT,
        API_THROTTLING_BURST_LIMIT,
    )


def test_access_log_is_its_own_group_with_retention(synth):
    (api,) = of_type(synth.template, "AWS::Serverless::Api").values()
    destination = json.dumps(api["Properties"]["AccessLogSetting"]["DestinationArn"])
    (log_group,) = [k for k in of_type(synth.template, "AWS::Logs::LogGroup") if f'"Ref": "{k}"' in destination]
    assert synth.template["Resources"][log_group]["Properties"]["RetentionInDays"] > 0


def test_webhook_url_output(synth):
    outputs = synth.template["Outputs"]
    webhook = json.dumps(outputs["WebhookUrl"]["Value"])
    assert "execute-api" in webhook
    assert webhook.endswith(f'"{WEBHOOK_PATH}"]]}}')
