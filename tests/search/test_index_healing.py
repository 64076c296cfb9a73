"""The index is a cache that heals itself: crashes, garbage and foreign files never lock the
data directory; the broken index is moved aside for inspection and rebuilt from the store.

Crashes are real: a child process creating and first filling an index is SIGKILLed by
strace at its Nth `renameat` (tantivy's atomic file replacements), and the next open must
cope with whatever it left behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.search.index as index_module
from bot.errors import StoreError
from bot.models import Paper
from bot.search import INDEX_DIR, open_index
from bot.search.index import MARKER_FILE, PaperIndex
from bot.search.query import parse_query
from tests.search.conftest import DIT, SMALL_SET, broken_copies, paper, store_with_papers

PROJECT = Path(__file__).resolve().parents[2]

# Creates the index and fills it with 50 papers, as `paperboy run` does on a first start.
_CREATE_AND_FILL = """
import sys
from pathlib import Path
from bot.models import Paper
from bot.search.index import PaperIndex
index = PaperIndex.open(Path(sys.argv[1]))
index.rebuild(Paper(arxiv_id=f"2401.{n:05d}", title=f"Paper {n} on kangaroos", abstract="",
                    authors=("Ada Lovelace",)) for n in range(50))
"""
# tantivy replaces .managed.json (1st, 2nd) before meta.json exists and the marker is
# written; later renames belong to the first fill's commit.
WHILE_CREATING = (1, 2)
WHILE_FILLING = 5


def _strace_usable() -> str | None:
    strace = shutil.which("strace")
    if strace is None:
        return None
    probe = subprocess.run([strace, "-qq", "-o", os.devnull, "true"], capture_output=True)
    return strace if probe.returncode == 0 else None


STRACE = _strace_usable()
needs_strace = pytest.mark.skipif(
    STRACE is None, reason="strace is missing or may not trace here (apt-get install strace)"
)


def crash_while_creating(index_dir: Path, when: int) -> None:
    """Run _CREATE_AND_FILL in a child and SIGKILL it at its `when`th renameat."""
    assert STRACE is not None
    command = [
        STRACE, "-f", "-qq", "-o", os.devnull, "-e", "trace=renameat",
        "-e", f"inject=renameat:signal=SIGKILL:when={when}",
        sys.executable, "-c", _CREATE_AND_FILL, str(index_dir),
    ]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(command, env=env, cwd=PROJECT, capture_output=True, timeout=60)
    # strace ends as its tracee did: killed by SIGKILL (seen as -9, or 137 via a shell).
    if done.returncode not in (-9, 128 + 9):
        pytest.fail(f"the child was not killed (exit {done.returncode}): {done.stderr!r}")


async def filled_index_dir(tmp_path: Path) -> Path:
    await open_index(tmp_path, await store_with_papers())
    return tmp_path / INDEX_DIR


# --- real crashes ------------------------------------------------------------------------
@needs_strace
@pytest.mark.parametrize("when", WHILE_CREATING)
async def test_index_killed_while_being_created_is_rebuilt_from_the_store(
    tmp_path: Path, when: int
) -> None:
    crash_while_creating(tmp_path / INDEX_DIR, when)
    index = await open_index(tmp_path, await store_with_papers())
    assert index.count() == len(SMALL_SET)


@needs_strace
@pytest.mark.parametrize("when", WHILE_CREATING)
async def test_index_killed_while_being_created_is_kept_aside_for_inspection(
    tmp_path: Path, when: int
) -> None:
    crash_while_creating(tmp_path / INDEX_DIR, when)
    await open_index(tmp_path, await store_with_papers())
    assert len(broken_copies(tmp_path)) == 1


@needs_strace
async def test_healing_a_crashed_index_logs_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crash_while_creating(tmp_path / INDEX_DIR, WHILE_CREATING[0])
    with caplog.at_level(logging.WARNING):
        await open_index(tmp_path, await store_with_papers())
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


@needs_strace
async def test_index_killed_during_its_first_fill_is_refilled(tmp_path: Path) -> None:
    crash_while_creating(tmp_path / INDEX_DIR, WHILE_FILLING)
    index = await open_index(tmp_path, await store_with_papers())
    assert index.count() == len(SMALL_SET)


@needs_strace
async def test_an_interrupted_first_fill_is_refilled_in_place(tmp_path: Path) -> None:
    crash_while_creating(tmp_path / INDEX_DIR, WHILE_FILLING)
    await open_index(tmp_path, await store_with_papers())
    assert broken_copies(tmp_path) == []


# --- garbage and foreign files --------------------------------------------------------------
async def test_garbage_meta_file_is_healed(tmp_path: Path) -> None:
    index_dir = await filled_index_dir(tmp_path)
    (index_dir / "meta.json").write_bytes(b"\x00\xffnot json")
    index = await open_index(tmp_path, await store_with_papers())
    assert index.count() == len(SMALL_SET)


async def test_truncated_segment_files_are_healed(tmp_path: Path) -> None:
    index_dir = await filled_index_dir(tmp_path)
    for segment_file in index_dir.glob("*.*"):
        if segment_file.suffix in (".store", ".idx", ".term", ".fast", ".pos", ".fieldnorm"):
            size = segment_file.stat().st_size
            with segment_file.open("r+b") as handle:
                handle.truncate(size // 2)
    index = await open_index(tmp_path, await store_with_papers())
    assert [hit.arxiv_id for hit in index.search(parse_query("diffusion"), 1)] == [DIT.arxiv_id]


async def test_empty_marker_file_is_healed(tmp_path: Path) -> None:
    index_dir = await filled_index_dir(tmp_path)
    (index_dir / MARKER_FILE).write_bytes(b"")
    index = await open_index(tmp_path, await store_with_papers())
    assert index.count() == len(SMALL_SET)


async def test_a_file_in_place_of_the_index_directory_is_moved_aside(tmp_path: Path) -> None:
    (tmp_path / INDEX_DIR).write_text("someone's notes")
    index = await open_index(tmp_path, await store_with_papers())
    assert index.count() == len(SMALL_SET)


async def test_a_healthy_index_is_not_moved_aside(tmp_path: Path) -> None:
    await filled_index_dir(tmp_path)
    await open_index(tmp_path, await store_with_papers())
    assert broken_copies(tmp_path) == []


def test_an_index_that_was_only_added_to_is_refilled_on_open(tmp_path: Path) -> None:
    PaperIndex.open(tmp_path / INDEX_DIR).add([DIT])
    assert PaperIndex.open(tmp_path / INDEX_DIR).fresh is True


# --- a rebuild that stops midway --------------------------------------------------------------
def _papers_then_failure(count: int) -> Iterator[Paper]:
    for n in range(count):
        yield paper(f"2402.{n:05d}", f"Wombat {n}")
    raise OSError("the paper cache could not be read")


@pytest.fixture
def small_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    # Commit along the way every 3 papers instead of every 2,000.
    monkeypatch.setattr(index_module, "REBUILD_COMMIT_EVERY", 3)


def test_a_rebuild_committed_along_the_way_holds_every_paper(
    tmp_path: Path, small_commits: None
) -> None:
    index = PaperIndex.open(tmp_path / INDEX_DIR)
    index.rebuild(paper(f"2402.{n:05d}", f"Wombat {n}") for n in range(10))
    assert PaperIndex.open(tmp_path / INDEX_DIR).count() == 10


def test_a_rebuild_that_fails_midway_keeps_readers_on_the_old_index(
    tmp_path: Path, small_commits: None
) -> None:
    index = PaperIndex.open(tmp_path / INDEX_DIR)
    index.rebuild(SMALL_SET)
    with pytest.raises(StoreError):
        index.rebuild(_papers_then_failure(7))
    assert index.count() == len(SMALL_SET)


def test_a_rebuild_that_fails_midway_is_refilled_at_the_next_open(
    tmp_path: Path, small_commits: None
) -> None:
    index = PaperIndex.open(tmp_path / INDEX_DIR)
    index.rebuild(SMALL_SET)
    with pytest.raises(StoreError):
        index.rebuild(_papers_then_failure(7))
    assert PaperIndex.open(tmp_path / INDEX_DIR).fresh is True
