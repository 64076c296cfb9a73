"""The test clocks: time the test moves, so nothing waits for real.

`FakeClock` is a wall clock: code under test takes a `clock()` returning an aware datetime
(bot.schedule, bot.service); the test sets `clock.now` to walk through a day, a DST change
or a restart, without sleeping.

`MonotonicClock` is a monotonic one (seconds as a float, what `time.monotonic` returns) for
pacing and rate limits (bot.sources.arxiv, paperboy.shared_rate, the Slack pacer): pass
`clock` as the clock and `clock.sleep` as the sleep; a sleep records its length in
`clock.sleeps` and moves `clock.now` on by it, and the test may move `clock.now` itself.
"""

from __future__ import annotations

from datetime import datetime


class FakeClock:
    """The current time, moved only by the test: `clock()` returns `clock.now`."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError(f"a clock reads aware times, got {now!r}")
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class MonotonicClock:
    """Seconds since some start, moved by the test or by sleeping on `sleep`."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


__all__ = ["FakeClock", "MonotonicClock"]
