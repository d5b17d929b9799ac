"""Responding (stacks/responding.py): the Lex V2 bot built from chalicelib.contracts.conversation (bot,
version, alias, code hook, permission), and the text responder's view of it."""

from __future__ import annotations

import dataclasses
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from chalicelib.contracts import conversation
from stacks.chalice_app import function_logical_id
from stacks.responding import (
    ALIAS_NAME,
    CODE_HOOK_INTERFACE_VERSION,
    FALLBACK_PARENT_SIGNATURE,
    IDLE_SESSION_TTL,
    ConversationBot,
)

FULFILMENT = function_logical_id("responding_lex_fulfilment")
TEXT_RESPONDER = function_logical_id("responding_reply_to_text")


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _one(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((logical_id, resource),) = _of_type(template, resource_type).items()
    return logical_id, resource["Properties"]


def _locales(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The bot's locales by LocaleId, in the template's order."""
    return {locale["LocaleId"]: locale for locale in _one(template, "AWS::Lex::Bot")[1]["BotLocales"]}


def _message_text(response: dict[str, Any]) -> list[str]:
    return [group["Message"]["PlainTextMessage"]["Value"] for group in response["MessageGroupsList"]]


@pytest.mark.slow
@pytest.mark.xdist_group("synth")
class TestSynthesized:
    def test_bot_is_text_only_not_child_directed_with_an_idle_session_ttl(self, synth):
        _, bot = _one(synth.template, "AWS::Lex::Bot")
        assert bot["DataPrivacy"] == {"ChildDirected": False}
        assert bot["IdleSessionTTLInSeconds"] == IDLE_SESSION_TTL.to_seconds()
        assert bot["AutoBuildBotLocales"] is True
        assert bot["Name"] == f"XBot-{conversation.BOT_NAME}"
        (role, _arn) = bot["RoleArn"]["Fn::GetAtt"]
        role_properties = synth.template["Resources"][role]["Properties"]
        (trust,) = role_properties["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "lexv2.amazonaws.com"}
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        # Text only: Lex needs no permissions (no Polly voice, no sentiment analysis).
        assert not role_properties.get("ManagedPolicyArns") and not role_properties.get("Policies")
        assert not [
            p
            for p in _of_type(synth.template, "AWS::IAM::Policy").values()
            if {"Ref": role} in p["Properties"]["Roles"]
        ]

    def test_a_locale_per_definition_locale_with_the_threshold(self, synth):
        locales = _locales(synth.template)
        assert list(locales) == list(conversation.LOCALE_IDS) == ["en_US", "es_ES", "fr_FR", "de_DE"]
        for locale in locales.values():
            assert locale["NluConfidenceThreshold"] == conversation.NLU_CONFIDENCE_THRESHOLD

    @pytest.mark.parametrize("locale_id", conversation.LOCALE_IDS)
    def test_each_locale_has_exactly_its_intents_utterances_and_the_code_hook(self, synth, locale_id):
        intents = {intent["Name"]: intent for intent in _locales(synth.template)[locale_id]["Intents"]}
        defined_intents = conversation.intents_for(locale_id)
        assert set(intents) == {i.name for i in defined_intents} | {conversation.FALLBACK_INTENT}
        assert set(conversation.SMALL_TALK) <= set(intents)
        for defined in defined_intents:
            intent = intents[defined.name]
            assert [u["Utterance"] for u in intent["SampleUtterances"]] == list(defined.sample_utterances)
            assert intent["FulfillmentCodeHook"] == {"Enabled": True}, defined.name
            assert "ParentIntentSignature" not in intent

    @pytest.mark.parametrize("locale", conversation.LOCALES, ids=lambda locale: locale.locale_id)
    def test_fallback_is_lexs_own_answered_by_the_code_hook_or_else_by_the_locales_message(self, synth, locale):
        intents = {intent["Name"]: intent for intent in _locales(synth.template)[locale.locale_id]["Intents"]}
        fallback = intents[conversation.FALLBACK_INTENT]
        assert fallback["ParentIntentSignature"] == FALLBACK_PARENT_SIGNATURE == "AMAZON.FallbackIntent"
        assert "SampleUtterances" not in fallback
        hook = fallback["FulfillmentCodeHook"]
        assert hook["Enabled"] is True
        status = hook["PostFulfillmentStatusSpecification"]
        assert _message_text(status["FailureResponse"]) == [locale.fallback_message]
        assert _message_text(status["TimeoutResponse"]) == [locale.fallback_message]

    def test_version_is_built_from_draft_and_named_by_the_definitions_digest(self, synth):
        bot, _ = _one(synth.template, "AWS::Lex::Bot")
        version_id, version = _one(synth.template, "AWS::Lex::BotVersion")
        assert version["BotId"] == {"Fn::GetAtt": [bot, "Id"]}
        assert version["BotVersionLocaleSpecification"] == [
            {"LocaleId": locale_id, "BotVersionLocaleDetails": {"SourceBotVersion": "DRAFT"}}
            for locale_id in conversation.LOCALE_IDS
        ]
        construct = synth.stack.node.find_child("Conversation")
        assert isinstance(construct, ConversationBot)
        assert version["Description"] == f"Definition sha256:{construct.digest[:32]}"
        assert construct.digest[:10] in version_id

    def test_alias_live_points_at_the_version_with_the_fulfilment_code_hook(self, synth):
        bot, _ = _one(synth.template, "AWS::Lex::Bot")
        version, _ = _one(synth.template, "AWS::Lex::BotVersion")
        _, alias = _one(synth.template, "AWS::Lex::BotAlias")
        assert alias["BotAliasName"] == ALIAS_NAME == "live"
        assert alias["BotId"] == {"Fn::GetAtt": [bot, "Id"]}
        assert alias["BotVersion"] == {"Fn::GetAtt": [version, "BotVersion"]}
        assert alias["BotAliasLocaleSettings"] == [
            {
                "LocaleId": locale_id,
                "BotAliasLocaleSetting": {
                    "Enabled": True,
                    "CodeHookSpecification": {
                        "LambdaCodeHook": {
                            "CodeHookInterfaceVersion": CODE_HOOK_INTERFACE_VERSION,
                            "LambdaArn": {"Fn::GetAtt": [FULFILMENT, "Arn"]},
                        }
                    },
                },
            }
            for locale_id in conversation.LOCALE_IDS
        ]
        assert synth.template["Resources"][FULFILMENT]["Type"] == "AWS::Serverless::Function"

    @pytest.mark.parametrize("which", ["template", "expanded"])
    def test_only_the_alias_may_invoke_the_fulfilment_function(self, synth, which):
        template = getattr(synth, which)
        alias, _ = _one(template, "AWS::Lex::BotAlias")
        lex_permissions = [
            p["Properties"]
            for p in _of_type(template, "AWS::Lambda::Permission").values()
            if p["Properties"]["Principal"] == "lexv2.amazonaws.com"
        ]
        assert lex_permissions == [
            {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": [FULFILMENT, "Arn"]},
                "Principal": "lexv2.amazonaws.com",
                # arn:aws:lex:<region>:<account>:bot-alias/<bot id>/<alias id>
                "SourceArn": {"Fn::GetAtt": [alias, "Arn"]},
            }
        ]
        if which == "expanded":
            assert template["Resources"][FULFILMENT]["Type"] == "AWS::Lambda::Function"

    def test_text_responder_starts_after_its_recognize_text_policy(self, synth):
        alias, _ = _one(synth.template, "AWS::Lex::BotAlias")
        (policy,) = [
            logical_id
            for logical_id, p in _of_type(synth.template, "AWS::IAM::Policy").items()
            if {"Action": "lex:RecognizeText", "Effect": "Allow", "Resource": {"Fn::GetAtt": [alias, "Arn"]}}
            in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert policy in synth.template["Resources"][TEXT_RESPONDER]["DependsOn"]

    def test_only_the_text_responder_knows_the_lex_bot(self, synth):
        """The alias names the fulfilment function: the bot's ids on every function would be a dependency cycle."""
        outputs = synth.template["Outputs"]
        lex_variables = {
            "LEX_BOT_ID": outputs["LexBotId"]["Value"],
            "LEX_BOT_ALIAS_ID": outputs["LexBotAliasId"]["Value"],
            "LEX_LOCALE_ID": "en_US",
        }
        for logical_id, function in _of_type(synth.template, "AWS::Serverless::Function").items():
            variables = function["Properties"]["Environment"]["Variables"]
            if logical_id == TEXT_RESPONDER:
                assert {k: variables[k] for k in lex_variables} == lex_variables
            else:
                assert not set(lex_variables) & set(variables), logical_id

    def test_outputs_name_the_bot_and_alias(self, synth):
        bot, _ = _one(synth.template, "AWS::Lex::Bot")
        alias, _ = _one(synth.template, "AWS::Lex::BotAlias")
        outputs = synth.template["Outputs"]
        assert outputs["LexBotId"]["Value"] == {"Fn::GetAtt": [bot, "Id"]}
        assert outputs["LexBotAliasId"]["Value"] == {"Fn::GetAtt": [alias, "BotAliasId"]}


def _version_logical_id() -> str:
    """The version's logical id in a small stack of its own (no Chalice: fast)."""
    stack = cdk.Stack(cdk.App(), "Conversation", env=cdk.Environment(account="123456789012", region="us-east-1"))
    fulfilment = lambda_.Function.from_function_attributes(
        stack,
        "Fulfilment",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fulfilment",
        same_environment=True,
    )
    ConversationBot(stack, "Conversation", fulfilment=fulfilment)
    template = dict(Template.from_stack(stack).to_json())
    (version,) = _of_type(template, "AWS::Lex::BotVersion")
    return version


def test_the_same_definition_keeps_its_version():
    assert _version_logical_id() == _version_logical_id()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            {"INTENTS": (dataclasses.replace(conversation.JOKE, sample_utterances=("a joke",)), conversation.FACT)},
            id="utterances",
        ),
        pytest.param({"NLU_CONFIDENCE_THRESHOLD": 0.5}, id="threshold"),
        pytest.param(
            {
                "LOCALES": (
                    dataclasses.replace(conversation.LOCALES[0], fallback_message="I only tell jokes."),
                    *conversation.LOCALES[1:],
                )
            },
            id="fallback message",
        ),
        pytest.param(
            {
                "LOCALES": (
                    *conversation.LOCALES[:3],
                    dataclasses.replace(conversation.LOCALES[3], intents=conversation.LOCALES[3].intents[:-1]),
                )
            },
            id="a locale's intents",
        ),
    ],
)
def test_a_changed_definition_makes_a_new_version(monkeypatch, change):
    before = _version_logical_id()
    for name, value in change.items():
        monkeypatch.setattr(conversation, name, value)
    assert _version_logical_id() != before
