"""`paperboy db export` brings a PostgreSQL bot's state back into a data directory without
loss: a TinyDB bot's state goes to a real PostgreSQL (`db import`), gains more there, and comes
back into a new directory on disk equal to what the database holds. It says what it copied,
copies nothing twice, merges into a directory that has state, and refuses a directory a bot
writes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.errors import StoreLocked
from bot.models import ChatRef, Summary
from bot.store import PostItem
from bot.store.pg_export import export_to_data_dir
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

CHANNELS = (CHANNEL, OTHER_CHANNEL, DISCORD_CHANNEL)
DAYS = [DAY + timedelta(days=d) for d in range(-2, 2)]
TEAMS = [("discord", "G1"), ("slack", "T1")]
SUMMARIES = [("2505.01234", "llm", "m-1"), ("2505.01234", "extractive", None),
             ("2505.00002", "llm", "m-2")]


async def _fill_data_dir(data_dir: Path) -> None:
    """A single bot's history: saves and unsaves, a post ledger, a setup, meta and caches."""
    store = await TinyDBStore.open(data_dir)
    try:
        await store.put_papers([full_paper(), paper("2505.00002"), paper("hep-th/9901001")])
        await store.put_summary("2505.01234", "llm", Summary("Short.", "llm", "m-1"))
        await store.put_summary("2505.01234", "extractive", Summary("Plain.", "extractive"))
        for user, minutes in (("U1", 0), ("U2", 3), ("U3", 6)):
            await store.save("slack", "T1", full_paper(), saver(user, minutes))
        await store.unsave("slack", "T1", "2505.01234", "U2")
        await store.save("slack", "T1", paper("2505.00002"), saver("U4", 9, where=CHANNEL))
        await store.save("slack", "T1", paper("2505.03333"), saver("U5", 10))
        await store.unsave("slack", "T1", "2505.03333", "U5")
        await store.save("discord", "G1", paper("hep-th/9901001"), saver("7", 1))
        # Two days ago: posted, released by --force, posted again with another pick.
        before = DAY - timedelta(days=2)
        await store.claim_post(CHANNEL, before, "host:1", T0,
                               [PostItem("2505.11111", "2505.11111", "0.1")])
        await store.finish_post(CHANNEL, before, "posted")
        await store.release_post(CHANNEL, before)
        await store.claim_post(CHANNEL, before, "host:1", T0 + timedelta(hours=1),
                               [PostItem("2505.11112", "2505.11112", "0.2")])
        await store.finish_post(CHANNEL, before, "posted")
        # Yesterday: posted in full.
        yesterday = DAY - timedelta(days=1)
        await store.claim_post(CHANNEL, yesterday, "host:1", T0,
                               [PostItem("header", None, "1.0")])
        await store.record_items(CHANNEL, yesterday, [
            PostItem("2505.01234", "2505.01234", "1.1"),
            PostItem("2505.00002", "2505.00002", "1.2")], status="posted")
        # Today: interrupted, one message of unknown fate; and an empty day elsewhere.
        await store.claim_post(CHANNEL, DAY, "host:2", T0, [PostItem("header", None, "2.0")])
        await store.record_items(CHANNEL, DAY, [PostItem("2505.22222", "2505.22222", None)])
        await store.claim_post(OTHER_CHANNEL, DAY, "host:2", T0)
        await store.finish_post(OTHER_CHANNEL, DAY, "empty")
        await store.put_channel_setup(SETUP)
        await store.set_meta("backfill", {"done": ["2025-04"], "n": 3})
    finally:
        await store.close()


