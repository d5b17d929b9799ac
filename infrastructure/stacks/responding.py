"""Responding (chalicelib/responding): answers analysed messages with a SEND_TWEET.

Photos are answered with the photo annotated; text is answered by the conversational bot, a Lex V2
bot built from the one bot definition (chalicelib.contracts.conversation): one bot locale per locale
of the definition (en_US, es_ES, fr_FR, de_DE), each with its intents, Lex's fallback and the
confidence threshold. The local runtime builds its intent matchers from the same module, so the two
cannot drift: nothing here repeats an utterance. The bot (DRAFT) -> a numbered version -> the
alias "live", whose code hook is the Chalice function `responding_lex_fulfilment`; the text
responder calls RecognizeText on the alias, in the locale of the post's language.

Lex numbers a version once and never changes it; AWS::Lex::BotVersion has no update handler. The
version's logical id and description therefore carry a digest of the bot's whole CloudFormation
definition: a changed bot gets a new version, the alias moves to it, and CloudFormation deletes the
old one when the update completes.

`attach_to` gives the responders' roles what they call: the photo responder reads the analysed
photo and stores the annotated one, the text responder talks to the bot's alias; both publish, and
both count their replies for the guards (per author, per conversation, chain depth) in the
idempotency table ("count#..." items, conditional UpdateItem with ADD, TTL `expiration`), and
both read and change who said "stop" ("optout#<user id>" items: GetItem and conditional
UpdateItem; `grant_opt_outs`).

With the economy profile (`small_models`) there is no Lex bot: the text responder matches intents
and runs the fulfilment in its own process (chalicelib.adapters.economy), and keeps the sessions Lex
kept in the idempotency table ("session#..." items: GetItem and PutItem; `grant_conversation_sessions`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lex as lex
from aws_cdk import aws_s3 as s3
from chalicelib.adapters.dynamodb_sessions import KEY_PREFIX as SESSION_KEY_PREFIX
from chalicelib.contracts import conversation
from constructs import Construct

from stacks.alerting import Alerting
from stacks.chalice_app import WILDCARD_RESOURCE_FINDING, XRAY_REASON, ChaliceApp, FunctionRole
from stacks.grants import EventPublishing, grant_counters, grant_idempotency, grant_keyed_items, grant_media
from stacks.nag import acknowledge_grants
from stacks.small_models import SmallModels

RESPONDING_PHOTOS = "RespondingPhotos"
RESPONDING_TEXT = "RespondingText"
LEX_FULFILMENT = "LexFulfilment"
#: The functions, as Chalice registers them.
REPLY_TO_PHOTOS = "responding_reply_to_photos"
REPLY_TO_TEXT = "responding_reply_to_text"
LEX_FULFILMENT_FUNCTION = "responding_lex_fulfilment"
ROLES = {
    # Three roles: only the text responder talks to Lex, only the photo responder touches photos.
    RESPONDING_PHOTOS: FunctionRole(
        functions=(REPLY_TO_PHOTOS,),
        description="The X bot's photo responder: annotate photos, publish replies.",
    ),
    RESPONDING_TEXT: FunctionRole(
        functions=(REPLY_TO_TEXT,),
        description="The X bot's text responder: ask the Lex bot (economy: its own intent matcher), publish replies.",
    ),
    LEX_FULFILMENT: FunctionRole(
        functions=(LEX_FULFILMENT_FUNCTION,),
        description="The X bot's Lex fulfilment function: logs only.",
    ),
}

#: Lex keeps a session (one per author and locale) this long after the last message. The session's
#: attributes are what keeps the bot from repeating its last answers of an intent to the same person
#: (chalicelib.responding.fulfilment.RECENT_WINDOW): an hour covers a conversation and its pauses.
IDLE_SESSION_TTL = cdk.Duration.hours(1)
ALIAS_NAME = "live"
DRAFT_VERSION = "DRAFT"
#: The Lex V2 code hook request/response format our fulfilment function speaks.
CODE_HOOK_INTERFACE_VERSION = "1.0"
FALLBACK_PARENT_SIGNATURE = "AMAZON.FallbackIntent"
#: What chalicelib.adapters.dynamodb_optouts calls (a consistent read, a conditional update), on
#: its "optout#..." items only.
OPT_OUT_ACTIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem")
OPT_OUT_KEYS = "optout#*"
#: What chalicelib.adapters.rekognition_moderation calls, once per photo about to be reposted.
MODERATION_ACTIONS = ("rekognition:DetectModerationLabels",)
#: The economy profile's conversation sessions: what chalicelib.adapters.dynamodb_sessions calls
#: per text reply (a consistent GetItem, a PutItem), on its "session#..." items only.
SESSION_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
SESSION_KEYS = f"{SESSION_KEY_PREFIX}*"
#: The economy profile's text responder and its memory in MB (docs/economy-profile-plan.md, section
#: 5; `botctl cost --profile economy` bills the same figure): the intent matcher needs about 24 MiB
#: and 0.3 s of CPU cold, so it keeps today's 256 MB.
ECONOMY_MEMORY_MB: Mapping[str, int] = {REPLY_TO_TEXT: 256}


def grant_opt_outs(role: iam.IRole, table: dynamodb.ITable) -> None:
    """Read, record and forget opt-outs in the idempotency table's "optout#..." items, and only those."""
    grant_keyed_items(role, table, OPT_OUT_ACTIONS, OPT_OUT_KEYS)


