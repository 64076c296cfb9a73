"""Hugging Face down all morning, back at 11:00: each channel posts once, late, within grace;
the admin is told once that fetching fails and once that it works again.

Reproduce: .venv/bin/python -m pytest -q tests/faults/test_upstream_down_all_morning.py

The bot as `paperboy run` assembles it for Slack (tests/slack/conftest.py `start_scheduled`:
the real adapter against the fake Web API, the real scheduler on a hand-moved clock, a
real TinyDB store) with two channels at 09:00 and 09:30 and a three-hour catch-up window.
The fake Hugging Face answers 503 to every Daily Papers request until 11:00; the clock
walks the morning in ten-minute steps, as the scheduler's retries do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.config import AdminConfig, ChannelConfig
from bot.models import ChatRef
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.slack_api import FakeSlack
from tests.service.conftest import DAY, PICKS, TEAM, Services
from tests.slack.conftest import ScheduledBot, start_scheduled

PAPERS = ChannelConfig(name="papers", platform="slack", id="C0PAPERS", team=TEAM, time="09:00")
LAB = ChannelConfig(name="lab", platform="slack", id="C0LAB01", team=TEAM, time="09:30")
ADMIN = AdminConfig(platform="slack", id="C0ADMIN")
EIGHT = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
ELEVEN = datetime(2026, 6, 12, 11, 0, tzinfo=UTC)
GRACE = timedelta(hours=3)


@pytest_asyncio.fixture
async def morning(
    services: Services, fake_slack: FakeSlack, hf_fake: FakeHuggingFace
) -> AsyncIterator[ScheduledBot]:
    """The whole morning has run: down from before 08:00, back at 11:00."""
    hf_fake.fail_next("/api/daily_papers", status=503, times=1_000_000)
    services.clock.now = EIGHT
    bot = await start_scheduled(services, fake_slack, PAPERS, LAB, admin=ADMIN, grace=GRACE)
    when = EIGHT
    while when < ELEVEN + timedelta(minutes=30):
        when += timedelta(minutes=10)
        if when >= ELEVEN:
            hf_fake.recover("/api/daily_papers")
        await bot.at(when)
    yield bot
    await bot.stop()


async def test_each_channel_gets_its_post_exactly_once(morning: ScheduledBot) -> None:
    assert [Counter(morning.fake.posted_keys(c.id)) for c in (PAPERS, LAB)] == \
        [Counter(["header", *PICKS])] * 2


async def test_each_post_went_out_at_eleven_within_the_window(
    morning: ScheduledBot, services: Services
) -> None:
    for channel in (PAPERS, LAB):
        record = await services.store.get_post(ChatRef("slack", TEAM, channel.id), DAY)
        assert record is not None
        assert (record.status, record.claimed_at) == ("posted", ELEVEN)


async def test_the_admin_is_told_once_it_fails_and_once_it_is_back(
    morning: ScheduledBot,
) -> None:
    said = morning.said(ADMIN.id)
    assert [line.split(":")[0] for line in said] == ["Paperboy needs attention", "Resolved"]
    assert "huggingface" in said[0] and "huggingface" in said[1]


async def test_the_morning_really_was_retried_against_the_upstream(
    morning: ScheduledBot, hf_fake: FakeHuggingFace
) -> None:
    # Both channels failed at their time and every ten minutes after: at least 20 attempts.
    assert hf_fake.requests["/api/daily_papers"] >= 20


async def test_no_incident_is_left_open(morning: ScheduledBot) -> None:
    assert morning.alerts.open_incidents == {}
