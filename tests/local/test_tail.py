"""`botctl tail` (botlocal.tail): one readable line per bus event and alert, from the contracts'
own details; filters, --since, --json; never a direct message's text; following a live journal."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botlocal import tail
from botlocal.alerts import LocalAlertSink
from botlocal.cli import main
from botlocal.journal import Journal
from botlocal.layout import LocalLayout
from chalicelib.alerting.service import alert_text
from chalicelib.contracts import names
from chalicelib.contracts.analysis import (
    AnalysisFailed,
    ImageAnalysis,
    ImageResult,
    MessageAnalysed,
    TextAnalysis,
)
from chalicelib.contracts.direct_messages import SendDirectMessage
from chalicelib.contracts.envelope import BusEvent
from chalicelib.contracts.messages import DirectMessageRef, MessageReceived, TwitterRef
from chalicelib.contracts.outcomes import (
    CHAIN_DEPTH,
    OWN_POST,
    POST_DELETED,
    DirectMessagePosted,
    MediaDeleted,
    MessageSkipped,
    ReplyPosted,
    ReplySkipped,
)
from chalicelib.contracts.oversized import OversizedRef, pointer_detail
from chalicelib.contracts.replies import PhotoModeration, SendTweet
from chalicelib.ingress.translate import rejection
from click.testing import CliRunner

SECRET = "my bank PIN is 4321"
POST = TwitterRef(tweet_id="1790000000000000001", user_id="42")
DM_REF = DirectMessageRef(event_id="1790000000000000777", sender_id="42", recipient_id="7", conversation_id="7-42")
RECEIVED = MessageReceived(
    text="tell me a joke", author="alice", lang="en", twitter=POST, image_urls=["https://img/1.jpg"]
)
DM_RECEIVED = MessageReceived.direct(text=SECRET, author="bob", lang="en", direct_message=DM_REF)
PHOTO = ImageAnalysis(
    labels=[{"Name": "Dog", "Confidence": 99.0}, {"Name": "Grass", "Confidence": 90.0}],
    celebrity_faces=[{"Name": "Ada Lovelace", "MatchConfidence": 98.0}],
    unrecognized_faces=[{"Confidence": 99.0}, {"Confidence": 97.0}],
)
ANALYSED = MessageAnalysed(
    message=RECEIVED,
    text=TextAnalysis(sentiment="NEGATIVE", sentiment_score={"Negative": 0.9}),
    images=[ImageResult(url="https://img/1.jpg", key="media/1", analysis=PHOTO)],
)
DM_ANALYSED = MessageAnalysed(message=DM_RECEIVED, text=TextAnalysis(sentiment="NEGATIVE", sentiment_score={}))


def envelope(detail_type: str, detail: dict[str, Any], source: str = names.SOURCE_INGRESS) -> dict[str, Any]:
    return BusEvent(source=source, detail_type=detail_type, detail=detail).to_envelope(
        account="000000000000", region="local", time=datetime(2026, 5, 1, 13, 4, 5, tzinfo=UTC)
    )


def summary_of(detail_type: str, detail: dict[str, Any]) -> tail.Entry:
    return tail.summarise(envelope(detail_type, detail))


# --- every event kind -----------------------------------------------------------------------------


def test_a_post_received_shows_its_author_text_and_photos() -> None:
    entry = summary_of(names.MESSAGE_RECEIVED, RECEIVED.to_detail())
    assert (entry.type, entry.author, entry.summary) == ("MESSAGE_RECEIVED", "alice", '"tell me a joke" +1 photo')
    assert entry.ids["TweetId"] == POST.tweet_id


def test_a_direct_message_received_is_marked_dm_and_its_text_is_not_shown() -> None:
    entry = summary_of(names.MESSAGE_RECEIVED, DM_RECEIVED.to_detail())
    assert (entry.author, entry.summary) == ("bob", "DM (direct message)")
    assert entry.ids["DmEventId"] == DM_REF.event_id


def test_an_analysis_shows_the_sentiment_and_per_photo_what_was_found() -> None:
    entry = summary_of(names.MESSAGE_ANALYSED, ANALYSED.to_detail())
    assert entry.author == "alice"
    assert entry.summary == "NEGATIVE; photo 1: Ada Lovelace, Dog, Grass, 2 faces"
    failed_photo = MessageAnalysed(
        message=RECEIVED,
        text=TextAnalysis(sentiment="POSITIVE"),
        images=[ImageResult(url="https://img/1.jpg", error="download failed: 404")],
    )
    assert summary_of(names.MESSAGE_ANALYSED, failed_photo.to_detail()).summary == (
        "POSITIVE; photo 1: not analysed: download failed: 404"
    )


def test_a_dm_analysis_shows_the_sentiment_without_the_text() -> None:
    assert summary_of(names.MESSAGE_ANALYSED, DM_ANALYSED.to_detail()).summary == "DM NEGATIVE"


def test_a_reply_shows_its_text_its_photos_and_what_moderation_withheld() -> None:
    reply = SendTweet(text="@alice Why did the dog...", reply_to_tweet_id=POST.tweet_id, reply_to_user_id="42")
    assert summary_of(names.SEND_TWEET, reply.to_detail()).summary == 'reply "@alice Why did the dog..."'
    with_photos = SendTweet(
        text="@alice here",
        reply_to_tweet_id=POST.tweet_id,
        reply_to_user_id="42",
        image_keys=["a", "b"],
        moderation=PhotoModeration(checked=3, unsafe=1, withheld=1, categories=("Violence",), checker="local"),
    )
    entry = summary_of(names.SEND_TWEET, with_photos.to_detail())
    assert entry.summary == 'reply "@alice here" +2 photos (1 withheld by moderation: Violence)'
    assert entry.ids["ReplyToTweetId"] == POST.tweet_id


def test_a_dm_answer_never_shows_its_text() -> None:
    answer = SendDirectMessage(text=f"about {SECRET}", answering=DM_REF)
    entry = summary_of(names.SEND_DM, answer.to_detail())
    assert entry.summary == "(DM answer)"
    assert entry.ids["DmEventId"] == DM_REF.event_id


def test_a_reply_posted_shows_the_post_and_the_latency() -> None:
    posted = ReplyPosted(POST.tweet_id, "42", posted_tweet_id="1790000000000000999", latency_ms=1234)
    entry = summary_of(names.REPLY_POSTED, posted.to_detail())
    assert entry.summary == f"posted 1790000000000000999 in reply to {POST.tweet_id} after 1.2 s"
    dm_posted = DirectMessagePosted(answering=DM_REF, posted_dm_event_id="55", latency_ms=None)
    assert summary_of(names.REPLY_POSTED, dm_posted.to_detail()).summary == "DM answer sent"


def test_skips_failures_and_rejections_show_their_reason() -> None:
    skipped = ReplySkipped(twitter=POST, author="alice", reason=CHAIN_DEPTH)
    assert summary_of(names.REPLY_SKIPPED, skipped.to_detail()).summary == "skipped: chain depth"
    own = MessageSkipped(twitter=POST, author="bot", reason=OWN_POST)
    own_entry = summary_of(names.MESSAGE_SKIPPED, own.to_detail())
    assert (own_entry.author, own_entry.summary) == ("bot", "skipped: own post")
    dm_skipped = ReplySkipped(twitter=DM_REF.as_twitter(), author="bob", reason="DM daily limit", direct_message=DM_REF)
    assert summary_of(names.REPLY_SKIPPED, dm_skipped.to_detail()).summary == "DM skipped: DM daily limit"
    failed = AnalysisFailed(text=SECRET, author="alice", twitter=POST, reason="States.Timeout")
    assert summary_of(names.MESSAGE_ANALYSIS_FAILED, failed.to_detail()).summary == "failed: States.Timeout"
    rejected = rejection("not JSON", key="tweet_create_events").detail
    assert summary_of(names.DELIVERY_REJECTED, rejected).summary == "not JSON (tweet_create_events)"


def test_raw_events_media_deletions_and_unknown_types() -> None:
    assert summary_of(names.TWITTER_FOLLOWED, {"follow": {"x": 1}}).summary == "follow"
    dm_raw = {"direct_message_events": [{"message_create": {"message_data": {"text": SECRET}}}]}
    assert summary_of(names.TWITTER_DM_RECEIVED, dm_raw).summary == "DM"
    x_type = names.x_activity_detail_type("post.mention.create")
    assert summary_of(x_type, {"data": 1}).summary == "post_mention_create"
    deleted = MediaDeleted(user_id="42", tweet_id=POST.tweet_id, reason=POST_DELETED, deleted_count=3)
    assert summary_of(names.MEDIA_DELETED, deleted.to_detail()).summary == "3 objects deleted: post deleted"
    other = summary_of("SOMETHING_NEW", {"Text": SECRET})
    assert (other.type, other.summary) == ("SOMETHING_NEW", "")


def test_a_claim_checked_event_shows_what_is_kept_beside_the_pointer() -> None:
    ref = OversizedRef(uri="file:///oversized/x", size=300_000, sha256="ab" * 32)
    entry = summary_of(names.MESSAGE_ANALYSED, pointer_detail(ref, ANALYSED.to_detail()))
    assert entry.summary == "NEGATIVE [claim-checked, 300000 bytes]"
    assert entry.ids["TweetId"] == POST.tweet_id


def test_an_alert_shows_its_subject_and_sentiment_and_a_dm_alert_no_text(tmp_path: Path) -> None:
    sink = LocalAlertSink(tmp_path / "alerts.jsonl")
    sink.publish(*alert_text(ANALYSED))
    sink.publish(*alert_text(DM_ANALYSED))
    post_alert, dm_alert = (json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines())
    entry = tail.summarise_alert(post_alert)
    assert (entry.type, entry.author, entry.summary) == ("ALERT", "alice", "Negative message from @alice (NEGATIVE)")
    assert entry.ids == {"TweetId": POST.tweet_id}
    dm_entry = tail.summarise_alert(dm_alert)
    assert dm_entry.summary == "Negative direct message from @bob (NEGATIVE)"
    assert dm_entry.ids == {"DmEventId": DM_REF.event_id}


def test_no_output_of_any_dm_event_holds_the_dm_text() -> None:
    details = [
        (names.MESSAGE_RECEIVED, DM_RECEIVED.to_detail()),
        (names.MESSAGE_ANALYSED, DM_ANALYSED.to_detail()),
        (names.SEND_DM, SendDirectMessage(text=SECRET, answering=DM_REF).to_detail()),
        (names.REPLY_POSTED, DirectMessagePosted(answering=DM_REF, posted_dm_event_id="5").to_detail()),
        (names.TWITTER_DM_RECEIVED, {"direct_message_events": [{"text": SECRET}]}),
        (names.MESSAGE_ANALYSIS_FAILED, AnalysisFailed(SECRET, "bob", None, "boom").to_detail()),
    ]
    for detail_type, detail in details:
        entry = summary_of(detail_type, detail)
        for output in (tail.to_json(entry), tail.render(entry, colour=True, width=1000)):
            assert "PIN" not in output, (detail_type, output)


# --- rendering ----------------------------------------------------------------------------------


def entry_with(summary: str, author: str | None = "alice") -> tail.Entry:
    return tail.Entry(at=0.0, type="MESSAGE_RECEIVED", author=author, summary=summary, ids={})


def test_a_line_is_cut_to_the_width_without_splitting_a_character() -> None:
    wide = entry_with("日本語のテキスト" * 20)
    for width in range(45, 80):  # the summary starts at column 42
        line = tail.render(wide, colour=False, width=width, local_time=False)
        assert tail._width(line) <= width
        assert line.endswith("\u2026")
    accented = entry_with("e\u0301" * 200)  # e + combining acute: one column each, never split
    line = tail.render(accented, colour=False, width=60, local_time=False)
    assert line.endswith("e\u0301\u2026")
    assert tail._width(line) == 60


def test_a_short_line_is_whole_and_columns_line_up() -> None:
    line = tail.render(entry_with('"hi"'), colour=False, width=160, local_time=False)
    assert line == '00:00:00 MESSAGE_RECEIVED @alice         "hi"'
    assert tail.render(entry_with("", author=None), colour=False, width=160, local_time=False) == (
        "00:00:00 MESSAGE_RECEIVED -"
    )


def test_a_long_type_takes_from_the_authors_padding_so_summaries_stay_in_one_column() -> None:
    long_type = tail.Entry(at=0.0, type="MESSAGE_ANALYSIS_FAILED", author="al", summary="failed: x", ids={})
    short = tail.render(entry_with("x"), colour=False, width=160, local_time=False)
    long = tail.render(long_type, colour=False, width=160, local_time=False)
    assert short.index("x") == long.index("failed: x") == 41


def test_control_characters_in_a_text_cannot_reach_the_terminal() -> None:
    entry = summary_of(names.MESSAGE_RECEIVED, {**RECEIVED.to_detail(), "Text": "a\x1b[2Jb\nc\r\td"})
    line = tail.render(entry, colour=False, width=160)
    assert "\x1b" not in line and "\n" not in line and "\r" not in line
    assert '"a [2Jb c d"' in line


def test_colour_only_when_asked() -> None:
    entry = summary_of(names.REPLY_POSTED, ReplyPosted(POST.tweet_id, "42", "9").to_detail())
    assert "\x1b[" in tail.render(entry, colour=True, width=160)
    assert "\x1b[" not in tail.render(entry, colour=False, width=160)


def test_colour_is_used_on_a_terminal_unless_refused() -> None:
    assert tail.use_colour(terminal=True, no_color=False, environ={"TERM": "xterm"})
    assert not tail.use_colour(terminal=False, no_color=False, environ={"TERM": "xterm"})
    assert not tail.use_colour(terminal=True, no_color=True, environ={"TERM": "xterm"})
    assert not tail.use_colour(terminal=True, no_color=False, environ={"TERM": "xterm", "NO_COLOR": "1"})
    assert not tail.use_colour(terminal=True, no_color=False, environ={"TERM": "dumb"})


def test_json_has_time_type_author_summary_and_ids() -> None:
    entry = summary_of(names.MESSAGE_RECEIVED, RECEIVED.to_detail())
    record = json.loads(tail.to_json(entry))
    assert set(record) == {"time", "type", "author", "summary", "ids"}
    assert record["time"] == "2026-05-01T13:04:05.000+00:00"
    assert record["ids"]["TweetId"] == POST.tweet_id


def test_since_takes_durations_and_iso_times() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert tail.parse_since("10m", now=now) == now.timestamp() - 600
    assert tail.parse_since("2h", now=now) == now.timestamp() - 7200
    assert tail.parse_since("1d", now=now) == now.timestamp() - 86400
    assert tail.parse_since("2026-05-01T11:00:00Z") == now.timestamp() - 3600
    with pytest.raises(ValueError, match="neither a duration"):
        tail.parse_since("yesterday")


# --- reading the state --------------------------------------------------------------------------


def state(tmp_path: Path) -> LocalLayout:
    layout = LocalLayout(tmp_path / "bot")
    layout.root.mkdir(parents=True)
    return layout


def append(layout: LocalLayout, detail_type: str, detail: dict[str, Any], *, at: float | None = None) -> None:
    with Journal(layout.journal) as journal:
        journal.append([envelope(detail_type, detail)], now=at)


def collect(source: tail.TailSource, lines: int | None) -> list[tail.Entry]:
    entries: list[tail.Entry] = []
    tail.follow(source, entries.append, lines=lines, follow=False)
    return entries


def test_the_backlog_is_the_last_n_entries_filtered_by_type_and_time(tmp_path: Path) -> None:
    layout = state(tmp_path)
    for number in range(15):
        append(
            layout,
            names.MESSAGE_RECEIVED,
            {**RECEIVED.to_detail(), "Text": f"n{number}", "ImageUrls": []},
            at=1000.0 + number,
        )
    append(layout, names.REPLY_SKIPPED, ReplySkipped(POST, "alice", CHAIN_DEPTH).to_detail(), at=2000.0)
    assert [e.summary for e in collect(tail.TailSource(layout), 3)] == ['"n13"', '"n14"', "skipped: chain depth"]
    assert len(collect(tail.TailSource(layout), None)) == 16
    assert collect(tail.TailSource(layout), 0) == []
    only = collect(tail.TailSource(layout, types=[names.REPLY_SKIPPED]), 10)
    assert [e.type for e in only] == [names.REPLY_SKIPPED]
    since = collect(tail.TailSource(layout, since=1012.0), None)
    assert [e.summary for e in since] == ['"n12"', '"n13"', '"n14"', "skipped: chain depth"]


def test_alerts_are_merged_in_time_order_and_filtered_as_type_alert(tmp_path: Path) -> None:
    layout = state(tmp_path)
    append(layout, names.MESSAGE_RECEIVED, RECEIVED.to_detail(), at=time.time() - 10)
    LocalAlertSink(layout.alerts).publish(*alert_text(ANALYSED))
    assert [e.type for e in collect(tail.TailSource(layout), None)] == [names.MESSAGE_RECEIVED, tail.ALERT]
    assert [e.type for e in collect(tail.TailSource(layout, types=[tail.ALERT]), None)] == [tail.ALERT]


def test_a_reply_names_the_author_of_the_message_it_answers_even_when_only_replies_are_shown(
    tmp_path: Path,
) -> None:
    layout = state(tmp_path)
    append(layout, names.MESSAGE_RECEIVED, RECEIVED.to_detail())
    append(layout, names.MESSAGE_RECEIVED, DM_RECEIVED.to_detail())
    reply = SendTweet(text="@alice hi", reply_to_tweet_id=POST.tweet_id, reply_to_user_id="42")
    append(layout, names.SEND_TWEET, reply.to_detail())
    append(layout, names.SEND_DM, SendDirectMessage(text=SECRET, answering=DM_REF).to_detail())
    append(layout, names.REPLY_POSTED, ReplyPosted("1", "2", "3").to_detail())  # answers a post never seen
    replies = collect(tail.TailSource(layout, types=[names.SEND_TWEET, names.SEND_DM, names.REPLY_POSTED]), 10)
    assert [(entry.type, entry.author) for entry in replies] == [
        (names.SEND_TWEET, "alice"),
        (names.SEND_DM, "bob"),
        (names.REPLY_POSTED, None),
    ]


def test_a_half_written_alert_waits_for_its_newline(tmp_path: Path) -> None:
    layout = state(tmp_path)
    record = json.dumps({"time": "2026-05-01T13:04:05Z", "subject": "Negative message from @x", "attributes": {}})
    layout.alerts.write_text(record[:20])
    source = tail.TailSource(layout)
    assert source.backlog(None) == []
    with layout.alerts.open("a") as file:
        file.write(record[20:] + "\n")
    assert [e.summary for e in source.poll()] == ["Negative message from @x"]


def test_following_picks_up_an_event_appended_after_it_started(tmp_path: Path) -> None:
    layout = state(tmp_path)
    append(layout, names.MESSAGE_RECEIVED, RECEIVED.to_detail())
    seen: list[tail.Entry] = []
    deadline = time.monotonic() + 10

    def stop() -> bool:
        return any(entry.type == names.REPLY_POSTED for entry in seen) or time.monotonic() > deadline

    follower = threading.Thread(
        target=tail.follow, args=(tail.TailSource(layout), seen.append), kwargs={"lines": 10, "stop": stop}
    )
    follower.start()
    time.sleep(0.5)
    append(layout, names.REPLY_POSTED, ReplyPosted(POST.tweet_id, "42", "9", 50).to_detail())
    follower.join(timeout=15)
    assert not follower.is_alive()
    assert [entry.type for entry in seen] == [names.MESSAGE_RECEIVED, names.REPLY_POSTED]


def test_a_tail_started_before_the_journal_exists_finds_it_and_never_creates_it(tmp_path: Path) -> None:
    layout = state(tmp_path)
    source = tail.TailSource(layout)
    assert source.backlog(10) == [] and source.poll() == []
    assert not layout.journal.exists()  # read-only: nothing is created
    append(layout, names.MESSAGE_RECEIVED, RECEIVED.to_detail())
    assert [entry.type for entry in source.poll()] == [names.MESSAGE_RECEIVED]
    assert source.poll() == []
    source.close()


def test_the_tail_does_not_keep_the_server_from_writing(tmp_path: Path) -> None:
    layout = state(tmp_path)
    append(layout, names.MESSAGE_RECEIVED, RECEIVED.to_detail())
    source = tail.TailSource(layout)
    source.backlog(10)
    with Journal(layout.journal) as journal:  # the server, while the tail holds its connection open
        started = time.monotonic()
        journal.append([envelope(names.REPLY_POSTED, ReplyPosted(POST.tweet_id, "42", "9").to_detail())])
        assert time.monotonic() - started < 1.0
    assert [entry.type for entry in source.poll()] == [names.REPLY_POSTED]
    source.close()


# --- the command --------------------------------------------------------------------------------


def test_the_command_prints_and_exits_with_no_follow_and_no_colour_when_not_a_terminal(tmp_path: Path) -> None:
    layout = state(tmp_path)
    append(layout, names.MESSAGE_RECEIVED, RECEIVED.to_detail())
    append(layout, names.MESSAGE_RECEIVED, DM_RECEIVED.to_detail())
    result = CliRunner().invoke(main, ["tail", "--no-follow", "--local-dir", str(layout.root)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2 and "\x1b" not in result.output
    assert '"tell me a joke" +1 photo' in lines[0] and "DM (direct message)" in lines[1]
    assert "PIN" not in result.output


def test_the_command_json_type_and_since_options(tmp_path: Path) -> None:
    layout = state(tmp_path)
    append(layout, names.MESSAGE_RECEIVED, RECEIVED.to_detail(), at=time.time() - 7200)
    append(layout, names.MESSAGE_ANALYSED, ANALYSED.to_detail())
    append(layout, names.REPLY_POSTED, ReplyPosted(POST.tweet_id, "42", "9").to_detail())
    base = ["tail", "--no-follow", "--json", "--local-dir", str(layout.root)]
    result = CliRunner().invoke(main, [*base, "--type", "MESSAGE_ANALYSED", "--type", "REPLY_POSTED"])
    assert [json.loads(line)["type"] for line in result.output.splitlines()] == ["MESSAGE_ANALYSED", "REPLY_POSTED"]
    result = CliRunner().invoke(main, [*base, "--since", "1h"])
    assert [json.loads(line)["type"] for line in result.output.splitlines()] == ["MESSAGE_ANALYSED", "REPLY_POSTED"]
    result = CliRunner().invoke(main, [*base, "-n", "1"])
    assert [json.loads(line)["type"] for line in result.output.splitlines()] == ["REPLY_POSTED"]
    refused = CliRunner().invoke(main, [*base, "--since", "last week"])
    assert refused.exit_code == 2 and "--since" in refused.output


def test_ctrl_c_ends_the_command_cleanly(tmp_path: Path) -> None:
    layout = state(tmp_path)
    append(layout, names.MESSAGE_RECEIVED, RECEIVED.to_detail())
    botctl = Path(sys.executable).parent / "botctl"
    command = [str(botctl), "tail", "--local-dir", str(layout.root)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        first = process.stdout.readline()  # the backlog is out: it is following now
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
    assert "MESSAGE_RECEIVED" in first
    assert process.returncode == 0, errors
    assert "Traceback" not in errors and "Aborted" not in errors
