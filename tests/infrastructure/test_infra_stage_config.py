"""The stage, alert, budget and API Gateway settings from CDK context (stacks/config.py): checked at synth."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from chalicelib.contracts import datalake
from stacks.config import STACK_NAME, BotConfig


def _config(**context: object) -> BotConfig:
    return BotConfig.from_context(cdk.App(context=dict(context)).node)


def test_without_a_stage_the_stack_and_database_keep_todays_names():
    config = _config()
    assert (config.stage, config.stack_name, config.glue_database_name) == (None, "XBot", "xbot_datalake")
    assert STACK_NAME == "XBot"
    assert _config(stage="").stage is None


@pytest.mark.parametrize(
    ("stage", "stack", "database"),
    [("dev", "XBot-dev", "xbot_datalake_dev"), ("prod-2", "XBot-prod-2", "xbot_datalake_prod_2")],
)
def test_a_stage_names_the_stack_and_the_database(stage, stack, database):
    config = _config(stage=stage)
    assert (config.stage, config.stack_name, config.glue_database_name) == (stage, stack, database)
    # The table keeps the original project's name in every stage.
    assert datalake.TABLE_NAME == "analysed-messages-table"


# "dev\n": a regular expression's "$" also matches before a final newline, which no name allows.
@pytest.mark.parametrize(
    "stage", ["Dev", "1st", "a--b", "a_b", "dev-", "-dev", "a b", "x" * 21, "dev/1", "dev\n", "dev\r\n", "dév"]
)
def test_an_invalid_stage_fails_at_synth(stage):
    with pytest.raises(ValueError, match="stage"):
        _config(stage=stage)


def test_defaults_subscribe_no_one_add_no_budget_and_own_the_api_gateway_setting():
    config = _config()
    assert (config.alert_email, config.monthly_budget_usd, config.api_gateway_account) == (None, None, True)


def test_alert_email_and_budget_from_dash_c_strings():
    config = _config(alertEmail=" you@example.com ", monthlyBudgetUsd="20", apiGatewayAccount="false")
    assert (config.alert_email, config.monthly_budget_usd, config.api_gateway_account) == (
        "you@example.com",
        20.0,
        False,
    )
    assert _config(monthlyBudgetUsd=12.5).monthly_budget_usd == 12.5
    assert _config(alertEmail="", monthlyBudgetUsd="").alert_email is None


@pytest.mark.parametrize(
    "email", ["you", "you@", "@example.com", "you@example", "you@@example.com", "a b@c.de", "a@b.de\nc@d.de"]
)
def test_a_bad_email_fails_at_synth(email):
    with pytest.raises(ValueError, match="alertEmail"):
        _config(alertEmail=email)


@pytest.mark.parametrize("amount", ["0", "-5", "twenty", "nan", "inf", True])
def test_a_non_positive_or_non_numeric_budget_fails_at_synth(amount):
    with pytest.raises(ValueError, match="monthlyBudgetUsd"):
        _config(monthlyBudgetUsd=amount)


def test_api_gateway_account_must_be_true_or_false():
    assert _config(apiGatewayAccount=True).api_gateway_account is True
    with pytest.raises(ValueError, match="apiGatewayAccount"):
        _config(apiGatewayAccount="sometimes")
