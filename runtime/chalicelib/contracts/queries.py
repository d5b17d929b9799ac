"""Sample analytics queries: named queries in the Athena workgroup, run by DuckDB locally.

Written once in Athena SQL; the local runtime runs them unchanged (tests make sure of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from chalicelib.contracts.datalake import TABLE_NAME

# The SQL is built from constants only (the table name), never from input: S608 does not apply.


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    sql: str


SAMPLE_QUERIES: Final[tuple[NamedQuery, ...]] = (
    NamedQuery(
        name="events-by-type",
        description="How many events of each detail-type the bot has seen.",
        sql=f'SELECT detail_type, count(*) AS events FROM "{TABLE_NAME}" GROUP BY detail_type ORDER BY events DESC',
    ),
    NamedQuery(
        name="messages-received",
        description="Every post that mentioned, replied to or quoted the bot, newest first (not DMs: private).",
        sql=(
            "SELECT time, detail.author AS author, detail.twitter.tweetid AS tweet_id, detail.text AS text "
            f"FROM \"{TABLE_NAME}\" WHERE detail_type = 'MESSAGE_RECEIVED' "
            "AND detail.channel IS DISTINCT FROM 'DM' ORDER BY time DESC"
        ),
    ),
    NamedQuery(
        name="events-since",
        description="Restrict the dt partition (YYYY/MM/DD/HH) so Athena scans only recent files.",
        sql=(
            f'SELECT detail_type, count(*) AS events FROM "{TABLE_NAME}" '
            "WHERE dt >= '2026/11/01/00' GROUP BY detail_type"
        ),
    ),
    NamedQuery(
        name="celebrities-found",
        description="Every celebrity recognised in a photo, with the post's author and time.",
        sql=(
            "SELECT time, detail.author AS author, celebrity.name AS celebrity, "
            "celebrity.matchconfidence AS confidence "
            f'FROM "{TABLE_NAME}" '
            "CROSS JOIN UNNEST(detail.analysis.images) AS t(image) "
            "CROSS JOIN UNNEST(image.analysis.celebrityfaces) AS c(celebrity) "
            "WHERE detail_type = 'MESSAGE_ANALYSED' ORDER BY time DESC"
        ),
    ),
    NamedQuery(
        name="image-labels",
        description="Every label found in a photo, with the text of the post it came with.",
        sql=(
            "SELECT detail.text AS text, label.name AS label, label.confidence AS confidence "
            f'FROM "{TABLE_NAME}" '
            "CROSS JOIN UNNEST(detail.analysis.images) AS t(image) "
            "CROSS JOIN UNNEST(image.analysis.labels) AS l(label) "
            "WHERE detail_type = 'MESSAGE_ANALYSED' ORDER BY confidence DESC"
        ),
    ),
    NamedQuery(
        name="positive-posts",
        description="Every post the analysis found positive, most positive first.",
        sql=(
            "SELECT time, detail.author AS author, detail.text AS text, "
            "detail.analysis.sentimentscore.positive AS positive "
            f'FROM "{TABLE_NAME}" '
            "WHERE detail_type = 'MESSAGE_ANALYSED' AND detail.analysis.textsentiment = 'POSITIVE' "
            "ORDER BY positive DESC"
        ),
    ),
    NamedQuery(
        name="skipped-messages",
        description="Why a post got no answer: every post skipped (the bot's own) or not replied to "
        "(a guard), with the reason, newest first.",
        sql=(
            # A direct message's outcome has DirectMessage instead of Twitter: its ids, "dm:"-prefixed.
            "SELECT time, detail_type, "
            "coalesce(detail.twitter.tweetid, 'dm:' || detail.directmessage.eventid) AS tweet_id, "
            "coalesce(detail.twitter.userid, detail.directmessage.senderid) AS user_id, "
            "detail.author AS author, "
            "coalesce(detail.twitter.conversationid, 'dm:' || detail.directmessage.conversationid) AS conversation_id, "
            "detail.reason AS reason "
            f'FROM "{TABLE_NAME}" '
            "WHERE detail_type IN ('MESSAGE_SKIPPED', 'REPLY_SKIPPED') ORDER BY time DESC"
        ),
    ),
    NamedQuery(
        name="replies-posted",
        description="Every reply posted on X, with the post it answers and the delivery-to-reply latency.",
        sql=(
            "SELECT time, detail.replytotweetid AS reply_to_tweet_id, detail.postedtweetid AS posted_tweet_id, "
            "detail.latencyms AS latency_ms "
            f'FROM "{TABLE_NAME}" '
            "WHERE detail_type = 'REPLY_POSTED' ORDER BY time DESC"
        ),
    ),
)
