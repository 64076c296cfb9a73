"""The daily post, exactly once: what goes out, what never goes out twice, and resuming.

`DailyPoster.post` claims (channel, day) in a real TinyDB store, records each message
before and after sending it through a RecordingPublisher, and finishes the claim. A
"crash" is a publisher that raises mid-post (before delivering, or after delivering with the
answer lost) followed by a reopened store and a new Service, as after a restart; the
restarted bot's publisher sees the same channel history, so it can say what landed. The
last section drives the real DailyScheduler with a hand-moved clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import pytest_asyncio

from bot.config import ChannelConfig
from bot.errors import UpstreamError
from bot.posting import PostOutcome
from bot.schedule import DailyScheduler
from bot.service import Service
from bot.sources.http import DEFAULT_RETRY
from bot.store import PostRecord
from tests.conftest import StartScheduler
from tests.fakes.hf_server import FakeHuggingFace

from .conftest import (
    CHANNEL,
    DAY,
    PICKS,
    TEAM,
    WHERE,
    Item,
    PublishFailed,
    RecordingPublisher,
    Services,
    new_paper,
    post,
)

MINIMAX = PICKS[0]
NEW = "2606.20001"
SATURDAY = date(2026, 6, 13)  # Hugging Face publishes no batch on Saturdays
MONDAY = date(2026, 6, 15)
ALL_KEYS = ("header", *PICKS)  # the post's messages, in sending order


def keys(publisher: RecordingPublisher) -> list[str]:
    """What a publisher sent, as post item keys: "header", "note" or the paper's id."""
    return [s.arxiv_id or s.kind for s in publisher.sent]


async def record(services: Services, day: date = DAY, where: object = WHERE) -> PostRecord:
    found = await services.store.get_post(where, day)  # type: ignore[arg-type]
    assert found is not None
    return found


# --- one post -------------------------------------------------------------------------------


async def test_daily_post_sends_a_header_then_one_message_per_pick(
    service: Service, publisher: RecordingPublisher
) -> None:
    await post(service, publisher)
    assert publisher.kinds == ["header"] + ["pick"] * 5


async def test_daily_post_sends_the_picks_in_rank_order(
    service: Service, publisher: RecordingPublisher
) -> None:
    await post(service, publisher)
    assert publisher.paper_ids == list(PICKS)


async def test_daily_post_goes_to_the_configured_channel(
    service: Service, publisher: RecordingPublisher
) -> None:
    await post(service, publisher)
    assert {s.channel for s in publisher.sent} == {WHERE}


async def test_daily_post_reports_the_messages_it_sent(
    service: Service, publisher: RecordingPublisher
) -> None:
    outcome = await post(service, publisher)
    assert outcome == PostOutcome(CHANNEL.name, DAY, "posted", 6)


async def test_each_pick_message_is_recorded_as_carrying_its_paper(
    service: Service, services: Services, publisher: RecordingPublisher
) -> None:
    await post(service, publisher)
    carried = {s.arxiv_id: await services.store.paper_for_message(s.ref)
               for s in publisher.sent if s.kind == "pick"}
    assert carried == {arxiv_id: arxiv_id for arxiv_id in PICKS}


async def test_finished_post_is_recorded_as_posted(
    service: Service, services: Services, publisher: RecordingPublisher
) -> None:
    await post(service, publisher)
    assert (await record(services)).status == "posted"


async def test_finished_post_records_every_message_id(
    service: Service, services: Services, publisher: RecordingPublisher
) -> None:
    await post(service, publisher)
    items = (await record(services)).items
    assert [(i.key, i.message_id) for i in items] == [
        (key, s.message_id) for key, s in zip(keys(publisher), publisher.sent, strict=True)
    ]


async def test_second_post_the_same_day_sends_nothing(service: Service) -> None:
    await post(service, RecordingPublisher())
    again = RecordingPublisher()
    await post(service, again)
    assert again.sent == []


async def test_second_post_the_same_day_reports_already(service: Service) -> None:
    await post(service, RecordingPublisher())
    outcome = await post(service, RecordingPublisher())
    assert (outcome.status, outcome.sent) == ("already", 0)


async def test_second_post_after_a_restart_sends_nothing(services: Services) -> None:
    await post(services.make(), RecordingPublisher())
    await services.reopen()
    again = RecordingPublisher()
    await post(services.make(), again)
    assert again.sent == []


