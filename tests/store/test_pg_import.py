"""`paperboy db import` moves a TinyDB bot's state into PostgreSQL without loss, says what
it moved, and can run again without copying anything twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.errors import StoreLocked
from bot.models import ChatRef, Summary
from bot.store import PostItem
from bot.store.pg_import import import_data_dir
from bot.store.postgres import PostgresStore
from bot.store.tinydb import TinyDBStore
from tests.fakes.postgres import Database

from ._factories import (
    CHANNEL,
    DAY,
    DISCORD_CHANNEL,
    OTHER_CHANNEL,
    SETUP,
    T0,
    full_paper,
    paper,
    saver,
)


async def _fill(data_dir: Path) -> None:
    store = await TinyDBStore.open(data_dir)
    try:
        await store.put_papers([full_paper(), paper("2505.00002"), paper("hep-th/9901001")])
        await store.put_summary("2505.01234", "llm", Summary("Short.", "llm", "m-1"))
        await store.put_summary("2505.01234", "extractive", Summary("Plain.", "extractive"))
        await store.save("slack", "T1", full_paper(), saver("U1"))
        await store.save("slack", "T1", paper("2505.01234", title="Later"), saver("U2", 5))
        await store.save("slack", "T1", paper("2505.00002"), saver("U3", 9, where=CHANNEL))
        await store.save("discord", "G1", paper("2505.00002"), saver("7", 1))
        # Yesterday: posted in full. The day before: posted, then released by --force.
        yesterday = DAY - timedelta(days=1)
        await store.claim_post(CHANNEL, yesterday, "host:1", T0,
                               [PostItem("header", None, "1.0")])
        await store.record_items(CHANNEL, yesterday, [
            PostItem("2505.01234", "2505.01234", "1.1"),
            PostItem("2505.00002", "2505.00002", "1.2")], status="posted")
        before = DAY - timedelta(days=2)
        await store.claim_post(CHANNEL, before, "host:1", T0,
                               [PostItem("2505.11111", "2505.11111", "0.1")])
        await store.finish_post(CHANNEL, before, "posted")
        await store.release_post(CHANNEL, before)
        # Today: interrupted, one message of unknown fate.
        await store.claim_post(CHANNEL, DAY, "host:2", T0, [PostItem("header", None, "2.0")])
        await store.record_items(CHANNEL, DAY, [PostItem("2505.22222", "2505.22222", None)])
        await store.claim_post(OTHER_CHANNEL, DAY, "host:2", T0)
        await store.finish_post(OTHER_CHANNEL, DAY, "empty")
        await store.claim_post(DISCORD_CHANNEL, DAY, "host:3", T0, [PostItem("note", None, "99")])
        await store.finish_post(DISCORD_CHANNEL, DAY, "empty")
        await store.put_channel_setup(SETUP)
        await store.set_meta("backfill", {"done": ["2025-04"], "n": 3})
    finally:
        await store.close()


@pytest.fixture
async def target(pg_database: Database) -> AsyncIterator[PostgresStore]:
    store = await PostgresStore.open(pg_database.url, password=pg_database.password)
    yield store
    await store.close()


@pytest.fixture
async def data_dir(tmp_path: Path) -> Path:
    await _fill(tmp_path / "data")
    return tmp_path / "data"


async def test_every_piece_of_team_state_arrives(data_dir: Path, target: PostgresStore) -> None:
    await import_data_dir(data_dir, target)
    source = await TinyDBStore.open(data_dir, readonly=True)
    try:
        for channel in (CHANNEL, OTHER_CHANNEL, DISCORD_CHANNEL):
            assert await target.posted_ids(channel) == await source.posted_ids(channel)
            for back in range(3):
                day = DAY - timedelta(days=back)
                assert await target.get_post(channel, day) == await source.get_post(channel, day)
        for team in (("slack", "T1"), ("discord", "G1")):
            assert await target.saved_papers(*team) == await source.saved_papers(*team)
        assert await target.known_teams() == await source.known_teams()
        assert await target.channel_setups() == [SETUP]
        assert await target.get_meta("backfill") == {"done": ["2025-04"], "n": 3}
    finally:
        await source.close()


async def test_a_message_of_a_released_post_still_leads_to_its_paper(
    data_dir: Path, target: PostgresStore,
) -> None:
    await import_data_dir(data_dir, target)
    assert await target.paper_for_message(ChatRef("slack", "T1", "C1", "0.1")) == "2505.11111"


async def test_caches_arrive_too(data_dir: Path, target: PostgresStore) -> None:
    await import_data_dir(data_dir, target)
    papers = await target.get_papers(["2505.01234", "2505.00002", "hep-th/9901001"])
    summary = await target.get_summaries(["2505.01234"], "llm", "m-1")
    assert (papers["2505.01234"], len(papers), summary["2505.01234"].text) == (
        full_paper(), 3, "Short.")


async def test_the_report_says_what_was_moved(data_dir: Path, target: PostgresStore) -> None:
    report = await import_data_dir(data_dir, target)
    assert report.lines() == [
        "papers: 3 imported, 0 already there",
        "summaries: 2 imported, 0 already there",
        "list saves: 4 imported, 0 already there",
        "daily posts: 4 imported, 0 already there",
        "post messages: 6 imported, 0 already there",
        "released posts: 1 imported, 0 already there",
        "channel setups: 1 imported, 0 already there",
        "meta values: 1 imported, 0 already there",
    ]


async def test_running_it_again_copies_nothing_twice(data_dir: Path,
                                                     target: PostgresStore) -> None:
    await import_data_dir(data_dir, target)
    report = await import_data_dir(data_dir, target)
    assert report.moved == {}


async def test_running_it_again_keeps_the_list_as_it_was(data_dir: Path,
                                                         target: PostgresStore) -> None:
    await import_data_dir(data_dir, target)
    first = await target.saved_papers("slack", "T1")
    await import_data_dir(data_dir, target)
    assert await target.saved_papers("slack", "T1") == first


async def test_a_bot_still_running_on_the_directory_is_refused(
    data_dir: Path, target: PostgresStore,
) -> None:
    running = await TinyDBStore.open(data_dir)
    try:
        with pytest.raises(StoreLocked):
            await import_data_dir(data_dir, target)
    finally:
        await running.close()


async def test_an_empty_directory_says_there_was_nothing(tmp_path: Path,
                                                         target: PostgresStore) -> None:
    report = await import_data_dir(tmp_path, target)
    assert report.lines() == ["nothing to import: the data directory holds no state"]
