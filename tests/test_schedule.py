"""When each channel's daily post runs: bot.schedule on the real APScheduler, a hand-moved clock.

The clock never sleeps: a test sets it, calls `run_due()` (what the scheduler's timer does when
it fires) and looks at what the recording `post` received. Walking a day in five-minute steps
lands exactly on every :00 and :30, so a post time is hit to the second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import WEEKDAYS, ChannelConfig
from bot.schedule import DailyScheduler, local_today, scheduled_at
from bot.store import PostItem
from bot.store.memory import MemoryStore
from tests.conftest import StartScheduler
from tests.fakes.clock import FakeClock
from tests.fakes.scheduled_post import RecordingPost, where

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")

NLP = ChannelConfig(
    name="papers-nlp", platform="slack", id="C01", time="09:00", timezone="Europe/Paris"
)
VISION = ChannelConfig(
    name="papers-vision", platform="slack", id="C02", time="09:00", timezone="America/New_York"
)
TUESDAY = date(2026, 5, 12)


Start = Callable[..., Awaitable[DailyScheduler]]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def start(
    start_scheduler: StartScheduler, clock: FakeClock, posts: RecordingPost, store: MemoryStore
) -> Start:
    async def _start(
        *channels: ChannelConfig, grace: timedelta = timedelta(hours=1)
    ) -> DailyScheduler:
        return await start_scheduler(channels, posts, store=store, clock=clock, grace=grace,
                                     addresses={c.name: where(c) for c in channels})

    return _start


async def walk(
    daily: DailyScheduler, clock: FakeClock, until: datetime,
    step: timedelta = timedelta(minutes=5),
) -> None:
    """Move the clock to `until` in steps, letting the scheduler run what is due at each.

    Steps are taken in UTC: adding minutes to a Paris time adds wall-clock minutes, which
    would walk into the spring-forward gap instead of across it.
    """
    clock.now, until = clock.now.astimezone(UTC), until.astimezone(UTC)
    while clock.now < until:
        clock.now = min(clock.now + step, until)
        await daily.run_due()


def every_day(name: str, at: str, timezone: str) -> ChannelConfig:
    return ChannelConfig(name=name, id=name, time=at, timezone=timezone, days=WEEKDAYS)


# --- a weekday channel --------------------------------------------------------------------

NINE_IN_PARIS = [
    pytest.param(date(2026, 5, 12), datetime(2026, 5, 12, 7, 0, tzinfo=UTC), id="summer-CEST"),
    pytest.param(date(2026, 1, 13), datetime(2026, 1, 13, 8, 0, tzinfo=UTC), id="winter-CET"),
]


@pytest.mark.parametrize(("day", "nine_utc"), NINE_IN_PARIS)
async def test_post_does_not_run_a_second_before_nine_paris_time(
    start: Start, clock: FakeClock, posts: RecordingPost, day: date, nine_utc: datetime
) -> None:
    clock.now = nine_utc - timedelta(seconds=1)
    daily = await start(NLP)
    await daily.run_due()
    assert posts.calls == []


@pytest.mark.parametrize(("day", "nine_utc"), NINE_IN_PARIS)
async def test_tuesday_post_runs_at_nine_paris_time_with_the_local_date(
    start: Start, clock: FakeClock, posts: RecordingPost, day: date, nine_utc: datetime
) -> None:
    clock.now = nine_utc - timedelta(seconds=1)
    daily = await start(NLP)
    clock.now = nine_utc
    await daily.run_due()
    assert posts.calls == [("papers-nlp", day)]


async def test_tuesday_post_runs_once_however_often_the_scheduler_wakes(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 12, 0, 0, tzinfo=PARIS)
    daily = await start(NLP)
    await walk(daily, clock, datetime(2026, 5, 12, 23, 55, tzinfo=PARIS))
    assert posts.calls == [("papers-nlp", TUESDAY)]


async def test_weekday_channel_gets_nothing_on_saturday_and_sunday(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 15, 12, 0, tzinfo=PARIS)  # Friday, past its post and grace
    daily = await start(NLP)
    await walk(daily, clock, datetime(2026, 5, 18, 8, 55, tzinfo=PARIS))  # Monday morning
    assert posts.calls == []


async def test_two_channels_post_at_their_own_local_nine(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 12, 0, 0, tzinfo=UTC)
    daily = await start(NLP, VISION)
    await walk(daily, clock, datetime(2026, 5, 13, 0, 0, tzinfo=UTC))
    assert posts.times == {
        "papers-nlp": [datetime(2026, 5, 12, 7, 0, tzinfo=UTC)],  # 09:00 CEST
        "papers-vision": [datetime(2026, 5, 12, 13, 0, tzinfo=UTC)],  # 09:00 EDT
    }


# --- local dates --------------------------------------------------------------------------

TOKYO_LATE_NIGHT = ChannelConfig(name="papers-tokyo", id="T1", time="00:30", timezone="Asia/Tokyo")


async def test_post_after_midnight_in_tokyo_carries_tokyos_date_not_utcs(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 11, 15, 0, tzinfo=UTC)  # Monday 15:00 UTC, Tue 00:00 Tokyo
    daily = await start(TOKYO_LATE_NIGHT)
    await walk(daily, clock, datetime(2026, 5, 11, 16, 0, tzinfo=UTC))
    assert posts.calls == [("papers-tokyo", date(2026, 5, 12))]


async def test_posting_days_are_tokyo_days_not_utc_days(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    # Friday 15:30 UTC is Saturday 00:30 in Tokyo: not a Mon–Fri posting time there.
    clock.now = datetime(2026, 5, 15, 15, 0, tzinfo=UTC)
    daily = await start(TOKYO_LATE_NIGHT)
    await walk(daily, clock, datetime(2026, 5, 15, 16, 0, tzinfo=UTC))
    assert posts.calls == []


def test_local_today_is_the_date_on_the_channels_calendar() -> None:
    now = datetime(2026, 5, 11, 15, 30, tzinfo=UTC)
    assert local_today(TOKYO_LATE_NIGHT, now) == date(2026, 5, 12)


def test_local_today_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_today(NLP, datetime(2026, 5, 12, 9, 0))


# --- daylight saving time -----------------------------------------------------------------

DST_DAYS = [
    pytest.param("Europe/Paris", "02:30", date(2026, 3, 29), id="paris-spring-forward"),
    pytest.param("Europe/Paris", "02:30", date(2026, 10, 25), id="paris-fall-back"),
    pytest.param("America/New_York", "02:30", date(2026, 3, 8), id="new-york-spring-forward"),
    pytest.param("America/New_York", "01:30", date(2026, 11, 1), id="new-york-fall-back"),
]


@pytest.mark.parametrize(("timezone", "at", "day"), DST_DAYS)
async def test_post_inside_a_dst_change_runs_exactly_once_that_day(
    start: Start, clock: FakeClock, posts: RecordingPost, timezone: str, at: str, day: date
) -> None:
    zone = ZoneInfo(timezone)
    clock.now = datetime.combine(day - timedelta(days=1), datetime.min.time(), zone)
    daily = await start(every_day("papers-dst", at, timezone))
    await walk(daily, clock, datetime.combine(day + timedelta(days=1), datetime.min.time(), zone))
    assert posts.calls.count(("papers-dst", day)) == 1


async def test_spring_forward_post_runs_after_the_clocks_jump(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    # 02:30 does not exist in Paris on 29 March 2026: 02:00 CET jumps to 03:00 CEST.
    clock.now = datetime(2026, 3, 29, 0, 0, tzinfo=PARIS)
    daily = await start(every_day("papers-dst", "02:30", "Europe/Paris"))
    await walk(daily, clock, datetime(2026, 3, 29, 12, 0, tzinfo=PARIS))
    assert posts.times["papers-dst"][0] >= datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


SCHEDULED = [
    pytest.param(
        "Europe/Paris", "09:00", date(2026, 5, 12), datetime(2026, 5, 12, 7, 0, tzinfo=UTC),
        id="ordinary-day",
    ),
    pytest.param(
        "Europe/Paris", "02:30", date(2026, 3, 29), datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        id="paris-gap-shifts-to-03:00-CEST",
    ),
    pytest.param(
        "Europe/Paris", "02:30", date(2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        id="paris-overlap-takes-first-(CEST)",
    ),
    pytest.param(
        "America/New_York", "02:30", date(2026, 3, 8), datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        id="new-york-gap-shifts-to-03:00-EDT",
    ),
    pytest.param(
        "America/New_York", "01:30", date(2026, 11, 1), datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        id="new-york-overlap-takes-first-(EDT)",
    ),
]


@pytest.mark.parametrize(("timezone", "at", "day", "instant"), SCHEDULED)
def test_scheduled_at_is_the_posts_instant(
    timezone: str, at: str, day: date, instant: datetime
) -> None:
    # Compared in UTC: an ambiguous wall time never compares equal across zones (PEP 495).
    assert scheduled_at(every_day("c", at, timezone), day).astimezone(UTC) == instant


def test_scheduled_at_is_expressed_in_the_channels_timezone() -> None:
    when = scheduled_at(NLP, TUESDAY)
    assert when.tzinfo == PARIS


# --- catching up at start -----------------------------------------------------------------


async def test_start_twenty_minutes_late_posts_the_missed_day_once(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 12, 9, 20, tzinfo=PARIS)
    await start(NLP)
    assert posts.calls == [("papers-nlp", TUESDAY)]


async def test_caught_up_day_is_not_posted_again_by_the_timer(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 12, 9, 0, tzinfo=PARIS)  # started on the very second
    daily = await start(NLP)
    await walk(daily, clock, datetime(2026, 5, 12, 23, 55, tzinfo=PARIS))
    assert posts.calls == [("papers-nlp", TUESDAY)]


async def test_catch_up_returns_what_it_posted(
    clock: FakeClock, posts: RecordingPost, store: MemoryStore
) -> None:
    clock.now = datetime(2026, 5, 12, 9, 20, tzinfo=PARIS)
    daily = DailyScheduler([NLP, VISION], posts, store=store, clock=clock)
    assert await daily.catch_up() == [("papers-nlp", TUESDAY)]


@pytest.mark.parametrize("status", ["posted", "empty"])
async def test_catch_up_leaves_a_finished_day_alone(
    start: Start, clock: FakeClock, posts: RecordingPost, store: MemoryStore, status: str
) -> None:
    clock.now = datetime(2026, 5, 12, 9, 20, tzinfo=PARIS)
    ref = where(NLP)
    await store.claim_post(ref, TUESDAY, "another-process", clock.now)
    await store.finish_post(ref, TUESDAY, status)
    await start(NLP)
    assert posts.calls == []


async def test_catch_up_resumes_a_day_left_claimed_by_a_crash(
    start: Start, clock: FakeClock, posts: RecordingPost, store: MemoryStore
) -> None:
    clock.now = datetime(2026, 5, 12, 9, 20, tzinfo=PARIS)
    await store.claim_post(where(NLP), TUESDAY, "crashed-process", clock.now)
    await start(NLP)
    assert posts.calls == [("papers-nlp", TUESDAY)]


async def test_catch_up_skips_a_day_missed_beyond_the_grace_window(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 12, 12, 10, tzinfo=PARIS)
    await start(NLP)
    assert posts.calls == []


async def _posted_before(store: MemoryStore, channel: ChannelConfig) -> None:
    """The channel had a post on an earlier day (it is not a new install)."""
    await store.claim_post(where(channel), date(2026, 5, 11), "earlier", datetime.now(UTC),
                           [PostItem("2605.00001", "2605.00001", "1")])


async def test_catch_up_says_in_one_warning_line_why_it_skipped(
    start: Start, clock: FakeClock, caplog: pytest.LogCaptureFixture, store: MemoryStore
) -> None:
    caplog.set_level(logging.INFO, logger="bot.schedule")
    clock.now = datetime(2026, 5, 12, 12, 10, tzinfo=PARIS)
    await _posted_before(store, NLP)
    await start(NLP)
    missed = [r for r in caplog.records if "not catching up" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in missed] == [
        (
            "WARNING",
            "#papers-nlp: missed the 09:00 Europe/Paris post on 2026-05-12 by 3h 10m "
            "(grace 1h); not catching up",
        )
    ]


async def test_a_new_install_has_missed_nothing_to_warn_about(
    start: Start, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    clock.now = datetime(2026, 5, 12, 12, 10, tzinfo=PARIS)
    await start(NLP)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_catch_up_posts_nothing_on_a_day_that_is_not_a_posting_day(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 16, 9, 20, tzinfo=PARIS)  # Saturday
    await start(NLP)
    assert posts.calls == []


async def test_catch_up_in_the_repeated_fall_back_hour_counts_from_the_first_occurrence(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    # 02:15 CET (fold=1) comes 45 minutes after 02:30 CEST, the first 02:30 of the day. The
    # clock answers in Paris time on purpose: same-zone datetimes compare by wall reading.
    clock.now = datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=PARIS)
    await start(every_day("papers-dst", "02:30", "Europe/Paris"))
    assert posts.calls == [("papers-dst", date(2026, 10, 25))]


async def test_catch_up_after_midnight_posts_yesterdays_late_evening_post(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    late = ChannelConfig(name="papers-late", id="L1", time="23:50", timezone="Europe/Paris")
    clock.now = datetime(2026, 5, 13, 0, 10, tzinfo=PARIS)
    await start(late)
    assert posts.calls == [("papers-late", TUESDAY)]


# --- failures and late timers ---------------------------------------------------------------


async def test_failing_post_is_logged_at_error_with_the_channel_and_traceback(
    start: Start, clock: FakeClock, posts: RecordingPost, caplog: pytest.LogCaptureFixture
) -> None:
    posts.failures = 1
    clock.now = datetime(2026, 5, 12, 8, 59, tzinfo=PARIS)
    daily = await start(NLP)
    clock.now = datetime(2026, 5, 12, 9, 0, tzinfo=PARIS)
    await daily.run_due()
    errors = [r for r in caplog.records if r.name == "bot.schedule" and r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "#papers-nlp" in errors[0].getMessage()
    assert errors[0].exc_info is not None


async def test_failing_post_does_not_stop_the_next_days_post(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    posts.failures = 1
    clock.now = datetime(2026, 5, 12, 8, 0, tzinfo=PARIS)
    daily = await start(NLP)
    await walk(daily, clock, datetime(2026, 5, 13, 10, 0, tzinfo=PARIS))
    assert posts.calls[-1] == ("papers-nlp", date(2026, 5, 13))


async def test_failed_post_is_retried_ten_minutes_later(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    posts.failures = 1
    clock.now = datetime(2026, 5, 12, 8, 59, tzinfo=PARIS)
    daily = await start(NLP)
    clock.now = datetime(2026, 5, 12, 9, 0, tzinfo=PARIS)
    await daily.run_due()
    clock.now = datetime(2026, 5, 12, 9, 10, tzinfo=PARIS)
    await daily.run_due()
    assert posts.calls == [("papers-nlp", TUESDAY), ("papers-nlp", TUESDAY)]


async def test_retries_stop_at_the_end_of_the_grace_window(
    start: Start, clock: FakeClock, posts: RecordingPost, caplog: pytest.LogCaptureFixture
) -> None:
    posts.failures = 100
    clock.now = datetime(2026, 5, 12, 8, 59, tzinfo=PARIS)
    daily = await start(NLP)
    await walk(daily, clock, datetime(2026, 5, 12, 11, 0, tzinfo=PARIS))
    assert len(posts.calls) == 6  # 09:00, then every 10 minutes up to 09:50 (grace 1 h)
    assert "giving up the 2026-05-12 post" in caplog.text


async def test_clock_jumping_over_two_post_times_posts_once_for_the_latest_day(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 11, 8, 59, tzinfo=PARIS)  # Monday, before its post
    daily = await start(NLP, grace=timedelta(days=2))  # both missed times are within grace
    clock.now = datetime(2026, 5, 12, 9, 0, 30, tzinfo=PARIS)  # Tuesday, just after
    await daily.run_due()
    assert posts.calls == [("papers-nlp", TUESDAY)]


async def test_timer_firing_beyond_the_grace_window_does_not_post(
    start: Start, clock: FakeClock, posts: RecordingPost
) -> None:
    clock.now = datetime(2026, 5, 12, 8, 59, tzinfo=PARIS)
    daily = await start(NLP)
    clock.now = datetime(2026, 5, 12, 10, 30, tzinfo=PARIS)  # e.g. the laptop slept
    await daily.run_due()
    assert posts.calls == []


async def test_shutdown_lets_a_running_post_finish(
    clock: FakeClock, store: MemoryStore
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[date] = []

    async def slow_post(channel: ChannelConfig, day: date) -> None:
        started.set()
        await release.wait()
        finished.append(day)

    clock.now = datetime(2026, 5, 12, 8, 59, tzinfo=PARIS)
    daily = DailyScheduler([NLP], slow_post, store=store, clock=clock)
    await daily.start()
    clock.now = datetime(2026, 5, 12, 9, 0, tzinfo=PARIS)
    running = asyncio.create_task(daily.run_due())
    async with asyncio.timeout(1):  # a broken scheduler fails here instead of hanging
        await started.wait()
        stopping = asyncio.create_task(daily.shutdown())
        release.set()
        await asyncio.gather(running, stopping)
    assert finished == [TUESDAY]


# --- next runs and configuration ------------------------------------------------------------


async def test_next_runs_gives_each_channels_next_post_in_its_timezone(
    start: Start, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 5, 15, 10, 0, tzinfo=PARIS)  # Friday; 04:00 in New York
    daily = await start(NLP, VISION)
    assert daily.next_runs() == {
        "papers-nlp": datetime(2026, 5, 18, 9, 0, tzinfo=PARIS),
        "papers-vision": datetime(2026, 5, 15, 9, 0, tzinfo=NEW_YORK),
    }


async def test_next_runs_times_carry_the_channels_timezone(
    start: Start, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 5, 15, 10, 0, tzinfo=PARIS)
    daily = await start(NLP, VISION)
    zones = {name: when.tzinfo for name, when in daily.next_runs().items()}
    assert zones == {"papers-nlp": PARIS, "papers-vision": NEW_YORK}


async def test_next_runs_moves_on_after_a_post(
    start: Start, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 5, 12, 8, 55, tzinfo=PARIS)
    daily = await start(NLP)
    await walk(daily, clock, datetime(2026, 5, 12, 9, 5, tzinfo=PARIS))
    assert daily.next_runs() == {"papers-nlp": datetime(2026, 5, 13, 9, 0, tzinfo=PARIS)}


async def test_next_runs_skips_the_fall_back_repeat_of_a_time_already_posted(
    start: Start, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 10, 25, 0, 0, tzinfo=PARIS)
    daily = await start(every_day("papers-dst", "02:30", "Europe/Paris"))
    await walk(daily, clock, datetime(2026, 10, 25, 0, 45, tzinfo=UTC))  # 02:45 CEST
    assert daily.next_runs() == {"papers-dst": datetime(2026, 10, 26, 2, 30, tzinfo=PARIS)}


def test_next_runs_before_start_is_computed_from_the_clock(
    clock: FakeClock, posts: RecordingPost, store: MemoryStore
) -> None:
    clock.now = datetime(2026, 5, 15, 10, 0, tzinfo=PARIS)
    daily = DailyScheduler([NLP], posts, store=store, clock=clock)
    assert daily.next_runs() == {"papers-nlp": datetime(2026, 5, 18, 9, 0, tzinfo=PARIS)}


async def test_without_a_clock_the_next_post_is_within_a_week_of_the_real_time(
    posts: RecordingPost, store: MemoryStore
) -> None:
    daily = DailyScheduler([NLP], posts, store=store)
    await daily.start()
    try:
        until_next = daily.next_runs()["papers-nlp"] - datetime.now(UTC)
    finally:
        await daily.shutdown()
    assert timedelta(0) < until_next <= timedelta(days=7)
