"""The scheduler's side of a test: a hand-moved wall clock and a `post` that records.

bot.schedule's DailyScheduler calls `post(channel, day)` when a channel's time comes; the
tests hand it a `RecordingPost` and look at what it received. The `clock` and `posts`
fixtures (registered for every test in tests/conftest.py) start on Monday 2026-05-11,
12:00 UTC, with a `RecordingPost` reading that clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.config import ChannelConfig
from bot.models import ChatRef
from tests.fakes.clock import FakeClock

MONDAY_NOON = datetime(2026, 5, 11, 12, 0, tzinfo=UTC)


class RecordingPost:
    """A `post` that remembers each call and the clock's time; can fail its first calls."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[str, date]] = []
        self.times: dict[str, list[datetime]] = {}
        self.failures = 0

    async def __call__(self, channel: ChannelConfig, day: date) -> None:
        self.calls.append((channel.name, day))
        self.times.setdefault(channel.name, []).append(self.clock())
        if self.failures:
            self.failures -= 1
            raise RuntimeError("Hugging Face answered 503")


def where(channel: ChannelConfig) -> ChatRef:
    """Where a connected adapter would say the channel lives."""
    return ChatRef(channel.platform, channel.team or "T1", channel.id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_NOON)


@pytest.fixture
def posts(clock: FakeClock) -> RecordingPost:
    return RecordingPost(clock)


__all__ = ["MONDAY_NOON", "RecordingPost", "clock", "posts", "where"]
