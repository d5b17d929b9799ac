"""Ingress's second source: the bot's mentions, polled from X's mentions timeline.

The webhook needs an access level with Account Activity or X Activity deliveries; any level that
can read GET /2/users/:id/mentions can poll. Each run reads what is new since the checkpoint and
publishes, for each post, a TWITTER_MENTION_POLLED raw event and the MESSAGE_RECEIVED (or
MESSAGE_SKIPPED) the webhook would make of it (translate.translate_polled_mention). A post that also
arrives by webhook is analysed and answered once: the analysis claims and Egress's idempotency are
keyed on the post's id, whichever way it came.

The checkpoint (PollState) and why it has the fields it has:
- X lists the timeline newest first, a page at a time. A range (everything after `since_id`) is
  therefore read from its newest post down; `since_id` may move to the range's newest id only once
  the last page is read, or the older unread posts of the range would be skipped for good.
- While a range is read, the state keeps its newest id (`range_newest_id`, from its first page)
  and the next page's `pagination_token`, saved after each page is published: a run that stops
  (the page budget, the rate-limit reserve, a 429, a timeout, a crash) is continued by the next one
  from that page, never from the top again (no loop), and no post is lost. A page published and
  not yet saved is read again after a crash: its events are published twice and the downstream
  claims drop the second copies.
- On the first run (no state) it starts from now: it records the newest id of the timeline and
  publishes none of the account's history (an empty timeline: it starts at this run's time).
- Rate limits: every answer's x-rate-limit-remaining and -reset are read; at the reserve, or on a
  429, `not_before` is saved and runs until then return without calling X.
- Every save is conditional on the version read (PollCheckpoint), so two overlapping runs cannot
  move it backwards: the one that saves second stops. Within a run, since_id only moves forward,
  to the greatest post id of the range's first page (never meta.newest_id: an id beyond every
  post of the page would skip the mentions to come). A page token that comes back within a run
  (A -> A, A -> B -> A, counting the token the run started from) ends the range instead of being
  read at every run; a cycle longer than a run's pages (POLL_MAX_PAGES) is not seen, as the state
  keeps only the next token.
- What X answers that is not a page (no data and no meta, only `errors`, not JSON, NaN) moves
  nothing; a post that cannot be read, or that the translation trips on, is recorded as
  DELIVERY_REJECTED and the run goes on: no odd post stops the poller at its page for good.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from chalicelib.contracts import names
from chalicelib.contracts.envelope import BusEvent
from chalicelib.ingress.service import _stamped
from chalicelib.ingress.translate import MAX_ELEMENTS_PER_DELIVERY, rejection, translate_polled_mention
from chalicelib.kernel.x_ids import is_x_id
from chalicelib.ports import (
    MentionsPage,
    MentionsReader,
    PollCheckpoint,
    PollState,
    RateLimit,
    RateLimitedError,
    XReadError,
)
from chalicelib.publishing import EventPublisher

#: X's page size for the mentions timeline: at most 100 posts, at least 5.
MAX_PAGE_SIZE: Final = 100
MIN_PAGE_SIZE: Final = 5
#: X's rate-limit window, for a 429 or a spent window whose reset time X did not say.
DEFAULT_WINDOW_SECONDS: Final = 15 * 60
#: X's longest windows are a day (the 24-hour caps of the lower tiers). A reset said to be further
#: away (a time in milliseconds, a garbled header) is not believed: the run waits DEFAULT_WINDOW_SECONDS
#: instead of stopping the poller for years; a stored wait that long is ignored the same way.
MAX_WAIT_SECONDS: Final = 24 * 60 * 60 + DEFAULT_WINDOW_SECONDS

# PollReport outcomes.
STARTED: Final = "started"
WAITING: Final = "waiting"
CAUGHT_UP: Final = "caught-up"
MORE_TO_READ: Final = "more-to-read"
RATE_LIMITED: Final = "rate-limited"
SUPERSEDED: Final = "superseded"


class PollError(Exception):
    """X refused to list the mentions (credentials, access level, ...): the checkpoint did not move.
    The message is one line a person can act on, without any credential."""


@dataclass(frozen=True)
class PollReport:
    """What one run did: how it ended, the pages it read, the events it published."""

    outcome: str
    pages: int = 0
    events: int = 0
    messages: int = 0
    #: The run saw the rate-limit window spent: no call to X before this epoch second.
    not_before: float | None = None


class MentionsPoller:
    def __init__(
        self,
        *,
        reader: MentionsReader,
        checkpoint: PollCheckpoint,
        publisher: EventPublisher,
        bot_user_id: str,
        max_pages: int,
        rate_reserve: int,
        page_size: int = MAX_PAGE_SIZE,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._reader = reader
        self._checkpoint = checkpoint
        self._publisher = publisher
        self._bot_user_id = bot_user_id
        self._max_pages = max_pages
        self._rate_reserve = rate_reserve
        self._page_size = max(MIN_PAGE_SIZE, min(MAX_PAGE_SIZE, page_size))
        self._now = now

    def poll(self) -> PollReport:
        """One scheduled run. Raises PollError when X refuses the read, PublishError when the bus
        did not take the events (the checkpoint then stays before them), a TransientError when X
        failed or could not be reached."""
        state = self._checkpoint.load(self._bot_user_id)
        now = self._now()
        if state is None:
            return self._start(now)
        if now < state.not_before <= now + MAX_WAIT_SECONDS:
            return PollReport(WAITING, not_before=state.not_before)
        if not state.not_before <= now:  # a wait too long to believe (or not a number): not kept
            state = replace(state, not_before=0.0)
        pages = events = messages = 0
        # The page tokens of the range read in this run (and the one it starts from): a token that
        # comes back (A -> B -> A) would read the same pages at every run, for ever.
        seen = {state.pagination_token} if state.pagination_token else set()
        while pages < self._max_pages:
            try:
                page = self._read(state)
            except RateLimitedError as error:
                waited = replace(state, not_before=_reset_or_window(error.reset_at, now))
                saved = self._save(waited)
                return PollReport(
                    RATE_LIMITED if saved else SUPERSEDED, pages, events, messages, not_before=waited.not_before
                )
            except XReadError as error:
                if error.status == 400 and state.pagination_token is not None:
                    # A page token X no longer takes (they are not forever): read the range again from
                    # its top; what is published twice, the claims drop.
                    restarted = self._save(replace(state, range_newest_id=None, pagination_token=None))
                    if restarted is None:
                        return PollReport(SUPERSEDED, pages, events, messages)
                    state = restarted
                    seen = set()  # from the top again, the same tokens come back rightly
                    continue
                raise PollError(f"X refused to list the mentions of {self._bot_user_id}: {error}") from None
            pages += 1
            published = self._publish(page)
            events += len(published)
            messages += sum(event.detail_type == names.MESSAGE_RECEIVED for event in published)
            saved = self._save(self._after(state, page, now, seen))
            if saved is None:
                return PollReport(SUPERSEDED, pages, events, messages)
            state = saved
            if state.not_before > now:
                return PollReport(RATE_LIMITED, pages, events, messages, not_before=state.not_before)
            if state.pagination_token is None:
                return PollReport(CAUGHT_UP, pages, events, messages)
        return PollReport(MORE_TO_READ, pages, events, messages)

    def _start(self, now: float) -> PollReport:
        """The first run: the timeline's newest id becomes the checkpoint; nothing is published."""
        try:
            page = self._reader.mentions_page(
                self._bot_user_id, since_id=None, start_time=None, pagination_token=None, max_results=MIN_PAGE_SIZE
            )
        except RateLimitedError as error:
            # Starts from now all the same, once the window resets.
            state = PollState(since_id=None, start_time=now, not_before=_reset_or_window(error.reset_at, now))
            saved = self._save(state)
            return PollReport(STARTED if saved else SUPERSEDED, not_before=state.not_before)
        except XReadError as error:
            raise PollError(f"X refused to list the mentions of {self._bot_user_id}: {error}") from None
        newest = _newest_id(page)
        state = PollState(since_id=newest, start_time=None if newest else now)
        state = self._limited(state, page.rate_limit, now)
        saved = self._save(state)
        return PollReport(STARTED if saved else SUPERSEDED, pages=1, not_before=_future(state.not_before, now))

    def _read(self, state: PollState) -> MentionsPage:
        return self._reader.mentions_page(
            self._bot_user_id,
            since_id=state.since_id,
            start_time=state.start_time if state.since_id is None else None,
            pagination_token=state.pagination_token,
            max_results=self._page_size,
        )

    def _publish(self, page: MentionsPage) -> list[BusEvent]:
        now_ms = int(self._now() * 1000)
        stamped: list[BusEvent] = []
        # Oldest first within the page: the order people wrote them. X's pages hold at most 100
        # posts; the rest of a larger one is recorded as rejected, as the webhook's cap does.
        posts = page.posts[:MAX_ELEMENTS_PER_DELIVERY]
        for post in reversed(posts):
            # A post found while catching up after an outage was written long before it was read:
            # stamped with when it was written, Egress's maximum reply age still skips it as too old
            # instead of answering yesterday's mentions in a burst.
            stamped.extend(
                _stamped(self._translate(post, page), received_at_ms=min(now_ms, _created_at_ms(post) or now_ms))
            )
        if len(page.posts) > len(posts):
            left = page.posts[len(posts) :]
            ids: list[str] = [post["id"] for post in left if isinstance(post, dict) and is_x_id(post.get("id"))]
            stamped.append(
                rejection(
                    f"over {MAX_ELEMENTS_PER_DELIVERY} posts in one page; not processed: {len(left)}"
                    + (f" (ids {', '.join(ids[:10])}{', ...' if len(ids) > 10 else ''})" if ids else ""),
                    key="data",
                    for_user_id=self._bot_user_id,
                )
            )
        if not stamped:
            return []
        self._publisher.publish(stamped)
        return stamped

    def _translate(self, post: Any, page: MentionsPage) -> list[BusEvent]:
        """The post's events; never an exception: a post the translation trips on is recorded as
        rejected (as the webhook records a delivery it could not translate), so one odd post cannot
        stop the poller at its page for good."""
        try:
            return translate_polled_mention(post, page.includes, self._bot_user_id)
        except Exception as error:
            post_id = post.get("id") if isinstance(post, dict) else None
            return [
                rejection(
                    f"mention not translated: internal error {type(error).__name__}",
                    key=f"data[id={post_id}]" if isinstance(post_id, str) else "data",
                    for_user_id=self._bot_user_id,
                )
            ]

    def _after(self, state: PollState, page: MentionsPage, now: float, seen: set[str]) -> PollState:
        """The state once `page` is published: the next page of the range, or the range done. `seen`
        holds the page tokens of the range this run has read; the next one is added to it."""
        # The first page of a range holds its newest post; later pages keep the one recorded then.
        newest = state.range_newest_id or _newest_id(page)
        # A next page token already read (the one just read, or an earlier one: A -> B -> A) would
        # read the same pages at every run, for ever: the range ends there, every page of it read.
        if page.next_token and page.next_token not in seen:
            seen.add(page.next_token)
            moved = replace(state, range_newest_id=newest, pagination_token=page.next_token)
        else:
            # Never backwards, whatever a page says.
            since_id = _later_id(newest, state.since_id)
            moved = replace(
                state,
                since_id=since_id,
                start_time=None if since_id else state.start_time,
                range_newest_id=None,
                pagination_token=None,
            )
        return self._limited(moved, page.rate_limit, now)

    def _limited(self, state: PollState, rate_limit: RateLimit, now: float) -> PollState:
        """No call before the window resets once what is left of it is down to the reserve."""
        if rate_limit.remaining is not None and rate_limit.remaining <= self._rate_reserve:
            return replace(state, not_before=_reset_or_window(rate_limit.reset_at, now))
        return state

    def _save(self, state: PollState) -> PollState | None:
        """The state saved with the next version, or None when another run saved first."""
        saved = replace(state, version=state.version + 1)
        return saved if self._checkpoint.save(self._bot_user_id, saved) else None


