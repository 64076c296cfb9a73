"""TinyDBStore under real faults: empty and garbage files, backups of team state, caches set
aside, a read-only data directory and a full disk.

Faults are made for real: files truncated or overwritten on disk, a tmpfs mounted read-only
or filled to the last byte. Mounting needs root (CAP_SYS_ADMIN); without it those tests skip
saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Config, StorageConfig
from bot.errors import StoreError
from bot.models import Paper
from bot.runtime import open_runtime
from bot.store import DataDirReadOnly, PostItem
from bot.store.tinydb import TinyDBStore
from tests.fakes.disks import remount_readonly, tmpfs

from ._factories import CHANNEL, DAY, T0, paper, saver


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- empty team-state files ---------------------------------------------------------------


async def test_empty_post_ledger_is_not_claimed_again(writer: TinyDBStore, data_dir: Path) -> None:
    await writer.claim_post(CHANNEL, DAY, "h", T0, [PostItem("header", None, "1.0")])
    (data_dir / "posts/slack/T1/C1/2025-05.json").write_bytes(b"")
    store = await _reopen(writer, data_dir)
    with pytest.raises(StoreError, match="is corrupt"):
        await store.claim_post(CHANNEL, DAY, "h", T0)
    await store.close()


async def _reopen(store: TinyDBStore, data_dir: Path) -> TinyDBStore:
    await store.close()
    return await TinyDBStore.open(data_dir)


async def test_empty_legacy_year_file_is_refused(writer: TinyDBStore, data_dir: Path) -> None:
    legacy = data_dir / "posts/slack/T1/C1/2025.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"")
    with pytest.raises(StoreError, match=f"{legacy} is corrupt"):
        await writer.get_post(CHANNEL, DAY)


# --- backups of team state ----------------------------------------------------------------


async def test_team_state_write_keeps_the_previous_version_as_bak(
    writer: TinyDBStore, data_dir: Path
) -> None:
    await writer.set_meta("k", "old")
    before = (data_dir / "meta.json").read_bytes()
    await writer.set_meta("k", "new")
    assert (data_dir / "meta.json.bak").read_bytes() == before


async def test_cache_write_keeps_no_bak(writer: TinyDBStore, data_dir: Path) -> None:
    await writer.put_papers([paper("2505.00001")])
    await writer.put_papers([paper("2505.00002")])
    assert _names(data_dir / "papers") == ["2505.json"]


async def test_corrupt_team_state_names_its_backup(writer: TinyDBStore, data_dir: Path) -> None:
    await writer.save("slack", "T1", paper(), saver("ana"))
    await writer.save("slack", "T1", paper(), saver("bob", minutes=1))
    listed = data_dir / "lists/slack/T1/2505/002.json"
    listed.write_bytes(b'{"entries": {"2505.01')
    store = await _reopen(writer, data_dir)
    with pytest.raises(StoreError, match=f"restore from {listed}.bak$"):
        await store.saved_papers("slack", "T1")
    await store.close()


async def test_backup_restores_the_previous_list(writer: TinyDBStore, data_dir: Path) -> None:
    await writer.save("slack", "T1", paper(), saver("ana"))
    await writer.save("slack", "T1", paper(), saver("bob", minutes=1))
    listed = data_dir / "lists/slack/T1/2505/002.json"
    listed.write_bytes(b"garbage")
    shutil.copyfile(f"{listed}.bak", listed)
    store = await _reopen(writer, data_dir)
    [entry] = await store.saved_papers("slack", "T1")
    await store.close()
    assert [s.user for s in entry.savers] == ["ana"]


async def test_corrupt_error_is_one_line(writer: TinyDBStore, data_dir: Path) -> None:
    (data_dir / "meta.json").write_bytes(b"{\n\n garbage")
    with pytest.raises(StoreError) as raised:
        await writer.get_meta("k")
    assert "\n" not in str(raised.value)


async def test_corrupt_list_does_not_stop_posts(writer: TinyDBStore, data_dir: Path) -> None:
    await writer.save("slack", "T1", paper(), saver("ana"))
    (data_dir / "lists/slack/T1/2505/002.json").write_bytes(b"")
    store = await _reopen(writer, data_dir)
    record = await store.claim_post(CHANNEL, DAY, "h", T0, [PostItem("header", None, "1.0")])
    await store.close()
    assert record is not None


async def test_corrupt_list_does_not_stop_other_teams(writer: TinyDBStore, data_dir: Path) -> None:
    await writer.save("slack", "T1", paper(), saver("ana"))
    await writer.save("slack", "T2", paper(), saver("bob"))
    (data_dir / "lists/slack/T1/2505/002.json").write_bytes(b"")
    store = await _reopen(writer, data_dir)
    change = await store.save("slack", "T2", paper(), saver("cy"))
    await store.close()
    assert change.savers == 2


# --- caches are rebuildable ---------------------------------------------------------------

GARBAGE = {"empty": b"", "truncated": b'{"papers": {"2505.0', "garbage": b"garbage\x00"}


@pytest.mark.parametrize("content", GARBAGE.values(), ids=GARBAGE.keys())
async def test_unreadable_paper_cache_reads_as_empty(
    content: bytes, writer: TinyDBStore, data_dir: Path
) -> None:
    await writer.put_papers([paper()])
    (data_dir / "papers/2505.json").write_bytes(content)
    store = await _reopen(writer, data_dir)
    found = await store.get_papers(["2505.01234"])
    await store.close()
    assert found == {}


async def test_unreadable_cache_is_moved_aside_for_inspection(
    writer: TinyDBStore, data_dir: Path
) -> None:
    (data_dir / "papers").mkdir()
    (data_dir / "papers/2505.json").write_bytes(b"garbage")
    await writer.get_papers(["2505.01234"])
    [moved] = _names(data_dir / "papers")
    assert moved.startswith("2505.json.corrupt-")


async def test_unreadable_cache_is_kept_byte_for_byte(writer: TinyDBStore, data_dir: Path) -> None:
    (data_dir / "summaries").mkdir()
    (data_dir / "summaries/2505.json").write_bytes(b"garbage")
    await writer.get_summaries(["2505.01234"], "llm", None)
    [moved] = (data_dir / "summaries").iterdir()
    assert moved.read_bytes() == b"garbage"


async def test_unreadable_cache_warns_once(
    writer: TinyDBStore, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (data_dir / "papers").mkdir()
    (data_dir / "papers/2505.json").write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        for _ in range(3):
            await writer.get_papers(["2505.01234"])
    assert len([r for r in caplog.records if "2505.json" in r.getMessage()]) == 1


async def test_cache_set_aside_is_written_afresh(writer: TinyDBStore, data_dir: Path) -> None:
    (data_dir / "papers").mkdir()
    (data_dir / "papers/2505.json").write_bytes(b"garbage")
    await writer.put_papers([paper()])
    store = await _reopen(writer, data_dir)
    found = await store.get_papers(["2505.01234"])
    await store.close()
    assert found == {"2505.01234": paper()}


async def test_reader_leaves_an_unreadable_cache_where_it_is(
    writer: TinyDBStore, data_dir: Path
) -> None:
    (data_dir / "papers").mkdir()
    (data_dir / "papers/2505.json").write_bytes(b"garbage")
    reader = await TinyDBStore.open(data_dir, readonly=True)
    found = await reader.get_papers(["2505.01234"])
    await reader.close()
    assert (found, _names(data_dir / "papers")) == ({}, ["2505.json"])


# --- mounted file systems -----------------------------------------------------------------


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory holding a saved paper, on a file system remounted read-only."""
    with tmpfs(tmp_path / "mnt", "8m") as mount:
        data = mount / "data"

        async def fill() -> None:
            store = await TinyDBStore.open(data)
            await store.save("slack", "T1", paper(), saver("ana"))
            await store.close()

        asyncio.run(fill())
        remount_readonly(mount)
        yield data


