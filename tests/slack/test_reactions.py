"""📌 on a paper message, and its Save and Abstract buttons, through the real AsyncApp.

Reactions arrive as signed Events API callbacks; buttons as signed block_actions. The save
lands in the team's list in the store; the person hears back privately. Events that are not
the bot's (other emoji, other messages, the bot itself, a re-delivery) change nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from adapters.slack.render import ABSTRACT_ACTION, SAVE_ACTION
from tests.fakes.slack_api import BOT_USER, TEAM, FakeSlack
from tests.service.conftest import CHANNEL, DAY, PICKS, Services

from .conftest import USER, Running


@pytest_asyncio.fixture
async def posted(running: Running, services: Services) -> AsyncIterator[Running]:
    """The day's post is out; `running.fake.posted(...)[1]` is the first paper's message."""
    target = running.identity.targets([CHANNEL], running.adapter)[0]
    await running.adapter.service.poster.post(target, DAY)
    yield running


def _paper_ts(running: Running, n: int = 0) -> str:
    return str(running.fake.posted(CHANNEL.id)[1 + n]["ts"])


async def _saved(services: Services) -> list[str]:
    return [e.paper.arxiv_id for e in await services.store.saved_papers("slack", TEAM)]


async def _mark(running: Running, ts: str) -> None:
    """A known-good reaction after the one under test: once its confirmation arrives, the
    earlier event has been handled too (events are handled in order of arrival)."""
    await running.slack.reaction(ts, reaction="pushpin", user="U0MARK", event_id="EvMark")
    await running.fake.wait_until(lambda: "U0MARK" in _told(running))


def _told(running: Running) -> list[str]:
    """Whom the bot answered privately, in order."""
    return [e["user"] for e in running.fake.ephemerals]


async def test_pushpin_on_a_paper_saves_it(posted: Running, services: Services) -> None:
    await posted.slack.reaction(_paper_ts(posted))
    await posted.fake.wait_until(lambda: len(posted.fake.ephemerals) == 1)
    assert await _saved(services) == [PICKS[0]]


async def test_save_is_confirmed_privately_to_the_person(posted: Running) -> None:
    await posted.slack.reaction(_paper_ts(posted))
    await posted.fake.wait_until(lambda: len(posted.fake.ephemerals) == 1)
    assert posted.fake.ephemerals[0]["user"] == USER


async def test_pushpin_with_a_skin_tone_saves_too(posted: Running, services: Services) -> None:
    await posted.slack.reaction(_paper_ts(posted), reaction="pushpin::skin-tone-3")
    await posted.fake.wait_until(lambda: len(posted.fake.ephemerals) == 1)
    assert await _saved(services) == [PICKS[0]]


async def test_removing_the_pushpin_unsaves(posted: Running, services: Services) -> None:
    await posted.slack.reaction(_paper_ts(posted))
    # The person removes it after seeing it saved: Slack sends the two events apart.
    await posted.fake.wait_until(lambda: len(posted.fake.ephemerals) == 1)
    await posted.slack.reaction(_paper_ts(posted), added=False, event_id="Ev02")
    await posted.fake.wait_until(lambda: len(posted.fake.ephemerals) == 2)
    assert await _saved(services) == []


async def test_redelivered_event_is_handled_once(posted: Running) -> None:
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    await posted.slack.reaction(_paper_ts(posted))
    await posted.fake.wait_until(lambda: USER in _told(posted))
    await posted.slack.reaction(_paper_ts(posted), headers=retry)
    await _mark(posted, _paper_ts(posted, 1))
    assert _told(posted).count(USER) == 1


async def test_other_emoji_is_ignored_silently(posted: Running, services: Services) -> None:
    await posted.slack.reaction(_paper_ts(posted), reaction="tada")
    await _mark(posted, _paper_ts(posted, 1))
    assert _told(posted) == ["U0MARK"]


async def test_pushpin_on_another_message_is_ignored(
    posted: Running, fake_slack: FakeSlack
) -> None:
    other = fake_slack.add_message(CHANNEL.id, {"user": USER, "text": "lunch?"})
    await posted.slack.reaction(other["ts"])
    await _mark(posted, _paper_ts(posted, 1))
    assert _told(posted) == ["U0MARK"]


async def test_pushpin_in_another_channel_on_the_same_ts_is_ignored(
    posted: Running, services: Services
) -> None:
    # A ts is unique only within its channel: the paper is found by channel and ts together.
    await posted.slack.reaction(_paper_ts(posted), channel="C0ELSEWHERE")
    await _mark(posted, _paper_ts(posted, 1))
    assert (_told(posted), await _saved(services)) == (["U0MARK"], [PICKS[1]])


async def test_pushpin_on_a_file_is_ignored(posted: Running) -> None:
    await posted.slack.reaction("", item_type="file")
    await _mark(posted, _paper_ts(posted, 1))
    assert _told(posted) == ["U0MARK"]


async def test_the_bots_own_pushpin_saves_nothing(posted: Running, services: Services) -> None:
    await posted.slack.reaction(_paper_ts(posted), user=BOT_USER)
    await _mark(posted, _paper_ts(posted, 1))
    assert await _saved(services) == [PICKS[1]]


async def test_save_button_saves_the_paper(posted: Running, services: Services) -> None:
    await posted.slack.press(SAVE_ACTION, PICKS[0], _paper_ts(posted))
    await posted.fake.wait_until(lambda: len(posted.fake.responses) == 1)
    assert await _saved(services) == [PICKS[0]]


async def test_save_button_answers_privately(posted: Running) -> None:
    await posted.slack.press(SAVE_ACTION, PICKS[0], _paper_ts(posted))
    await posted.fake.wait_until(lambda: len(posted.fake.responses) == 1)
    assert posted.fake.responses[0]["response_type"] == "ephemeral"


async def test_save_button_pressed_again_unsaves(posted: Running, services: Services) -> None:
    await posted.slack.press(SAVE_ACTION, PICKS[0], _paper_ts(posted))
    await posted.fake.wait_until(lambda: len(posted.fake.responses) == 1)
    await posted.slack.press(SAVE_ACTION, PICKS[0], _paper_ts(posted))
    await posted.fake.wait_until(lambda: len(posted.fake.responses) == 2)
    assert await _saved(services) == []


async def test_abstract_button_shows_the_abstract_privately(posted: Running) -> None:
    await posted.slack.press(ABSTRACT_ACTION, PICKS[0], _paper_ts(posted))
    await posted.fake.wait_until(lambda: len(posted.fake.responses) == 1)
    assert posted.fake.responses[0]["response_type"] == "ephemeral"


async def test_abstract_button_posts_nothing_in_the_channel(posted: Running) -> None:
    before = len(posted.fake.posted(CHANNEL.id))
    await posted.slack.press(ABSTRACT_ACTION, PICKS[0], _paper_ts(posted))
    await posted.fake.wait_until(lambda: len(posted.fake.responses) == 1)
    assert len(posted.fake.posted(CHANNEL.id)) == before
