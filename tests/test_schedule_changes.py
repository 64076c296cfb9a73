"""A running scheduler takes channels added, rescheduled and removed (changes from chat).

bot.schedule's `set_channel` / `remove_channel` on the real APScheduler with a hand-moved
clock; `post` records its calls (tests/fakes/scheduled_post.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.config import ChannelConfig
from bot.schedule import DailyScheduler
from bot.store.memory import MemoryStore
from tests.conftest import StartScheduler
from tests.fakes.clock import FakeClock
from tests.fakes.scheduled_post import RecordingPost, where

MONDAY = date(2026, 5, 11)
CHAT = ChannelConfig(name="slack:T1:C09", platform="slack", id="C09", time="13:00",
                     timezone="UTC", team="T1")
CONFIGURED = ChannelConfig(name="papers", platform="slack", id="C01", time="14:00",
                           timezone="UTC")


@pytest.fixture
async def daily(start_scheduler: StartScheduler, clock: FakeClock,
                posts: RecordingPost) -> DailyScheduler:
    return await start_scheduler([CONFIGURED], posts, store=MemoryStore(), clock=clock,
                                 addresses={CONFIGURED.name: where(CONFIGURED)})


def chat_calls(posts: RecordingPost) -> list[tuple[str, date]]:
    return [call for call in posts.calls if call[0] == CHAT.name]


async def at(daily: DailyScheduler, clock: FakeClock, hour: int, minute: int = 0) -> None:
    clock.now = datetime(2026, 5, 11, hour, minute, tzinfo=UTC)
    await daily.run_due()


async def test_channel_added_while_running_posts_at_its_time(
    daily: DailyScheduler, clock: FakeClock, posts: RecordingPost,
) -> None:
    daily.set_channel(CHAT, where(CHAT))
    await at(daily, clock, 13)
    assert chat_calls(posts) == [(CHAT.name, MONDAY)]


async def test_added_channel_shows_in_next_runs(daily: DailyScheduler) -> None:
    daily.set_channel(CHAT, where(CHAT))
    assert daily.next_runs()[CHAT.name] == datetime(2026, 5, 11, 13, 0, tzinfo=UTC)


async def test_rescheduled_channel_posts_at_the_new_time_only(
    daily: DailyScheduler, clock: FakeClock, posts: RecordingPost,
) -> None:
    daily.set_channel(CHAT, where(CHAT))
    daily.set_channel(replace(CHAT, time="12:30"), where(CHAT))
    await at(daily, clock, 12, 30)
    await at(daily, clock, 13)
    assert chat_calls(posts) == [(CHAT.name, MONDAY)] and posts.times[CHAT.name] == [
        datetime(2026, 5, 11, 12, 30, tzinfo=UTC)]


async def test_rescheduling_after_todays_post_does_not_post_again_today(
    daily: DailyScheduler, clock: FakeClock, posts: RecordingPost,
) -> None:
    daily.set_channel(CHAT, where(CHAT))
    await at(daily, clock, 13)
    daily.set_channel(replace(CHAT, time="15:00"), where(CHAT))
    await at(daily, clock, 15)
    assert chat_calls(posts) == [(CHAT.name, MONDAY)]


async def test_time_already_past_today_waits_for_tomorrow(
    daily: DailyScheduler, clock: FakeClock, posts: RecordingPost,
) -> None:
    daily.set_channel(replace(CHAT, time="11:00"), where(CHAT))
    await at(daily, clock, 23, 59)
    assert chat_calls(posts) == []


async def test_removed_channel_does_not_post(
    daily: DailyScheduler, clock: FakeClock, posts: RecordingPost,
) -> None:
    daily.set_channel(CHAT, where(CHAT))
    daily.remove_channel(CHAT.name)
    await at(daily, clock, 13)
    assert chat_calls(posts) == []


async def test_removing_one_channel_leaves_the_others(
    daily: DailyScheduler, clock: FakeClock, posts: RecordingPost,
) -> None:
    daily.set_channel(CHAT, where(CHAT))
    daily.remove_channel(CHAT.name)
    await at(daily, clock, 14)
    assert posts.calls == [(CONFIGURED.name, MONDAY)]


async def test_removing_an_unknown_channel_says_so(daily: DailyScheduler) -> None:
    assert daily.remove_channel("nope") is False


async def test_removed_channel_drops_its_pending_retry(
    daily: DailyScheduler, clock: FakeClock, posts: RecordingPost,
) -> None:
    posts.failures = 1
    daily.set_channel(CHAT, where(CHAT))
    await at(daily, clock, 13)  # fails; a retry is due at 13:10
    daily.remove_channel(CHAT.name)
    await at(daily, clock, 13, 10)
    assert chat_calls(posts) == [(CHAT.name, MONDAY)]


async def test_channel_set_with_no_days_is_not_scheduled(daily: DailyScheduler) -> None:
    daily.set_channel(replace(CHAT, days=()), where(CHAT))
    assert CHAT.name not in daily.next_runs()


async def test_retry_of_a_kept_channel_still_runs(
    daily: DailyScheduler, clock: FakeClock, posts: RecordingPost,
) -> None:
    # The control for the dropped retry above.
    posts.failures = 1
    daily.set_channel(CHAT, where(CHAT))
    await at(daily, clock, 13)
    clock.now += timedelta(minutes=10)
    await daily.run_due()
    assert chat_calls(posts) == [(CHAT.name, MONDAY), (CHAT.name, MONDAY)]