def _config(data: Path) -> Config:
    return replace(Config(), storage=StorageConfig(path=data))


def test_reader_lists_a_read_only_directory(readonly_dir: Path) -> None:
    async def listed() -> list[str]:
        async with open_runtime(_config(readonly_dir), readonly_if_locked=True) as rt:
            return [e.paper.arxiv_id for e in await rt.store.saved_papers("slack", "T1")]

    assert asyncio.run(listed()) == ["2505.01234"]


def test_reader_of_a_read_only_directory_opens_a_read_only_store(readonly_dir: Path) -> None:
    async def readonly() -> bool:
        async with open_runtime(_config(readonly_dir), readonly_if_locked=True) as rt:
            return rt.store.readonly

    assert asyncio.run(readonly()) is True


def test_writer_refuses_a_read_only_directory_naming_it(readonly_dir: Path) -> None:
    async def open_writer() -> None:
        async with open_runtime(_config(readonly_dir)):
            pass

    with pytest.raises(DataDirReadOnly, match=f"data directory {readonly_dir} is read-only"):
        asyncio.run(open_writer())


async def test_reader_of_a_missing_directory_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "new" / "dir"
    async with open_runtime(_config(data), readonly_if_locked=True) as rt:
        await rt.store.saved_papers("slack", "T1")
    assert _names(tmp_path) == []


BIG = "x" * 200_000


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "mnt", "1m") as mount:
        yield mount


