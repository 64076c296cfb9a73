"""The running bot's post targets: config.toml channels merged with channels set up from chat
(bot.chat_channels), over the real Service and TinyDB store."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.channel_setup import ChannelSetup
from bot.chat_channels import LiveChannels
from bot.models import ChatRef
from bot.service import Service
from tests.service.conftest import CHANNEL, IDENTITY, TEAM, WHERE, RecordingPublisher, Services

NOW = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)


def setup(where: ChatRef, **changes: object) -> ChannelSetup:
    fields: dict[str, object] = {
        "channel": where, "time": "07:00", "timezone": "Europe/Paris", "days": ("mon",),
        "subscriber": "U0ANA", "updated_at": NOW, "updated_by": "U0ANA",
    }
    fields.update(changes)
    return ChannelSetup(**fields)  # type: ignore[arg-type]


@pytest.fixture
def service(services: Services) -> Service:
    return services.make(CHANNEL)


@pytest.fixture
def live(service: Service, publisher: RecordingPublisher) -> LiveChannels:
    return LiveChannels(service.channels, [(publisher, IDENTITY)])  # type: ignore[list-item]


async def test_config_channel_alone_is_its_own_target(
    live: LiveChannels, publisher: RecordingPublisher,
) -> None:
    targets = await live.merge([publisher.target()])
    assert [t.channel for t in targets] == [CHANNEL]


async def test_chat_settings_apply_over_the_config_channel_at_start(
    live: LiveChannels, services: Services, publisher: RecordingPublisher,
) -> None:
    await services.store.put_channel_setup(setup(WHERE, keywords=("diffusion",)))
    [target] = await live.merge([publisher.target()])
    assert (target.channel.name, target.channel.time, target.channel.keywords) == (
        "papers", "07:00", ("diffusion",))


async def test_channel_set_up_from_chat_joins_the_targets(
    live: LiveChannels, services: Services, publisher: RecordingPublisher,
) -> None:
    await services.store.put_channel_setup(setup(ChatRef("slack", TEAM, "C0NEW")))
    targets = await live.merge([publisher.target()])
    assert [t.where.channel for t in targets] == ["C0PAPERS", "C0NEW"]


async def test_setup_of_a_team_no_connection_serves_is_left_out_with_a_warning(
    live: LiveChannels, services: Services, publisher: RecordingPublisher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await services.store.put_channel_setup(setup(ChatRef("slack", "T0OTHER", "C0X")))
    with caplog.at_level(logging.WARNING, logger="bot.chat_channels"):
        targets = await live.merge([publisher.target()])
    assert [t.where.channel for t in targets] == ["C0PAPERS"] and \
        "slack:T0OTHER:C0X" in caplog.text


async def test_follow_takes_up_a_channel_another_replica_subscribed_and_drops_it_after(
    live: LiveChannels, services: Services, publisher: RecordingPublisher,
) -> None:
    await live.merge([publisher.target()])
    assert await live.follow() == 0  # nothing changed since the start
    elsewhere = ChatRef("slack", TEAM, "C0NEW")
    await services.store.put_channel_setup(setup(elsewhere))  # as the other replica does
    assert await live.follow() == 1
    assert [t.where.channel for t in live.by_name.values()] == ["C0PAPERS", "C0NEW"]
    await services.store.delete_channel_setup(elsewhere)
    assert await live.follow() == 1
    assert [t.where.channel for t in live.by_name.values()] == ["C0PAPERS"]


async def test_follow_applies_a_time_changed_through_another_replica(
    live: LiveChannels, services: Services, publisher: RecordingPublisher,
) -> None:
    await live.merge([publisher.target()])
    await services.store.put_channel_setup(setup(WHERE, time="06:15"))
    assert await live.follow() == 1
    assert live.by_name["papers"].channel.time == "06:15"
