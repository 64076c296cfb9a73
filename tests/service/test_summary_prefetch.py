"""TL;DRs from a slow LLM make the morning post: the scheduler's prefetch job, an hour
before the post (on the controllable clock), summarises the likely picks in the background
through a fake OpenAI-compatible server that takes its time; the 09:00 post, which waits
only `wait` seconds, finds them in the summary cache. Without the prefetch the same post
falls back to the offline TL;DR — the control that shows the prefetch did the work.

A model taking "a minute per paper" is scaled down: the fake sleeps 0.3 s per answer for
real, the post waits 0.05 s, the per-paper timeout is 5 s."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest_asyncio

from bot.config import ChannelConfig, SummariesConfig
from bot.schedule import DailyScheduler
from bot.service import Service
from bot.sources.huggingface import HuggingFaceClient
from bot.summaries import Summarizer
from tests.fakes.clock import FakeClock
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.llm_server import FakeOpenAI
from tests.service.conftest import CHANNEL, DAY, PICKS, Item, RecordingPublisher, Services

AHEAD = timedelta(minutes=60)
SLOW = 0.3  # seconds per answer: the fake's "minute"


@pytest_asyncio.fixture
async def hf_fake(sample_items: list[Item]) -> AsyncIterator[FakeHuggingFace]:
    """The sample batch without Hugging Face's own summaries: every pick needs the LLM."""
    items = copy.deepcopy(sample_items)
    for item in items:
        item["paper"].pop("ai_summary", None)
    async with FakeHuggingFace(batches={DAY: items}) as server:
        yield server


@pytest_asyncio.fixture
async def slow_llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(delay=SLOW) as server:
        yield server


def _summarizer(services: Services, llm: FakeOpenAI, http: httpx.AsyncClient) -> Summarizer:
    config = SummariesConfig(base_url=llm.v1, model="slow-cpu-model", timeout=5.0, wait=0.05,
                             concurrency=1, prefetch_minutes=60)
    return Summarizer(services.store, config, http=http)


async def _morning(
    services: Services, service: Service, summarizer: Summarizer, clock: FakeClock, *,
    prefetch: bool,
) -> RecordingPublisher:
    """Start the scheduler at 07:30, step to 08:00 (the prefetch), then to 09:00 (the post)."""
    publisher = RecordingPublisher()
    target = publisher.target(CHANNEL)

    async def post(channel: ChannelConfig, day: date) -> object:
        return await service.poster.post(target, day)

    async def prefetch_for(channels: object, day: date) -> object:
        return await service.prefetch_summaries([target], day)

    clock.now = datetime(2026, 6, 12, 7, 30, tzinfo=UTC)
    scheduler = DailyScheduler(
        [CHANNEL], post, store=services.store, clock=clock,
        addresses={CHANNEL.name: target.where},
        prefetch=prefetch_for if prefetch else None, prefetch_ahead=AHEAD,
    )
    await scheduler.start()
    try:
        clock.now = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
        await scheduler.run_due()
        if prefetch:
            # The background work of the hour before the post, for real (5 × 0.3 s).
            await summarizer.idle()
        clock.now = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
        await scheduler.run_due()
    finally:
        await scheduler.shutdown()
        await summarizer.aclose()
    return publisher


async def test_the_0900_post_has_the_llm_tldrs_the_prefetch_made(
    services: Services, hf_client: HuggingFaceClient, slow_llm: FakeOpenAI,
    clock: FakeClock, http: httpx.AsyncClient,
) -> None:
    summarizer = _summarizer(services, slow_llm, http)
    service = services.make(summarizer=summarizer)
    publisher = await _morning(services, service, summarizer, clock, prefetch=True)
    assert publisher.paper_ids == list(PICKS)
    assert {arxiv_id: s.source if s else None for arxiv_id, s in publisher.summaries.items()} \
        == dict.fromkeys(PICKS, "llm")


async def test_the_prefetch_asks_the_llm_once_per_paper_and_the_post_not_at_all(
    services: Services, hf_client: HuggingFaceClient, slow_llm: FakeOpenAI,
    clock: FakeClock, http: httpx.AsyncClient,
) -> None:
    summarizer = _summarizer(services, slow_llm, http)
    service = services.make(summarizer=summarizer)
    await _morning(services, service, summarizer, clock, prefetch=True)
    assert slow_llm.completions == len(PICKS)


async def test_without_the_prefetch_the_slow_model_misses_the_post(
    services: Services, hf_client: HuggingFaceClient, slow_llm: FakeOpenAI,
    clock: FakeClock, http: httpx.AsyncClient,
) -> None:
    summarizer = _summarizer(services, slow_llm, http)
    service = services.make(summarizer=summarizer)
    publisher = await _morning(services, service, summarizer, clock, prefetch=False)
    assert publisher.paper_ids == list(PICKS)
    assert {s.source if s else None for s in publisher.summaries.values()} == {"extractive"}


async def test_the_prefetch_runs_at_start_inside_the_hour_before_the_post(
    services: Services, hf_client: HuggingFaceClient, slow_llm: FakeOpenAI,
    clock: FakeClock, http: httpx.AsyncClient,
) -> None:
    summarizer = _summarizer(services, slow_llm, http)
    service = services.make(summarizer=summarizer)
    target = RecordingPublisher().target(CHANNEL)

    async def post(channel: ChannelConfig, day: date) -> object:
        raise AssertionError("no post is due at 08:30")

    async def prefetch_for(channels: object, day: date) -> object:
        return await service.prefetch_summaries([target], day)

    clock.now = datetime(2026, 6, 12, 8, 30, tzinfo=UTC)  # started late: 08:00 has passed
    scheduler = DailyScheduler([CHANNEL], post, store=services.store, clock=clock,
                               addresses={CHANNEL.name: target.where},
                               prefetch=prefetch_for, prefetch_ahead=AHEAD)
    await scheduler.start()
    try:
        await scheduler.run_due()
        await summarizer.idle()
    finally:
        await scheduler.shutdown()
        await summarizer.aclose()
    cached = await services.store.get_summaries(PICKS, "llm", "slow-cpu-model")
    assert set(cached) == set(PICKS)
