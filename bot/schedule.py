"""Decide when each channel's daily post runs, and for which local date.

One job: turn every channel's `time`, `timezone` and `days` into calls of
`post(channel, local_date)` — live through an APScheduler 3.11 cron job per channel, and at
start through `catch_up()` for a post missed while the bot was down (within a grace window).
It does not post, build digests or claim anything: `post` is the service's exactly-once post,
which claims (channel, day) in the Store itself. This module only reads the Store, to leave
alone a day that already has a record.

Inputs: the channels, `post`, the Store and a clock (`clock()` returns a tz-aware now).
Outputs: calls of `post`; `next_runs()` for "/papers settings" and the start-up log.
Called by the running bot (bot.cli `paperboy run`).

The clock is a parameter so that tests move time by hand; bot.clocked_scheduler is the
APScheduler seam that reads it. Production passes no clock and gets `datetime.now(UTC)`.
Channels arrive validated by bot.config (time zone, HH:MM time, day names): nothing is
checked again here.

Daylight saving time: APScheduler's CronTrigger runs a time inside the spring-forward gap once
(02:30 Europe/Paris runs at 03:30 CEST, the gap's length later) and a time inside the fall-back
overlap twice (once per occurrence). The scheduler calls `post` at most once per channel and
local date, so the second occurrence does nothing. `scheduled_at` — the time `catch_up`
measures lateness from — shifts a nonexistent time to the first valid one (03:00 CEST) and
takes the first occurrence of an ambiguous one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.clocked_scheduler import Clock, ClockedExecutor, ClockedScheduler, human_duration
from bot.config import WEEKDAYS, ChannelConfig
from bot.models import ChatRef
from bot.store import Store

log = logging.getLogger(__name__)

PostFn = Callable[[ChannelConfig, date], Awaitable[object]]

DEFAULT_GRACE = timedelta(hours=1)
DEFAULT_RETRY = timedelta(minutes=10)


def local_today(channel: ChannelConfig, now: datetime) -> date:
    """The date on the channel's own calendar at the instant `now` (which must be tz-aware)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    return now.astimezone(_zone(channel)).date()


def scheduled_at(channel: ChannelConfig, day: date) -> datetime:
    """The instant of `channel`'s post on local date `day`, as a datetime in its timezone.

    Pure. On a spring-forward day a time that does not exist on the wall (02:30 when clocks
    jump from 02:00 to 03:00) becomes the first time that does (03:00). On a fall-back day a
    time that happens twice (02:30 in Paris, 01:30 in New York) is its first occurrence.
    Whether `day` is one of the channel's days is not checked here.
    """
    zone = _zone(channel)
    wall = datetime.combine(day, _post_time(channel))
    # fold=0 picks the first occurrence of an ambiguous wall time (PEP 495).
    first = wall.replace(tzinfo=zone, fold=0)
    if _wall(first.astimezone(UTC), zone) == wall:
        return first
    return _end_of_gap(wall, zone)


def next_post_at(channel: ChannelConfig, now: datetime) -> datetime | None:
    """The next instant after `now` at which `channel` posts, in its timezone; None when it
    has no posting days. Pure: "/papers settings" shows it."""
    if not channel.days:
        return None
    day = local_today(channel, now)
    for _ in range(8):
        when = scheduled_at(channel, day)
        if when > now and _is_posting_day(channel, day):
            return when
        day += timedelta(days=1)
    return None


