"""A wall clock the test moves by hand: what the scheduler and the service read as "now".

Code under test takes a `clock()` returning an aware datetime (bot.schedule,
bot.service); the test passes a `FakeClock` and sets `clock.now` to walk through a day,
a DST change or a restart, without sleeping.
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


__all__ = ["FakeClock"]
