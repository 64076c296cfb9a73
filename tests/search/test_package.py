"""The package surface the CLI and the runtime call: open_index and rebuild_index."""

from __future__ import annotations

from pathlib import Path

import bot.search
from bot.search import INDEX_DIR, PaperIndex, open_index, rebuild_index
from bot.store.memory import MemoryStore
from tests.search.conftest import DIT, SMALL_SET, SPECULATIVE


async def test_a_new_index_is_filled_from_the_store(tmp_path: Path) -> None:
    store = MemoryStore()
    await store.put_papers(SMALL_SET)
    index = await open_index(tmp_path, store)
    assert index.count() == len(SMALL_SET)


async def test_the_index_lives_in_the_data_directory(tmp_path: Path) -> None:
    index = await open_index(tmp_path, MemoryStore())
    assert index.path == tmp_path / INDEX_DIR


async def test_an_existing_index_is_not_refilled(tmp_path: Path) -> None:
    store = MemoryStore()
    await store.put_papers([DIT])
    (await open_index(tmp_path, store)).add([SPECULATIVE])  # known to the index only
    reopened = await open_index(tmp_path, store)
    assert reopened.count() == 2


async def test_rebuild_index_holds_exactly_the_stores_papers(tmp_path: Path) -> None:
    store = MemoryStore()
    await store.put_papers([DIT])
    index = PaperIndex.open(tmp_path / "index")
    index.add(SMALL_SET)
    assert await rebuild_index(index, store) == 1


def test_everything_exported_exists() -> None:
    missing = [name for name in bot.search.__all__ if not hasattr(bot.search, name)]
    assert missing == []


def _snapshot(path: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in path.iterdir()}


async def test_a_read_only_store_opens_the_index_without_writing_it(tmp_path: Path) -> None:
    store = MemoryStore()
    await store.put_papers(SMALL_SET)
    await open_index(tmp_path, store)  # the running bot's index
    before = _snapshot(tmp_path / INDEX_DIR)
    store.readonly = True  # another terminal: the store belongs to the bot
    index = await open_index(tmp_path, store)
    assert (index.readonly, _snapshot(tmp_path / INDEX_DIR)) == (True, before)


async def test_a_read_only_store_finds_what_the_bot_indexed(tmp_path: Path) -> None:
    store = MemoryStore()
    await store.put_papers(SMALL_SET)
    await open_index(tmp_path, store)
    store.readonly = True
    assert (await open_index(tmp_path, store)).count() == len(SMALL_SET)


async def test_a_read_only_store_without_an_index_creates_none(tmp_path: Path) -> None:
    store = MemoryStore()
    store.readonly = True
    await open_index(tmp_path, store)
    assert not (tmp_path / INDEX_DIR).exists()
