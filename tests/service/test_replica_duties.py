"""A replica's own round of duties on a shared PostgreSQL: finish the post of a replica that
died mid-post (nobody's timer fires again for it), and feed its own search index with the
papers other replicas fetched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from bot.config import ChannelConfig, Config
from bot.models import Paper
from bot.replicas import ReplicaDuties
from bot.service import Service
from bot.store.postgres import PostgresStore
from bot.summarize import Summarizer
from tests.fakes.postgres import Database
from tests.store._factories import paper

from .conftest import (
    CHANNEL,
    PICKS,
    Clock,
    HuggingFaceClient,
    PublishFailed,
    RecordingPublisher,
    Sent,
    post,
)

LEASE = timedelta(milliseconds=200)
ELSEWHERE = ChannelConfig(name="other", platform="slack", id="C0OTHER", team="T0PAPERS")


class Replica:
    def __init__(self, store: PostgresStore, service: Service) -> None:
        self.store, self.service = store, service
        self.indexed: list[Paper] = []

    def duties(self, publisher: RecordingPublisher,
               channel: ChannelConfig = CHANNEL) -> ReplicaDuties:
        async def index(papers: list[Paper]) -> None:
            self.indexed.extend(papers)

        return ReplicaDuties(self.store, self.service.poster,
                             lambda: [publisher.target(channel)], index=index)


@pytest_asyncio.fixture
async def start(pg_database: Database, hf_client: HuggingFaceClient,
                clock: Clock) -> AsyncIterator[object]:
    stores: list[PostgresStore] = []

    async def start(name: str) -> Replica:
        store = await PostgresStore.open(pg_database.url, password=pg_database.password,
                                         lease=LEASE, settle=timedelta(0))
        stores.append(store)
        service = Service(Config(channels=(CHANNEL, ELSEWHERE)), store=store, hf=hf_client,
                          summarizer=Summarizer(store), clock=clock)
        service.poster.owner = f"{name}:1"
        return Replica(store, service)

    yield start
    for store in stores:
        await store.close()


async def _dead_replica_left_a_post(start: object, history: list[Sent]) -> None:
    dead = await start("dead-host")  # type: ignore[operator]
    with pytest.raises(PublishFailed):
        await post(dead.service, RecordingPublisher(history=history, fail_at=3))
    await asyncio.sleep(LEASE.total_seconds() * 2)


async def test_a_round_finishes_the_post_a_dead_replica_left(start: object) -> None:
    history: list[Sent] = []
    await _dead_replica_left_a_post(start, history)
    alive = await start("alive")  # type: ignore[operator]
    await alive.duties(RecordingPublisher(history=history)).round()
    assert [s.arxiv_id or s.kind for s in history] == ["header", *PICKS]


async def test_a_round_leaves_a_channel_it_does_not_serve(start: object) -> None:
    history: list[Sent] = []
    await _dead_replica_left_a_post(start, history)
    alive = await start("alive")  # type: ignore[operator]
    finished, _ = await alive.duties(RecordingPublisher(history=history), ELSEWHERE).round()
    assert (finished, len(history)) == (0, 2)


async def test_papers_another_replica_fetched_reach_this_replicas_index(start: object) -> None:
    fetcher = await start("fetcher")  # type: ignore[operator]
    follower = await start("follower")  # type: ignore[operator]
    await fetcher.store.put_papers([paper("2606.00001"), paper("2606.00002")])
    await follower.duties(RecordingPublisher()).round()
    assert sorted(p.arxiv_id for p in follower.indexed) == ["2606.00001", "2606.00002"]


async def test_a_paper_is_offered_again_only_when_it_changed(start: object) -> None:
    fetcher = await start("fetcher")  # type: ignore[operator]
    follower = await start("follower")  # type: ignore[operator]
    duties = follower.duties(RecordingPublisher())
    await fetcher.store.put_papers([paper("2606.00001"), paper("2606.00002")])
    await duties.round()
    await fetcher.store.put_papers([paper("2606.00001"), paper("2606.00002", upvotes=9)])
    _, offered = await duties.round()
    assert offered == 1


async def test_each_round_first_follows_the_channels_set_up_through_other_replicas(
    start: object,
) -> None:
    replica = await start("this-host")  # type: ignore[operator]
    rounds: list[int] = []

    async def follow() -> int:
        rounds.append(len(rounds))
        return 0

    duties = ReplicaDuties(replica.store, replica.service.poster, lambda: [], follow=follow)
    await duties.round()
    await duties.round()
    assert rounds == [0, 1]