class DailyScheduler:
    """Runs each channel's daily post at its local time; catches up a missed one at start.

    `post(channel, local_date)` is awaited at most once per channel and local date by this
    scheduler; an exception from it is logged (ERROR, with traceback) and the schedule goes
    on. `grace` is how late a post may still run: a late timer (machine asleep, loop busy)
    and `catch_up` both honour it.
    """

    def __init__(
        self,
        channels: Sequence[ChannelConfig],
        post: PostFn,
        *,
        store: Store,
        clock: Clock | None = None,
        grace: timedelta = DEFAULT_GRACE,
        retry_every: timedelta = DEFAULT_RETRY,
        addresses: Mapping[str, ChatRef] | None = None,
    ) -> None:
        self._channels = tuple(channels)
        self._post = post
        self._store = store
        self._clock: Clock = clock or _utc_now
        self._grace = grace
        self._retry_every = retry_every
        # Channel name → where the connected adapter said the channel lives, so post records
        # are looked up where the poster files them. The bot starts the scheduler only after
        # every adapter has connected, so these are known, never guessed.
        self._addresses = dict(addresses or {})
        # The last local date `post` was called for, per channel: the guard that makes the
        # second occurrence of a fall-back time, or the timer firing after `catch_up` posted
        # the same day, do nothing.
        self._called: dict[str, date] = {}
        self._scheduler: ClockedScheduler | None = None
        self._executor: ClockedExecutor | None = None

    async def start(self) -> None:
        """Schedule every channel, then catch up a post missed within the grace window.

        Must be awaited inside the running event loop (APScheduler binds to it).
        """
        if self._scheduler is not None:
            raise RuntimeError("DailyScheduler.start() was already called")
        self._executor = ClockedExecutor(self._now)
        self._scheduler = ClockedScheduler(
            self._now,
            jobstores={"default": MemoryJobStore()},
            executors={"default": self._executor},
            timezone=ZoneInfo("UTC"),
        )
        # The first run is strictly after now: a time at or before now belongs to catch_up,
        # so the two never both decide about the same instant.
        for channel in self._channels:
            self._add_job(channel)
        self._scheduler.start()
        runs = self.next_runs()
        for channel in self._channels:
            if channel.name in runs:
                log.info("%s: next daily post at %s", _label(channel), runs[channel.name])
        await self.catch_up()

    async def catch_up(self) -> list[tuple[str, date]]:
        """Post, for each channel, an unposted day whose time passed at most `grace` ago.

        Only the most recent scheduled time is considered: today's, or yesterday's when
        today's has not come yet (a 23:30 post seen at 00:10). A day that already has a
        record "posted" or "empty" is done; one still "claimed" was interrupted by a crash and
        is resumed (the poster settles and sends what never went out). A day missed by more
        than `grace` is not posted; one WARNING line says so (an INFO line for a channel that
        never had a post: a new install missed nothing). Returns (channel name, local date)
        for every post that completed.
        """
        now = self._now()
        due: list[tuple[ChannelConfig, date]] = []
        for channel in self._channels:
            day, when = _latest_slot(channel, now)
            if not _is_posting_day(channel, day):
                continue
            where = self._addresses.get(channel.name)
            record = await self._store.get_post(where, day) if where is not None else None
            if record is not None and record.status != "claimed":
                continue  # posted (or empty); a "claimed" one was interrupted: resume it
            late = now - when
            if late > self._grace:
                if where is not None and not await self._store.posted_ids(where):
                    # A channel that never had a post (a new install, a new channel) missed
                    # nothing: say when its first post comes instead of warning.
                    log.info("%s: no post yet; the first comes at its next %s %s",
                             _label(channel), channel.time, channel.timezone)
                    continue
                log.warning(
                    "%s: missed the %s %s post on %s by %s (grace %s); not catching up",
                    _label(channel), channel.time, channel.timezone, day.isoformat(),
                    human_duration(late), human_duration(self._grace),
                )
                continue
            log.info(
                "%s: catching up the %s %s post on %s (%s late, grace %s)",
                _label(channel), channel.time, channel.timezone, day.isoformat(),
                human_duration(late), human_duration(self._grace),
            )
            due.append((channel, day))
        # All at once, as the cron jobs would have fired: the poster decides how many of
        # them are in flight together.
        posted = await asyncio.gather(*(self._call_post(c, day) for c, day in due))
        return [(c.name, day) for (c, day), ok in zip(due, posted, strict=True) if ok]

    def set_channel(self, channel: ChannelConfig, address: ChatRef) -> None:
        """Schedule a channel while running, or reschedule it with new settings (a channel
        set up or changed from chat). Its first run is its next time strictly after now;
        a day it already posted stays posted (the Store's claim), whatever the new time."""
        self._channels = (*(c for c in self._channels if c.name != channel.name), channel)
        self._addresses[channel.name] = address
        self._drop_jobs(channel.name)
        if self._scheduler is not None:
            self._add_job(channel)
            when = self.next_runs().get(channel.name)
            log.info("%s: rescheduled; next daily post at %s", _label(channel), when)

    def remove_channel(self, name: str) -> bool:
        """Stop scheduling the channel called `name` (a pending retry included); a post
        already running finishes. False when no such channel was scheduled."""
        known = any(c.name == name for c in self._channels)
        self._channels = tuple(c for c in self._channels if c.name != name)
        self._addresses.pop(name, None)
        self._drop_jobs(name)
        if known:
            log.info("%s: daily post stopped", _label(ChannelConfig(name=name)))
        return known

    def next_runs(self) -> dict[str, datetime]:
        """Channel name → the next time its post runs, in the channel's timezone.

        Before `start()` this is computed from the clock; channels with no days are absent.
        A fall-back repeat of a time already posted today is skipped: it will do nothing.
        """
        runs: dict[str, datetime] = {}
        now = self._now()
        for channel in self._channels:
            if not channel.days:
                continue
            trigger = _trigger(channel)
            job = self._job(channel)
            when = job.next_run_time if job is not None else trigger.get_next_fire_time(
                None, now + timedelta(microseconds=1)
            )
            while when is not None and self._called.get(channel.name) == local_today(
                channel, when
            ):
                when = trigger.get_next_fire_time(when, when)
            if when is not None:
                runs[channel.name] = when.astimezone(_zone(channel))
        return runs

    async def run_due(self) -> None:
        """Run, now, every post that is due at `clock()`, and wait until those posts finish.

        The scheduler's own timer does the same when it fires; this lets a caller that has
        moved the clock (tests) or knows time jumped (resume from sleep) not wait for it.
        """
        if self._scheduler is None or self._executor is None:
            raise RuntimeError("DailyScheduler.run_due() needs start() first")
        self._scheduler.wakeup_now()
        await self._executor.join()

    async def shutdown(self) -> None:
        """Stop scheduling; a post already running is awaited, not cut off mid-message."""
        scheduler, executor = self._scheduler, self._executor
        if scheduler is None or executor is None:
            return
        self._scheduler = self._executor = None
        scheduler.pause()
        await executor.join()
        scheduler.shutdown(wait=False)
        # AsyncIOScheduler.shutdown only queues the real work with call_soon_threadsafe;
        # one turn of the loop lets it run, so the scheduler is stopped when we return.
        await asyncio.sleep(0)

    # --- internals ------------------------------------------------------------------
    def _add_job(self, channel: ChannelConfig) -> None:
        assert self._scheduler is not None
        if not channel.days:
            log.info("%s: no posting days configured; no daily post", _label(channel))
            return
        # The first run is strictly after now: a time at or before now belongs to catch_up,
        # so the two never both decide about the same instant.
        after_now = self._now() + timedelta(microseconds=1)
        trigger = _trigger(channel)
        self._scheduler.add_job(
            self._run_scheduled,
            trigger,
            args=(channel,),
            id=f"daily:{channel.name}",
            name=f"{_label(channel)} daily post",
            misfire_grace_time=max(1, int(self._grace.total_seconds())),
            coalesce=True,
            max_instances=1,
            next_run_time=trigger.get_next_fire_time(None, after_now),
        )

    def _drop_jobs(self, name: str) -> None:
        if self._scheduler is None:
            return
        for job_id in (f"daily:{name}", f"retry:{name}"):
            if self._scheduler.get_job(job_id) is not None:
                self._scheduler.remove_job(job_id)

    async def _run_scheduled(self, channel: ChannelConfig) -> None:
        # The date is that of the latest scheduled time, not of "now": a run delayed past
        # midnight (within grace) still posts for the day it was scheduled for.
        day, _ = _latest_slot(channel, self._now())
        if not _is_posting_day(channel, day):
            log.debug("%s: %s is not a posting day", _label(channel), day)
            return
        await self._call_post(channel, day)

    async def _call_post(self, channel: ChannelConfig, day: date) -> bool:
        """Await post once for (channel, day); True when it returned without raising."""
        if self._called.get(channel.name) == day:
            log.debug("%s: already ran for %s (DST repeat or caught up)", _label(channel), day)
            return False
        # Marked before awaiting, with no await in between, so the timer and catch_up
        # cannot both start a post for the same day.
        self._called[channel.name] = day
        return await self._attempt(channel, day)

    async def _attempt(self, channel: ChannelConfig, day: date) -> bool:
        try:
            await self._post(channel, day)
        except Exception:
            log.exception("%s: the daily post for %s failed", _label(channel), day.isoformat())
            self._schedule_retry(channel, day)
            return False
        return True

    def _schedule_retry(self, channel: ChannelConfig, day: date) -> None:
        # An upstream outage at 09:00 should not cost the day: try again every few minutes
        # while the post is still within its grace window. The service's claim makes a retry
        # send only what was never attempted.
        if self._scheduler is None:
            return
        when = self._now() + self._retry_every
        deadline = scheduled_at(channel, day) + self._grace
        if when > deadline:
            log.error("%s: giving up the %s post: still failing %s after its time",
                      _label(channel), day.isoformat(), human_duration(self._grace))
            return
        log.warning("%s: will retry the %s post at %s", _label(channel), day.isoformat(),
                    when.astimezone(_zone(channel)).strftime("%H:%M"))
        self._scheduler.add_job(
            self._attempt,
            DateTrigger(run_date=when),
            args=(channel, day),
            id=f"retry:{channel.name}",
            replace_existing=True,
            misfire_grace_time=max(1, int(self._grace.total_seconds())),
        )

    def _now(self) -> datetime:
        # Always UTC: Python compares and subtracts two datetimes that share a tzinfo by
        # their wall readings, ignoring the offset, which is wrong across a DST change
        # (02:15 CET, after the fall-back, would sort before 02:30 CEST). Arithmetic
        # between UTC and a channel's zone goes through real instants.
        return self._clock().astimezone(UTC)

    def _job(self, channel: ChannelConfig) -> Job | None:
        if self._scheduler is None:
            return None
        return self._scheduler.get_job(f"daily:{channel.name}")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _zone(channel: ChannelConfig) -> ZoneInfo:
    return ZoneInfo(channel.timezone)