async def test_two_posts_started_at_once_send_one_post(
    service: Service, publisher: RecordingPublisher
) -> None:
    await asyncio.gather(*(post(service, publisher) for _ in range(3)))
    assert keys(publisher) == list(ALL_KEYS)


async def test_post_to_another_channel_the_same_day_is_its_own_post(
    services: Services,
) -> None:
    other = replace(CHANNEL, name="papers-2", id="C0PAPERS2")
    service = services.make(CHANNEL, other)
    await post(service, RecordingPublisher())
    second = RecordingPublisher()
    await post(service, second, channel=other)
    assert second.paper_ids == list(PICKS)


# --- a crash mid-post, then a restart -------------------------------------------------------


@pytest_asyncio.fixture(
    params=[("fail", 1), ("fail", 3), ("fail", 6), ("lost", 1), ("lost", 3), ("lost", 6)],
    ids=["not-delivered-header", "not-delivered-2nd-pick", "not-delivered-last-pick",
         "delivered-header", "delivered-2nd-pick", "delivered-last-pick"],
)
async def crashed(request: pytest.FixtureRequest, services: Services) -> RecordingPublisher:
    """A post whose n-th send raised (the process "died" there) — the message either never
    reached the channel ("fail") or did, with its answer lost ("lost") — then a restart."""
    how, at = request.param
    failing = (RecordingPublisher(fail_at=at) if how == "fail"
               else RecordingPublisher(lost_answer_at=at))
    with pytest.raises(PublishFailed):
        await post(services.make(), failing)
    await services.reopen()
    return failing


def _in_flight(failing: RecordingPublisher) -> str:
    return ALL_KEYS[failing.attempts - 1]


def _resumed(crashed: RecordingPublisher) -> RecordingPublisher:
    # The restarted bot talks to the same channel: its history is the crashed one's.
    return RecordingPublisher(history=crashed.sent)


async def test_resume_asks_the_platform_only_about_the_message_in_flight(
    services: Services, crashed: RecordingPublisher
) -> None:
    resumed = _resumed(crashed)
    await post(services.make(), resumed)
    assert resumed.lookups == [_in_flight(crashed)]


async def test_crash_and_resume_post_every_message_exactly_once(
    services: Services, crashed: RecordingPublisher
) -> None:
    resumed = _resumed(crashed)
    await post(services.make(), resumed)
    assert keys(resumed) == list(ALL_KEYS)


async def test_resume_resends_a_message_that_never_reached_the_channel(
    services: Services, crashed: RecordingPublisher
) -> None:
    before = len(crashed.sent)
    resumed = _resumed(crashed)
    await post(services.make(), resumed)
    resent = [s.key for s in resumed.sent[before:]]
    assert (resent[:1] == [_in_flight(crashed)]) == (crashed.fail_at is not None)


async def test_a_message_that_landed_is_recorded_under_its_real_id(
    services: Services, crashed: RecordingPublisher
) -> None:
    await post(services.make(), _resumed(crashed))
    landed = next(s for s in crashed.sent if s.key == _in_flight(crashed))
    items = {i.key: i.message_id for i in (await record(services)).items}
    assert items[landed.key] == landed.message_id


async def test_resumed_post_reports_resumed(
    services: Services, crashed: RecordingPublisher
) -> None:
    outcome = await post(services.make(), _resumed(crashed))
    assert outcome.status == "resumed"


async def test_resumed_post_is_recorded_as_posted(
    services: Services, crashed: RecordingPublisher
) -> None:
    await post(services.make(), _resumed(crashed))
    assert (await record(services)).status == "posted"


async def test_post_after_the_resume_sends_nothing(
    services: Services, crashed: RecordingPublisher
) -> None:
    resumed = _resumed(crashed)
    await post(services.make(), resumed)
    count = len(resumed.sent)
    await post(services.make(), resumed)
    assert len(resumed.sent) == count


async def test_a_platform_that_cannot_say_leaves_the_post_for_a_later_attempt(
    services: Services, crashed: RecordingPublisher
) -> None:
    class Unsure(RecordingPublisher):
        async def find_posted(self, out, since):  # type: ignore[no-untyped-def]
            raise UpstreamError("history unavailable", source="test")

    unsure = Unsure(history=crashed.sent)
    before = len(crashed.sent)
    with pytest.raises(UpstreamError):
        await post(services.make(), unsure)
    assert len(unsure.sent) == before


async def test_message_refused_by_the_platform_is_sent_by_the_retry(
    services: Services,
) -> None:
    refusing = RecordingPublisher(refuse_at=3)
    with pytest.raises(UpstreamError):
        await post(services.make(), refusing)
    retry = RecordingPublisher(history=refusing.sent)
    await post(services.make(), retry)
    assert keys(retry) == list(ALL_KEYS)


