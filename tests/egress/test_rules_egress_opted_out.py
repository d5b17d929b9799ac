""" "stop" reaches Egress too (issue 9, section 3): a reply composed before its person said "stop",
still waiting in Egress's queue (the posting budget, X's rate limit, a retry), is dropped with
REPLY_SKIPPED "opted out" and recorded, not posted after the "stop"; the confirmation of that very
"stop" is posted; nobody else's replies are touched; after "start" replies go again. DMs alike."""

from __future__ import annotations

import json
from pathlib import Path

from botlocal.idempotency import local_idempotency
from botlocal.layout import LocalLayout
from chalicelib.contracts.direct_messages import SendDirectMessage
from chalicelib.contracts.messages import DirectMessageRef
from chalicelib.contracts.outcomes import OPTED_OUT
from chalicelib.contracts.replies import SendTweet
from chalicelib.egress.service import SKIPPED_OPTED_OUT, EgressService
from chalicelib.publishing import EventPublisher, RetryPolicy

from tests.fakes import FakePoster, MemoryMediaStore, MemoryOptOuts, RecordingBus

NOW = 1_767_225_000.0
ALICE, BOB = "42", "43"


def _service(tmp_path: Path, poster: FakePoster, bus: RecordingBus, opt_outs: MemoryOptOuts) -> EgressService:
    return EgressService(
        poster=poster,
        media=MemoryMediaStore(),
        idempotency=local_idempotency(LocalLayout(tmp_path).idempotency),
        publisher=EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1)),
        max_reply_age_seconds=3600,
        opt_outs=opt_outs,
        now=lambda: NOW,
    )


def _reply(tweet_id: str, user_id: str = ALICE) -> SendTweet:
    return SendTweet(f"@someone reply to {tweet_id}", tweet_id, user_id, received_at_ms=int(NOW * 1000) - 1000)


def _dm(event_id: str, sender: str = ALICE) -> SendDirectMessage:
    ref = DirectMessageRef(event_id=event_id, sender_id=sender, recipient_id="1", conversation_id=f"1-{sender}")
    return SendDirectMessage(text=f"answer to {event_id}", answering=ref, received_at_ms=int(NOW * 1000) - 1000)


def test_a_reply_waiting_when_its_person_says_stop_is_dropped_and_the_confirmation_posted(tmp_path: Path) -> None:
    poster, bus, opt_outs = FakePoster("9001", "9002", "9003", "9004"), RecordingBus(), MemoryOptOuts()
    service = _service(tmp_path, poster, bus, opt_outs)
    # Alice's post 10 was answered by Responding; before Egress posts it, her "stop" (post 11) is recorded.
    assert opt_outs.opt_out(ALICE, post_id="11")

    assert service.send(_reply("10")) == SKIPPED_OPTED_OUT
    assert service.send(_reply("11")) == "9001"  # the confirmation of the "stop" itself
    assert service.send(_reply("20", BOB)) == "9002"  # Bob is not Alice
    # A redelivery of the dropped reply stays dropped, even after "start": answered from the record
    # of post 10's answer (reply-to:10, "skipped: opted out"), not by a second opt-out check.
    assert opt_outs.opt_in(ALICE, post_id="12")
    assert service.send(_reply("10")) == SKIPPED_OPTED_OUT
    assert service.send(_reply("12")) == "9003"

    assert [call[1] for call in poster.calls] == ["11", "20", "12"]
    [skipped] = bus.details("REPLY_SKIPPED")
    assert skipped["Reason"] == OPTED_OUT and skipped["Twitter"]["TweetId"] == "10"


def test_a_dm_answer_waiting_when_its_person_says_stop_is_dropped(tmp_path: Path) -> None:
    poster, bus, opt_outs = FakePoster("dm-1", "dm-2"), RecordingBus(), MemoryOptOuts()
    service = _service(tmp_path, poster, bus, opt_outs)
    assert opt_outs.opt_out(ALICE, post_id="dm:E2")  # her "stop" came by DM

    assert service.send_direct_message(_dm("E1")) == SKIPPED_OPTED_OUT
    assert service.send_direct_message(_dm("E2")) == "dm-1"  # its confirmation
    assert service.send_direct_message(_dm("E3", BOB)) == "dm-2"
    assert [participant for _text, participant in poster.dm_calls] == [ALICE, BOB]
    [skipped] = bus.details("REPLY_SKIPPED")
    assert skipped["Reason"] == OPTED_OUT and "answer to E1" not in json.dumps(skipped)


def test_without_opt_outs_egress_posts_as_before(tmp_path: Path) -> None:
    poster, bus = FakePoster("9001"), RecordingBus()
    service = EgressService(
        poster=poster,
        media=MemoryMediaStore(),
        idempotency=local_idempotency(LocalLayout(tmp_path).idempotency),
        publisher=EventPublisher(bus=bus, bus_name="b", payload_store=None, retry=RetryPolicy(attempts=1)),
    )
    assert service.send(_reply("10")) == "9001"