def grant_conversation_sessions(role: iam.IRole, table: dynamodb.ITable) -> None:
    """Read and write the economy profile's conversation sessions, the idempotency table's
    "session#..." items, and only those."""
    grant_keyed_items(role, table, SESSION_ACTIONS, SESSION_KEYS)


def grant_photo_moderation(role: iam.Role) -> None:
    """Rekognition's moderation check on the photo about to be reposted. Rekognition reads the photo
    from the media bucket with the caller's rights: the role's s3:GetObject on it (`grant_media`;
    the bucket is SSE-S3, so no kms:Decrypt) is what lets it."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(MODERATION_ACTIONS), resources=["*"]))
    acknowledge_grants(
        role,
        {
            WILDCARD_RESOURCE_FINDING: (
                "Rekognition DetectModerationLabels has no resource-level permissions (the Service "
                "Authorization Reference lists no resource type for it): '*' is the only resource. "
                f"{XRAY_REASON}"
            ),
        },
    )


#: Hex digits of the definition digest in the version's logical id (the description has more).
_ID_DIGEST_LENGTH = 10


def definition_digest(resolved_bot_properties: Any) -> str:
    """SHA-256 of the bot's resolved properties (canonical JSON): changes whenever the bot does."""
    canonical = json.dumps(resolved_bot_properties, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ConversationBot(Construct):
    """The Lex V2 bot (a locale per definition locale: its intents and Fallback), its version, the
    "live" alias (every locale enabled, each with the code hook) and its code hook permission."""

    def __init__(self, scope: Construct, construct_id: str, *, fulfilment: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)

        # Lex's runtime role. The bot is text only and has no sentiment analysis, so it needs no
        # permissions (no polly:SynthesizeSpeech, no comprehend:DetectSentiment); the trust policy
        # admits Lex only on behalf of this account's bots (confused-deputy guard).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "lexv2.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(service="lex", resource="bot", resource_name="*")},
                },
            ),
            description="Runtime role of the X bot's Lex V2 bot (text only: no permissions needed).",
        )

        properties: dict[str, Any] = {
            "name": f"{stack.stack_name}-{conversation.BOT_NAME}",
            "description": "The X bot's conversations: jokes, facts, and what it can do.",
            "role_arn": self.role.role_arn,
            # DataPrivacy is an untyped object in the CloudFormation schema: its key is written as
            # CloudFormation spells it (a CDK struct would render "childDirected").
            "data_privacy": {"ChildDirected": False},
            "idle_session_ttl_in_seconds": int(IDLE_SESSION_TTL.to_seconds()),
            "auto_build_bot_locales": True,
            "bot_locales": [
                lex.CfnBot.BotLocaleProperty(
                    locale_id=locale.locale_id,
                    nlu_confidence_threshold=conversation.NLU_CONFIDENCE_THRESHOLD,
                    intents=[
                        *(_intent(intent) for intent in conversation.intents_for(locale.locale_id)),
                        _fallback_intent(locale.fallback_message),
                    ],
                )
                for locale in conversation.LOCALES
            ],
        }
        self.bot = lex.CfnBot(self, "Bot", **properties)
        self.digest = definition_digest(stack.resolve(lex.CfnBotProps(**properties)))

        self.version = lex.CfnBotVersion(
            self,
            f"Version{self.digest[:_ID_DIGEST_LENGTH]}",
            bot_id=self.bot.attr_id,
            description=f"Definition sha256:{self.digest[:32]}",
            bot_version_locale_specification=[
                lex.CfnBotVersion.BotVersionLocaleSpecificationProperty(
                    locale_id=locale.locale_id,
                    bot_version_locale_details=lex.CfnBotVersion.BotVersionLocaleDetailsProperty(
                        source_bot_version=DRAFT_VERSION
                    ),
                )
                for locale in conversation.LOCALES
            ],
        )
        self.alias = lex.CfnBotAlias(
            self,
            "Alias",
            bot_alias_name=ALIAS_NAME,
            bot_id=self.bot.attr_id,
            bot_version=self.version.attr_bot_version,
            description="What the X bot's text responder talks to.",
            bot_alias_locale_settings=[
                lex.CfnBotAlias.BotAliasLocaleSettingsItemProperty(
                    locale_id=locale.locale_id,
                    bot_alias_locale_setting=lex.CfnBotAlias.BotAliasLocaleSettingsProperty(
                        enabled=True,
                        code_hook_specification=lex.CfnBotAlias.CodeHookSpecificationProperty(
                            lambda_code_hook=lex.CfnBotAlias.LambdaCodeHookProperty(
                                code_hook_interface_version=CODE_HOOK_INTERFACE_VERSION,
                                lambda_arn=fulfilment.function_arn,
                            )
                        ),
                    ),
                )
                for locale in conversation.LOCALES
            ],
        )
        #: arn:<partition>:lex:<region>:<account>:bot-alias/<bot id>/<alias id>
        self.alias_arn = self.alias.attr_arn
        # Only this alias of this bot may invoke the fulfilment function.
        fulfilment.add_permission(
            "LexInvoke",
            principal=iam.ServicePrincipal("lexv2.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=self.alias_arn,
        )

    @property
    def bot_id(self) -> str:
        return self.bot.attr_id

    @property
    def alias_id(self) -> str:
        return self.alias.attr_bot_alias_id

    @property
    def locale_id(self) -> str:
        """The locale the text responder uses for a language the bot lacks (LEX_LOCALE_ID)."""
        return conversation.DEFAULT_LOCALE_ID

    def grant_recognize_text(self, role: iam.IRole) -> iam.Policy:
        """lex:RecognizeText on the alias, as a policy of its own.

        Not in the role's default policy: the Chalice functions depend on that policy, the alias
        names the fulfilment function, and this statement names the alias (a dependency cycle).
        """
        return iam.Policy(
            self,
            "RecognizeTextPolicy",
            roles=[role],
            statements=[iam.PolicyStatement(actions=["lex:RecognizeText"], resources=[self.alias_arn])],
        )


def attach_to(
    app: ChaliceApp,
    *,
    publishing: EventPublishing,
    media: s3.IBucket,
    conversation_bot: ConversationBot | None,
    idempotency_table: dynamodb.ITable,
    alerting: Alerting,
    small_models: SmallModels | None = None,
) -> None:
    """What the responders may do; the text responder gets the bot's ids (its own variables only).

    The photo responder checks each photo it is about to repost (`grant_photo_moderation`) and
    alerts through the alert topic when it withholds one: the stack must pass `alerting` (its
    ALERT_TOPIC_ARN is in every function's environment already).

    The text responder talks either to the Lex bot (`conversation_bot`) or, with the economy
    profile, to the intent matcher of `small_models` in its own process: exactly one of the two."""
    if (conversation_bot is None) == (small_models is None):
        raise ValueError("the text responder needs either the Lex bot or the small models, not both or neither")
    photos = app.role(RESPONDING_PHOTOS)
    publishing.grant(photos)
    publishing.grant_read_oversized(photos)  # a claim-checked MESSAGE_ANALYSED is read back
    grant_media(photos, media, actions=["s3:GetObject", "s3:PutObject"])
    grant_photo_moderation(photos)
    alerting.grant_publish(photos)
    grant_idempotency(photos, idempotency_table)  # one alert per withheld photo's post
    grant_counters(photos, idempotency_table)
    grant_opt_outs(photos, idempotency_table)

    text = app.role(RESPONDING_TEXT)
    publishing.grant(text)
    publishing.grant_read_oversized(text)
    grant_counters(text, idempotency_table)
    grant_opt_outs(text, idempotency_table)
    if small_models is not None:
        # The economy profile: no Lex. The fulfilment runs inside the text responder, so nothing may
        # invoke responding_lex_fulfilment (Chalice still registers it: it stays, idle, with no
        # invoke permission for anyone); the sessions Lex kept are items of the idempotency table.
        # The intent matcher is the standard library's only: the text responder needs no layer.
        small_models.use_in(app, ECONOMY_MEMORY_MB, needs_layer=False)
        grant_conversation_sessions(text, idempotency_table)
        return
    assert conversation_bot is not None
    recognize_text = conversation_bot.grant_recognize_text(text)
    app.add_environment(
        REPLY_TO_TEXT,
        {
            "LEX_BOT_ID": conversation_bot.bot_id,
            "LEX_BOT_ALIAS_ID": conversation_bot.alias_id,
            "LEX_LOCALE_ID": conversation_bot.locale_id,
        },
    )
    app.add_function_dependency(REPLY_TO_TEXT, recognize_text)
    # The fulfilment function only logs: its role has nothing more than every function's.


def _intent(intent: conversation.Intent) -> lex.CfnBot.IntentProperty:
    return lex.CfnBot.IntentProperty(
        name=intent.name,
        description=intent.description,
        sample_utterances=[lex.CfnBot.SampleUtteranceProperty(utterance=u) for u in intent.sample_utterances],
        fulfillment_code_hook=lex.CfnBot.FulfillmentCodeHookSettingProperty(enabled=True),
    )


def _fallback_intent(message: str) -> lex.CfnBot.IntentProperty:
    """Lex's built-in fallback: the fulfilment function answers it; if the function fails or times
    out, Lex itself says what the bot can do (`message`, in the locale's language)."""
    fallback = _message(message)
    return lex.CfnBot.IntentProperty(
        name=conversation.FALLBACK_INTENT,
        description="No intent matched: say what the bot can do.",
        parent_intent_signature=FALLBACK_PARENT_SIGNATURE,
        fulfillment_code_hook=lex.CfnBot.FulfillmentCodeHookSettingProperty(
            enabled=True,
            post_fulfillment_status_specification=lex.CfnBot.PostFulfillmentStatusSpecificationProperty(
                failure_response=fallback, timeout_response=fallback
            ),
        ),
    )


def _message(text: str) -> lex.CfnBot.ResponseSpecificationProperty:
    return lex.CfnBot.ResponseSpecificationProperty(
        allow_interrupt=False,
        message_groups_list=[
            lex.CfnBot.MessageGroupProperty(
                message=lex.CfnBot.MessageProperty(plain_text_message=lex.CfnBot.PlainTextMessageProperty(value=text))
            )
        ],
    )
