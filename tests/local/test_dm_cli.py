"""`botctl dm` (issue 10): one signed Account Activity DM delivery to the local webhook, which Ingress
turns into a DM message (or, with --from-bot, the bot's own DM, skipped)."""

from __future__ import annotations

import json
from pathlib import Path

from botlocal.cli import main
from botlocal.compose import LOCAL_BOT_USER_ID, compose_dm, user_id_of
from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
from chalicelib.contracts import names
from chalicelib.contracts.messages import DM, MessageReceived
from chalicelib.ingress.signature import is_valid_signature
from chalicelib.ingress.translate import translate_delivery
from click.testing import CliRunner

from tests.local.test_cli import Webhook, recorded_server, webhook  # noqa: F401  (the fixture)


def test_compose_dm_is_a_dm_to_the_bot_that_ingress_reads() -> None:
    composed = compose_dm("hello bot", author="alice")
    events = translate_delivery(composed.delivery, LOCAL_BOT_USER_ID)
    assert [event.detail_type for event in events] == [names.TWITTER_DM_RECEIVED, names.MESSAGE_RECEIVED]
    message = MessageReceived.from_detail(events[1].detail)
    assert message.channel == DM and message.text == "hello bot" and message.author == "alice"
    assert message.direct_message is not None
    assert message.direct_message.event_id == composed.event_id
    assert message.direct_message.sender_id == user_id_of("alice")


def test_compose_dm_from_the_bot_is_skipped() -> None:
    composed = compose_dm("hello alice", author="alice", from_bot=True)
    events = translate_delivery(composed.delivery, LOCAL_BOT_USER_ID)
    assert [event.detail_type for event in events] == [names.TWITTER_DM_RECEIVED, names.MESSAGE_SKIPPED]


def test_botctl_dm_sends_one_signed_delivery(webhook: Webhook, local_dir: Path) -> None:  # noqa: F811
    runner = CliRunner()
    with recorded_server(local_dir, webhook.url):
        result = runner.invoke(main, ["dm", "tell me a joke", "--author", "bob"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    event_id = result.output.strip()
    assert event_id.isdigit()
    ((headers, body),) = webhook.requests
    assert is_valid_signature(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body, headers["x-twitter-webhooks-signature"])
    delivery = json.loads(body)
    (element,) = delivery["direct_message_events"]
    assert element["id"] == event_id
    assert element["message_create"]["sender_id"] == user_id_of("bob")
    assert element["message_create"]["message_data"]["text"] == "tell me a joke"


def test_botctl_dm_without_a_state_folder_is_a_clear_error(local_dir: Path) -> None:
    result = CliRunner().invoke(main, ["dm", "hi"])
    assert result.exit_code == 1
    assert "no local state" in result.output
