"""The demo's scenario is data: every asset it names ships with the package, and each step is checkable."""

from __future__ import annotations

import json

from botlocal.demo_scenario import ASSETS, SCENARIO, Delivery, Mention, OwnPost


def test_every_asset_the_scenario_names_exists() -> None:
    assets = [photo.asset for step in SCENARIO if isinstance(step, Mention) for photo in step.photos]
    assets += [step.asset for step in SCENARIO if isinstance(step, Delivery)]
    assert assets
    for asset in assets:
        assert (ASSETS / asset).is_file(), asset
        assert asset in (ASSETS / "ATTRIBUTION.md").read_text(encoding="utf-8"), f"{asset} has no attribution"


def test_steps_have_distinct_titles_and_mentions_have_authors() -> None:
    titles = [step.title for step in SCENARIO]
    assert len(set(titles)) == len(titles)
    assert all(step.author and step.text for step in SCENARIO if isinstance(step, Mention))


def test_a_delivery_is_described_by_what_it_holds() -> None:
    (follow,) = [step for step in SCENARIO if isinstance(step, Delivery)]
    delivery = json.loads((ASSETS / follow.asset).read_text(encoding="utf-8"))
    follower = delivery["follow_events"][0]["source"]["screen_name"]
    assert follow.described == f"@{follower} followed the bot"
    assert follow.expect_raw == "TWITTER_FOLLOWED"


def test_the_scenario_covers_the_bots_main_jobs() -> None:
    mentions = [step for step in SCENARIO if isinstance(step, Mention)]
    assert any(step.expect_alert for step in mentions)  # a negative message alerts
    assert any(step.expect_names for step in mentions)  # a celebrity is recognised
    assert any(photo.sign for step in mentions for photo in step.photos)  # text is read in a photo
    assert any(isinstance(step, OwnPost) for step in SCENARIO)  # the bot's own post starts no loop
