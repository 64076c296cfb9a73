"""Replicas on one PostgreSQL post each channel's day exactly once, and take over the post of
a replica that died mid-post — only after its lease ran out, and only one of them.

Each replica is a real Service with its own PostgresStore (its own pool) on one real
database, posting through a RecordingPublisher that shares the channel's history with the
others (one chat channel). The processes of other replicas are named by owner strings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from bot.config import Config
from bot.service import Service
from bot.store import PostItem
from bot.store.postgres import PostgresStore
from bot.summarize import Summarizer
from tests.fakes.postgres import Database

from .conftest import (
    CHANNEL,
    DAY,
    PICKS,
    WHERE,
    Clock,
    HuggingFaceClient,
    PublishFailed,
    RecordingPublisher,
    Sent,
    post,
)

ALL_KEYS = ["header", *PICKS]
SHORT_LEASE = timedelta(milliseconds=300)


class Replicas:
    def __init__(self, database: Database, hf: HuggingFaceClient, clock: Clock) -> None:
        self.database, self.hf, self.clock = database, hf, clock
        self.stores: list[PostgresStore] = []

    async def start(self, name: str, lease: timedelta = SHORT_LEASE) -> Service:
        store = await PostgresStore.open(self.database.url, password=self.database.password,
                                         lease=lease)
        self.stores.append(store)
        service = Service(Config(channels=(CHANNEL,)), store=store, hf=self.hf,
                          summarizer=Summarizer(store), clock=self.clock)
        service.poster.owner = f"{name}:1"  # a process of another host
        return service


@pytest_asyncio.fixture
async def replicas(pg_database: Database, hf_client: HuggingFaceClient,
                   clock: Clock) -> AsyncIterator[Replicas]:
    built = Replicas(pg_database, hf_client, clock)
    yield built
    for store in built.stores:
        await store.close()


def keys(history: list[Sent]) -> list[str]:
    return [s.arxiv_id or s.kind for s in history]


async def test_three_replicas_at_once_post_the_day_once(replicas: Replicas) -> None:
    history: list[Sent] = []
    services = [await replicas.start(f"replica-{i}") for i in range(3)]
    await asyncio.gather(*(post(s, RecordingPublisher(history=history)) for s in services))
    assert keys(history) == ALL_KEYS


async def test_the_replicas_that_lose_the_claim_say_so(replicas: Replicas) -> None:
    history: list[Sent] = []
    services = [await replicas.start(f"replica-{i}") for i in range(3)]
    outcomes = await asyncio.gather(
        *(post(s, RecordingPublisher(history=history)) for s in services))
    assert sorted(o.status for o in outcomes) == ["already", "already", "posted"]


async def _died_mid_post(replicas: Replicas, history: list[Sent]) -> None:
    """A replica on another host claimed the day, sent the header and the first pick (whose
    answer it never recorded), then died: its lease runs out."""
    dead = await replicas.start("dead-host")
    first = RecordingPublisher(history=history, lost_answer_at=2)
    with pytest.raises(PublishFailed):  # the answer never came: the process is gone
        await post(dead, first)


async def test_a_live_lease_keeps_other_replicas_off(replicas: Replicas) -> None:
    history: list[Sent] = []
    await _died_mid_post(replicas, history)
    other = await replicas.start("replica-b", lease=timedelta(minutes=5))
    outcome = await post(other, RecordingPublisher(history=history))
    assert (outcome.status, keys(history)) == ("already", ["header", PICKS[0]])


async def test_after_the_lease_one_replica_finishes_the_post_without_repeats(
    replicas: Replicas,
) -> None:
    history: list[Sent] = []
    await _died_mid_post(replicas, history)
    await asyncio.sleep(SHORT_LEASE.total_seconds() * 2)
    takers = [await replicas.start(f"replica-{i}") for i in range(3)]
    outcomes = await asyncio.gather(
        *(post(s, RecordingPublisher(history=history)) for s in takers))
    assert (sorted(o.status for o in outcomes), keys(history)) == (
        ["already", "already", "resumed"], ALL_KEYS)


async def test_the_message_of_unknown_fate_is_found_not_resent(replicas: Replicas) -> None:
    history: list[Sent] = []
    await _died_mid_post(replicas, history)
    await asyncio.sleep(SHORT_LEASE.total_seconds() * 2)
    taker = await replicas.start("replica-b")
    outcome = await post(taker, RecordingPublisher(history=history))
    assert outcome.found == 1


async def test_an_expired_lease_is_listed_for_takeover(replicas: Replicas) -> None:
    history: list[Sent] = []
    await _died_mid_post(replicas, history)
    await asyncio.sleep(SHORT_LEASE.total_seconds() * 2)
    assert await replicas.stores[0].expired_claims() == [(WHERE, DAY)]


async def test_a_finished_post_is_never_listed_for_takeover(replicas: Replicas) -> None:
    service = await replicas.start("replica-a")
    await post(service, RecordingPublisher())
    await asyncio.sleep(SHORT_LEASE.total_seconds() * 2)
    assert await replicas.stores[0].expired_claims() == []


async def test_a_takeover_is_won_by_one_replica(replicas: Replicas) -> None:
    store = (await replicas.start("a")) and replicas.stores[0]
    await store.claim_post(WHERE, DAY, "gone:1", replicas.clock.now,
                           [PostItem("header", None, None)])
    results = await asyncio.gather(*(store.take_over_post(
        WHERE, DAY, f"taker-{i}:1", "gone:1", owner_gone=True) for i in range(10)))
    assert sum(r is not None for r in results) == 1


async def test_a_claim_abandoned_long_ago_is_not_listed_for_takeover(
    replicas: Replicas,
) -> None:
    history: list[Sent] = []
    await _died_mid_post(replicas, history)
    await asyncio.sleep(SHORT_LEASE.total_seconds() * 2)
    listed = await replicas.stores[0].expired_claims(within=SHORT_LEASE / 2)
    assert listed == []
