"""A read-only data directory or a full disk: search still answers from what exists, failed
index writes are logged once, and the index on disk stays the last committed one.

Faults are real filesystems (see tests/fakes/disks.py): a tmpfs remounted read-only, and
a small tmpfs filled to the last byte.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.search import INDEX_DIR, open_index
from bot.search.index import PaperIndex
from bot.search.searcher import Searcher
from bot.store.memory import MemoryStore
from tests.fakes.disks import fill, remount_readonly, tmpfs
from tests.search.conftest import DIT, SMALL_SET, paper, store_with_papers

WOMBAT = paper("2403.00001", "Wombat burrows as shelters")


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", size="4m") as mounted:
        yield mounted


async def hit_ids(searcher: Searcher, text: str) -> list[str]:
    return [hit.paper.arxiv_id for hit in (await searcher.search(text)).hits]


@pytest_asyncio.fixture
async def full_disk_searcher(disk: Path) -> AsyncIterator[Searcher]:
    """A searcher over a filled index whose disk is then full."""
    store = await store_with_papers()
    index = await open_index(disk, store)
    fill(disk)
    searcher = Searcher(index, store, None, None)
    yield searcher
    await searcher.close()


# --- read-only data directory ---------------------------------------------------------------
async def _indexed_then_read_only(disk: Path) -> None:
    """An index filled on `disk` and its writer let go, as a stopped bot leaves it; then
    `disk` made read-only (a writer still holding files open would make the remount busy)."""
    index = await open_index(disk, await store_with_papers())
    index.release()
    remount_readonly(disk)


async def test_a_read_only_data_directory_still_searches_the_index(disk: Path) -> None:
    await _indexed_then_read_only(disk)
    index = await open_index(disk, await store_with_papers())
    assert await hit_ids(Searcher(index, MemoryStore(), None, None), "diffusion") == [
        DIT.arxiv_id
    ]


async def test_a_read_only_data_directory_is_one_warning(
    disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await _indexed_then_read_only(disk)
    with caplog.at_level(logging.WARNING):
        await open_index(disk, await store_with_papers())
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


async def test_a_read_only_data_directory_is_not_indexed_into(disk: Path) -> None:
    await _indexed_then_read_only(disk)
    searcher = Searcher(await open_index(disk, await store_with_papers()), MemoryStore(),
                        None, None)
    assert await searcher.index_papers([WOMBAT]) == 0


async def test_a_read_only_data_directory_without_an_index_still_starts(disk: Path) -> None:
    remount_readonly(disk)
    index = await open_index(disk, await store_with_papers())
    assert index.count() == 0


# --- full disk ---------------------------------------------------------------------------------
async def test_a_full_disk_keeps_the_last_commit_searchable(full_disk_searcher: Searcher) -> None:
    await full_disk_searcher.index_papers([WOMBAT])
    await full_disk_searcher.drain()
    assert await hit_ids(full_disk_searcher, "diffusion") == [DIT.arxiv_id]


async def test_a_failed_index_write_is_logged_once(
    full_disk_searcher: Searcher, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        for _attempt in range(3):
            await full_disk_searcher.index_papers([WOMBAT])
            await full_disk_searcher.drain()
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


async def test_a_failed_index_write_leaves_the_committed_index_on_disk(
    disk: Path, full_disk_searcher: Searcher
) -> None:
    await full_disk_searcher.index_papers([WOMBAT])
    await full_disk_searcher.drain()
    assert PaperIndex.open_readonly(disk / INDEX_DIR).count() == len(SMALL_SET)


async def test_papers_kept_while_the_disk_was_full_are_indexed_once_it_has_room(
    disk: Path, full_disk_searcher: Searcher
) -> None:
    await full_disk_searcher.index_papers([WOMBAT])
    await full_disk_searcher.drain()
    (disk / "filler").unlink()
    await full_disk_searcher.drain()
    assert await hit_ids(full_disk_searcher, "wombat") == [WOMBAT.arxiv_id]
