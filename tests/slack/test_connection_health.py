"""Whether the Slack adapter says it is connected, for /healthz: in Socket Mode while the
socket is open, not while Slack has closed it and refuses a new one, and never after close;
a channel Slack refused (`not_in_channel`) is listed as paused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from adapters.slack.adapter import SlackAdapter
from bot.errors import UpstreamError
from tests.fakes.slack_api import FakeSlack
from tests.service.conftest import CHANNEL, DAY


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "the adapter never changed its state"
        await asyncio.sleep(0.005)


async def test_open_socket_is_connected(socket_adapter: SlackAdapter) -> None:
    await until(lambda: socket_adapter.connected)
    assert socket_adapter.connected is True


async def test_socket_closed_by_slack_is_not_connected(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack
) -> None:
    await until(lambda: socket_adapter.connected)
    fake_slack.fail_next("/api/apps.connections.open", status=503, times=1000)
    for socket in list(fake_slack._sockets):
        await socket.close()
    await until(lambda: not socket_adapter.connected)


async def test_closed_adapter_is_not_connected(socket_adapter: SlackAdapter) -> None:
    await socket_adapter.close()
    assert socket_adapter.connected is False


async def test_channel_slack_refused_is_listed_as_paused(
    socket_adapter: SlackAdapter, fake_slack: FakeSlack
) -> None:
    fake_slack.refuse[CHANNEL.id] = "not_in_channel"
    assert socket_adapter.identity is not None
    target = socket_adapter.identity.targets([CHANNEL], socket_adapter)[0]
    with pytest.raises(UpstreamError):
        await socket_adapter.service.poster.post(target, DAY)
    assert socket_adapter.paused == {CHANNEL.id: "not_in_channel"}
