"""Fill the store and the search index with past months of Hugging Face Daily Papers.

One job: `backfill(hf, store, index, start="2024-01", end="2024-06")` fetches each month with
`hf.window(month=...)` (the client pages through `/api/daily_papers?month=` and retries 429s
with Retry-After), upserts the papers into the store and the index by canonical id (so a
re-run or an overlapping range never duplicates anything), and records each completed month
in store meta under "backfill:months", so that a later run skips those months (unless
`force=True`) — an interrupted backfill resumes where it stopped.
It does not summarise, rank or post anything, and it does not draw progress bars: the CLI
passes `progress(month, months_finished, months_total)` and renders it.

Why: the month still in progress (and any month not over yet) is fetched but never recorded
as complete — more papers will be featured in it, and a later run must fetch it again. A
pause (`pause` seconds, through the injectable `sleep`) between fetched months keeps a long
backfill far below Hugging Face's ~500 requests per 5 minutes; an upstream failure stops the
run with the error after saving every month finished so far.
Called by the CLI (`paperboy backfill --from 2024-01 --to 2024-06`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.errors import UserInputError
from bot.search.index import PaperIndex
from bot.sources.huggingface import HuggingFaceClient
from bot.store import Store

log = logging.getLogger(__name__)

MONTHS_KEY = "backfill:months"
DEFAULT_PAUSE = 2.0

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

Progress = Callable[[str, int, int], None]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class BackfillReport:
    """What one run did: months fetched (the current month too, though it is not recorded
    as complete), months skipped as already complete, and how many papers were new to the
    store or replaced an older record."""

    months_done: tuple[str, ...]
    months_skipped: tuple[str, ...]
    papers_added: int
    papers_updated: int


def months_between(start: str, end: str) -> list[str]:
    """Every "YYYY-MM" from `start` to `end` inclusive. Raises UserInputError on bad input."""
    first, last = _month(start, "--from"), _month(end, "--to")
    if first > last:
        raise UserInputError(f"--from {start} is after --to {end}.")
    months = []
    year, month = first
    while (year, month) <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


async def backfill(
    hf: HuggingFaceClient,
    store: Store,
    index: PaperIndex,
    *,
    start: str,
    end: str,
    progress: Progress | None = None,
    force: bool = False,
    today: date | None = None,
    pause: float = DEFAULT_PAUSE,
    sleep: Sleep = asyncio.sleep,
) -> BackfillReport:
    """Fetch months `start`..`end` ("YYYY-MM", inclusive) into the store and the index.

    `today` (default: the UTC date now) decides which months are over; months after it are
    refused. Raises UserInputError for bad arguments and UpstreamError when Hugging Face
    fails (months finished before that stay recorded).
    """
    months = months_between(start, end)
    today = today or datetime.now(UTC).date()
    current = f"{today.year:04d}-{today.month:02d}"
    if months[-1] > current:
        raise UserInputError(f"--to {end} is in the future (it is {current} now).")

    completed = set(await store.get_meta(MONTHS_KEY) or [])
    done: list[str] = []
    skipped: list[str] = []
    added = updated = 0
    fetched_any = False
    for position, month in enumerate(months, start=1):
        if month in completed and not force:
            skipped.append(month)
            _report(progress, month, position, len(months))
            continue
        if fetched_any and pause > 0:
            await sleep(pause)  # be polite between months; retries inside handle 429s
        fetched_any = True
        papers = await hf.window(month=month)
        unique = {paper.arxiv_id: paper for paper in papers}
        known = await store.get_papers(unique)
        if unique:
            await store.put_papers(unique.values())
            await asyncio.to_thread(index.add, list(unique.values()))
        added += len(unique) - len(known)
        updated += len(known)
        log.info("backfill %s: %d papers (%d new, %d already known)",
                 month, len(unique), len(unique) - len(known), len(known))
        done.append(month)
        if month < current:
            completed.add(month)
            await store.set_meta(MONTHS_KEY, sorted(completed))
        else:
            log.info("backfill %s: month not over yet, it will be fetched again next time",
                     month)
        _report(progress, month, position, len(months))
    return BackfillReport(tuple(done), tuple(skipped), added, updated)


def _report(progress: Progress | None, month: str, position: int, total: int) -> None:
    if progress is not None:
        progress(month, position, total)


def _month(value: str, flag: str) -> tuple[int, int]:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        shown = value if len(value) <= 20 else value[:19] + "…"
        raise UserInputError(f"{flag} takes a month like 2024-01, not '{shown}'.")
    return int(match.group(1)), int(match.group(2))


__all__ = ["MONTHS_KEY", "BackfillReport", "backfill", "months_between"]
