"""Connecting: who the bot is on Discord, what it asks of the gateway, which channels it
serves (each guild is a team), and the whole bot run through `bot.running.serve`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from adapters.discord.adapter import DiscordAdapter, DiscordIdentity, invite_permissions
from bot.config import ChannelConfig
from bot.errors import ConfigError
from bot.running import serve
from tests.discord_adapter.conftest import CHANNEL, CHANNEL_ID, DAY, GUILD, PICKS, Bot
from tests.fakes.discord_api import BOT_ID, TOKEN, FakeDiscord, Guild
from tests.service.conftest import Services

GUILDS_AND_REACTIONS = 1 | 1 << 10
OTHER_GUILD, ITS_CHANNEL = 20, 200


async def test_identity_names_the_bot_user(bot: Bot) -> None:
    assert bot.identity.bot_user == str(BOT_ID)


async def test_configured_channel_is_filed_under_its_guild(bot: Bot) -> None:
    assert bot.identity.address(CHANNEL).team == str(GUILD)  # type: ignore[union-attr]


async def test_gateway_is_asked_only_for_guilds_and_guild_reactions(bot: Bot) -> None:
    assert bot.fake.identify["intents"] == GUILDS_AND_REACTIONS  # type: ignore[index]


async def test_client_allows_no_mentions(bot: Bot) -> None:
    mentions = bot.adapter.client.allowed_mentions
    assert mentions is not None and mentions.to_dict() == {"parse": []}


async def test_channel_the_bot_cannot_see_is_not_served(bot: Bot) -> None:
    unseen = ChannelConfig(name="secret", platform="discord", id="999")
    assert bot.identity.address(unseen) is None


async def test_channel_configured_for_another_guild_is_not_served(bot: Bot) -> None:
    elsewhere = ChannelConfig(name="x", platform="discord", id=str(CHANNEL_ID), team="77")
    assert bot.identity.address(elsewhere) is None


async def test_invalid_token_is_a_configuration_error(
    fake_discord: FakeDiscord, services: Services
) -> None:
    adapter = DiscordAdapter(services.make(CHANNEL), "wrong-token")
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await adapter.connect()


# --- several guilds ---------------------------------------------------------------------------


@pytest_asyncio.fixture
async def two_guilds(
    fake_discord: FakeDiscord, services: Services
) -> AsyncIterator[DiscordIdentity]:
    fake_discord.guilds.append(Guild(OTHER_GUILD, {ITS_CHANNEL: "reading"},
                                     invite_permissions().value))
    adapter = DiscordAdapter(services.make(CHANNEL), TOKEN, guild_ready_timeout=0.3)
    yield await adapter.connect()
    await adapter.close()


async def test_bot_in_two_guilds_files_each_channel_under_its_own_guild(
    two_guilds: DiscordIdentity,
) -> None:
    reading = ChannelConfig(name="reading", platform="discord", id=str(ITS_CHANNEL))
    assert [t.where.team for t in two_guilds.targets([CHANNEL, reading], None)] == \
        [str(GUILD), str(OTHER_GUILD)]  # type: ignore[arg-type]


async def test_connect_does_not_wait_out_the_guild_stream_once_every_guild_arrived(
    fake_discord: FakeDiscord, services: Services
) -> None:
    # discord.py alone would wait guild_ready_timeout after the last guild before on_ready.
    fake_discord.guilds.append(Guild(OTHER_GUILD, {ITS_CHANNEL: "reading"},
                                     invite_permissions().value))
    adapter = DiscordAdapter(services.make(CHANNEL), TOKEN, guild_ready_timeout=60)
    try:
        identity = await asyncio.wait_for(adapter.connect(), 20)
        reading = ChannelConfig(name="reading", platform="discord", id=str(ITS_CHANNEL))
        assert [t.where.team for t in identity.targets([CHANNEL, reading], None)] == \
            [str(GUILD), str(OTHER_GUILD)]  # type: ignore[arg-type]
        assert not adapter.client.is_ready()  # discord.py is still waiting; the bot is not
    finally:
        await adapter.close()


# --- the whole bot ----------------------------------------------------------------------------


async def _serve_a_caught_up_post(fake: FakeDiscord, services: Services) -> DiscordAdapter:
    """The whole bot started at 09:40, after the day's 09:00 post and within its grace:
    served until the catch-up post is out, then stopped."""
    services.clock.now = datetime(2026, 6, 12, 9, 40, tzinfo=UTC)
    fake.clock = services.clock
    service = services.make(CHANNEL)
    adapter = DiscordAdapter(service, TOKEN, guild_ready_timeout=0.3)
    bot = asyncio.ensure_future(serve(service, [adapter], store=services.store,
                                      clock=services.clock))
    await fake.until(lambda: len(fake.messages[CHANNEL_ID]) == 1 + len(PICKS))
    service.poster.stopping.set()
    await asyncio.wait_for(bot, 10)
    return adapter


async def test_running_bot_catches_up_the_days_post_after_connecting(
    fake_discord: FakeDiscord, services: Services
) -> None:
    adapter = await _serve_a_caught_up_post(fake_discord, services)
    record = await services.store.get_post(adapter.identity.address(CHANNEL), DAY)  # type: ignore[union-attr,arg-type]
    assert record is not None and record.status == "posted"


async def test_stopping_bot_closes_the_discord_client(
    fake_discord: FakeDiscord, services: Services
) -> None:
    service = services.make(CHANNEL)
    adapter = DiscordAdapter(service, TOKEN, guild_ready_timeout=0.3)
    bot = asyncio.ensure_future(serve(service, [adapter], store=services.store,
                                      clock=services.clock))
    await fake_discord.until(lambda: fake_discord.identify is not None)
    service.poster.stopping.set()
    await asyncio.wait_for(bot, 10)
    assert adapter.client.is_closed()


# --- the command tree is synced only by `paperboy discord sync` ------------------------------


async def test_connecting_syncs_no_commands(bot: Bot) -> None:
    assert bot.fake.paths("PUT", "/api/v10/applications/") == []


async def test_running_bot_syncs_no_commands(
    fake_discord: FakeDiscord, services: Services
) -> None:
    await _serve_a_caught_up_post(fake_discord, services)
    assert fake_discord.paths("PUT", "/api/v10/applications/") == []
