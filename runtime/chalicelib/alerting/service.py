"""Alerting: a human hears about negative messages, in words, with a link to the post.

A direct message is private: its alert says who wrote and the sentiment, never the text and no
link (a DM has no public address), and the same holds for the chat webhook, which forwards the
alert's message as it is. Nothing here logs a message's text.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from chalicelib.contracts.analysis import MessageAnalysed
from chalicelib.kernel.idempotency import Idempotency
from chalicelib.ports import AlertSink, ChatWebhook


def post_link(author: str | None, tweet_id: str) -> str:
    """X redirects /i/status/<id> to the post; with the author's name the link reads better."""
    return f"https://x.com/{author or 'i'}/status/{tweet_id}"


def alert_text(analysed: MessageAnalysed) -> tuple[str, str, dict[str, str]]:
    """(subject, message, attributes) of the alert for a negative message."""
    message = analysed.message
    author = f"@{message.author}" if message.author else "someone"
    scores = analysed.text.sentiment_score or {}
    score_text = ", ".join(
        f"{name.lower()} {float(scores.get(name, 0.0)):.2f}" for name in ("Negative", "Positive", "Neutral", "Mixed")
    )
    direct_message = message.direct_message
    if direct_message is not None:
        # Who and how negative only: the text of a DM must not leave the bot (topic, mail, chat).
        dm_body = "\n".join(
            (
                f"{author} (user id {direct_message.sender_id}) sent the bot a direct message.",
                "Its text is private and not included; answer or read it in the bot's DM inbox.",
                f"Sentiment: {analysed.text.sentiment} ({score_text})",
            )
        )
        dm_attributes = {
            "Channel": "DM",
            "DmEventId": direct_message.event_id,
            "Author": message.author or "",
            "Sentiment": str(analysed.text.sentiment),
        }
        return f"Negative direct message from {author}", dm_body, dm_attributes
    body = "\n".join(
        (
            f"{author} wrote:",
            message.text,
            "",
            post_link(message.author, message.twitter.tweet_id),
            f"Sentiment: {analysed.text.sentiment} ({score_text})",
        )
    )
    attributes = {
        "TweetId": message.twitter.tweet_id,
        "Author": message.author or "",
        "Sentiment": str(analysed.text.sentiment),
    }
    return f"Negative message from {author}", body, attributes


#: What the idempotency store records for an alert sent.
ALERTED = "alerted"


class AlertService:
    """One alert per negative post, however many times its MESSAGE_ANALYSED arrives (a redelivery,
    or the same post reaching the bot by two routes): keyed on the post id (a DM: "dm:<event id>")."""

    def __init__(self, *, sink: AlertSink, once: Idempotency) -> None:
        self._sink = sink
        self._once = once

    def alert(self, analysed: MessageAnalysed, remaining_ms: Callable[[], int] | None = None) -> bool:
        """Publish the alert unless this post already had one; True when this call published it."""
        subject, message, attributes = alert_text(analysed)
        published = False

        def publish() -> str:
            nonlocal published
            self._sink.publish(subject, message, attributes)
            published = True
            return ALERTED

        # A DM's view id is "dm:<event id>": its alert key never meets a post's.
        self._once.run(f"alert:{analysed.message.twitter.tweet_id}", publish, remaining_ms)
        return published


class ForwardingError(Exception):
    """The chat webhook kept failing; the alert stays on the topic (or in alerts.jsonl)."""


class AlertForwarder:
    """Forwards an alert to a Slack-compatible chat webhook, with retries and backoff."""

    def __init__(
        self,
        *,
        webhook: ChatWebhook,
        attempts: int = 3,
        base_delay_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._webhook = webhook
        self._attempts = attempts
        self._base_delay = base_delay_seconds
        self._sleep = sleep

    def forward(self, subject: str, message: str, attributes: dict[str, str] | None = None) -> None:
        payload: dict[str, Any] = {"text": f"*{subject}*\n{message}"}
        last = ""
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(random.uniform(0, self._base_delay * 2**attempt))  # noqa: S311 (jitter)
            try:
                self._webhook.post(payload)
                return
            except Exception as error:  # any failure of the webhook is retried, then reported
                last = type(error).__name__ + (f": {error}" if str(error) else "")
                # A webhook that is gone (404, 410, ...) will not come back by retrying.
                if not getattr(error, "retryable", True):
                    raise ForwardingError(f"chat webhook refused the alert: {last}") from None
        raise ForwardingError(f"chat webhook failed {self._attempts} times; last error {last}")