async def _grow_on_postgres(store: PostgresStore) -> None:
    """What the replicas did after the move: a save, posts (one released), meta, a summary."""
    await store.save("slack", "T1", full_paper(), saver("U6", 60))
    # A replica finished the post interrupted before the move.
    await store.record_items(CHANNEL, DAY, [PostItem("2505.22222", "2505.22222", "2.1"),
                                            PostItem("2505.22223", "2505.22223", "2.2")],
                             status="posted")
    await store.claim_post(DISCORD_CHANNEL, DAY, "replica-a:7", T0, [PostItem("note", None, "99")])
    await store.finish_post(DISCORD_CHANNEL, DAY, "empty")
    tomorrow = DAY + timedelta(days=1)
    await store.claim_post(CHANNEL, tomorrow, "replica-b:9", T0 + timedelta(days=1),
                           [PostItem("header", None, "3.0")])
    await store.record_items(CHANNEL, tomorrow, [
        PostItem("2505.33333", "2505.33333", "3.1")], status="posted")
    await store.release_post(CHANNEL, tomorrow)  # --force, then posted again
    await store.claim_post(CHANNEL, tomorrow, "replica-b:9", T0 + timedelta(days=1, hours=1),
                           [PostItem("2505.33334", "2505.33334", "3.2")])
    await store.finish_post(CHANNEL, tomorrow, "posted")
    await store.set_meta("backfill", {"done": ["2025-04", "2025-05"], "n": 4})
    await store.set_meta("slack_installs", ["T1"])
    await store.put_summary("2505.00002", "llm", Summary("Newer.", "llm", "m-2"))


@pytest.fixture
async def pg(pg_database: Database, tmp_path: Path) -> AsyncIterator[PostgresStore]:
    """A database that a TinyDB bot moved to (`db import`) and that then gained state."""
    store = await PostgresStore.open(pg_database.url, password=pg_database.password)
    await _fill_data_dir(tmp_path / "before")
    await import_data_dir(tmp_path / "before", store)
    await _grow_on_postgres(store)
    yield store
    await store.close()


@pytest.fixture
async def exported(pg: PostgresStore, tmp_path: Path) -> AsyncIterator[TinyDBStore]:
    await export_to_data_dir(pg, tmp_path / "after")
    store = await TinyDBStore.open(tmp_path / "after")
    yield store
    await store.close()


async def test_lists_come_back_with_every_saver_in_order(
    pg: PostgresStore, exported: TinyDBStore,
) -> None:
    assert await exported.known_teams() == await pg.known_teams() == TEAMS
    for team in TEAMS:
        assert await exported.saved_papers(*team) == await pg.saved_papers(*team)
    entries = {e.paper.arxiv_id: e for e in await exported.saved_papers("slack", "T1")}
    assert ([s.user for s in entries["2505.01234"].savers], sorted(entries)) == (
        ["U1", "U3", "U6"], ["2505.00002", "2505.01234"])
    assert entries["2505.01234"].paper == full_paper()


async def test_the_post_ledger_comes_back_record_for_record(
    pg: PostgresStore, exported: TinyDBStore,
) -> None:
    for channel in CHANNELS:
        assert await exported.posted_ids(channel) == await pg.posted_ids(channel)
        for day in DAYS:
            assert await exported.get_post(channel, day) == await pg.get_post(channel, day)
    assert await exported.posted_ids(CHANNEL) == {
        "2505.11111", "2505.11112", "2505.01234", "2505.00002", "2505.22222", "2505.22223",
        "2505.33333", "2505.33334"}


async def test_messages_of_released_posts_still_lead_to_their_papers(
    exported: TinyDBStore,
) -> None:
    found = [await exported.paper_for_message(ChatRef("slack", "T1", "C1", m))
             for m in ("0.1", "3.1", "3.2")]
    assert found == ["2505.11111", "2505.33333", "2505.33334"]


async def test_setups_meta_and_caches_come_back(pg: PostgresStore,
                                                exported: TinyDBStore) -> None:
    assert await exported.channel_setups() == await pg.channel_setups() == [SETUP]
    assert {k: await exported.get_meta(k) for k in ("backfill", "slack_installs")} == (
        await pg.all_meta())
    by_id = sorted(await exported.all_papers(), key=lambda p: p.arxiv_id)
    assert by_id == sorted(await pg.all_papers(), key=lambda p: p.arxiv_id)
    assert len(by_id) == 3
    for arxiv_id, summarizer, model in SUMMARIES:
        there = await exported.get_summaries([arxiv_id], summarizer, model)
        assert there == await pg.get_summaries([arxiv_id], summarizer, model) != {}


