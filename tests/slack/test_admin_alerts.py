"""The [admin] channel hears of incidents once when they open and once when they clear.

The bot as `paperboy run` assembles it (bot.running's connect and scheduler, the real Slack
adapter against the fake Web API, a real TinyDB store, the test's clock); the admin channel
is a Slack channel, and what it was told is its history on the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.alerts import AdminAlerts
from bot.config import AdminConfig
from bot.events import Identity
from bot.models import ChatRef
from bot.store import PostItem
from tests.fakes.clock import FakeClock
from tests.fakes.disks import fill, tmpfs
from tests.fakes.slack_api import FakeSlack
from tests.service.conftest import CHANNEL, DAY, TEAM, WHERE, RecordingPublisher, Services

from .conftest import ScheduledBot, start_scheduled

ADMIN = AdminConfig(platform="slack", id="C0ADMIN")
NINE = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def bot(services: Services, fake_slack: FakeSlack) -> AsyncIterator[ScheduledBot]:
    started = await start_scheduled(services, fake_slack, CHANNEL, admin=ADMIN)
    yield started
    await started.stop()


async def test_a_channel_the_bot_is_not_in_is_told_to_the_admin(bot: ScheduledBot) -> None:
    bot.fake.refuse[CHANNEL.id] = "not_in_channel"
    await bot.at(NINE)
    [alert] = bot.said(ADMIN.id)
    assert "#papers is paused" in alert and "not_in_channel" in alert


async def test_a_paused_channel_is_told_once_however_often_the_post_retries(
    bot: ScheduledBot,
) -> None:
    bot.fake.refuse[CHANNEL.id] = "not_in_channel"
    for minutes in (0, 10, 20, 30):
        await bot.at(NINE + timedelta(minutes=minutes))
    assert len(bot.said(ADMIN.id)) == 1


async def test_a_healthy_day_tells_the_admin_nothing(bot: ScheduledBot) -> None:
    await bot.at(NINE)
    assert bot.said(ADMIN.id) == []


async def test_a_post_caught_up_late_is_one_note(
    services: Services, fake_slack: FakeSlack
) -> None:
    services.clock.now = NINE + timedelta(minutes=40)
    started = await start_scheduled(services, fake_slack, CHANNEL, admin=ADMIN)
    await started.stop()
    [note] = started.said(ADMIN.id)
    assert "caught up 40m late" in note


async def test_a_post_missed_beyond_the_window_is_told_as_skipped(
    services: Services, fake_slack: FakeSlack
) -> None:
    # Posted yesterday, so today's miss is a real one (a new install missed nothing).
    yesterday = DAY - timedelta(days=1)
    await services.store.claim_post(WHERE, yesterday, "earlier", NINE - timedelta(days=1),
                                    [PostItem("2605.00001", "2605.00001", "1781164800.1")])
    await services.store.finish_post(WHERE, yesterday, "posted")
    services.clock.now = NINE + timedelta(hours=3)
    started = await start_scheduled(services, fake_slack, CHANNEL, admin=ADMIN)
    await started.stop()
    [alert] = started.said(ADMIN.id)
    assert f"the {DAY.isoformat()} post was skipped" in alert


async def test_a_paused_channel_is_told_resolved_when_it_posts_after_a_restart(
    services: Services, fake_slack: FakeSlack
) -> None:
    fake_slack.refuse[CHANNEL.id] = "not_in_channel"
    started = await start_scheduled(services, fake_slack, CHANNEL, admin=ADMIN)
    await started.at(NINE)
    assert started.alerts.open_incidents.keys() == {"paused:#papers"}
    await started.stop()
    # The admin invites the bot and restarts it; the next post clears the incident.
    del fake_slack.refuse[CHANNEL.id]
    again = await start_scheduled(services, fake_slack, CHANNEL, admin=ADMIN)
    await again.at(NINE + timedelta(minutes=10))
    await again.stop()
    assert again.said(ADMIN.id)[-1] == "Resolved: #papers takes posts again"


async def test_no_admin_table_means_no_alert_anywhere(
    services: Services, fake_slack: FakeSlack
) -> None:
    fake_slack.refuse[CHANNEL.id] = "not_in_channel"
    started = await start_scheduled(services, fake_slack, CHANNEL, admin=None)
    await started.at(NINE)
    await started.stop()
    assert [c for c, messages in fake_slack.history.items() if messages] == []


async def test_an_admin_channel_no_connection_serves_is_said_in_one_line(
    services: Services, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    started = await start_scheduled(services, fake_slack, CHANNEL,
                                    admin=AdminConfig(platform="discord", id="123456789"))
    started.alerts.report_unattached()
    await started.stop()
    assert any("[admin] discord channel 123456789" in r.getMessage() for r in caplog.records)


# --- the incident rules, on a recording publisher -----------------------------------------


def _alerts(clock: FakeClock, publisher: RecordingPublisher, **admin: object) -> AdminAlerts:
    alerts = AdminAlerts(AdminConfig(platform="slack", id="C0ADMIN", **admin),  # type: ignore[arg-type]
                         clock=clock)
    assert alerts.attach(Identity("slack", TEAM), publisher)
    return alerts


async def test_an_incident_that_opens_again_within_the_hour_stays_quiet() -> None:
    clock, publisher = FakeClock(NINE), RecordingPublisher()
    alerts = _alerts(clock, publisher)
    await alerts.open("fetch:huggingface", "down")
    await alerts.clear("fetch:huggingface", "back")
    clock.now += timedelta(minutes=20)
    await alerts.open("fetch:huggingface", "down")
    await alerts.clear("fetch:huggingface", "back")
    assert [s.text for s in publisher.sent] == ["Paperboy needs attention: down",
                                                "Resolved: back"]


async def test_an_incident_still_open_after_the_hour_is_told_at_its_next_repeat() -> None:
    clock, publisher = FakeClock(NINE), RecordingPublisher()
    alerts = _alerts(clock, publisher)
    await alerts.open("fetch:huggingface", "down")
    await alerts.clear("fetch:huggingface", "back")
    clock.now += timedelta(minutes=20)
    await alerts.open("fetch:huggingface", "down again")
    clock.now += timedelta(minutes=50)
    await alerts.open("fetch:huggingface", "down again")
    assert publisher.sent[-1].text == "Paperboy needs attention: down again"


async def test_alerts_go_to_the_admin_channel() -> None:
    publisher = RecordingPublisher()
    alerts = _alerts(FakeClock(NINE), publisher)
    await alerts.open("paused:#papers", "paused")
    assert publisher.sent[0].channel == ChatRef("slack", TEAM, "C0ADMIN")


async def test_a_failing_admin_channel_never_stops_the_caller(
    caplog: pytest.LogCaptureFixture,
) -> None:
    publisher = RecordingPublisher(fail_at=1)
    alerts = _alerts(FakeClock(NINE), publisher)
    await alerts.open("paused:#papers", "paused")
    assert any("could not tell the admin channel: Paperboy needs attention: paused"
               in r.getMessage() for r in caplog.records)


async def test_a_nearly_full_data_directory_is_told_and_cleared_when_space_returns(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "small", size="4m") as data:
        publisher = RecordingPublisher()
        alerts = AdminAlerts(AdminConfig(platform="slack", id="C0ADMIN", min_free_mb=1),
                             data_dir=data, clock=FakeClock(NINE))
        alerts.attach(Identity("slack", TEAM), publisher)
        filler = fill(data)
        await alerts.check_disk()
        filler.unlink()
        await alerts.check_disk()
    assert [s.text.split(":")[0] for s in publisher.sent] == ["Paperboy needs attention",
                                                              "Resolved"]

