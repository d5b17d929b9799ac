"""Issue 8, section 5: a post whose events are over the bus's size limit is still analysed, alerted and
answered on the local runtime, through the commands a person types.

The real limit is 256 KiB; the per-photo caps keep a real analysis under it, so the test lowers the
publisher's limit (MAX_EVENT_BYTES) to make MESSAGE_RECEIVED and MESSAGE_ANALYSED claim-checked: the
workflow, the alert and the photo responder must each read them back from the oversized/ folder.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from botlocal.layout import LocalLayout
from botlocal.outbox import read_outbox

from tests.e2e.runtime import serving

PHOTOS = Path(__file__).parents[1] / "fixtures" / "photos"
LIMIT = 2048


def _photo_of_text(path: Path, words: str) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(PHOTOS / "coffee.jpg").convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 560, 190), fill="white")
    draw.text((60, 50), words, fill="black", font=ImageFont.load_default(size=40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.slow
def test_a_post_over_the_size_limit_gets_its_alert_and_its_reply(tmp_path: Path) -> None:
    text = "this is a terrible, awful post with much text " * 60  # ~2.8 KB: over the lowered limit
    photos = [_photo_of_text(tmp_path / "one.png", "OPEN DAILY"), _photo_of_text(tmp_path / "two.png", "CLOSED")]
    with serving(tmp_path, MAX_EVENT_BYTES=str(LIMIT)) as runtime:
        args = ["tweet", text, "--author", "alice", "--url", runtime.url]
        for photo in photos:
            args += ["--image", str(photo)]
        sent = runtime.botctl(*args)
        assert sent.returncode == 0, sent.stdout + sent.stderr
        tweet_id = sent.stdout.strip()
        runtime.wait(timeout=240)

        oversized = sorted(LocalLayout(runtime.local_dir).oversized.rglob("*.json"))
        detail_types = set()
        for path in oversized:
            detail = json.loads(path.read_bytes())
            if detail.get("Twitter", {}).get("TweetId") == tweet_id:
                detail_types.add("MESSAGE_ANALYSED" if "Analysis" in detail else "MESSAGE_RECEIVED")
        assert detail_types == {"MESSAGE_RECEIVED", "MESSAGE_ANALYSED"}, oversized

        replies = [
            entry for entry in read_outbox(LocalLayout(runtime.local_dir).outbox) if entry["ReplyToTweetId"] == tweet_id
        ]
        assert len(replies) == 1, replies
        assert replies[0]["Text"].startswith("@alice ")

        alerts = runtime.botctl("alerts", "--format", "json")
        assert alerts.returncode == 0, alerts.stderr
        assert [alert for alert in json.loads(alerts.stdout) if tweet_id in alert["message"]], alerts.stdout
        failed = runtime.query(
            "SELECT detail FROM \"analysed-messages-table\" WHERE detail_type = 'MESSAGE_ANALYSIS_FAILED'"
        )
        assert failed == []
