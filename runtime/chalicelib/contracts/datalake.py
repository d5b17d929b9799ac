"""The data lake's table: one definition for the Glue table (Athena) and the DuckDB view (local).

Types are written as nested Python values so both sides can render them:
a str is a scalar Hive type, a dict is a struct (field order kept), a one-element list is an array.
Field names keep the case of the events; Glue lowercases them and both Athena and DuckDB match
struct fields without regard to case, so the same SQL runs on both.
"""

from __future__ import annotations

from typing import Final

type HiveType = str | dict[str, HiveType] | list[HiveType]

DATABASE_NAME: Final = "xbot_datalake"
TABLE_NAME: Final = "analysed-messages-table"
#: Prefix under which Firehose (and the local runtime) write the events: events/YYYY/MM/DD/HH/.
EVENTS_PREFIX: Final = "events/"
#: The partition column, projected from the folder names (YYYY/MM/DD/HH).
PARTITION_COLUMN: Final = "dt"

_BOUNDING_BOX: Final[HiveType] = {"Width": "double", "Height": "double", "Left": "double", "Top": "double"}
_FACE: Final[HiveType] = {"BoundingBox": _BOUNDING_BOX, "Confidence": "double"}

IMAGE_ANALYSIS: Final[HiveType] = {
    "Labels": [
        {"Name": "string", "Confidence": "double", "Parents": [{"Name": "string"}]},
    ],
    "TextDetections": [
        {
            "DetectedText": "string",
            "Type": "string",
            "Id": "int",
            "ParentId": "int",
            "Confidence": "double",
            "Geometry": {"BoundingBox": _BOUNDING_BOX},
        }
    ],
    "CelebrityFaces": [
        {
            "Name": "string",
            "Id": "string",
            "Urls": ["string"],
            "MatchConfidence": "double",
            "Face": _FACE,
        }
    ],
    "UnrecognizedFaces": [_FACE],
}

DETAIL: Final[HiveType] = {
    # MESSAGE_RECEIVED
    "Text": "string",
    "Author": "string",
    "Lang": "string",
    "ImageUrls": ["string"],
    "Twitter": {
        "TweetId": "string",
        "UserId": "string",
        "ConversationId": "string",
        "InReplyToUserId": "string",
        "InReplyToTweetId": "string",
    },
    # a direct message (MESSAGE_RECEIVED, MESSAGE_ANALYSED, MESSAGE_SKIPPED, SEND_DM, REPLY_POSTED,
    # REPLY_SKIPPED) says "DM" and carries DirectMessage instead of Twitter; no Channel is a post
    "Channel": "string",
    "DirectMessage": {"EventId": "string", "SenderId": "string", "RecipientId": "string", "ConversationId": "string"},
    # when Ingress accepted the delivery (epoch ms), carried to SEND_TWEET
    "ReceivedAtMs": "bigint",
    # MESSAGE_ANALYSED
    "HasImages": "boolean",
    "Analysis": {
        "TextSentiment": "string",
        "SentimentScore": {"Positive": "double", "Negative": "double", "Neutral": "double", "Mixed": "double"},
        "TextEntities": [
            {"Text": "string", "Type": "string", "Score": "double", "BeginOffset": "int", "EndOffset": "int"}
        ],
        "KeyPhrases": [{"Text": "string", "Score": "double", "BeginOffset": "int", "EndOffset": "int"}],
        "Language": "string",
        "Images": [{"Url": "string", "Key": "string", "Error": "string", "Analysis": IMAGE_ANALYSIS}],
    },
    # MESSAGE_ANALYSIS_FAILED
    "Reason": "string",
    # SEND_TWEET
    "ReplyToTweetId": "string",
    "ReplyToUserId": "string",
    "ImageKey": "string",
    "ImageKeys": ["string"],
    # SEND_TWEET of a photo reply whose photos were checked before the repost (PhotoModeration)
    "Moderation": {
        "Checked": "int",
        "Unsafe": "int",
        "Failed": "int",
        "Withheld": "int",
        "Categories": ["string"],
        "Checker": "string",
    },
    # REPLY_POSTED of a DM answer (with Channel, DirectMessage and LatencyMs): the DM X created
    "PostedDmEventId": "string",
    # REPLY_POSTED (MESSAGE_SKIPPED and REPLY_SKIPPED write Twitter, Author and Reason)
    "PostedTweetId": "string",
    "LatencyMs": "bigint",
    # MEDIA_DELETED (with Twitter and Reason): how many stored photos were deleted
    "DeletedCount": "bigint",
    # raw events keep the subscribed account's id
    "for_user_id": "string",
    # an event too large for EventBridge: where its detail was stored (chalicelib.publishing)
    "Oversized": {"Uri": "string", "Bytes": "bigint", "Sha256": "string"},
}

#: The original project's table named its column after the envelope's key, and the Athena queries
#: its README documents filter on "detail-type": the table has that column too, so they run
#: unchanged. Named as the key, it needs no SerDe mapping.
ORIGINAL_DETAIL_TYPE_COLUMN: Final = "detail-type"

#: The columns of the table, in order: the EventBridge envelope with a typed detail.
#: The envelope's "detail-type" is read into the column detail_type (a SerDe mapping on Glue), and
#: also into ORIGINAL_DETAIL_TYPE_COLUMN.
COLUMNS: Final[tuple[tuple[str, HiveType], ...]] = (
    ("version", "string"),
    ("id", "string"),
    ("detail_type", "string"),
    ("source", "string"),
    ("account", "string"),
    ("time", "string"),
    ("region", "string"),
    ("resources", ["string"]),
    ("detail", DETAIL),
    # Last, so that SELECT * keeps the columns above where they were.
    (ORIGINAL_DETAIL_TYPE_COLUMN, "string"),
)
#: Column name -> JSON key, where they differ.
JSON_KEY_OF_COLUMN: Final[dict[str, str]] = {"detail_type": "detail-type"}


def hive_type(value: HiveType) -> str:
    """Render a type for Glue: struct<a:string,b:array<int>>."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        (element,) = value
        return f"array<{hive_type(element)}>"
    return "struct<" + ",".join(f"{name}:{hive_type(inner)}" for name, inner in value.items()) + ">"
