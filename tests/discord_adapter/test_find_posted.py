"""After a crash: did a message of unknown fate reach the channel? (`find_posted`)

The answer is lost on the way back (the fake stores the message, then cuts its reply in
half) or the message never lands (the fake answers garbage without storing it); the next
attempt of the real DailyPoster asks the adapter, which reads the channel's messages since
the claim from the fake Discord.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.events import Outgoing
from tests.discord_adapter.conftest import CHANNEL_ID, DAY, PICKS, Bot, post_today
from tests.fakes.discord_api import user

MESSAGES = f"/api/v10/channels/{CHANNEL_ID}/messages"


async def test_message_whose_answer_was_lost_is_not_posted_again(bot: Bot) -> None:
    bot.fake.fail_next(MESSAGES, truncate=True)
    with pytest.raises(ValueError):
        await post_today(bot)
    await post_today(bot)
    assert len(bot.fake.messages[CHANNEL_ID]) == 1 + len(PICKS)


async def test_message_whose_answer_was_lost_is_found_in_the_channel(bot: Bot) -> None:
    bot.fake.fail_next(MESSAGES, truncate=True)
    with pytest.raises(ValueError):
        await post_today(bot)
    outcome = await post_today(bot)
    assert outcome.found == 1


async def test_message_that_never_landed_is_sent_on_the_next_attempt(bot: Bot) -> None:
    bot.fake.fail_next(MESSAGES, body="<html>bad gateway</html>", status=200)
    with pytest.raises(TypeError):
        await post_today(bot)
    await post_today(bot)
    assert len(bot.fake.messages[CHANNEL_ID]) == 1 + len(PICKS)


async def test_header_of_the_day_is_found(bot: Bot) -> None:
    since = bot.services.clock()
    await post_today(bot)
    out = Outgoing(bot.target.where, DAY, "header")
    assert await bot.adapter.find_posted(out, since) == bot.fake.messages[CHANNEL_ID][0]["id"]


async def test_paper_message_is_found_by_its_paper(bot: Bot) -> None:
    since = bot.services.clock()
    await post_today(bot)
    out = Outgoing(bot.target.where, DAY, PICKS[2])
    assert await bot.adapter.find_posted(out, since) == bot.fake.messages[CHANNEL_ID][3]["id"]


async def test_message_from_before_the_claim_does_not_count(bot: Bot) -> None:
    await post_today(bot)
    later = bot.services.clock() + timedelta(hours=1)
    out = Outgoing(bot.target.where, DAY, "header")
    assert await bot.adapter.find_posted(out, later) is None


async def test_someone_elses_message_with_the_same_text_does_not_count(bot: Bot) -> None:
    since = bot.services.clock()
    bot.fake.post_message(CHANNEL_ID, {"content": "**Daily papers — Fri 12 Jun 2026** · x"},
                          author=user(201))
    out = Outgoing(bot.target.where, DAY, "header")
    assert await bot.adapter.find_posted(out, since) is None