def _reset_or_window(reset_at: float | None, now: float) -> float:
    """The reset X said, if it is a time to come within MAX_WAIT_SECONDS; else a default window."""
    # False for NaN and infinity too.
    if reset_at is not None and now < reset_at <= now + MAX_WAIT_SECONDS:
        return reset_at
    return now + DEFAULT_WINDOW_SECONDS


def _later_id(first: str | None, second: str | None) -> str | None:
    """The later of two post ids (decimal strings: the longer, or the greater of equal length)."""
    ids = [value for value in (first, second) if is_x_id(value)]
    return max(ids, key=lambda value: (len(value), value), default=None)


def _newest_id(page: MentionsPage) -> str | None:
    """The newest post of a page: the greatest id among its posts, so a range is never closed below
    a post it published. meta.newest_id is not taken: an id greater than every post of the page
    would move the checkpoint past mentions not yet written, and none of them would ever be read."""
    newest: str | None = None
    for post in page.posts:
        if isinstance(post, dict):
            newest = _later_id(newest, post.get("id"))
    return newest


def _future(moment: float, now: float) -> float | None:
    return moment if moment > now else None


def _created_at_ms(post: Any) -> int | None:
    """The post's created_at (X's ISO 8601 time, e.g. 2026-12-03T05:00:00.000Z) in epoch ms, if readable."""
    value = post.get("created_at") if isinstance(post, dict) else None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)
