"""APScheduler 3.11 driven by an injected clock: the seam bot.schedule runs its jobs through.

One job: replace the two places where APScheduler 3.11 reads the time with `datetime.now()` —
`BaseScheduler._process_jobs` (which jobs are due) and the executor's misfire check
(`run_coroutine_job`) — with `clock()`. Triggers, job store, coalescing, max_instances and
the asyncio timer stay APScheduler's own. Production passes `datetime.now(UTC)` through the
same code path the tests drive with a clock they move by hand, so the tests exercise what runs.

Decides nothing about posting: what to run and when is bot.schedule's policy.
Called by bot.schedule.DailyScheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.executors.base import MaxInstancesReachedError
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class ClockedScheduler(AsyncIOScheduler):
    """AsyncIOScheduler whose idea of "now" is `clock()` instead of `datetime.now()`.

    The seam: APScheduler 3.11 has no clock hook; `BaseScheduler._process_jobs` reads
    `datetime.now(self.timezone)` inline. This override does what that method does for an
    in-memory store — find due jobs, compute run times (the last only, when coalescing),
    submit them, move each job to its next fire time, return the seconds until the next
    one — with the time taken from `clock()`, which must return an aware datetime in UTC. It
    builds no scheduler events (nothing here listens to them). Everything else — triggers,
    job store, executor instance limits, the asyncio timer — is APScheduler's.
    """

    def __init__(self, clock: Clock, **options: object) -> None:
        super().__init__(**options)
        self._clock = clock

    def wakeup_now(self) -> None:
        """`wakeup()` without its hop through call_soon_threadsafe: we are on the loop."""
        self._stop_timer()
        self._start_timer(self._process_jobs())

    def _process_jobs(self) -> float | None:
        if self.state == STATE_PAUSED:
            return None
        now = self._clock()
        next_wakeup: datetime | None = None
        with self._jobstores_lock:
            for alias, jobstore in self._jobstores.items():
                for job in jobstore.get_due_jobs(now):
                    run_times = job._get_run_times(now)
                    if job.coalesce:
                        run_times = run_times[-1:]
                    if not run_times:
                        continue
                    try:
                        self._lookup_executor(job.executor).submit_job(job, run_times)
                    except MaxInstancesReachedError:
                        self._logger.warning(
                            'Execution of job "%s" skipped: it is still running', job
                        )
                    following = job.trigger.get_next_fire_time(run_times[-1], now)
                    if following is None:
                        self.remove_job(job.id, alias)
                    else:
                        job._modify(next_run_time=following)
                        jobstore.update_job(job)
                upcoming = jobstore.get_next_run_time()
                if upcoming is not None:
                    upcoming = upcoming.astimezone(UTC)  # instants, not wall readings
                    if next_wakeup is None or upcoming < next_wakeup:
                        next_wakeup = upcoming
        if next_wakeup is None:
            return None
        return max((next_wakeup - self._clock()).total_seconds(), 0.0)


class ClockedExecutor(AsyncIOExecutor):
    """AsyncIOExecutor whose misfire check reads `clock()`; it runs coroutine jobs only.

    The seam's second half: APScheduler's `run_coroutine_job` decides "too late to run"
    with `datetime.now(timezone.utc)`, which would drop every run of a test clock set in
    the past. `clock()` returns an aware datetime in UTC. Instance counting
    (`submit_job`, max_instances) stays in BaseExecutor.
    """

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        task = self._eventloop.create_task(self._run(job, run_times))
        self._pending_futures.add(task)
        task.add_done_callback(self._pending_futures.discard)

    async def _run(self, job: Job, run_times: list[datetime]) -> None:
        try:
            for run_time in run_times:
                late = self._clock() - run_time.astimezone(UTC)
                grace = job.misfire_grace_time
                if grace is not None and late > timedelta(seconds=grace):
                    log.warning(
                        "%s: the %s run is %s late, past its grace of %s; skipped",
                        job.name, run_time.isoformat(), human_duration(late),
                        human_duration(timedelta(seconds=grace)),
                    )
                    continue
                await job.func(*job.args, **job.kwargs)
        finally:
            # Nothing listens to job events, so none are built; this only releases the
            # instance slot that max_instances counts.
            self._run_job_success(job.id, [])

    async def join(self) -> None:
        """Wait until every run submitted so far (and any it led to) has finished."""
        while pending := [f for f in self._pending_futures if not f.done()]:
            await asyncio.wait(pending)


def human_duration(span: timedelta) -> str:
    """'3h 10m', '1h', '20m', '45s' — for log lines a person reads."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes}m"
    return f"{hours}h {minutes}m" if minutes else f"{hours}h"


__all__ = ["Clock", "ClockedExecutor", "ClockedScheduler", "human_duration"]
