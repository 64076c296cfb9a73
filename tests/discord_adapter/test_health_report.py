"""What the health report says of a Discord connection: connected while the gateway is
open, not connected while Discord has closed it (503), and a channel that refused the bot
listed as paused — the real discord.py client against the fake Discord, run by `serve`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from adapters.discord.adapter import DiscordAdapter
from bot.errors import UpstreamError
from bot.health import HealthMonitor
from bot.running import serve
from bot.service import Service
from tests.discord_adapter.conftest import CHANNEL, CHANNEL_ID
from tests.fakes.discord_api import TOKEN, FakeDiscord
from tests.service.conftest import Services


@dataclass
class Running:
    service: Service
    adapter: DiscordAdapter
    health: HealthMonitor


@pytest_asyncio.fixture
async def running(fake_discord: FakeDiscord, services: Services) -> AsyncIterator[Running]:
    fake_discord.clock = services.clock
    service = services.make(CHANNEL)
    adapter = DiscordAdapter(service, TOKEN, guild_ready_timeout=0.3)
    health = HealthMonitor(None)
    bot = asyncio.ensure_future(serve(service, [adapter], store=services.store,
                                      clock=services.clock, health=health))
    await until(lambda: bool(health.snapshot()["adapters"]))
    yield Running(service, adapter, health)
    service.poster.stopping.set()
    await asyncio.wait_for(bot, 10)


async def until(predicate: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the health report never changed"
        await asyncio.sleep(0.005)


async def test_open_gateway_is_reported_connected(running: Running) -> None:
    report = running.health.snapshot()
    assert (report["adapters"][0]["connected"], report["healthy"]) == (True, True)


async def test_gateway_closed_by_discord_is_reported_not_connected(
    running: Running, fake_discord: FakeDiscord
) -> None:
    seen: list[dict[str, object]] = []

    def disconnected() -> bool:
        report = running.health.snapshot()
        if not report["adapters"][0]["connected"]:
            seen.append(report)
        return bool(seen)

    # Discord drops the gateway and refuses to take it back for a while.
    fake_discord.fail_next("/gw", status=503, times=1000)
    for socket in list(fake_discord._sockets):
        await socket.close(code=4000)  # "unknown error: reconnect", as Discord sends it
    await until(disconnected)
    assert seen[0]["healthy"] is False
    assert "discord (team 10) is not connected" in seen[0]["problems"]  # type: ignore[operator]


async def test_channel_that_refused_the_bot_is_listed_as_paused(
    running: Running, fake_discord: FakeDiscord, services: Services
) -> None:
    fake_discord.refuse(CHANNEL_ID)
    services.clock.now = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
    target = running.adapter.identity.targets([CHANNEL], running.adapter)[0]  # type: ignore[union-attr]
    with pytest.raises(UpstreamError):
        await running.service.poster.post(target, services.clock.now.date())
    [paused] = running.health.snapshot()["paused"]
    assert (paused["platform"], paused["channel"]) == ("discord", str(CHANNEL_ID))
