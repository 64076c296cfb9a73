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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, ClassVar

from bot.models import ChatRef
from bot.store import PostRecord
from bot.store import _codec as codec
from bot.store._files import read_json
from bot.store._layout import unpart
from bot.store.postgres import PostgresStore
from bot.store.tinydb import TinyDBStore


@dataclass
class ImportReport:
    """What an import copied (`moved`) and found already there (`present`), by kind."""

    moved: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)  # in the order first counted
    # How lines() words it; `paperboy db export` says "exported" (bot.store.pg_export).
    done: ClassVar[str] = "imported"
    nothing: ClassVar[str] = "nothing to import: the data directory holds no state"

    def count(self, kind: str, copied: bool, n: int = 1) -> None:
        if n == 0:
            return
        target = self.moved if copied else self.present
        target[kind] = target.get(kind, 0) + n
        if kind not in self.kinds:
            self.kinds.append(kind)

    def lines(self) -> list[str]:
        if not self.kinds:
            return [self.nothing]
        return [f"{kind}: {self.moved.get(kind, 0)} {self.done}, {self.present.get(kind, 0)} "
                "already there" for kind in self.kinds]


async def import_data_dir(data_dir: Path, target: PostgresStore) -> ImportReport:
    """Copy everything in `data_dir` into `target`; see the module docstring."""
    report = ImportReport()
    source = await TinyDBStore.open(data_dir)
    try:
        await _papers(source, target, report)
        await _summaries(data_dir, target, report)
        await _lists(source, target, report)
        await _posts(data_dir, target, report)
        for setup in await source.channel_setups():
            same = await target.get_channel_setup(setup.channel) == setup
            if not same:
                await target.put_channel_setup(setup)
            report.count("channel setups", not same)
        await _meta(data_dir, target, report)
    finally:
        await source.close()
    return report


async def _papers(source: TinyDBStore, target: PostgresStore, report: ImportReport) -> None:
    async for chunk in source.iter_papers(batch=1000):
        known = await target.get_papers(p.arxiv_id for p in chunk)
        new = [p for p in chunk if known.get(p.arxiv_id) != p]
        await target.put_papers(new)
        report.count("papers", True, len(new))
        report.count("papers", False, len(chunk) - len(new))


async def _summaries(data_dir: Path, target: PostgresStore, report: ImportReport) -> None:
    for path in sorted((data_dir / "summaries").glob("*.json")):
        for key, doc in ((read_json(path) or {}).get("summaries") or {}).items():
            arxiv_id, summarizer, model = json.loads(key)
            summary = codec.summary_from_dict(doc)
            there = await target.get_summaries([arxiv_id], summarizer, model)
            if there.get(arxiv_id) != summary:
                await target.put_summary(arxiv_id, summarizer, summary)
            report.count("summaries", there.get(arxiv_id) != summary)


async def _lists(source: TinyDBStore, target: PostgresStore, report: ImportReport) -> None:
    for platform, team in await source.known_teams():
        for entry in await source.saved_papers(platform, team):
            for saver in entry.savers:  # in saving order: the first keeps the snapshot
                change = await target.save(platform, team, entry.paper, saver)
                report.count("list saves", change.changed)


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
            record = codec.post_from_dict(doc)
            copied = await target.import_post(record)
            report.count("daily posts", copied)
            if copied:
                report.count("post messages", True, len(record.items))


def _released_at(doc: dict[str, Any]) -> datetime:
    # A released claim keeps only its day and items: its claim time is that day's start.
    return datetime.combine(date.fromisoformat(doc["day"]), time(), tzinfo=UTC)


async def _meta(data_dir: Path, target: PostgresStore, report: ImportReport) -> None:
    for key, doc in ((read_json(data_dir / "meta.json") or {}).get("meta") or {}).items():
        same = await target.get_meta(key) == doc["value"]
        if not same:
            await target.set_meta(key, doc["value"])
        report.count("meta values", not same)


__all__ = ["ImportReport", "import_data_dir"]
