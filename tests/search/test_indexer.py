"""Batched indexing: papers offered are committed by count, by delay or on flush/close, one
commit at a time, and papers whose content is unchanged are never written again."""

from __future__ import annotations

from pathlib import Path

from bot.search.index import PaperIndex
from bot.search.indexer import Indexer
from tests.search.conftest import DIT, SMALL_SET, SPECULATIVE, paper

HOUR = 3600.0


async def test_a_full_batch_starts_a_commit_at_once() -> None:
    indexer = Indexer(PaperIndex.in_memory(), batch_size=2, delay=HOUR)
    indexer.offer([DIT, SPECULATIVE])
    assert indexer.committing is True
    await indexer.close()


async def test_a_partial_batch_waits_for_the_delay() -> None:
    indexer = Indexer(PaperIndex.in_memory(), batch_size=10, delay=HOUR)
    indexer.offer([DIT, SPECULATIVE])
    assert indexer.committing is False
    await indexer.close()


async def test_a_partial_batch_is_committed_when_the_delay_ends() -> None:
    index = PaperIndex.in_memory()
    indexer = Indexer(index, batch_size=10, delay=0.0)
    indexer.offer([DIT, SPECULATIVE])
    await indexer.settled()
    assert index.count() == 2


async def test_flush_makes_offered_papers_searchable() -> None:
    index = PaperIndex.in_memory()
    indexer = Indexer(index, delay=HOUR)
    indexer.offer(SMALL_SET)
    await indexer.flush()
    assert index.count() == len(SMALL_SET)


async def test_close_commits_what_is_pending() -> None:
    index = PaperIndex.in_memory()
    indexer = Indexer(index, delay=HOUR)
    indexer.offer([DIT])
    await indexer.close()
    assert index.count() == 1


async def test_a_newer_copy_offered_before_the_commit_wins() -> None:
    index = PaperIndex.in_memory()
    indexer = Indexer(index, delay=HOUR)
    indexer.offer([paper("2401.00001", "Old title about llamas")])
    indexer.offer([paper("2401.00001", "New title about alpacas")])
    await indexer.flush()
    assert index.get(["2401.00001"])["2401.00001"].title == "New title about alpacas"


async def test_a_read_only_index_is_offered_nothing(tmp_path: Path) -> None:
    PaperIndex.open(tmp_path / "index").rebuild(SMALL_SET)
    indexer = Indexer(PaperIndex.open_readonly(tmp_path / "index"))
    assert indexer.offer([DIT]) == 0


def test_unchanged_papers_are_not_written_again() -> None:
    index = PaperIndex.in_memory()
    index.add(SMALL_SET)
    assert index.add(SMALL_SET) == 0


def test_only_the_changed_paper_of_a_batch_is_written() -> None:
    index = PaperIndex.in_memory()
    index.add([DIT, SPECULATIVE])
    changed = paper(DIT.arxiv_id, "Scalable Diffusion Models with Transformers, v2")
    assert index.add([changed, SPECULATIVE]) == 1
