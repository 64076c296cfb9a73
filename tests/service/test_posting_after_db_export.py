"""Moving back from PostgreSQL to one process keeps the daily post exactly once.

Replicas post through a real Service on a real PostgreSQL; `db export` copies the database
into a new data directory; a single bot (a real Service on a TinyDBStore there) then posts
the same day into the same channel history (a RecordingPublisher sharing it): a finished day
is already posted, and a day a replica died in the middle of is finished without repeating
a message — also when the export goes back into the directory the bot moved from, where a
post interrupted before the move was finished by a replica since.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot import commands
from bot.config import Config
from bot.events import ListReply, ReactionEvent, SaveReply
from bot.service import Service
from bot.store.pg_export import export_to_data_dir
from bot.store.pg_import import import_data_dir
from bot.store.postgres import PostgresStore
from bot.store.tinydb import TinyDBStore
from bot.summarize import Summarizer
from tests.fakes.postgres import Database

from .conftest import (
    CHANNEL,
    PICKS,
    WHERE,
    Clock,
    HuggingFaceClient,
    PublishFailed,
    RecordingPublisher,
    Sent,
    post,
)


class Move:
    """One replica on PostgreSQL, then the single bot on the exported data directory."""

    def __init__(self, pg: PostgresStore, data_dir: Path, hf: HuggingFaceClient,
                 clock: Clock) -> None:
        self.pg, self.data_dir, self.hf, self.clock = pg, data_dir, hf, clock
        self.single: TinyDBStore | None = None

    def replica(self) -> Service:
        service = Service(Config(channels=(CHANNEL,)), store=self.pg, hf=self.hf,
                          summarizer=Summarizer(self.pg), clock=self.clock)
        service.poster.owner = "replica-host:1"
        return service

    async def back_to_one_process(self) -> Service:
        """Every replica stopped: `db export`, then one bot on the data directory."""
        await export_to_data_dir(self.pg, self.data_dir)
        self.single = await TinyDBStore.open(self.data_dir)
        return Service(Config(channels=(CHANNEL,)), store=self.single, hf=self.hf,
                       summarizer=Summarizer(self.single), clock=self.clock)


@pytest_asyncio.fixture
async def move(pg_database: Database, tmp_path: Path, hf_client: HuggingFaceClient,
               clock: Clock) -> AsyncIterator[Move]:
    pg = await PostgresStore.open(pg_database.url, password=pg_database.password)
    built = Move(pg, tmp_path / "data", hf_client, clock)
    yield built
    if built.single is not None:
        await built.single.close()
    await pg.close()


def keys(history: list[Sent]) -> list[str]:
    return [s.arxiv_id or s.kind for s in history]


async def test_a_day_posted_on_postgres_is_already_posted_after_the_move(move: Move) -> None:
    history: list[Sent] = []
    assert (await post(move.replica(), RecordingPublisher(history=history))).status == "posted"
    single = await move.back_to_one_process()
    outcome = await post(single, RecordingPublisher(history=history))
    assert (outcome.status, outcome.sent, keys(history)) == (
        "already", 0, ["header", *PICKS])


async def test_a_pin_on_a_message_posted_from_postgres_still_saves_its_paper(
    move: Move,
) -> None:
    history: list[Sent] = []
    replica = move.replica()
    await post(replica, RecordingPublisher(history=history))
    message = next(s for s in history if s.arxiv_id == PICKS[2])
    await replica.handle_reaction(_pin(message, "U0ANA"), bot_user="U0BOT")
    single = await move.back_to_one_process()
    reply = await single.handle_reaction(_pin(message, "U0BO"), bot_user="U0BOT")
    listed = await single.run_command(WHERE, "U0ANYONE", commands.List())
    assert isinstance(reply, SaveReply) and isinstance(listed, ListReply)
    assert (reply.changed, [(e.paper.arxiv_id, [s.user for s in e.savers])
                            for e in listed.entries]) == (True, [(PICKS[2], ["U0ANA", "U0BO"])])


def _pin(message: Sent, user: str) -> ReactionEvent:
    return ReactionEvent(message.ref, user, "pushpin", True, raw={"reaction": "pushpin"})


async def test_a_day_a_replica_died_in_is_finished_without_repeats(move: Move) -> None:
    history: list[Sent] = []
    with pytest.raises(PublishFailed):  # the second message landed; its answer never came
        await post(move.replica(), RecordingPublisher(history=history, lost_answer_at=2))
    single = await move.back_to_one_process()
    outcome = await post(single, RecordingPublisher(history=history))
    assert (outcome.status, outcome.found, keys(history)) == ("resumed", 1, ["header", *PICKS])
    assert (await post(single, RecordingPublisher(history=history))).status == "already"


async def test_the_directory_moved_from_learns_a_replica_finished_its_interrupted_post(
    move: Move,
) -> None:
    history: list[Sent] = []
    # The single bot, before the move: interrupted after its second message landed.
    before = await TinyDBStore.open(move.data_dir)
    bot = Service(Config(channels=(CHANNEL,)), store=before, hf=move.hf,
                  summarizer=Summarizer(before), clock=move.clock)
    with pytest.raises(PublishFailed):
        await post(bot, RecordingPublisher(history=history, lost_answer_at=2))
    await before.close()
    await import_data_dir(move.data_dir, move.pg)
    # On PostgreSQL, a replica takes the claim over and finishes the post.
    assert (await post(move.replica(), RecordingPublisher(history=history))).status == "resumed"
    single = await move.back_to_one_process()  # into the same directory
    outcome = await post(single, RecordingPublisher(history=history))
    assert (outcome.status, keys(history)) == ("already", ["header", *PICKS])