async def test_the_report_says_what_was_exported(pg: PostgresStore, tmp_path: Path) -> None:
    report = await export_to_data_dir(pg, tmp_path / "after")
    assert report.lines() == [
        "created the data directory",
        "papers: 3 exported, 0 already there",
        "summaries: 3 exported, 0 already there",
        "list saves: 5 exported, 0 already there",
        "released posts: 2 exported, 0 already there",
        "daily posts: 6 exported, 0 already there",
        "post messages: 9 exported, 0 already there",
        "channel setups: 1 exported, 0 already there",
        "meta values: 2 exported, 0 already there",
    ]


async def test_running_it_again_copies_nothing_twice(pg: PostgresStore, tmp_path: Path) -> None:
    await export_to_data_dir(pg, tmp_path / "after")
    ledger = (tmp_path / "after" / "posts").rglob("*.json")
    files = {p: p.read_bytes() for p in ledger}
    again = await export_to_data_dir(pg, tmp_path / "after")
    assert (again.moved, again.present["released posts"], again.present["daily posts"]) == (
        {}, 2, 6)
    assert {p: p.read_bytes() for p in files} == files  # not one ledger file rewritten


async def test_state_already_in_the_directory_is_merged_not_wiped(
    pg: PostgresStore, tmp_path: Path,
) -> None:
    target = tmp_path / "after"
    store = await TinyDBStore.open(target)
    await store.save("slack", "T1", paper("2505.04444"), saver("U9", 120))
    await store.claim_post(OTHER_CHANNEL, DAY + timedelta(days=1), "host:5", T0)
    await store.set_meta("local_only", 1)
    await store.close()
    report = await export_to_data_dir(pg, target)
    store = await TinyDBStore.open(target)
    try:
        listed = [e.paper.arxiv_id for e in await store.saved_papers("slack", "T1")]
        assert (listed, await store.get_meta("local_only"), report.created) == (
            ["2505.04444", "2505.01234", "2505.00002"], 1, False)
        assert (await store.get_post(OTHER_CHANNEL, DAY + timedelta(days=1))) is not None
        assert await store.posted_ids(CHANNEL) == await pg.posted_ids(CHANNEL)
    finally:
        await store.close()


async def test_the_directory_moved_from_is_brought_up_to_date(
    pg: PostgresStore, tmp_path: Path,
) -> None:
    before = tmp_path / "before"
    report = await export_to_data_dir(pg, before)
    store = await TinyDBStore.open(before)
    try:
        for channel in CHANNELS:
            assert await store.posted_ids(channel) == await pg.posted_ids(channel)
            for day in DAYS:
                assert await store.get_post(channel, day) == await pg.get_post(channel, day)
        for team in TEAMS:
            assert await store.saved_papers(*team) == await pg.saved_papers(*team)
        assert await store.get_meta("backfill") == {"done": ["2025-04", "2025-05"], "n": 4}
    finally:
        await store.close()
    # Only what changed since the move: today's finished post replaces the interrupted claim.
    assert report.lines() == [
        "papers: 0 exported, 3 already there",
        "summaries: 1 exported, 2 already there",
        "list saves: 1 exported, 4 already there",
        "released posts: 1 exported, 1 already there",
        "daily posts: 3 exported, 3 already there",
        "post messages: 5 exported, 0 already there",
        "channel setups: 0 exported, 1 already there",
        "meta values: 2 exported, 0 already there",
    ]


async def test_a_directory_a_bot_writes_is_refused_naming_the_bot(
    pg: PostgresStore, tmp_path: Path,
) -> None:
    running = await TinyDBStore.open(tmp_path / "after")
    try:
        with pytest.raises(StoreLocked, match=f"in use by paperboy \\(pid {os.getpid()}"):
            await export_to_data_dir(pg, tmp_path / "after")
        assert await running.known_teams() == []  # nothing was written under it
    finally:
        await running.close()


async def test_an_empty_database_says_there_was_nothing(pg_database: Database,
                                                        tmp_path: Path) -> None:
    store = await PostgresStore.open(pg_database.url, password=pg_database.password)
    try:
        report = await export_to_data_dir(store, tmp_path / "after")
    finally:
        await store.close()
    assert report.lines() == ["created the data directory",
                              "nothing to export: the database holds no state"]
