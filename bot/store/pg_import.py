"""Move a TinyDB bot's state into PostgreSQL: `paperboy db import --from DATA_DIR`.

One job: copy, without loss, what a data directory holds into a PostgresStore — team state
(reading lists with every saver in order, the post ledger: each day's claim with its status,
owner and items, and the items of released claims; channel setups; meta) and the caches
worth keeping (papers, which feed every replica's search index, and summaries, which may
have cost an LLM call each). Nothing in the data directory is changed or deleted: moving
back is pointing `[storage]` at it again.

Safe to run again: every write is an upsert or is skipped when already there, and the report
counts what was copied now and what was already present. The data directory is opened as
its writer, so a bot still running on it is refused (StoreLocked) rather than copied
mid-write. Post files and summary files are read as the TinyDB store lays them out
(bot.store._layout); everything else goes through the Store protocol.
Called by `paperboy db import`; tested in tests/store/test_pg_import.py.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, ClassVar

from bot.models import ChatRef
from bot.store import PostRecord
from bot.store import _codec as codec
from bot.store._files import read_json
from bot.store._layout import unpart
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


class ImportReport(CopyReport):
    """What an import copied (`moved`) and found already there (`present`), by kind."""

    done: ClassVar[str] = "imported"
    nothing: ClassVar[str] = "nothing to import: the data directory holds no state"


async def import_data_dir(data_dir: Path, target: PostgresStore) -> ImportReport:
    """Copy everything in `data_dir` into `target`; see the module docstring."""
    report = ImportReport()
    source = await TinyDBStore.open(data_dir)
    try:
        await copy_papers(source, target, report)
        await _summaries(data_dir, target, report)
        await copy_lists(source, target, report)
        await _posts(data_dir, target, report)
        await copy_channel_setups(source, target, report)
        await _meta(data_dir, target, report)
    finally:
        await source.close()
    return report


async def _summaries(data_dir: Path, target: PostgresStore, report: ImportReport) -> None:
    for path in sorted((data_dir / "summaries").glob("*.json")):
        for key, doc in ((read_json(path) or {}).get("summaries") or {}).items():
            # The key's model is the summary's own (TinyDBStore keys it so).
            arxiv_id, summarizer, _model = json.loads(key)
            await copy_summary(target, arxiv_id, summarizer, codec.summary_from_dict(doc),
                               report)


async def _posts(data_dir: Path, target: PostgresStore, report: ImportReport) -> None:
    # posts/<platform>/<team>/<channel>/<YYYY-MM>.json (or an older <YYYY>.json): a
    # "claims" table (one record per day) and a "released" one (items of released claims).
    for path in sorted((data_dir / "posts").glob("*/*/*/*.json")):
        channel = ChatRef(*(unpart(p) for p in path.relative_to(data_dir / "posts").parts[:3]))
        tables: dict[str, Any] = read_json(path) or {}
        for doc in (tables.get("released") or {}).values():
            record = PostRecord(channel, date.fromisoformat(doc["day"]), "posted", "imported",
                                _released_at(doc), tuple(codec.item_from_dict(i)
                                                         for i in doc["items"]))
            report.count("released posts", await target.import_post(record, released=True))
        for doc in (tables.get("claims") or {}).values():
            await copy_claim(target, codec.post_from_dict(doc), report)


def _released_at(doc: dict[str, Any]) -> datetime:
    # A released claim keeps only its day and items: its claim time is that day's start.
    return datetime.combine(date.fromisoformat(doc["day"]), time(), tzinfo=UTC)


async def _meta(data_dir: Path, target: PostgresStore, report: ImportReport) -> None:
    for key, doc in ((read_json(data_dir / "meta.json") or {}).get("meta") or {}).items():
        await copy_meta(target, key, doc["value"], report)


__all__ = ["ImportReport", "import_data_dir"]
