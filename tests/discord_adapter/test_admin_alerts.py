"""The [admin] channel on Discord: a refused channel is told there once, as one plain line.

The real discord.py client against the fake Discord; #general (101) is the admin channel and
#papers (100) the one whose post the platform refuses.
"""

from __future__ import annotations

import pytest

from bot.alerts import AdminAlerts
from bot.config import AdminConfig
from bot.errors import ChannelPaused
from tests.discord_adapter.conftest import CHANNEL, DAY, OTHER_CHANNEL, Bot

ADMIN = AdminConfig(platform="discord", id=str(OTHER_CHANNEL))


@pytest.fixture
def alerts(bot: Bot) -> AdminAlerts:
    made = AdminAlerts(ADMIN, clock=bot.services.clock)
    assert made.attach(bot.identity, bot.adapter)
    return made


async def _post(bot: Bot, alerts: AdminAlerts) -> None:
    with pytest.raises(ChannelPaused):
        await alerts.watch_post(CHANNEL.name, bot.adapter.service.poster.post(bot.target, DAY))


async def test_a_refused_channel_is_told_in_the_admin_channel(
    bot: Bot, alerts: AdminAlerts
) -> None:
    bot.fake.refuse(int(CHANNEL.id))
    await _post(bot, alerts)
    [alert] = [m["content"] for m in bot.fake.messages[OTHER_CHANNEL]]
    assert alert.startswith("Paperboy needs attention: #papers is paused")


async def test_the_refusal_is_told_once_however_often_the_post_is_tried(
    bot: Bot, alerts: AdminAlerts
) -> None:
    bot.fake.refuse(int(CHANNEL.id))
    for _ in range(3):
        await _post(bot, alerts)
    assert len(bot.fake.messages[OTHER_CHANNEL]) == 1


async def test_the_alert_is_a_plain_line_without_embeds(bot: Bot, alerts: AdminAlerts) -> None:
    bot.fake.refuse(int(CHANNEL.id))
    await _post(bot, alerts)
    assert bot.fake.messages[OTHER_CHANNEL][0]["embeds"] == []
