"""The demo's scenario, as data: what happens to the bot's account, in order, and what must follow.

`botlocal.demo` plays it through the real webhook and checks every expectation; change the story
here, the runner stays as it is. Asset names are files in demo_assets/ (see its ATTRIBUTION.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

#: The photos and deliveries the scenario names.
ASSETS: Final = Path(__file__).parent / "demo_assets"


@dataclass(frozen=True)
class Photo:
    """A photo from demo_assets/; with `sign`, these lines are painted on a white panel over it
    (what a sign or a menu looks like to the OCR)."""

    asset: str
    sign: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mention:
    """A post by `author` that mentions the bot: it must be analysed and answered in the outbox."""

    title: str
    author: str
    text: str
    photos: tuple[Photo, ...] = ()
    expect_alert: bool = False
    #: Celebrities the reply must name, with an annotated photo.
    expect_names: tuple[str, ...] = ()
    #: The language X tags the post with (botctl tweet --lang).
    lang: str = "en"
    #: The reply must be one of the bot's answers for this intent (in the post's language).
    expect_intent: str | None = None
    #: The reply must contain one of these words (case-insensitive).
    expect_words: tuple[str, ...] = ()
    #: The reply must not be a joke or a fact.
    expect_no_fun: bool = False


@dataclass(frozen=True)
class DirectMessage:
    """A direct message from `author` to the bot: answered by DM (text only), never in public."""

    title: str
    author: str
    text: str
    expect_intent: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A raw webhook delivery from demo_assets/, addressed to the bot: recorded as `expect_raw`, no reply."""

    title: str
    asset: str
    expect_raw: str
    described: str  # what it is, for the transcript


@dataclass(frozen=True)
class OwnPost:
    """The bot's own post coming back through the webhook, mentioning the bot and replying to it
    (a thread with itself): recorded as `expect_raw`, never a message, so no reply loop."""

    title: str
    text: str
    described: str
    expect_raw: str = "TWITTER_TWEETED"


Step = Mention | DirectMessage | Delivery | OwnPost

SCENARIO: Final[tuple[Step, ...]] = (
    Mention("A joke request", author="alice", text="tell me a joke"),
    Mention("A fact request", author="bob", text="tell me a fun fact please"),
    Mention("A greeting", author="gina", text="hey there bot 👋", expect_intent="Greeting"),
    Mention("A greeting in French", author="hugo", text="Bonjour le bot !", lang="fr", expect_intent="Greeting"),
    Mention(
        "A negative mention",
        author="carol",
        text="you are a terrible, useless and awful bot",
        expect_alert=True,
        expect_no_fun=True,
    ),
    Mention(
        "A photo of a public figure",
        author="dave",
        text="who is this?",
        photos=(Photo("obama2.jpg"),),
        expect_names=("Barack Obama",),
    ),
    Mention(
        "A photo of a cat",
        author="iris",
        text="look at my cat",
        photos=(Photo("chelsea.jpg"),),
        expect_words=("cat",),
    ),
    Mention(
        "A photo with written text",
        author="erin",
        text="what does this say?",
        photos=(Photo("coffee.jpg", sign=("OPEN DAILY", "Fresh coffee")),),
        expect_words=("OPEN DAILY",),
    ),
    DirectMessage("A direct message", author="jules", text="thanks for the help earlier!", expect_intent="Thanks"),
    Delivery(
        "A follow",
        asset="follow.json",
        expect_raw="TWITTER_FOLLOWED",
        described="@test_twit_42 followed the bot",
    ),
    OwnPost(
        "The bot's own reply",
        text="@xbot thanks, here is your joke",
        described="the bot's own post (mentioning and replying to itself) came back through the webhook",
    ),
)
