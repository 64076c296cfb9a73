"""The scheduler's TL;DR prefetch job: `prefetch_ahead` before each group of channels that
post at the same local time, for the local date of that post (across midnight and DST),
once per group, and at start when that window has begun but the post has not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from bot.config import ChannelConfig
from bot.store.memory import MemoryStore
from tests.conftest import StartScheduler
from tests.fakes.clock import FakeClock

HOUR = timedelta(hours=1)
PARIS_A = ChannelConfig(name="a", timezone="Europe/Paris", time="09:00")
PARIS_B = ChannelConfig(name="b", timezone="Europe/Paris", time="09:00")
TOKYO = ChannelConfig(name="t", timezone="Asia/Tokyo", time="00:30",
                      days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


class Prefetches:
    """Records the scheduler's prefetch calls: (channel names, local date, clock time)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[tuple[tuple[str, ...], date, datetime]] = []

    async def __call__(self, channels: Sequence[ChannelConfig], day: date) -> None:
        self.calls.append((tuple(c.name for c in channels), day, self.clock.now))


async def _never(channel: ChannelConfig, day: date) -> None:
    raise AssertionError("no post is due in these tests")


async def test_channels_posting_together_share_one_prefetch_an_hour_before(
    start_scheduler: StartScheduler,
) -> None:
    clock = FakeClock(datetime(2026, 6, 12, 5, 0, tzinfo=UTC))  # a Friday, 07:00 in Paris
    prefetches = Prefetches(clock)
    scheduler = await start_scheduler([PARIS_A, PARIS_B], _never, store=MemoryStore(),
                                      clock=clock, prefetch=prefetches, prefetch_ahead=HOUR)
    clock.now = datetime(2026, 6, 12, 5, 59, tzinfo=UTC)
    await scheduler.run_due()
    assert prefetches.calls == []
    clock.now = datetime(2026, 6, 12, 6, 0, tzinfo=UTC)  # 08:00 CEST: an hour before 09:00
    await scheduler.run_due()
    assert prefetches.calls == [(("a", "b"), date(2026, 6, 12), clock.now)]


async def test_a_prefetch_before_a_post_after_midnight_is_for_the_post_s_date(
    start_scheduler: StartScheduler,
) -> None:
    # 00:30 in Tokyo is 15:30 UTC the day before; the prefetch runs 23:30 Tokyo time.
    clock = FakeClock(datetime(2026, 6, 12, 14, 0, tzinfo=UTC))
    prefetches = Prefetches(clock)
    scheduler = await start_scheduler([TOKYO], _never, store=MemoryStore(), clock=clock,
                                      prefetch=prefetches, prefetch_ahead=HOUR)
    clock.now = datetime(2026, 6, 12, 14, 30, tzinfo=UTC)
    await scheduler.run_due()
    assert prefetches.calls == [(("t",), date(2026, 6, 13), clock.now)]


async def test_a_start_inside_the_prefetch_window_prefetches_at_once(
    start_scheduler: StartScheduler,
) -> None:
    clock = FakeClock(datetime(2026, 6, 12, 6, 40, tzinfo=UTC))  # 08:40 CEST
    prefetches = Prefetches(clock)
    scheduler = await start_scheduler([PARIS_A], _never, store=MemoryStore(), clock=clock,
                                      prefetch=prefetches, prefetch_ahead=HOUR)
    await scheduler.run_due()
    assert prefetches.calls == [(("a",), date(2026, 6, 12), clock.now)]


async def test_no_prefetch_without_time_ahead(start_scheduler: StartScheduler) -> None:
    clock = FakeClock(datetime(2026, 6, 12, 6, 40, tzinfo=UTC))
    prefetches = Prefetches(clock)
    scheduler = await start_scheduler([PARIS_A], _never, store=MemoryStore(), clock=clock,
                                      prefetch=prefetches, prefetch_ahead=timedelta(0))
    await scheduler.run_due()
    assert prefetches.calls == []


async def test_a_failing_prefetch_is_logged_and_the_schedule_goes_on(
    start_scheduler: StartScheduler,
) -> None:
    clock = FakeClock(datetime(2026, 6, 12, 5, 0, tzinfo=UTC))
    calls: list[date] = []

    async def failing(channels: Sequence[ChannelConfig], day: date) -> None:
        calls.append(day)
        raise ConnectionError("upstream down")

    scheduler = await start_scheduler([PARIS_A], _never, store=MemoryStore(), clock=clock,
                                      prefetch=failing, prefetch_ahead=HOUR)
    clock.now = datetime(2026, 6, 12, 6, 0, tzinfo=UTC)
    await scheduler.run_due()
    clock.now = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)  # Monday
    await scheduler.run_due()
    assert calls == [date(2026, 6, 12), date(2026, 6, 15)]
