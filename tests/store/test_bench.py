"""bench/store.py: a small run works end to end and times every operation it reports."""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ._factories import paper

BENCH = Path(__file__).resolve().parents[2] / "bench" / "store.py"
CORPUS = [paper(f"25{n % 12 + 1:02d}.{n:05d}") for n in range(100)]


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_store", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the file executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.fixture(scope="module")
def small_run(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Any:
    parent = tmp_path_factory.mktemp("bench")
    return asyncio.run(
        bench.run(CORPUS, parent, sizes=(30, 60), ops=6, histories=(3, 40), posts=2)
    )


def test_small_run_times_every_reaction_and_listing(small_run: Any) -> None:
    counts = [[len(row.millis) for row in size.rows] for size in small_run.sizes]
    # warm-up, first 📌, 4 kinds of reaction, first list, listings
    assert counts == [[1, 1, 5, 6, 6, 6, 1, 20]] * 2


def test_small_run_times_every_daily_post_write(small_run: Any) -> None:
    # Header + 5 papers: the claim and one write per message, for each of 2 posts.
    assert [len(p.millis) for p in small_run.posts] == [14, 14]


def test_small_run_renders_a_column_per_list_size(bench: ModuleType, small_run: Any) -> None:
    section = bench.render(small_run, disk=Path("/tmp"))
    assert "| 30: p50 / p99 ms | 60: p50 / p99 ms |" in section


def test_distinct_papers_have_distinct_ids(bench: ModuleType) -> None:
    papers = bench.distinct_papers(CORPUS, 500, random.Random(1))
    assert len({p.arxiv_id for p in papers}) == 500
