"""The copy steps `paperboy db import` and `db export` share, from one store to another.

Each step writes only what the target does not already hold, and counts, by kind, what it
copied and what was already there, so a second run copies nothing and says so. The steps go
through the Store protocol; what it cannot enumerate (post records, meta keys, summaries) is
read by each direction's own module (bot.store.pg_import, bot.store.pg_export) and handed
to `copy_claim`, `copy_meta` and `copy_summary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from bot.models import Summary
from bot.store import PostRecord, Store


@dataclass
class CopyReport:
    """What a copy wrote (`moved`) and found already there (`present`), by kind."""

    moved: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)  # in the order first counted
    # How lines() words it: each direction says which way it copied.
    done: ClassVar[str] = "copied"
    nothing: ClassVar[str] = "nothing to copy"

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


class ImportsPosts(Protocol):
    """A store that takes post records as they were (TinyDBStore and PostgresStore)."""

    async def import_post(self, record: PostRecord, *, released: bool = False) -> bool: ...


async def copy_papers(source: Store, target: Store, report: CopyReport) -> None:
    async for chunk in source.iter_papers(batch=1000):
        known = await target.get_papers(p.arxiv_id for p in chunk)
        new = [p for p in chunk if known.get(p.arxiv_id) != p]
        await target.put_papers(new)
        report.count("papers", True, len(new))
        report.count("papers", False, len(chunk) - len(new))


async def copy_lists(source: Store, target: Store, report: CopyReport) -> None:
    for platform, team in await source.known_teams():
        for entry in await source.saved_papers(platform, team):
            for saver in entry.savers:  # in saving order: the first keeps the snapshot
                change = await target.save(platform, team, entry.paper, saver)
                report.count("list saves", change.changed)


async def copy_channel_setups(source: Store, target: Store, report: CopyReport) -> None:
    for setup in await source.channel_setups():
        same = await target.get_channel_setup(setup.channel) == setup
        if not same:
            await target.put_channel_setup(setup)
        report.count("channel setups", not same)


async def copy_summary(target: Store, arxiv_id: str, summarizer: str, summary: Summary,
                       report: CopyReport) -> None:
    there = await target.get_summaries([arxiv_id], summarizer, summary.model)
    same = there.get(arxiv_id) == summary
    if not same:
        await target.put_summary(arxiv_id, summarizer, summary)
    report.count("summaries", not same)


async def copy_meta(target: Store, key: str, value: Any, report: CopyReport) -> None:
    same = await target.get_meta(key) == value
    if not same:
        await target.set_meta(key, value)
    report.count("meta values", not same)


async def copy_claim(target: ImportsPosts, record: PostRecord, report: CopyReport) -> None:
    """A day's claim with its status, owner and items."""
    copied = await target.import_post(record)
    report.count("daily posts", copied)
    if copied:
        report.count("post messages", True, len(record.items))


__all__ = [
    "CopyReport", "ImportsPosts", "copy_channel_setups", "copy_claim", "copy_lists",
    "copy_meta", "copy_papers", "copy_summary",
]
