"""Move a PostgreSQL bot's state back into a data directory: `paperboy db export --to DATA_DIR`.

One job, the way back of bot.store.pg_import: copy, without loss, what the database holds
into a TinyDBStore, so a team that moved to PostgreSQL can return to one process — team state
(reading lists with every saver in order, the post ledger: each day's claim with its status,
owner and items, and the items of released claims, so nothing is posted twice and no pick is
lost; channel setups; meta) and the caches worth keeping (papers and summaries). The
database is only read.

Safe to run again: every write is skipped when already there, and the report counts what was
copied now and what was already present. A data directory that already holds state (the one the
bot moved from, typically) is merged into, never wiped: a list keeps its savers and gains the
database's; a day whose claim differs takes the database's (a replica may have finished it
since), and the messages of the one it replaces stay in the ledger, so none is sent again. Meta
values, papers and summaries the database holds win. The directory is opened as its writer, so a
bot running on it is refused (StoreLocked) rather than written under; a missing one is created.
What the Store protocol cannot enumerate (every post record, meta key and summary) comes from
PostgresStore's `all_*` reads; post records are written as they were by
TinyDBStore.import_post.
Called by `paperboy db export`; tested in tests/store/test_pg_export.py and
tests/service/test_posting_after_db_export.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from bot.store.copying import (
    CopyReport,
    copy_channel_setups,
    copy_claim,
    copy_lists,
    copy_meta,
    copy_papers,
    copy_summary,
)
from bot.store.postgres import PostgresStore
from bot.store.tinydb import TinyDBStore


@dataclass
class ExportReport(CopyReport):
    """What an export copied (`moved`) and found already there (`present`), by kind."""

    created: bool = False  # the data directory did not exist and was made

    done: ClassVar[str] = "exported"
    nothing: ClassVar[str] = "nothing to export: the database holds no state"

    def lines(self) -> list[str]:
        return ["created the data directory"] * self.created + super().lines()


async def export_to_data_dir(source: PostgresStore, data_dir: Path) -> ExportReport:
    """Copy everything in `source` into `data_dir`; see the module docstring."""
    report = ExportReport(created=not await asyncio.to_thread(data_dir.exists))
    target = await TinyDBStore.open(data_dir)
    try:
        await copy_papers(source, target, report)
        for arxiv_id, summarizer, summary in await source.all_summaries():
            await copy_summary(target, arxiv_id, summarizer, summary, report)
        await copy_lists(source, target, report)
        await _posts(source, target, report)
        await copy_channel_setups(source, target, report)
        for key, value in (await source.all_meta()).items():
            await copy_meta(target, key, value, report)
    finally:
        await target.close()
    return report


async def _posts(source: PostgresStore, target: TinyDBStore, report: ExportReport) -> None:
    for record, released in await source.all_posts():
        if not released:
            await copy_claim(target, record, report)
        elif record.items:  # a released claim that sent nothing leaves nothing to keep
            report.count("released posts", await target.import_post(record, released=True))


__all__ = ["ExportReport", "export_to_data_dir"]
