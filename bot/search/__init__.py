"""Search: a local tantivy index of every paper the bot has seen, merged with Hugging Face.

The package's public surface, re-exported from its modules:
- `bot.search.query`      parse_query, ParsedQuery — the search grammar (pure)
- `bot.search.schema`     how a paper becomes an index document (pure)
- `bot.search.relevance`  LocalHit — query building, ranking, typo fixes, snippets
- `bot.search.index`      PaperIndex — the on-disk index's lifecycle (blocking; run in a thread)
- `bot.search.indexer`    Indexer — batched commits off the event loop
- `bot.search.searcher`   Searcher, SearchResults, SearchResult — local + remote + exact
- `bot.search.backfill`   backfill, BackfillReport — past Daily Papers into store and index
and the two helpers the CLI and the runtime call to open and refill the index. It does not
render results (adapters do) or parse command lines (bot.cli does).

Refilling streams the store's paper cache (`Store.iter_papers`) into one commit, a batch at
a time, so memory stays flat at any cache size.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from bot.errors import StoreError
from bot.models import Paper
from bot.search.backfill import MONTHS_KEY, BackfillReport, backfill, months_between
from bot.search.index import PaperIndex
from bot.search.indexer import Indexer
from bot.search.query import SEARCH_USAGE, ParsedQuery, Scope, parse_query
from bot.search.relevance import LocalHit
from bot.search.searcher import Searcher, SearchResult, SearchResults
from bot.store import Store

log = logging.getLogger(__name__)

INDEX_DIR = "index"
REBUILD_BATCH = 1000


async def open_index(data_dir: Path, store: Store, *, optional: bool = False) -> PaperIndex:
    """The index in `data_dir/index`, refilled from the store's papers when it does not hold
    a complete copy (first run, a schema change, a broken index moved aside, a first fill
    that was interrupted). With a read-only store (another process owns the data directory)
    the index is opened read-only too and never written. `optional` (a one-off search):
    an index that cannot be created (a full disk) gives an empty one, searching remote only."""
    if store.readonly:
        index = await asyncio.to_thread(PaperIndex.open_readonly, Path(data_dir) / INDEX_DIR)
        await asyncio.to_thread(index.warm)
        return index
    try:
        index = await asyncio.to_thread(PaperIndex.open, Path(data_dir) / INDEX_DIR)
    except StoreError as exc:
        if not optional:
            raise
        log.warning("%s: searching remote only", exc)
        return PaperIndex.remote_only()
    if index.fresh and not index.readonly:
        log.info("search index is new or incomplete: indexing the papers in the store")
        try:
            await rebuild_index(index, store)
        except StoreError as exc:
            # The index is a cache: searching what it holds beats not starting at all.
            log.warning("could not fill the search index: %s", exc)
    await asyncio.to_thread(index.warm)
    return index


async def rebuild_index(index: PaperIndex, store: Store, batch: int = REBUILD_BATCH) -> int:
    """Replace the index with every paper in the store (`paperboy index rebuild`), streamed
    `batch` papers at a time into one commit. Returns how many papers it now holds."""
    loop = asyncio.get_running_loop()
    batches = store.iter_papers(batch)

    def stream() -> Iterator[Paper]:
        # Runs in the worker thread: each batch is read on the event loop (where the store
        # lives) and indexed here, so only one batch is in memory at a time.
        while True:
            try:
                chunk = asyncio.run_coroutine_threadsafe(_next(batches), loop).result()
            except StopAsyncIteration:
                return
            yield from chunk

    try:
        return await asyncio.to_thread(index.rebuild, stream())
    finally:
        await batches.aclose()  # type: ignore[attr-defined]


async def _next(batches: AsyncIterator[list[Paper]]) -> list[Paper]:
    return await anext(batches)


__all__ = [
    "INDEX_DIR",
    "MONTHS_KEY",
    "REBUILD_BATCH",
    "SEARCH_USAGE",
    "BackfillReport",
    "Indexer",
    "LocalHit",
    "PaperIndex",
    "ParsedQuery",
    "Scope",
    "SearchResult",
    "SearchResults",
    "Searcher",
    "backfill",
    "months_between",
    "open_index",
    "parse_query",
    "rebuild_index",
]
