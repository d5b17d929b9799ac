"""The loop and abuse guards: whether an analysed message may be answered, and if not, why.

Checked in this order, before anything is annotated or asked of the conversational bot:
1. own post: the author is the bot (BOT_USER_ID). Ingress already keeps the bot's own posts from
   becoming messages (MESSAGE_SKIPPED); this is the second line, for whichever route or id field a
   post of the bot's might come by. Without BOT_USER_ID only Ingress's check applies.
2. chain depth: a post that replies to one of the bot's posts (its InReplyToUserId is the bot) is a
   step of a chain of replies to the bot's own replies; at most `chain_max_depth` of them are
   answered per conversation in CHAIN_WINDOW_SECONDS. The depth is counted in the counters store,
   keyed by conversation, not read from the post: X gives a post its parent, not its depth, and
   walking the thread would cost an API call per step. Two bots quoting or answering each other
   thus stop after a few turns, and a person too, which is the point: a long thread is not the
   bot's job.
3. author limit: at most `per_author` replies to one author in each window.
4. conversation limit: at most `per_conversation` replies in one conversation in each window.
Direct messages go through the same guards: the author limit is per person, whichever channel they
write on (a DM and a mention from one person share it); the conversation limit counts a DM
conversation (its one-to-one id, "conversation:dm:<id>", apart from any post's thread); a DM has no
parent post, so the chain guard does not apply; in its place a DM conversation gets at most
DM_DAILY_LIMIT answers a day (a loop of DMs with another auto-replying bot would otherwise restart
with every window of the author and conversation limits: about 480 DMs a day). The bot's own DMs
are refused as own posts.
Windows are fixed (they start at multiples of their length), so a burst across a window's edge can
get up to twice a limit. A guard that refuses has already counted for the guards before it (a post
turned away by the conversation limit used one of its author's replies): counting is one atomic
step per guard, and giving counts back would open a race; the limits are caps, not quotas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from chalicelib.contracts.messages import MessageReceived
from chalicelib.contracts.outcomes import AUTHOR_LIMIT, CHAIN_DEPTH, CONVERSATION_LIMIT, DM_DAILY, OWN_POST
from chalicelib.ports import WindowCounters

#: The window in which a conversation's chain of replies to the bot is counted: a day.
CHAIN_WINDOW_SECONDS: Final = 24 * 60 * 60
#: Answers per DM conversation in CHAIN_WINDOW_SECONDS: a long chat with a person, not a bot loop.
DM_DAILY_LIMIT: Final = 30


@dataclass(frozen=True)
class GuardLimits:
    per_author: int
    per_conversation: int
    window_seconds: int
    chain_max_depth: int


class ReplyGuards:
    def __init__(self, *, counters: WindowCounters, bot_user_id: str | None, limits: GuardLimits) -> None:
        self._counters = counters
        self._bot_user_id = bot_user_id
        self._limits = limits

    def refusal(self, message: MessageReceived) -> str | None:
        """None when the message may be answered (its counts are taken); else the reason it may not."""
        twitter = message.twitter
        limits = self._limits
        bot = self._bot_user_id
        # A DM's view has its sender as user_id.
        if bot is not None and twitter.user_id == bot:
            return OWN_POST
        direct_message = message.direct_message
        # The DM's one-to-one conversation, prefixed so it never shares a count with a post's thread.
        thread = f"dm:{direct_message.conversation_id}" if direct_message is not None else twitter.thread_id
        if (
            bot is not None
            and twitter.in_reply_to_user_id == bot
            and not self._counters.take(
                f"chain:{thread}", limit=limits.chain_max_depth, window_seconds=CHAIN_WINDOW_SECONDS
            )
        ):
            return CHAIN_DEPTH
        if direct_message is not None and not self._counters.take(
            f"dm-day:{thread}", limit=DM_DAILY_LIMIT, window_seconds=CHAIN_WINDOW_SECONDS
        ):
            return DM_DAILY
        if not self._counters.take(
            f"author:{twitter.user_id}", limit=limits.per_author, window_seconds=limits.window_seconds
        ):
            return AUTHOR_LIMIT
        if not self._counters.take(
            f"conversation:{thread}", limit=limits.per_conversation, window_seconds=limits.window_seconds
        ):
            return CONVERSATION_LIMIT
        return None
