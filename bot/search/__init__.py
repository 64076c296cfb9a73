"""Search: a local tantivy index of every paper the bot has seen, merged with Hugging Face.

The package's public surface, re-exported from its modules:
- `bot.search.query`     parse_query, ParsedQuery — the search grammar (pure)
- `bot.search.index`     PaperIndex, LocalHit — the on-disk index (blocking; run in a thread)
- `bot.search.searcher`  Searcher, SearchResults, SearchResult — local + remote + exact
- `bot.search.backfill`  backfill, BackfillReport — past Daily Papers into store and index
and the two helpers the CLI and the runtime call to open and refill the index. It does not
render results (adapters do) or parse command lines (bot.cli does).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.search.backfill import MONTHS_KEY, BackfillReport, backfill, months_between
from bot.search.index import LocalHit, PaperIndex
from bot.search.query import SEARCH_USAGE, ParsedQuery, Scope, parse_query
from bot.search.searcher import Searcher, SearchResult, SearchResults
from bot.store import Store

log = logging.getLogger(__name__)

INDEX_DIR = "index"


async def open_index(data_dir: Path, store: Store) -> PaperIndex:
    """The index in `data_dir/index`, refilled from the store's papers when it was created
    empty (first run, or an incompatible index from another version that was recreated).
    With a read-only store (another process owns the data directory) the index is opened
    read-only too and never written."""
    if store.readonly:
        index = await asyncio.to_thread(PaperIndex.open_readonly, Path(data_dir) / INDEX_DIR)
        await asyncio.to_thread(index.warm)
        return index
    index = await asyncio.to_thread(PaperIndex.open, Path(data_dir) / INDEX_DIR)
    if index.fresh:
        papers = await store.all_papers()
        if papers:
            log.info("search index is new: indexing the %d papers in the store", len(papers))
            await asyncio.to_thread(index.rebuild, papers)
    await asyncio.to_thread(index.warm)
    return index


async def rebuild_index(index: PaperIndex, store: Store) -> int:
    """Replace the index with every paper in the store (`paperboy index rebuild`).
    Returns how many papers it now holds."""
    papers = await store.all_papers()
    return await asyncio.to_thread(index.rebuild, papers)


__all__ = [
    "INDEX_DIR",
    "MONTHS_KEY",
    "SEARCH_USAGE",
    "BackfillReport",
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
