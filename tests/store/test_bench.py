"""bench/store.py: a small run works end to end, and it rewrites only its own docs section."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from ._factories import paper

BENCH = Path(__file__).resolve().parents[2] / "bench" / "store.py"


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


async def test_small_run_times_every_operation(bench: ModuleType, tmp_path: Path) -> None:
    papers = [paper(f"25{n % 12 + 1:02d}.{n:05d}") for n in range(100)]
    result = await bench.run(papers, tmp_path, entries=60, channels=2, days=40, ops=10)
    assert [len(row.millis) for row in result.rows] == [10] * 7 + [1, 10]
