"""The web page's HTML (botlocal.web.render): the DOM contract the browser test relies on, the
analysis in plain words, every value escaped, never a direct message's text, the empty state."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from botlocal.layout import LocalLayout
from botlocal.payloads import LocalPayloadStore
from botlocal.web import render
from botlocal.web.state import LatencyPoint, PageView, StateReader
from chalicelib.contracts import names
from chalicelib.contracts.messages import MessageReceived, TwitterRef
from chalicelib.contracts.outcomes import POST_DELETED, MediaDeleted
from chalicelib.contracts.oversized import OversizedRef, pointer_detail

from tests.local.web_scenario import (
    DEAD_POST,
    DM_KEY,
    EVIL_AUTHOR,
    EVIL_POST,
    EVIL_TEXT,
    FAILED_POST,
    NEGATIVE_POST,
    OWN_POST_REF,
    PHOTO_POST,
    SECRET,
    SECRET_ANSWER,
    T0,
    Element,
    Scenario,
    append,
    parse,
    write_scenario,
)


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return write_scenario(tmp_path)


def view_of(layout: LocalLayout) -> PageView:
    reader = StateReader(layout)
    reader.refresh()
    return reader.view()


def live_of(scenario: Scenario) -> Element:
    markup = render.live(view_of(scenario.layout))
    root = parse(markup)
    (live,) = root.children
    assert (live.tag, live.attrs.get("id")) == ("section", "live")
    return live


def message(live: Element, key: str) -> Element:
    return live.one("article", cls="message", data_message_id=key)


def test_the_page_is_the_live_region_in_a_document_with_the_script_and_no_inline_code(scenario: Scenario) -> None:
    document = render.page(render.live(view_of(scenario.layout)), state_folder="/state/<folder>")
    root = parse(document.removeprefix("<!doctype html>\n"))
    scripts = root.find_all("script")
    assert [script.attrs.get("src") for script in scripts] == ["/static/page.js"]
    assert all(not script.all_text().strip() for script in scripts)
    assert root.find_all("style") == []
    assert all("style" not in element.attrs for element in root.iter())
    assert not any(name.startswith("on") for element in root.iter() for name in element.attrs)
    assert len(root.find_all("section", id="live")) == 1
    assert "/state/&lt;folder&gt;" in document


def test_a_photo_post_shows_author_text_photo_analysis_reply_and_annotated_photo(scenario: Scenario) -> None:
    article = message(live_of(scenario), PHOTO_POST.tweet_id)
    assert article.attrs["data-status"] == "answered"
    assert article.one(cls="author").all_text() == "@alice"
    assert article.one(cls="text").all_text() == "who is this? tell me a joke"
    assert [img.attrs["src"] for img in article.find_all("img", cls="photo")] == [f"/media/{scenario.photo_key}"]
    analysis = article.one(cls="analysis").all_text()
    for words in (
        "The tone is positive (91% sure).",
        "Written in English (en).",
        "People named: Grace Hopper.",
        "Also mentions: Paris (place).",
        "Key phrases: a joke.",
        "Photo 1: recognised Ada Lovelace (98%); shows dog, grass; 1 other face; text read: \u201cHELLO WORLD\u201d.",
    ):
        assert words in analysis
    assert "@xbot" not in analysis  # a mention of the bot is not news
    reply = article.one(cls="reply")
    assert reply.one(cls="reply-text").all_text() == "@alice That looks like Ada Lovelace!"
    assert f"Reply posted as {scenario.posted_id}, 2.3 s after it arrived" in reply.all_text()
    assert [img.attrs["src"] for img in reply.find_all("img", cls="annotated")] == [
        f"/outbox-images/{scenario.outbox_image}"
    ]
    assert article.find_all(cls="skip-reason") == [] and article.find_all(cls="alert") == []


def test_a_post_deleted_on_x_no_longer_shows_its_text_photos_analysis_or_annotated_copy(scenario: Scenario) -> None:
    deleted = MediaDeleted(
        user_id=PHOTO_POST.user_id, tweet_id=PHOTO_POST.tweet_id, reason=POST_DELETED, deleted_count=2
    )
    append(scenario.layout, names.MEDIA_DELETED, deleted.to_detail(), at=T0 + 100)
    article = message(live_of(scenario), PHOTO_POST.tweet_id)
    shown = article.all_text()
    assert "Deleted on X (post deleted)" in shown
    for gone in ("who is this?", "Ada Lovelace (98%)", "Grace Hopper", "HELLO WORLD"):
        assert gone not in shown.replace("That looks like Ada Lovelace!", "")
    assert article.find_all("img") == []
    # The bot's own reply stays listed (it is the bot's post), without the annotated copy.
    assert article.one(cls="reply-text").all_text() == "@alice That looks like Ada Lovelace!"


def test_a_reply_not_posted_yet_shows_the_annotated_copy_from_the_media_store(scenario: Scenario) -> None:
    scenario.layout.outbox.unlink()
    article = message(live_of(scenario), PHOTO_POST.tweet_id)
    assert [img.attrs["src"] for img in article.find_all("img", cls="annotated")] == [
        f"/media/{scenario.annotated_key}"
    ]


def test_alerts_skip_reasons_failures_and_dead_letters_are_shown(scenario: Scenario) -> None:
    live = live_of(scenario)
    negative = message(live, NEGATIVE_POST.tweet_id)
    assert negative.attrs["data-status"] == "alerted"
    assert negative.one(cls="alert").all_text() == "Alert sent: Negative message from @grumpy (NEGATIVE)"
    assert negative.find_all(cls="reply") == []
    assert message(live, EVIL_POST.tweet_id).one(cls="skip-reason").all_text() == "No answer: author limit"
    own = message(live, OWN_POST_REF.tweet_id)
    assert (own.attrs["data-status"], own.one(cls="skip-reason").all_text()) == ("skipped", "No answer: own post")
    failed = message(live, FAILED_POST.tweet_id)
    assert failed.attrs["data-status"] == "failed"
    assert failed.one(cls="skip-reason").all_text() == "No answer: analysis failed: States.Timeout"
    dead = message(live, DEAD_POST.tweet_id)
    assert dead.attrs["data-status"] == "failed"
    assert "a dead letter: botctl redrive retries it" in dead.one(cls="skip-reason").all_text()
    assert "Reply not posted" in dead.one(cls="reply").all_text()
    section = live.one("section", id="dead-letters")
    (letter,) = section.find_all(cls="dead-letter")
    assert "SEND_TWEET" in letter.all_text() and "ConnectionError: X did not answer" in letter.all_text()
    assert "botctl redrive" in section.all_text()


def test_counts_per_event_type(scenario: Scenario) -> None:
    table = live_of(scenario).one("table", id="counts")
    counts = {
        row.attrs["data-type"]: row.one("td", cls="count").all_text()
        for row in table.find_all("tr")
        if "data-type" in row.attrs
    }
    assert counts["MESSAGE_RECEIVED"] == "6"
    assert counts["REPLY_POSTED"] == "2"
    assert counts["MESSAGE_SKIPPED"] == "1"
    assert table.one("td", cls="total").all_text() == "17"  # 6 received, 3 analysed, 2 + 2 replies, 4 more


def test_the_latency_chart_and_its_percentiles(scenario: Scenario) -> None:
    latency = live_of(scenario).one("div", id="latency")
    assert latency.one("span", cls="p50").all_text() == "2.3 s"
    assert latency.one("span", cls="p95").all_text() == "3.1 s"
    svg = latency.one("svg")
    assert len(svg.find_all("circle")) == 2
    assert len(svg.find_all("polyline")) == 1


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(1, 101))
    assert (render.percentile(values, 50), render.percentile(values, 95)) == (50, 95)
    assert render.percentile([7], 95) == 7
    assert render.percentile([5, 1], 50) == 1


def test_the_chart_scales_many_points_into_its_frame() -> None:
    points = [LatencyPoint(at=1000.0 + index, milliseconds=100 * index) for index in range(render.CHART_DOTS + 10)]
    view = PageView([], 0, {}, points, [], 0, 0, True)
    svg = parse(render.latency_chart(view)).one("svg")
    assert len(svg.find_all("circle")) == render.CHART_DOTS  # the newest; the line has them all
    assert len(svg.one("polyline").attrs["points"].split()) == len(points)
    for circle in svg.find_all("circle"):
        assert 0 <= float(circle.attrs["cx"]) <= render.CHART_WIDTH
        assert 0 <= float(circle.attrs["cy"]) <= render.CHART_HEIGHT
    assert "10 s" in svg.all_text()  # the top of the axis: 6.9 s rounded up


def test_html_in_an_author_or_a_text_is_shown_as_text_never_as_markup(scenario: Scenario) -> None:
    markup = render.live(view_of(scenario.layout))
    assert "<script" not in markup and "<img src=x" not in markup
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in markup
    article = message(parse(markup), EVIL_POST.tweet_id)
    assert article.one(cls="author").all_text() == "@" + EVIL_AUTHOR
    assert article.one(cls="text").all_text() == EVIL_TEXT
    assert article.find_all("script") == [] and article.find_all("img") == []


def test_a_media_key_with_quotes_cannot_leave_its_attribute(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    view = view_of(scenario.layout)
    photo = next(c for c in view.conversations if c.key == PHOTO_POST.tweet_id)
    photo.photo_keys = ['x" onerror="alert(1)']
    article = parse(render.live(view)).one("article", data_message_id=PHOTO_POST.tweet_id)
    (img,) = article.find_all("img", cls="photo")
    assert set(img.attrs) == {"class", "src", "alt", "loading"}
    assert img.attrs["src"] == "/media/x%22%20onerror%3D%22alert%281%29"


def test_a_direct_message_shows_that_it_arrived_and_was_answered_never_its_text(scenario: Scenario) -> None:
    markup = render.page(render.live(view_of(scenario.layout)), state_folder="/s")
    for private in (SECRET, SECRET_ANSWER, "4321", "bank PIN"):
        assert private not in markup
    article = message(parse(markup.removeprefix("<!doctype html>\n")), DM_KEY)
    assert article.attrs["data-status"] == "answered"
    assert article.find_all(cls="text") == []
    assert "A direct message arrived" in article.all_text()
    assert "Answered by direct message" in article.one(cls="reply-text").all_text()
    assert article.one(cls="alert").all_text() == "Alert sent: Negative direct message from @bob (NEGATIVE)"


def test_an_empty_state_renders_with_a_hint(tmp_path: Path) -> None:
    view = view_of(LocalLayout(tmp_path / "nothing"))
    live = parse(render.live(view)).one("section", id="live")
    assert live.find_all("article") == []
    assert "botctl tweet" in live.all_text()
    assert live.one("table", id="counts").find_all("td", cls="count") == []
    assert live.one("div", id="latency").one("span", cls="p50").all_text() == "\u2013"
    assert live.one("section", id="dead-letters").find_all(cls="dead-letter") == []


def test_a_claim_checked_post_is_read_from_the_payload_store_or_says_its_text_travelled_apart(
    tmp_path: Path,
) -> None:
    layout = LocalLayout(tmp_path)
    store = LocalPayloadStore(layout.root)
    for tweet_id, keep_payload in (("31", True), ("32", False)):
        received = MessageReceived("a long post " * 3, "longwriter", "en", TwitterRef(tweet_id, "1")).to_detail()
        body = json.dumps(received).encode()
        uri = store.put(f"oversized/{tweet_id}.json", body)
        ref = OversizedRef(uri=uri, size=len(body), sha256=hashlib.sha256(body).hexdigest())
        if not keep_payload:
            (layout.oversized / f"{tweet_id}.json").unlink()
        append(layout, names.MESSAGE_RECEIVED, pointer_detail(ref, received), at=T0)
    live = parse(render.live(view_of(layout)))
    whole = live.one("article", data_message_id="31")
    assert (whole.one(cls="author").all_text(), whole.one(cls="text").all_text()) == (
        "@longwriter",
        "a long post a long post a long post ",
    )
    pointer_only = live.one("article", data_message_id="32")
    assert "its text travelled apart from the event" in pointer_only.one(cls="text").all_text()
