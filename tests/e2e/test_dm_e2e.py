"""Direct messages on the real local runtime (issue 10, "Done when"): a signed DM delivery gets exactly
one DM answer in the outbox, however often it is delivered; the bot's own DM gets none; a negative
DM's alert carries no text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from botlocal.alerts import read_alerts
from botlocal.compose import compose_dm, user_id_of
from botlocal.config import LOCAL_DEVELOPMENT_CONSUMER_SECRET
from botlocal.layout import LocalLayout
from botlocal.outbox import read_outbox
from chalicelib.ingress.signature import SIGNATURE_HEADER, sign

from tests.e2e.runtime import serving

NEGATIVE_DM = "I hate you, you are a terrible and useless bot"


def _deliver(url: str, delivery: dict[str, object]) -> None:
    body = json.dumps(delivery).encode("utf-8")
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(LOCAL_DEVELOPMENT_CONSUMER_SECRET, body)}
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200


@pytest.mark.slow
def test_a_signed_dm_gets_exactly_one_dm_answer_and_the_bots_own_dm_none(tmp_path: Path) -> None:
    someone = compose_dm("hello bot, tell me a joke", author="dana")
    own = compose_dm("hi dana, this is the bot", author="dana", from_bot=True)
    with serving(tmp_path) as runtime:
        for _ in range(2):  # X redelivers: still one answer
            _deliver(runtime.url, someone.delivery)
        _deliver(runtime.url, own.delivery)
        # A person's DM through the CLI a person types.
        typed = runtime.botctl("dm", NEGATIVE_DM, "--author", "erin")
        assert typed.returncode == 0, typed.stderr
        runtime.wait()
        rows = runtime.query(
            "SELECT detail_type, detail.directmessage.eventid AS dm, detail.reason AS reason "
            "FROM \"analysed-messages-table\" WHERE detail.channel = 'DM'"
        )
    layout = LocalLayout(runtime.local_dir)
    outbox = read_outbox(layout.outbox)
    answers = [entry for entry in outbox if entry.get("Channel") == "DM"]
    # Exactly one DM answer to each person who wrote; nothing for the bot's own DM; no post at all.
    assert sorted(entry["ParticipantId"] for entry in answers) == sorted([user_id_of("dana"), user_id_of("erin")])
    assert len(outbox) == len(answers)
    assert all(not entry["Text"].startswith("@") and entry["Images"] == [] for entry in answers)

    def count(detail_type: str, event_id: str) -> int:
        return sum(1 for row in rows if row["detail_type"] == detail_type and row["dm"] == event_id)

    assert count("MESSAGE_RECEIVED", someone.event_id) == 2  # both arrivals recorded
    assert count("MESSAGE_ANALYSED", someone.event_id) == 1  # analysed once
    assert count("SEND_DM", someone.event_id) == 1
    assert count("REPLY_POSTED", someone.event_id) == 1
    assert count("MESSAGE_RECEIVED", own.event_id) == 0
    assert [row["reason"] for row in rows if row["dm"] == own.event_id] == ["own post"]  # MESSAGE_SKIPPED

    # No line of the runtime's logs carries a DM's text: the serve terminal, nor the full log file
    # of the state folder (every JSON and access line).
    for log_file in (tmp_path / "serve.log", runtime.local_dir / "serve.log"):
        log = log_file.read_text()
        assert "tell me a joke" not in log and "terrible" not in log, log_file

    # The negative DM raised an alert that says who, never what.
    alerts = read_alerts(layout.alerts)
    assert [alert["subject"] for alert in alerts] == ["Negative direct message from @erin"]
    assert NEGATIVE_DM not in json.dumps(alerts)
    assert "hate" not in json.dumps(alerts)
