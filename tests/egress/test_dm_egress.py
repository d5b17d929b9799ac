"""Egress sends DM answers (SEND_DM, issue 10): once per DM answered (a key apart from every post's),
through the posting budget, the kill switch and the age limit; X's 403 for a person who takes no DMs
from the bot is final; and the X adapter's exact requests to POST /2/dm_conversations/with/:id/messages
(recorded HTTP: success, 403, 429, 5xx)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
import responses
from botlocal.outbox import OutboxPoster, read_outbox
from chalicelib.adapters.x_api import XApiReplyPoster, XApiTransientError
from chalicelib.contracts import names
from chalicelib.contracts.direct_messages import SendDirectMessage
from chalicelib.contracts.messages import DM, DirectMessageRef
from chalicelib.contracts.outcomes import DM_NOT_PERMITTED, POSTING_PAUSED, TOO_OLD, DirectMessagePosted
from chalicelib.contracts.replies import SendTweet
from chalicelib.egress.service import (
    SKIPPED_DM_NOT_PERMITTED,
    SKIPPED_PAUSED,
    SKIPPED_TOO_OLD,
    EgressService,
    PostBudget,
    PostBudgetExhaustedError,
    RateLimitedTransientError,
)
from chalicelib.kernel.errors import TransientError
from chalicelib.ports import DirectMessageNotPermittedError, DirectMessageSender, EgressError, RateLimitedError
from chalicelib.publishing import EventPublisher, RetryPolicy

from tests.fakes import (
    FakePoster,
    FakePostingSwitch,
    MemoryIdempotency,
    MemoryMediaStore,
    MemoryWindowCounters,
    RecordingBus,
)

NOW = 1_767_225_000.0
SECRET_TEXT = "my private words to the bot"
DM_REF = DirectMessageRef("1247299084244979717", "1693649419", "42", "42-1693649419")


def answer(
    *, event_id: str = DM_REF.event_id, age_ms: int | None = 2_000, text: str = SECRET_TEXT
) -> SendDirectMessage:
    reference = DirectMessageRef(event_id, DM_REF.sender_id, DM_REF.recipient_id, DM_REF.conversation_id)
    return SendDirectMessage(text, reference, received_at_ms=None if age_ms is None else int(NOW * 1000) - age_ms)


class Egress:
    def __init__(
        self, poster: Any, *, posts: int = 10, switch: FakePostingSwitch | None = None, max_age: int = 3600
    ) -> None:
        self.bus = RecordingBus()
        self.idempotency = MemoryIdempotency()
        self.counters = MemoryWindowCounters(now=NOW)
        self.slept: list[float] = []
        self.service = EgressService(
            poster=poster,
            media=MemoryMediaStore(),
            idempotency=self.idempotency,
            publisher=EventPublisher(bus=self.bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1)),
            budget=PostBudget(counters=self.counters, posts=posts, window_seconds=900),
            max_reply_age_seconds=max_age,
            switch=switch,
            sleep=self.slept.append,
            now=lambda: NOW,
        )

    def published(self) -> list[tuple[str, dict[str, Any]]]:
        return [(e["DetailType"], json.loads(e["Detail"])) for call in self.bus.calls for e in call]


def test_a_dm_answer_is_sent_once_and_recorded_without_its_text() -> None:
    poster = FakePoster("1500000000000000001")
    egress = Egress(poster)
    assert egress.service.send_direct_message(answer()) == "1500000000000000001"
    assert egress.service.send_direct_message(answer()) == "1500000000000000001"  # a redelivery: nothing more
    assert poster.dm_calls == [(SECRET_TEXT, DM_REF.sender_id)]
    assert poster.calls == []  # never through the post endpoint
    assert egress.idempotency.runs == [f"dm-reply-to:{DM_REF.event_id}"]
    ((kind, detail),) = egress.published()
    assert kind == names.REPLY_POSTED
    assert DirectMessagePosted.from_detail(detail) == DirectMessagePosted(DM_REF, "1500000000000000001", 2_000)
    assert detail["Channel"] == DM
    assert SECRET_TEXT not in json.dumps(detail)


def test_a_dm_and_a_post_with_the_same_number_are_both_answered() -> None:
    poster = FakePoster("1500000000000000001", "1900000000000000002")
    egress = Egress(poster)
    egress.service.send_direct_message(answer())
    egress.service.send(SendTweet("@someone hi", DM_REF.event_id, "7"))
    assert len(poster.dm_calls) == 1 and len(poster.calls) == 1
    assert egress.idempotency.runs == [f"dm-reply-to:{DM_REF.event_id}", f"reply-to:{DM_REF.event_id}"]


def test_dm_answers_and_replies_share_one_posting_budget() -> None:
    egress = Egress(FakePoster("1", "2", "3"), posts=2)
    egress.service.send(SendTweet("@a hi", "100", "7"))
    egress.service.send_direct_message(answer(event_id="200"))
    with pytest.raises(PostBudgetExhaustedError):
        egress.service.send_direct_message(answer(event_id="201"))


def test_the_kill_switch_pauses_dm_answers_too() -> None:
    poster = FakePoster()
    egress = Egress(poster, switch=FakePostingSwitch(False))
    assert egress.service.send_direct_message(answer()) == SKIPPED_PAUSED
    assert poster.dm_calls == []
    ((kind, detail),) = egress.published()
    assert (kind, detail["Reason"], detail["Channel"]) == (names.REPLY_SKIPPED, POSTING_PAUSED, DM)
    assert detail["DirectMessage"] == DM_REF.to_detail()


def test_a_dm_answer_too_old_is_skipped() -> None:
    poster = FakePoster()
    egress = Egress(poster, max_age=60)
    assert egress.service.send_direct_message(answer(age_ms=120_000)) == SKIPPED_TOO_OLD
    assert poster.dm_calls == []
    ((kind, detail),) = egress.published()
    assert (kind, detail["Reason"]) == (names.REPLY_SKIPPED, TOO_OLD)


def test_a_person_who_takes_no_dms_is_recorded_as_skipped_and_not_retried() -> None:
    poster = FakePoster(DirectMessageNotPermittedError("403"), "never")
    egress = Egress(poster)
    assert egress.service.send_direct_message(answer()) == SKIPPED_DM_NOT_PERMITTED
    assert egress.service.send_direct_message(answer()) == SKIPPED_DM_NOT_PERMITTED  # recorded as answered
    assert len(poster.dm_calls) == 1
    ((kind, detail),) = egress.published()
    assert (kind, detail["Reason"], detail["Channel"]) == (names.REPLY_SKIPPED, DM_NOT_PERMITTED, DM)


def test_a_rate_limited_dm_waits_for_the_reset_then_goes() -> None:
    poster = FakePoster(RateLimitedError("429", reset_at=NOW + 5), "1500000000000000001")
    egress = Egress(poster)
    assert egress.service.send_direct_message(answer(), remaining_ms=lambda: 60_000) == "1500000000000000001"
    assert egress.slept == [6.0]
    assert len(poster.dm_calls) == 2


def test_a_rate_limit_beyond_the_invocation_is_retried_later() -> None:
    poster = FakePoster(RateLimitedError("429", reset_at=NOW + 600))
    egress = Egress(poster)
    with pytest.raises(RateLimitedTransientError):
        egress.service.send_direct_message(answer(), remaining_ms=lambda: 30_000)
    assert egress.idempotency.results == {}  # nothing recorded: the retry sends it


def test_egress_logs_no_dm_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    Egress(FakePoster(DirectMessageNotPermittedError("403"))).service.send_direct_message(answer())
    Egress(FakePoster("1")).service.send_direct_message(answer())
    assert caplog.records
    assert SECRET_TEXT not in caplog.text
    assert all(SECRET_TEXT not in json.dumps(getattr(r, "__dict__", {}), default=str) for r in caplog.records)


def test_without_a_dm_sender_a_dm_answer_fails_loudly() -> None:
    class PostsOnly:
        def post_reply(self, text: str, reply_to_tweet_id: str, images: list[tuple[bytes, str]]) -> str:
            return "1"

    with pytest.raises(EgressError, match="DirectMessageSender"):
        Egress(PostsOnly()).service.send_direct_message(answer())


# --- The outbox (local) -------------------------------------------------------------------------


def test_the_outbox_marks_a_dm_as_one(tmp_path: Path) -> None:
    outbox = OutboxPoster(tmp_path / "outbox.jsonl", tmp_path / "images")
    event_id = outbox.send_direct_message("hello", "1693649419")
    outbox.post_reply("@a hi", "1900", [])
    dm, post = read_outbox(outbox.path)
    assert dm["Channel"] == DM and dm["DmEventId"] == event_id and dm["ParticipantId"] == "1693649419"
    assert dm["Text"] == "hello" and dm["Images"] == [] and dm["Image"] is None
    assert "ReplyToTweetId" not in dm
    assert "Channel" not in post


def test_botctl_outbox_shows_a_dm_as_a_dm(tmp_path: Path) -> None:
    from botlocal.cli import main
    from botlocal.layout import LocalLayout
    from click.testing import CliRunner

    layout = LocalLayout(tmp_path)
    outbox = OutboxPoster(layout.outbox, layout.outbox_images)
    outbox.post_reply("@a a joke", "111", [])
    outbox.send_direct_message("a DM answer", "1693649419")
    table = CliRunner().invoke(main, ["outbox", "--local-dir", str(tmp_path)])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert "111" in lines[2]
    assert "DM to 1693649419" in lines[3] and "a DM answer" in lines[3]


# --- The X adapter: recorded HTTP -----------------------------------------------------------------

API = "https://api.x.test"
CREDENTIALS = {
    "ApiKey": "consumer-key-123",
    "ApiSecret": "consumer-secret-SECRET",
    "AccessToken": "1234-access-token",
    "AccessTokenSecret": "access-token-secret-SECRET",
}
DM_URL = f"{API}/2/dm_conversations/with/1693649419/messages"


@pytest.fixture
def x() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def poster() -> XApiReplyPoster:
    return XApiReplyPoster(CREDENTIALS, api_base=API)


def test_a_dm_is_one_signed_json_post_to_the_participants_conversation(x: responses.RequestsMock) -> None:
    # X's answer as its reference page documents it (201, the conversation and the new DM event).
    x.post(DM_URL, status=201, json={"data": {"dm_conversation_id": "42-1693649419", "dm_event_id": "1582838"}})
    assert poster().send_direct_message("hi there", "1693649419") == "1582838"
    (call,) = x.calls
    request: requests.PreparedRequest = call.request
    assert request.method == "POST" and request.url == DM_URL
    assert isinstance(request.body, bytes | str)
    assert json.loads(request.body) == {"text": "hi there"}
    authorization = request.headers["Authorization"]
    value = authorization.decode() if isinstance(authorization, bytes) else authorization
    params = {key: unquote(item) for key, item in re.findall(r'(\w+)="([^"]*)"', value)}
    assert params["oauth_consumer_key"] == "consumer-key-123" and params["oauth_token"] == "1234-access-token"
    assert params["oauth_signature_method"] == "HMAC-SHA1"


def test_the_reference_pages_unwrapped_answer_is_read_too(x: responses.RequestsMock) -> None:
    x.post(DM_URL, status=201, json={"dm_conversation_id": "1346889436626259968", "dm_event_id": "128341038123"})
    assert poster().send_direct_message("hi", "1693649419") == "128341038123"


def test_403_for_a_person_who_takes_no_dms(x: responses.RequestsMock) -> None:
    x.post(
        DM_URL,
        status=403,
        json={
            "detail": "You are not permitted to send Direct Messages to this user.",
            "title": "Forbidden",
            "type": "about:blank",
            "status": 403,
        },
    )
    with pytest.raises(DirectMessageNotPermittedError, match="not permitted"):
        poster().send_direct_message("hi", "1693649419")


def test_403_for_an_app_without_the_dm_permission_is_the_operators_to_fix(x: responses.RequestsMock) -> None:
    x.post(
        DM_URL,
        status=403,
        json={
            "title": "Forbidden",
            "type": "https://api.twitter.com/2/problems/oauth1-permissions",
            "status": 403,
            "detail": (
                "Your client app is not configured with the appropriate oauth1 app permissions for this endpoint."
            ),
        },
    )
    with pytest.raises(EgressError, match="Direct message' permission") as raised:
        poster().send_direct_message("hi", "1693649419")
    assert not isinstance(raised.value, DirectMessageNotPermittedError)
    assert "SECRET" not in str(raised.value)


def test_429_says_when_the_window_resets(x: responses.RequestsMock) -> None:
    x.post(
        DM_URL,
        status=429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
        headers={"x-rate-limit-reset": "1767225900"},
    )
    with pytest.raises(RateLimitedError) as raised:
        poster().send_direct_message("hi", "1693649419")
    assert raised.value.reset_at == 1767225900.0


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_transient(x: responses.RequestsMock, status: int) -> None:
    x.post(DM_URL, status=status, body="upstream failure")
    with pytest.raises(XApiTransientError) as raised:
        poster().send_direct_message("hi", "1693649419")
    assert isinstance(raised.value, TransientError)


def test_an_answer_without_a_dm_event_id_is_an_error(x: responses.RequestsMock) -> None:
    x.post(DM_URL, status=201, json={"data": {}})
    with pytest.raises(EgressError, match="dm_event_id"):
        poster().send_direct_message("hi", "1693649419")


def test_a_participant_that_is_not_a_user_id_never_reaches_the_url(x: responses.RequestsMock) -> None:
    with pytest.raises(EgressError):
        poster().send_direct_message("hi", "../../2/tweets")
    assert len(x.calls) == 0


def test_both_reply_posters_send_dms_so_egress_needs_no_other_wiring(tmp_path: Path) -> None:
    assert isinstance(poster(), DirectMessageSender)
    assert isinstance(OutboxPoster(tmp_path / "outbox.jsonl", tmp_path / "images"), DirectMessageSender)
