"""The daily post through the real client: header, one embed per paper, nonces, refusals.

Posted by the real DailyPoster to the fake Discord; asserts read the channel's messages there.
"""

from __future__ import annotations

import logging

import pytest

from bot.errors import UpstreamError
from tests.discord_adapter.conftest import (
    CHANNEL_ID,
    DAY,
    PICKS,
    Bot,
    papers_posted,
    post_today,
)
from tests.fakes.discord_api import FakeDiscord


async def test_post_is_a_header_then_one_message_per_paper(bot: Bot) -> None:
    await post_today(bot)
    assert len(bot.fake.messages[CHANNEL_ID]) == 1 + len(PICKS)


async def test_header_names_the_day(bot: Bot) -> None:
    await post_today(bot)
    assert bot.fake.messages[CHANNEL_ID][0]["content"].startswith(
        "**Daily papers — Fri 12 Jun 2026** · 5 picks of 5")


async def test_papers_are_posted_in_rank_order(bot: Bot) -> None:
    await post_today(bot)
    assert list(papers_posted(bot.fake)) == list(PICKS)


async def test_every_message_carries_a_nonce_discord_enforces(bot: Bot) -> None:
    await post_today(bot)
    nonces = {m["nonce"] for m in bot.fake.messages[CHANNEL_ID]}
    assert len(nonces) == 1 + len(PICKS)


async def test_nonces_fit_discords_25_characters(bot: Bot) -> None:
    await post_today(bot)
    assert max(len(m["nonce"]) for m in bot.fake.messages[CHANNEL_ID]) <= 25


async def test_every_paper_message_has_the_persistent_save_and_abstract_buttons(bot: Bot) -> None:
    await post_today(bot)
    buttons = {button["custom_id"] for m in papers_posted(bot.fake).values()
               for row in m["components"] for button in row["components"]}
    assert buttons == {"paperboy:save", "paperboy:more"}


async def test_message_ids_are_recorded_for_reactions(bot: Bot) -> None:
    await post_today(bot)
    message = papers_posted(bot.fake)[PICKS[0]]
    where = bot.target.where
    ref = type(where)(where.platform, where.team, where.channel, message["id"])
    assert await bot.services.store.paper_for_message(ref) == PICKS[0]


async def test_refused_channel_raises_upstream_error(bot: Bot) -> None:
    bot.fake.refuse(CHANNEL_ID)
    with pytest.raises(UpstreamError):
        await post_today(bot)


async def test_refusal_is_one_log_line_naming_channel_and_permission(
    bot: Bot, caplog: pytest.LogCaptureFixture,
) -> None:
    bot.fake.refuse(CHANNEL_ID)
    with pytest.raises(UpstreamError):
        await post_today(bot)
    said = [r.getMessage() for r in caplog.records
            if r.name == "adapters.discord.adapter" and r.levelno == logging.ERROR]
    assert said == ["Discord channel #papers (100) refused the bot: missing access "
                    "(Missing Permissions); posts there are paused until the bot restarts"]


async def test_refused_channel_is_not_asked_again(bot: Bot) -> None:
    bot.fake.refuse(CHANNEL_ID)
    for _ in range(3):
        with pytest.raises(UpstreamError):
            await post_today(bot)
    assert len(bot.fake.paths("POST", f"/api/v10/channels/{CHANNEL_ID}/messages")) == 1


async def test_refusal_names_the_permission_the_bot_lacks(
    fake_discord: FakeDiscord, services: object, caplog: pytest.LogCaptureFixture,
) -> None:
    from adapters.discord.adapter import DiscordAdapter
    from tests.discord_adapter.conftest import CHANNEL
    from tests.fakes.discord_api import TOKEN

    fake_discord.guilds[0].permissions = 1024 | 2048  # view and send, no embed links
    fake_discord.refuse(CHANNEL_ID)
    adapter = DiscordAdapter(services.make(CHANNEL), TOKEN,  # type: ignore[attr-defined]
                             guild_ready_timeout=0.3)
    identity = await adapter.connect()
    try:
        with pytest.raises(UpstreamError, match="missing permission Embed Links"):
            await adapter.service.poster.post(identity.targets([CHANNEL], adapter)[0], DAY)
    finally:
        await adapter.close()


async def test_every_daily_post_message_asks_discord_to_enforce_its_nonce(bot: Bot) -> None:
    await post_today(bot)
    sent = bot.fake.bodies[CHANNEL_ID]
    assert [body.get("enforce_nonce") for body in sent] == [True] * (1 + len(PICKS))


async def test_every_daily_post_message_pings_nobody(bot: Bot) -> None:
    await post_today(bot)
    sent = bot.fake.bodies[CHANNEL_ID]
    assert [body.get("allowed_mentions") for body in sent] == [{"parse": []}] * (1 + len(PICKS))
