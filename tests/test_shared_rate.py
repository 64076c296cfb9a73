"""The token bucket replicas share in PostgreSQL (Discord's global rate limit across
processes): two buckets on one database — as two processes would open them — hand out one
sequence of slots, at the rate, after one burst. The clock is the test's."""

from __future__ import annotations

import pytest

from paperboy.shared_rate import SharedBucket
from tests.fakes.clock import MonotonicClock
from tests.fakes.postgres import Database


async def _buckets(
    database: Database, clock: MonotonicClock, count: int = 2
) -> list[SharedBucket]:
    return [await SharedBucket.open(database.url, database.password, "discord", rate=10,
                                    burst=5, clock=clock) for _ in range(count)]


@pytest.fixture
def clock() -> MonotonicClock:
    return MonotonicClock(1_000_000.0)


async def test_two_processes_share_one_burst_then_one_rate(
    pg_database: Database, clock: MonotonicClock
) -> None:
    first, second = await _buckets(pg_database, clock)
    waits = [await (first if n % 2 else second).reserve() for n in range(9)]
    await first.close()
    await second.close()
    assert waits == pytest.approx([0, 0, 0, 0, 0, 0.1, 0.2, 0.3, 0.4])


async def test_the_bucket_refills_with_time(
    pg_database: Database, clock: MonotonicClock
) -> None:
    [bucket] = await _buckets(pg_database, clock, 1)
    for _ in range(5):
        await bucket.reserve()
    clock.now += 0.3  # three tokens back
    waits = [await bucket.reserve() for _ in range(4)]
    await bucket.close()
    assert waits == pytest.approx([0, 0, 0, 0.1])


async def test_a_long_pause_refills_no_more_than_the_burst(
    pg_database: Database, clock: MonotonicClock
) -> None:
    [bucket] = await _buckets(pg_database, clock, 1)
    await bucket.reserve()
    clock.now += 3600
    waits = [await bucket.reserve() for _ in range(6)]
    await bucket.close()
    assert waits == pytest.approx([0, 0, 0, 0, 0, 0.1])


async def test_waiting_sleeps_until_the_reserved_slot(pg_database: Database,
                                                      clock: MonotonicClock) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    bucket = await SharedBucket.open(pg_database.url, pg_database.password, "discord",
                                     rate=10, burst=1, clock=clock, sleep=sleep)
    await bucket()
    await bucket()
    await bucket.close()
    assert slept == pytest.approx([0.1])


async def test_replicas_opening_the_bucket_at_once_all_start(pg_database: Database,
                                                             clock: MonotonicClock) -> None:
    """The table is created once even when every replica starts in the same instant."""
    import asyncio

    buckets = await asyncio.gather(*(
        SharedBucket.open(pg_database.url, pg_database.password, "discord", clock=clock)
        for _ in range(6)))
    for bucket in buckets:
        await bucket.close()
    assert len(buckets) == 6