async def test_claim_left_by_another_host_is_resumed_on_an_exclusive_store(
    services: Services,
) -> None:
    await services.store.claim_post(WHERE, DAY, "old-container:1",
                                    services.clock.now - timedelta(minutes=5))
    publisher = RecordingPublisher()
    outcome = await post(services.make(), publisher)
    assert (outcome.status, keys(publisher)) == ("resumed", list(ALL_KEYS))


async def test_post_that_failed_fetching_the_day_is_completed_by_a_retry(
    services: Services, hf_fake: FakeHuggingFace
) -> None:
    # Hugging Face down at posting time must not lose the day for a later attempt.
    hf_fake.fail_next("/api/daily_papers", status=503, times=DEFAULT_RETRY.attempts)
    with pytest.raises(UpstreamError):
        await post(services.make(), RecordingPublisher())
    retry = RecordingPublisher()
    await post(services.make(), retry)
    assert keys(retry) == list(ALL_KEYS)


# --- later days -----------------------------------------------------------------------------


async def test_next_day_never_repicks_a_paper_posted_before(
    service: Service, hf_fake: FakeHuggingFace, sample_items: list[Item]
) -> None:
    await post(service, RecordingPublisher())
    hf_fake.add_batch(MONDAY, [*sample_items, new_paper(sample_items[0], NEW, "A New Paper")])
    monday = RecordingPublisher()
    await post(service, monday, day=MONDAY)
    assert monday.paper_ids == [NEW]


async def test_v2_of_posted_paper_is_not_new(
    service: Service, hf_fake: FakeHuggingFace, sample_items: list[Item]
) -> None:
    await post(service, RecordingPublisher())
    v2 = new_paper(sample_items[1], f"{MINIMAX}v2", "MiniMax Sparse Attention (v2)")
    hf_fake.add_batch(MONDAY, [v2, new_paper(sample_items[0], NEW, "A New Paper")])
    monday = RecordingPublisher()
    await post(service, monday, day=MONDAY)
    assert monday.paper_ids == [NEW]


async def test_day_with_only_papers_posted_before_is_empty(
    service: Service, hf_fake: FakeHuggingFace, sample_items: list[Item]
) -> None:
    await post(service, RecordingPublisher())
    hf_fake.add_batch(MONDAY, sample_items)
    outcome = await post(service, RecordingPublisher(), day=MONDAY)
    assert (outcome.status, outcome.note) == ("empty", "all 5 already posted")


# --- empty days -----------------------------------------------------------------------------

NOTING = replace(CHANNEL, on_empty="note")
SKIPPING = replace(CHANNEL, on_empty="skip")


async def test_empty_day_with_note_sends_one_note(
    services: Services, publisher: RecordingPublisher
) -> None:
    await post(services.make(NOTING), publisher, day=SATURDAY, channel=NOTING)
    assert publisher.kinds == ["note"]


async def test_empty_day_note_says_why(
    services: Services, publisher: RecordingPublisher
) -> None:
    await post(services.make(NOTING), publisher, day=SATURDAY, channel=NOTING)
    assert "no Daily Papers on Saturdays" in publisher.sent[0].text


async def test_empty_day_with_note_is_recorded_as_empty(
    services: Services, publisher: RecordingPublisher
) -> None:
    await post(services.make(NOTING), publisher, day=SATURDAY, channel=NOTING)
    assert (await record(services, SATURDAY)).status == "empty"


async def test_empty_day_reports_empty(services: Services) -> None:
    outcome = await post(services.make(NOTING), RecordingPublisher(), day=SATURDAY, channel=NOTING)
    assert (outcome.status, outcome.sent) == ("empty", 1)


async def test_empty_day_sends_its_note_once(services: Services) -> None:
    service = services.make(NOTING)
    await post(service, RecordingPublisher(), day=SATURDAY, channel=NOTING)
    again = RecordingPublisher()
    await post(service, again, day=SATURDAY, channel=NOTING)
    assert again.sent == []


async def test_everything_filtered_out_note_names_the_filter(services: Services) -> None:
    strict = replace(NOTING, min_upvotes=1000)
    publisher = RecordingPublisher()
    await post(services.make(strict), publisher, channel=strict)
    assert "min_upvotes 1000" in publisher.sent[0].text


