"""Setup for the Discord adapter tests: the real discord.py client against a fake Discord.

`bot` is a `DiscordAdapter` over the real Service (TinyDB store, fake Hugging Face serving
the 2026-06-12 sample, hand-moved clock), logged in to `FakeDiscord` (tests/fakes/
discord_api.py) and past the gateway's ready event: a test dispatches gateway events to it
and asserts on what reached the fake. #papers (id 100) in guild 10 is the configured channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from adapters.discord.adapter import DiscordAdapter, DiscordIdentity
from bot.config import ChannelConfig
from bot.events import PostTarget
from bot.posting import PostOutcome
from bot.search import PaperIndex, Searcher
from tests.fakes import discord_api
from tests.fakes.discord_api import (
    TOKEN,
    FakeDiscord,
    Interaction,
    Payload,
    command_payload,
)
from tests.service import conftest as service_setup
from tests.service.conftest import DAY, PICKS, Services

# The fixtures this package shares: the fake Discord, and the service tests' real Service.
fake_discord = discord_api.fake_discord
clock, hf_fake, hf_client, services = (service_setup.clock, service_setup.hf_fake,
                                       service_setup.hf_client, service_setup.services)
__all__ = ["DAY", "PICKS"]

GUILD, CHANNEL_ID, OTHER_CHANNEL = 10, 100, 101
CHANNEL = ChannelConfig(name="papers", platform="discord", id=str(CHANNEL_ID))
USER = 201


@dataclass
class Bot:
    adapter: DiscordAdapter
    identity: DiscordIdentity
    fake: FakeDiscord
    services: Services

    @property
    def target(self) -> PostTarget:
        return self.identity.targets([CHANNEL], self.adapter)[0]


@pytest_asyncio.fixture
async def bot(fake_discord: FakeDiscord, services: Services) -> AsyncIterator[Bot]:
    fake_discord.clock = services.clock
    # The fake sends every guild at once: no need to wait 2 s for stragglers.
    searcher = Searcher(PaperIndex.in_memory(), services.store, services.hf, None)
    adapter = DiscordAdapter(services.make(CHANNEL, searcher=searcher), TOKEN,
                             guild_ready_timeout=0.3)
    identity = await asyncio.wait_for(adapter.connect(), 10)
    yield Bot(adapter, identity, fake_discord, services)
    await adapter.close()


@pytest.fixture
def fake(bot: Bot) -> FakeDiscord:
    return bot.fake


async def invoke(fake: FakeDiscord, subcommand: str, **options: object) -> Interaction:
    """`/papers <subcommand>` sent by the gateway; returns what the bot answered once it
    has followed up (or removed its deferred answer)."""
    payload = command_payload(GUILD, CHANNEL_ID, subcommand, user_id=USER, **options)
    answered = fake.interactions[payload["token"]]
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.until(lambda: bool(answered.followups) or answered.deleted_original)
    return answered


async def post_today(bot: Bot) -> PostOutcome:
    """The channel's daily post for DAY, as the scheduler runs it."""
    return await bot.adapter.service.poster.post(bot.target, DAY)


def papers_posted(fake: FakeDiscord, channel: int = CHANNEL_ID) -> dict[str, Payload]:
    """The paper messages in `channel`, by the arXiv id in their footer."""
    found = {}
    for message in fake.messages[channel]:
        for embed in message["embeds"]:
            found[embed["footer"]["text"].split()[1]] = message
    return found
