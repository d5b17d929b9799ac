"""Where a post's photos live in the media store, so they can be found again to delete them.

Analysis stores each photo of a post under the post and its author, and Responding stores the
annotated copies beside it, so honouring a deletion is one delete by prefix:

    users/<user id>/posts/<post id>/<uuid>.<ext>             the photo as downloaded
    users/<user id>/posts/<post id>/annotated/<uuid>.<ext>   the copy posted back (Responding)

`post_prefix` holds everything stored for one post (X deleted it), `user_prefix` everything stored
for one author (they revoked the app). Ids are X's numeric ids: anything else could climb out of
the prefix ("../") or match another author's ("1" is a prefix of "12"), so it is refused here.

A deleted post also leaves a mark, outside users/ so that deleting the post's folder keeps it:

    deleted/users/<user id>/posts/<post id>.mark             the post was deleted on X

so that a photo stored for it afterwards (an analysis still running when the deletion came, or a
deletion delivered before the post) is recognised and deleted too, and the post is not answered.
"""

from __future__ import annotations

import re
from typing import Final

#: Every photo of every user is under this prefix (the deletion grant is limited to it).
USERS_PREFIX: Final = "users/"
#: The marks of deleted posts (deletion_mark_key) are under this prefix.
DELETION_MARKS_PREFIX: Final = "deleted/"
#: The folder of a post's annotated copies.
ANNOTATED: Final = "annotated"
_ID: Final = re.compile(r"[0-9]{1,32}")


def _checked(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(f"{what} must be X's numeric id, not {value!r}")
    return value


def user_prefix(user_id: str) -> str:
    """Everything stored for one author: users/<user id>/ (the slash keeps "1" from matching "12")."""
    return f"{USERS_PREFIX}{_checked(user_id, 'user id')}/"


def post_prefix(user_id: str, tweet_id: str) -> str:
    """Everything stored for one post: users/<user id>/posts/<post id>/."""
    return f"{user_prefix(user_id)}posts/{_checked(tweet_id, 'post id')}/"


def photo_key(user_id: str, tweet_id: str, name: str, extension: str) -> str:
    """A downloaded photo's key: users/<user id>/posts/<post id>/<name>.<extension>."""
    return f"{post_prefix(user_id, tweet_id)}{name}.{extension}"


def annotated_key(photo: str, extension: str) -> str:
    """The annotated copy of the photo stored at `photo`, in its post's annotated/ folder; derived
    from the photo's key, so a redelivered event writes the same object again instead of an orphan.
    A key of another layout (a photo stored before this one) gets the copy beside it."""
    folder, _, name = photo.rpartition("/")
    stem = name.rsplit(".", 1)[0]
    return f"{folder}/{ANNOTATED}/{stem}.{extension}" if folder else f"{ANNOTATED}/{stem}.{extension}"


def check_folder_prefix(prefix: str) -> str:
    """A prefix a MediaStore may delete under (`delete_prefix`): not empty (the whole bucket) and
    ending with "/" ("users/1" would also match "users/12")."""
    if not prefix.strip("/") or not prefix.endswith("/"):
        raise ValueError(f"refusing to delete under {prefix!r}: give a folder prefix ending with '/'")
    return prefix


def deletion_mark_key(prefix: str) -> str:
    """The key of the mark that everything under the folder `prefix` was deleted for good:
    deleted/<prefix without its "/">.mark (deleted/users/1/posts/2.mark for users/1/posts/2/)."""
    return f"{DELETION_MARKS_PREFIX}{check_folder_prefix(prefix).rstrip('/')}.mark"
