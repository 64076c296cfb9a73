"""Connecting: who the bot is on Discord, what it asks the gateway for, bad tokens."""

from __future__ import annotations

from tests.discord_adapter.conftest import CHANNEL, GUILD, Bot
from tests.fakes.discord_api import BOT_ID


async def test_identity_names_the_bot_user(bot: Bot) -> None:
    assert bot.identity.bot_user == str(BOT_ID)


async def test_configured_channel_is_filed_under_its_guild(bot: Bot) -> None:
    assert bot.identity.address(CHANNEL).team == str(GUILD)