async def test_empty_day_with_skip_sends_nothing(
    services: Services, publisher: RecordingPublisher
) -> None:
    await post(services.make(SKIPPING), publisher, day=SATURDAY, channel=SKIPPING)
    assert publisher.sent == []


async def test_empty_day_with_skip_is_recorded_as_empty(services: Services) -> None:
    await post(services.make(SKIPPING), RecordingPublisher(), day=SATURDAY, channel=SKIPPING)
    assert (await record(services, SATURDAY)).status == "empty"


async def test_empty_day_with_skip_logs_why(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.posting")
    await post(services.make(SKIPPING), RecordingPublisher(), day=SATURDAY, channel=SKIPPING)
    said = [r.getMessage() for r in caplog.records if r.name == "bot.posting"]
    assert any("nothing to post" in m and "no Daily Papers on Saturdays" in m for m in said)


# --- force ----------------------------------------------------------------------------------


async def test_force_reposts_the_same_picks(service: Service) -> None:
    await post(service, RecordingPublisher())
    forced = RecordingPublisher()
    await post(service, forced, force=True)
    assert keys(forced) == list(ALL_KEYS)


async def test_force_reports_posted(service: Service) -> None:
    await post(service, RecordingPublisher())
    outcome = await post(service, RecordingPublisher(), force=True)
    assert (outcome.status, outcome.sent) == ("posted", 6)


async def test_reaction_on_a_message_of_the_first_post_still_counts_after_force(
    service: Service, services: Services,
) -> None:
    first = RecordingPublisher()
    await post(service, first)
    await post(service, RecordingPublisher(), force=True)
    assert await services.store.paper_for_message(first.message_of(MINIMAX).ref) == MINIMAX


async def test_post_after_a_forced_post_sends_nothing(service: Service) -> None:
    await post(service, RecordingPublisher(), force=True)
    again = RecordingPublisher()
    await post(service, again)
    assert again.sent == []


# --- many channels --------------------------------------------------------------------------


def _channels(count: int, **profile: object) -> tuple[ChannelConfig, ...]:
    return tuple(
        replace(CHANNEL, name=f"papers-{n:03d}", id=f"C{n:09d}", **profile)  # type: ignore[arg-type]
        for n in range(count)
    )


@pytest_asyncio.fixture
async def twenty_posted(
    services: Services, publisher: RecordingPublisher
) -> tuple[ChannelConfig, ...]:
    """Twenty channels posting the same day at once, as the scheduler fires them."""
    channels = _channels(20)
    service = services.make(*channels)
    await asyncio.gather(*(post(service, publisher, channel=c) for c in channels))
    return channels


async def test_channels_posting_the_same_day_share_one_fetch_of_it(
    twenty_posted: tuple[ChannelConfig, ...], hf_fake: FakeHuggingFace
) -> None:
    assert hf_fake.requests["/api/daily_papers"] == 1


async def test_every_channel_posting_the_same_day_gets_its_whole_post(
    twenty_posted: tuple[ChannelConfig, ...], publisher: RecordingPublisher
) -> None:
    per_channel = {c.id: [s.arxiv_id or s.kind for s in publisher.sent
                          if s.channel.channel == c.id] for c in twenty_posted}
    assert per_channel == {c.id: list(ALL_KEYS) for c in twenty_posted}


# --- the team's list shapes the picks -------------------------------------------------------


async def test_candidate_similar_to_a_saved_paper_says_so(
    service: Service, hf_fake: FakeHuggingFace, sample_items: list[Item],
    publisher: RecordingPublisher,
) -> None:
    # On the list: an earlier paper with MiniMax's abstract under another title.
    earlier = new_paper(sample_items[1], "2605.11111", "Sparse Attention at Scale")
    hf_fake.add_paper(earlier["paper"])
    await service.save(WHERE, "ana", "2605.11111")
    await post(service, publisher)
    assert "similar to 'Sparse Attention at Scale' (saved by ana)" in (
        publisher.message_of(MINIMAX).text
    )


async def test_saved_paper_of_another_team_shapes_nothing(
    service: Service, hf_fake: FakeHuggingFace, sample_items: list[Item],
    publisher: RecordingPublisher,
) -> None:
    earlier = new_paper(sample_items[1], "2605.11111", "Sparse Attention at Scale")
    hf_fake.add_paper(earlier["paper"])
    await service.save(replace(WHERE, team="T0OTHER"), "ana", "2605.11111")
    await post(service, publisher)
    assert "similar to" not in publisher.message_of(MINIMAX).text


# --- the scheduler drives the post ----------------------------------------------------------

# 09:00 in Paris on Friday 12 June 2026 (CEST, UTC+2).
PARIS = replace(CHANNEL, time="09:00", timezone="Europe/Paris", days=("fri",))
NINE_IN_PARIS = datetime(2026, 6, 12, 7, 0, tzinfo=UTC)

Start = Callable[..., Awaitable[DailyScheduler]]


@pytest.fixture
def start(services: Services, start_scheduler: StartScheduler) -> Start:
    """Start a DailyScheduler whose `post` is a fresh Service's daily post to `publisher`."""

    async def _start(publisher: RecordingPublisher, *,
                     grace: timedelta = timedelta(hours=1)) -> DailyScheduler:
        service = services.make(PARIS)
        return await start_scheduler(
            [PARIS], lambda channel, day: post(service, publisher, day=day, channel=channel),
            store=services.store, clock=services.clock, grace=grace,
            addresses={PARIS.name: WHERE},
        )

    return _start


async def test_scheduler_posts_at_the_channels_time(
    start: Start, services: Services, publisher: RecordingPublisher
) -> None:
    services.clock.now = NINE_IN_PARIS - timedelta(seconds=1)
    scheduler = await start(publisher)
    services.clock.now = NINE_IN_PARIS
    await scheduler.run_due()
    assert keys(publisher) == list(ALL_KEYS)


async def test_scheduler_posts_nothing_before_the_channels_time(
    start: Start, services: Services, publisher: RecordingPublisher
) -> None:
    services.clock.now = NINE_IN_PARIS - timedelta(minutes=5)
    scheduler = await start(publisher)
    services.clock.now = NINE_IN_PARIS - timedelta(seconds=1)
    await scheduler.run_due()
    assert publisher.sent == []


async def test_scheduler_posts_once_however_often_it_wakes(
    start: Start, services: Services, publisher: RecordingPublisher
) -> None:
    services.clock.now = NINE_IN_PARIS - timedelta(seconds=1)
    scheduler = await start(publisher)
    for minutes in (0, 0, 5, 30, 59):
        services.clock.now = NINE_IN_PARIS + timedelta(minutes=minutes)
        await scheduler.run_due()
    assert keys(publisher) == list(ALL_KEYS)


async def test_restart_within_grace_does_not_post_again(
    start: Start, services: Services
) -> None:
    services.clock.now = NINE_IN_PARIS - timedelta(seconds=1)
    first = await start(RecordingPublisher())
    services.clock.now = NINE_IN_PARIS
    await first.run_due()
    await first.shutdown()
    await services.reopen()
    services.clock.now = NINE_IN_PARIS + timedelta(minutes=20)
    after_restart = RecordingPublisher()
    await (await start(after_restart)).run_due()
    assert after_restart.sent == []


async def test_missed_post_within_grace_is_caught_up_at_start(
    start: Start, services: Services, publisher: RecordingPublisher
) -> None:
    services.clock.now = NINE_IN_PARIS + timedelta(minutes=30)
    await start(publisher)
    assert keys(publisher) == list(ALL_KEYS)


async def test_missed_post_beyond_grace_is_not_caught_up(
    start: Start, services: Services, publisher: RecordingPublisher
) -> None:
    services.clock.now = NINE_IN_PARIS + timedelta(minutes=61)
    await start(publisher)
    assert publisher.sent == []


async def test_restart_within_grace_after_a_crash_mid_post_sends_the_rest(
    start: Start, services: Services
) -> None:
    services.clock.now = NINE_IN_PARIS - timedelta(seconds=1)
    crashing = RecordingPublisher(fail_at=3)
    first = await start(crashing)
    services.clock.now = NINE_IN_PARIS
    await first.run_due()  # the post raises on its 3rd message; the scheduler logs it
    await first.shutdown()
    await services.reopen()
    services.clock.now = NINE_IN_PARIS + timedelta(minutes=10)
    after_restart = RecordingPublisher(history=crashing.sent)  # the same channel
    await start(after_restart)
    assert keys(after_restart) == list(ALL_KEYS)


def test_channel_team_is_the_one_reactions_use() -> None:
    # Guards the fixtures: posts and reactions must address the same team.
    assert (CHANNEL.team, WHERE.team) == (TEAM, TEAM)


def test_sample_day_is_a_friday() -> None:
    # Guards the scheduler tests: PARIS posts on Fridays only.
    assert DAY.weekday() == 4 and NINE_IN_PARIS.date() == DAY
