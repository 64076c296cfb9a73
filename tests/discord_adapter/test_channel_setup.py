"""Channels set up from Discord, end to end: `/papers subscribe|settings|unsubscribe` as the
gateway delivers them (typed subcommand options) to the real discord.py client of the
running bot (bot.running.serve), the real scheduler on a hand-moved clock, and posts landing
in the fake Discord's channel.

#general (101) in guild 10 is not a configured channel; who may manage it comes from the
member's resolved permissions carried by each interaction (Manage Channels).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import discord
import pytest_asyncio

from adapters.discord.adapter import DiscordAdapter
from bot.models import ChatRef
from bot.running import serve
from bot.schedule import DailyScheduler
from bot.service import Service
from tests.fakes.discord_api import TOKEN, FakeDiscord, Payload, command_payload
from tests.service.conftest import PICKS, Services

from .conftest import CHANNEL, GUILD, USER, papers_posted

GENERAL = 101
WHERE = ChatRef("discord", str(GUILD), str(GENERAL))
NINE = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
MONDAY_NINE = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
OTHER = 202
MANAGE_CHANNELS = discord.Permissions(manage_channels=True).value


@dataclass
class Bot:
    service: Service
    fake: FakeDiscord
    scheduler: DailyScheduler
    task: asyncio.Future[None]

    async def invoke(self, subcommand: str, *, user: int = USER, permissions: int = 0,
                     **options: object) -> Payload:
        """One `/papers` subcommand in #general; the followup the bot answered with."""
        payload = command_payload(GUILD, GENERAL, subcommand, user_id=user,
                                  permissions=permissions, **options)
        answered = self.fake.interactions[payload["token"]]
        await self.fake.dispatch("INTERACTION_CREATE", payload)
        await self.fake.until(lambda: bool(answered.followups))
        return answered.followups[0]

    async def at(self, now: datetime) -> None:
        self.service.clock.now = now  # type: ignore[attr-defined]
        await self.scheduler.run_due()


@pytest_asyncio.fixture
async def bot(fake_discord: FakeDiscord, services: Services) -> AsyncIterator[Bot]:
    fake_discord.clock = services.clock
    service = services.make(CHANNEL)
    adapter = DiscordAdapter(service, TOKEN, guild_ready_timeout=0.3)
    started: asyncio.Future[DailyScheduler] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(serve(service, [adapter], store=services.store,
                                       clock=services.clock, started=started.set_result))
    running = Bot(service, fake_discord, await asyncio.wait_for(started, 10), task)
    yield running
    service.poster.stopping.set()
    await asyncio.wait_for(task, 10)


def text(followup: Payload) -> str:
    """A reply's words: its content, or its embed's description and fields."""
    parts = [followup.get("content") or ""]
    for embed in followup.get("embeds") or []:
        parts.append(embed.get("description") or "")
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    return "\n".join(p for p in parts if p)


async def test_subscribed_channel_gets_its_post_at_its_time(bot: Bot) -> None:
    await bot.invoke("subscribe", time="09:00", timezone="UTC")
    await bot.at(NINE)
    assert list(papers_posted(bot.fake, GENERAL)) == list(PICKS)


async def test_unsubscribed_channel_gets_no_more_posts(bot: Bot, services: Services) -> None:
    await bot.invoke("subscribe", time="09:00", timezone="UTC")
    await bot.at(NINE)
    await bot.invoke("unsubscribe")
    await bot.at(MONDAY_NINE)
    assert await services.store.get_post(WHERE, date(2026, 6, 15)) is None


async def test_still_subscribed_channel_posts_on_monday(bot: Bot, services: Services) -> None:
    # The control for the test above.
    await bot.invoke("subscribe", time="09:00", timezone="UTC")
    await bot.at(NINE)
    await bot.at(MONDAY_NINE)
    assert await services.store.get_post(WHERE, date(2026, 6, 15)) is not None


async def test_typed_options_change_several_settings_at_once(bot: Bot) -> None:
    await bot.invoke("subscribe", time="10:00", timezone="UTC")
    await bot.invoke("settings", time="09:00", top=2, keywords_add="diffusion, video")
    await bot.at(NINE)
    assert len(papers_posted(bot.fake, GENERAL)) == 2


async def test_settings_reply_shows_what_changed(bot: Bot) -> None:
    await bot.invoke("subscribe", time="10:00", timezone="UTC")
    reply = await bot.invoke("settings", keywords_add="diffusion")
    assert "Keywords now: diffusion." in text(reply)


async def test_member_without_manage_channels_is_refused(bot: Bot) -> None:
    await bot.invoke("subscribe", time="09:00", timezone="UTC")
    reply = await bot.invoke("settings", user=OTHER, top=1)
    assert reply["content"] == (
        "Only members with the Manage Channels permission or the member who subscribed "
        "this channel (see /papers settings) may change its daily post.")


async def test_refused_reply_is_private(bot: Bot) -> None:
    await bot.invoke("subscribe", time="09:00", timezone="UTC")
    reply = await bot.invoke("unsubscribe", user=OTHER)
    assert reply["flags"] & 64


async def test_member_with_manage_channels_may_change_it(bot: Bot) -> None:
    await bot.invoke("subscribe", time="09:00", timezone="UTC")
    await bot.invoke("settings", user=OTHER, permissions=MANAGE_CHANNELS, top=1)
    await bot.at(NINE)
    assert list(papers_posted(bot.fake, GENERAL)) == [PICKS[0]]


async def test_member_without_manage_channels_cannot_override_a_config_channel(
    bot: Bot, services: Services,
) -> None:
    payload = command_payload(GUILD, int(CHANNEL.id), "settings", user_id=OTHER, top=1)
    answered = bot.fake.interactions[payload["token"]]
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    await bot.fake.until(lambda: bool(answered.followups))
    assert await services.store.channel_setups() == []


async def test_bad_time_option_is_one_line_with_the_settings_grammar(bot: Bot) -> None:
    await bot.invoke("subscribe", time="09:00", timezone="UTC")
    reply = await bot.invoke("settings", time="9 o'clock")
    assert text(reply).splitlines()[0] == \
        "**'9 o'clock' is not a time; use 24-hour HH:MM, e.g. 08:30 or 17:45**"


async def test_settings_name_the_subscriber_without_pinging(bot: Bot) -> None:
    await bot.invoke("subscribe", time="09:00", timezone="UTC")
    reply = await bot.invoke("settings")
    assert f"Set up: set up from chat by <@{USER}>" in text(reply)