def _post_time(channel: ChannelConfig) -> time:
    return time.fromisoformat(channel.time)


def _trigger(channel: ChannelConfig) -> CronTrigger:
    at = _post_time(channel)
    return CronTrigger(
        day_of_week=",".join(d.lower() for d in channel.days),
        hour=at.hour,
        minute=at.minute,
        timezone=_zone(channel),
    )


def _is_posting_day(channel: ChannelConfig, day: date) -> bool:
    return WEEKDAYS[day.weekday()] in {d.lower() for d in channel.days}


def _latest_slot(channel: ChannelConfig, now: datetime) -> tuple[date, datetime]:
    """The most recent scheduled time at or before `now`: today's, else yesterday's."""
    now = now.astimezone(UTC)  # see DailyScheduler._now: compare instants, not wall readings
    today = local_today(channel, now)
    when = scheduled_at(channel, today)
    if when <= now:
        return today, when
    yesterday = today - timedelta(days=1)
    return yesterday, scheduled_at(channel, yesterday)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock reading of `instant` in `zone`."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first existing instant after the spring-forward gap that swallowed `wall`.

    In a gap, fold=0 reads `wall` with the offset from before the jump and fold=1 with the
    one after (PEP 495), so the jump lies between those two instants. Bisect to the second
    (tz transitions fall on whole seconds).
    """
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # its wall reading < wall
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)  # its wall reading > wall
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) // 2
        if _wall(middle, zone) >= wall:
            after = middle
        else:
            before = middle
    return after.astimezone(zone)


def _label(channel: ChannelConfig) -> str:
    return channel.name if channel.name.startswith("#") else f"#{channel.name}"


__all__ = ["DEFAULT_GRACE", "DailyScheduler", "local_today", "scheduled_at"]