def _fill(mount: Path) -> Path:
    """Take every free byte of the file system; returns the file to delete to free it."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for chunk in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)
    return filler


def _temp_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*.tmp"))


async def _full_store(mount: Path) -> TinyDBStore:
    store = await TinyDBStore.open(mount / "data")
    await store.set_meta("k", {"v": "old"})
    _fill(mount)
    return store


async def test_write_to_a_full_disk_says_disk_full_naming_the_file(full_disk: Path) -> None:
    store = await _full_store(full_disk)
    meta = full_disk / "data" / "meta.json"
    with pytest.raises(StoreError, match=f"^disk full: could not write {meta}$"):
        await store.set_meta("k", {"v": BIG})
    await store.close()


async def test_full_disk_leaves_the_file_as_it_was(full_disk: Path) -> None:
    store = await _full_store(full_disk)
    before = (full_disk / "data" / "meta.json").read_bytes()
    with contextlib.suppress(StoreError):
        await store.set_meta("k", {"v": BIG})
    await store.close()
    assert (full_disk / "data" / "meta.json").read_bytes() == before


async def test_full_disk_leaves_no_temp_file(full_disk: Path) -> None:
    store = await _full_store(full_disk)
    with contextlib.suppress(StoreError):
        await store.set_meta("k", {"v": BIG})
    await store.close()
    assert _temp_files(full_disk) == []


async def test_store_keeps_its_last_value_after_a_full_disk(full_disk: Path) -> None:
    store = await _full_store(full_disk)
    with contextlib.suppress(StoreError):
        await store.set_meta("k", {"v": BIG})
    value = await store.get_meta("k")
    await store.close()
    assert value == {"v": "old"}


async def test_write_succeeds_once_space_returns(full_disk: Path) -> None:
    store = await _full_store(full_disk)
    with contextlib.suppress(StoreError):
        await store.set_meta("k", {"v": BIG})
    os.unlink(full_disk / "filler")
    await store.set_meta("k", {"v": BIG})
    reopened = await _reopen(store, full_disk / "data")
    value = await reopened.get_meta("k")
    await reopened.close()
    assert value == {"v": BIG}


async def test_save_on_a_full_disk_leaves_the_list_as_it_was(full_disk: Path) -> None:
    store = await TinyDBStore.open(full_disk / "data")
    await store.save("slack", "T1", paper(), saver("ana"))
    _fill(full_disk)
    big = Paper(**{**_fields(paper("2505.00002")), "abstract": BIG})
    with contextlib.suppress(StoreError):
        await store.save("slack", "T1", big, saver("ana"))
    listed = [e.paper.arxiv_id for e in await store.saved_papers("slack", "T1", limit=5)]
    await store.close()
    assert listed == ["2505.01234"]


def _fields(value: Paper) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


# --- ENOSPC from the kernel, injected with strace (no mount needed) -----------------------

_CHILD = """
import asyncio, sys
from pathlib import Path
from bot.errors import StoreError
from bot.store.tinydb import TinyDBStore

async def main():
    store = await TinyDBStore.open(Path(sys.argv[1]))
    try:
        await store.set_meta("k", {"v": "new"})
        print("written")
    except StoreError as exc:
        print(exc)
    await store.close()

asyncio.run(main())
"""


@pytest.fixture
async def enospc_run(data_dir: Path) -> tuple[str, Path]:
    """A child process whose every fsync fails with ENOSPC tries to replace meta.json.
    Returns what it printed and the data directory."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed: cannot inject ENOSPC")
    store = await TinyDBStore.open(data_dir)
    await store.set_meta("k", {"v": "old"})
    await store.close()
    child = await asyncio.create_subprocess_exec(
        "strace", "-f", "-qq", "-o", os.devnull, "-e", "trace=fsync",
        "-e", "inject=fsync:error=ENOSPC", sys.executable, "-c", _CHILD, str(data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    if child.returncode != 0 and b"ptrace" in err:
        pytest.skip(f"strace cannot trace here: {err.decode().strip()[:80]}")
    return out.decode().strip(), data_dir


async def test_injected_enospc_says_disk_full(enospc_run: tuple[str, Path]) -> None:
    printed, data_dir = enospc_run
    assert printed == f"disk full: could not write {data_dir / 'meta.json'}"


async def test_injected_enospc_leaves_the_last_value(enospc_run: tuple[str, Path]) -> None:
    _, data_dir = enospc_run
    store = await TinyDBStore.open(data_dir)
    value = await store.get_meta("k")
    await store.close()
    assert value == {"v": "old"}


async def test_injected_enospc_leaves_no_temp_file(enospc_run: tuple[str, Path]) -> None:
    _, data_dir = enospc_run
    assert _temp_files(data_dir) == []
