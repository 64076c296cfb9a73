"""TinyDBStore on a real disk: persistence, the process lock, read-only use, corruption,
crashes mid-write and a file layout whose write cost stays small.

Other processes are real ones (tests/store/_holder.py), synchronised on the lines they print,
never on sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.errors import StoreError, StoreLocked
from bot.models import ChatRef, Summary
from bot.store import PostItem, PostRecord, Store
from bot.store import _codec as codec
from bot.store._files import write_json_atomic
from bot.store.tinydb import TinyDBStore

from ._factories import CHANNEL, DAY, T0, full_paper, paper, saver

HOLDER = Path(__file__).with_name("_holder.py")


@pytest.fixture
def existing_dir(data_dir: Path) -> Path:
    data_dir.mkdir()
    return data_dir


def _files(root: Path, pattern: str) -> list[str]:
    """The files under `root` matching `pattern`, as sorted relative paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(pattern))


@asynccontextmanager
async def _other_process(data_dir: Path, mode: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """A second Paperboy process on `data_dir`, killed on the way out."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(HOLDER), str(data_dir), mode,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def _wait_ready(process: asyncio.subprocess.Process) -> int:
    assert process.stdout is not None
    line = (await process.stdout.readline()).decode()
    if not line.startswith("ready "):
        _, err = await process.communicate()
        raise AssertionError(f"the other process did not start: {err.decode()}")
    return int(line.split()[1])


# --- persistence ------------------------------------------------------------------------

MESSAGE = ChatRef("slack", "T1", "C1", "100.2")
SUMMARY = Summary("A TL;DR.", "llm", "gpt-4o-mini")


@pytest.fixture
async def reopened(data_dir: Path) -> AsyncIterator[TinyDBStore]:
    """A store that was filled with one of everything, closed and opened again."""
    first = await TinyDBStore.open(data_dir)
    await first.put_papers([full_paper(), paper("hep-th/9901001")])
    await first.put_summary("2505.01234", "llm", SUMMARY)
    await first.claim_post(CHANNEL, DAY, "host-1", T0)
    await first.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    await first.finish_post(CHANNEL, DAY, "posted")
    yesterday = DAY - timedelta(days=1)
    await first.claim_post(CHANNEL, yesterday, "host-1", T0)
    await first.record_items(CHANNEL, yesterday, [PostItem("2505.00001", "2505.00001", "99.1")])
    await first.release_post(CHANNEL, yesterday)
    await first.save("slack", "T1", full_paper(), saver("ana", where=MESSAGE))
    await first.set_meta("backfill", {"until": "2025-05-01"})
    await first.close()
    second = await TinyDBStore.open(data_dir)
    yield second
    await second.close()


async def test_papers_survive_reopening(reopened: Store) -> None:
    assert await reopened.get_papers(["2505.01234", "hep-th/9901001"]) == {
        "2505.01234": full_paper(),
        "hep-th/9901001": paper("hep-th/9901001"),
    }


async def test_summaries_survive_reopening(reopened: Store) -> None:
    found = await reopened.get_summaries(["2505.01234"], "llm", "gpt-4o-mini")
    assert found == {"2505.01234": SUMMARY}


async def test_post_records_survive_reopening(reopened: Store) -> None:
    record = await reopened.get_post(CHANNEL, DAY)
    fields = (record.status, record.claimed_at, record.items) if record else None
    assert fields == ("posted", T0, (PostItem("2505.01234", "2505.01234", "100.2"),))


async def test_released_items_survive_reopening(reopened: Store) -> None:
    assert await reopened.posted_ids(CHANNEL) == {"2505.01234", "2505.00001"}


async def test_message_index_survives_reopening(reopened: Store) -> None:
    assert await reopened.paper_for_message(MESSAGE) == "2505.01234"


async def test_team_list_survives_reopening(reopened: Store) -> None:
    [entry] = await reopened.saved_papers("slack", "T1")
    assert (entry.paper, entry.savers) == (full_paper(), (saver("ana", where=MESSAGE),))


async def test_meta_survives_reopening(reopened: Store) -> None:
    assert await reopened.get_meta("backfill") == {"until": "2025-05-01"}


# --- one writing process ----------------------------------------------------------------


async def test_second_writer_in_the_same_process_is_refused_naming_our_pid(
    writer: TinyDBStore, data_dir: Path
) -> None:
    with pytest.raises(StoreLocked, match=f"pid {os.getpid()}: "):
        await TinyDBStore.open(data_dir)


async def test_refusal_names_the_directory_and_what_to_do(
    writer: TinyDBStore, data_dir: Path
) -> None:
    with pytest.raises(StoreLocked) as refused:
        await TinyDBStore.open(data_dir)
    assert str(refused.value).startswith(f"data directory {data_dir} is in use by paperboy") and (
        str(refused.value).endswith("; stop it, or point [storage] path or PAPERBOY_DATA elsewhere")
    )


async def test_writer_in_another_process_refuses_us_naming_its_pid_and_command(
    data_dir: Path,
) -> None:
    async with _other_process(data_dir, "hold") as other:
        pid = await _wait_ready(other)
        with pytest.raises(StoreLocked, match=f"pid {pid}: _holder.py {data_dir} hold"):
            await TinyDBStore.open(data_dir)


async def test_another_process_is_refused_while_we_write(
    writer: TinyDBStore, data_dir: Path
) -> None:
    async with _other_process(data_dir, "hold") as other:
        _, err = await other.communicate()
    assert f"StoreLocked: data directory {data_dir} is in use by paperboy (pid {os.getpid()}" in (
        err.decode()
    )


async def test_lock_is_released_on_close(data_dir: Path) -> None:
    first = await TinyDBStore.open(data_dir)
    await first.close()
    second = await TinyDBStore.open(data_dir)
    await second.set_meta("k", 1)
    assert await second.get_meta("k") == 1
    await second.close()


async def test_lock_of_a_killed_writer_does_not_block_the_next(data_dir: Path) -> None:
    async with _other_process(data_dir, "hold") as other:
        await _wait_ready(other)
        other.kill()
        await other.wait()
    assert (data_dir / "paperboy.lock").exists()  # the file stays; only the flock mattered
    store = await TinyDBStore.open(data_dir)
    await store.set_meta("k", 1)
    assert await store.get_meta("k") == 1
    await store.close()


async def test_closed_store_refuses_calls(data_dir: Path) -> None:
    store = await TinyDBStore.open(data_dir)
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.get_meta("k")


async def test_file_io_runs_on_one_worker_thread_off_the_event_loop(
    writer: TinyDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[str] = set()
    real_replace = os.replace

    def spying_replace(src: str, dst: str) -> None:
        threads.add(threading.current_thread().name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    await asyncio.gather(*(writer.set_meta(f"k{n}", n) for n in range(10)),
                         writer.save("slack", "T1", paper(), saver("ana")))
    assert threads == {"paperboy-store_0"}


# --- read-only use ----------------------------------------------------------------------


async def test_readonly_store_reads_while_a_writer_holds_the_lock(
    writer: TinyDBStore, data_dir: Path
) -> None:
    await writer.save("slack", "T1", paper(), saver("ana"))
    reader = await TinyDBStore.open(data_dir, readonly=True)
    listed = await reader.saved_papers("slack", "T1")
    await reader.close()
    assert [e.paper.arxiv_id for e in listed] == ["2505.01234"]


async def test_readonly_store_sees_later_writes(writer: TinyDBStore, data_dir: Path) -> None:
    reader = await TinyDBStore.open(data_dir, readonly=True)
    await writer.set_meta("k", "first")
    await reader.get_meta("k")
    await writer.set_meta("k", "later")
    seen = await reader.get_meta("k")
    await reader.close()
    assert seen == "later"


async def test_readonly_store_sees_later_saves(writer: TinyDBStore, data_dir: Path) -> None:
    reader = await TinyDBStore.open(data_dir, readonly=True)
    await writer.save("slack", "T1", paper("2505.00001"), saver("ana"))
    await reader.saved_papers("slack", "T1")
    await writer.save("slack", "T1", paper("2505.00002"), saver("ana", minutes=1))
    listed = await reader.saved_papers("slack", "T1")
    await reader.close()
    assert [e.paper.arxiv_id for e in listed] == ["2505.00002", "2505.00001"]


async def test_readonly_store_takes_no_lock(existing_dir: Path) -> None:
    reader = await TinyDBStore.open(existing_dir, readonly=True)
    # Opening a writer raises StoreLocked if the reader took the lock.
    store = await TinyDBStore.open(existing_dir)
    await store.set_meta("k", "written beside a reader")
    seen = await reader.get_meta("k")
    await store.close()
    await reader.close()
    assert seen == "written beside a reader"


async def test_readonly_store_of_a_missing_directory_reads_as_empty(data_dir: Path) -> None:
    reader = await TinyDBStore.open(data_dir, readonly=True)
    listed = await reader.saved_papers("slack", "T1")
    await reader.close()
    assert listed == []


async def test_readonly_store_of_a_missing_directory_does_not_create_it(data_dir: Path) -> None:
    reader = await TinyDBStore.open(data_dir, readonly=True)
    await reader.get_meta("k")
    await reader.close()
    assert _files(data_dir.parent, "*") == []


WRITES: dict[str, Callable[[Store], Awaitable[object]]] = {
    "put_papers": lambda s: s.put_papers([paper()]),
    "put_summary": lambda s: s.put_summary("2505.01234", "llm", SUMMARY),
    "claim_post": lambda s: s.claim_post(CHANNEL, DAY, "h", T0),
    "record_items": lambda s: s.record_items(CHANNEL, DAY, [PostItem("header", None, "1")]),
    "finish_post": lambda s: s.finish_post(CHANNEL, DAY, "posted"),
    "release_post": lambda s: s.release_post(CHANNEL, DAY),
    "save": lambda s: s.save("slack", "T1", paper(), saver("ana")),
    "unsave": lambda s: s.unsave("slack", "T1", "2505.01234", "ana"),
    "set_meta": lambda s: s.set_meta("k", 1),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_readonly_store_refuses_every_write(
    write: Callable[[Store], Awaitable[object]], writer: TinyDBStore, data_dir: Path
) -> None:
    reader = await TinyDBStore.open(data_dir, readonly=True)
    with pytest.raises(StoreError, match="read-only"):
        await write(reader)
    await reader.close()


async def test_reader_never_sees_a_torn_file_while_another_process_writes(
    data_dir: Path,
) -> None:
    async with _other_process(data_dir, "count") as other:
        await _wait_ready(other)
        assert other.stdout is not None
        await other.stdout.readline()  # the first value is on disk
        reader = await TinyDBStore.open(data_dir, readonly=True)
        seen = [(await reader.get_meta("n"))["i"] for _ in range(300)]
        await reader.close()
    assert seen == sorted(seen)


# --- unreadable files -------------------------------------------------------------------

CORRUPT_READS: dict[str, tuple[str, Callable[[Store], Awaitable[object]]]] = {
    "meta": ("meta.json", lambda s: s.get_meta("k")),
    "list": ("lists/slack/T1/2505/002.json", lambda s: s.saved_papers("slack", "T1")),
    "posts": ("posts/slack/T1/C1/2025-05.json", lambda s: s.posted_ids(CHANNEL)),
    "posts (year file)": ("posts/slack/T1/C1/2025.json", lambda s: s.posted_ids(CHANNEL)),
}


@pytest.mark.parametrize("relative, read", CORRUPT_READS.values(), ids=CORRUPT_READS.keys())
async def test_corrupt_file_raises_store_error_naming_it(
    relative: str, read: Callable[[Store], Awaitable[object]], writer: TinyDBStore, data_dir: Path
) -> None:
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'{"meta": {"k": {"value": 1}')
    with pytest.raises(StoreError, match=f"{path} is corrupt"):
        await read(writer)


async def test_write_over_a_corrupt_file_is_refused(writer: TinyDBStore, data_dir: Path) -> None:
    (data_dir / "meta.json").write_bytes(b"\x00\x01 not json")
    with pytest.raises(StoreError, match=r"meta\.json is corrupt"):
        await writer.set_meta("k", 2)


async def test_corrupt_file_is_left_untouched(writer: TinyDBStore, data_dir: Path) -> None:
    (data_dir / "meta.json").write_bytes(b"\x00\x01 not json")
    with pytest.raises(StoreError):
        await writer.set_meta("k", 2)
    assert (data_dir / "meta.json").read_bytes() == b"\x00\x01 not json"


async def test_json_that_is_not_a_data_file_is_refused(
    writer: TinyDBStore, data_dir: Path
) -> None:
    (data_dir / "meta.json").write_text("[1, 2, 3]")
    with pytest.raises(StoreError, match="not a Paperboy data file"):
        await writer.get_meta("k")


@pytest.mark.parametrize("relative, read", CORRUPT_READS.values(), ids=CORRUPT_READS.keys())
async def test_empty_team_state_file_is_refused_as_corrupt(
    relative: str, read: Callable[[Store], Awaitable[object]], writer: TinyDBStore, data_dir: Path
) -> None:
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    with pytest.raises(StoreError, match=f"{path} is corrupt \\(empty file\\)"):
        await read(writer)


# --- crashes mid-write ------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["replace", "fsync"])
async def test_failed_write_keeps_the_previous_value_on_disk(
    failing: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await TinyDBStore.open(data_dir)
    await store.set_meta("k", "old")
    with monkeypatch.context() as patch:
        patch.setattr(os, failing, _disk_full)
        with pytest.raises(StoreError, match=r"disk full: could not write .*meta\.json"):
            await store.set_meta("k", "new")
    await store.close()
    store = await TinyDBStore.open(data_dir)
    assert await store.get_meta("k") == "old"
    await store.close()


async def test_failed_write_keeps_the_previous_value_in_the_open_store(
    writer: TinyDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await writer.save("slack", "T1", paper(), saver("ana"))
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", _disk_full)
        with pytest.raises(StoreError):
            await writer.save("slack", "T1", paper(), saver("bob", minutes=1))
    [entry] = await writer.saved_papers("slack", "T1")
    assert [s.user for s in entry.savers] == ["ana"]


async def test_failed_write_leaves_no_temp_file(
    writer: TinyDBStore, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", _disk_full)
        with pytest.raises(StoreError):
            await writer.set_meta("k", "new")
    assert _files(data_dir, "*.tmp") == []


async def test_writer_killed_mid_write_leaves_its_last_finished_value(data_dir: Path) -> None:
    async with _other_process(data_dir, "count") as other:
        await _wait_ready(other)
        assert other.stdout is not None
        finished = 0
        while finished < 30:
            finished = int(await other.stdout.readline())
        other.kill()
        await other.wait()
    store = await TinyDBStore.open(data_dir)
    value = await store.get_meta("n")
    await store.close()
    assert value["i"] >= finished


async def test_writes_leave_no_temp_files(writer: TinyDBStore, data_dir: Path) -> None:
    await writer.put_papers(paper(f"25{m:02d}.00001") for m in range(1, 13))
    await writer.save("slack", "T1", paper(), saver("ana"))
    await writer.claim_post(CHANNEL, DAY, "h", T0)
    await writer.set_meta("k", 1)
    assert _files(data_dir, "*.tmp") == []


async def test_temp_file_left_by_a_crash_is_removed_when_a_writer_opens(
    existing_dir: Path,
) -> None:
    leftover = existing_dir / ".meta.json.k2j3h4.tmp"
    leftover.write_bytes(b'{"meta": {"k": {"val')
    store = await TinyDBStore.open(existing_dir)
    await store.close()
    assert not leftover.exists()


def _disk_full(*args: object) -> None:
    raise OSError(28, "No space left on device")


# --- layout -----------------------------------------------------------------------------

MONTHS = [f"{year % 100:02d}{month:02d}" for year in (2024, 2025) for month in range(1, 13)]


async def test_papers_are_split_into_one_file_per_month(
    writer: TinyDBStore, data_dir: Path
) -> None:
    await writer.put_papers(paper(f"{MONTHS[n % 24]}.{n:05d}") for n in range(2000))
    assert sorted(p.stem for p in (data_dir / "papers").glob("*.json")) == sorted(MONTHS)


async def test_no_paper_file_grows_with_the_whole_cache(
    writer: TinyDBStore, data_dir: Path
) -> None:
    await writer.put_papers(paper(f"{MONTHS[n % 24]}.{n:05d}") for n in range(2000))
    sizes = [p.stat().st_size for p in (data_dir / "papers").glob("*.json")]
    assert max(sizes) < sum(sizes) / 20


async def test_team_list_is_split_by_paper_month(writer: TinyDBStore, data_dir: Path) -> None:
    for n in range(240):
        await writer.save("slack", "T1", paper(f"{MONTHS[n % 24]}.{n:05d}"), saver("ana"))
    files = _files(data_dir / "lists" / "slack" / "T1", "*.json")
    assert files == sorted(f"{month}/000.json" for month in MONTHS)


async def test_team_list_month_is_split_by_arxiv_number(
    writer: TinyDBStore, data_dir: Path
) -> None:
    for number in (1, 499, 500, 12345, 24999):
        await writer.save("slack", "T1", paper(f"2505.{number:05d}"), saver("ana"))
    files = _files(data_dir / "lists" / "slack" / "T1", "*.json")
    assert files == ["2505/000.json", "2505/001.json", "2505/024.json", "2505/049.json"]


async def test_old_style_list_entries_share_one_file(
    writer: TinyDBStore, data_dir: Path
) -> None:
    for arxiv_id in ("hep-th/9901001", "math.ag/0301001", "0704.0001"):
        await writer.save("slack", "T1", paper(arxiv_id), saver("ana"))
    files = _files(data_dir / "lists" / "slack" / "T1", "*.json")
    assert files == ["0704/000.json", "old.json"]


async def test_posts_are_filed_per_channel_and_month(writer: TinyDBStore, data_dir: Path) -> None:
    for day in (date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 31)):
        await writer.claim_post(CHANNEL, day, "h", T0)
    assert _files(data_dir, "posts/**/*.json") == [
        "posts/slack/T1/C1/2024-12.json",
        "posts/slack/T1/C1/2025-01.json",
    ]


async def test_chat_ids_cannot_lead_outside_the_data_directory(
    writer: TinyDBStore, data_dir: Path, tmp_path: Path
) -> None:
    hostile = ChatRef("slack", "../..", "../../../escape")
    await writer.claim_post(hostile, DAY, "h", T0)
    await writer.save("slack", "/etc", paper(), saver("ana"))
    assert {path.split("/")[0] for path in _files(tmp_path, "*.json")} == {"data"}


async def test_hostile_chat_ids_still_round_trip(writer: TinyDBStore) -> None:
    hostile = ChatRef("slack", "../..", "../../../escape")
    await writer.claim_post(hostile, DAY, "h", T0)
    record = await writer.get_post(hostile, DAY)
    assert record is not None and record.channel == hostile


# --- data directories written before month files ------------------------------------------

OLD_DAY = date(2025, 3, 4)
OLD_OPEN_DAY = date(2025, 3, 5)


@pytest.fixture
def year_file(existing_dir: Path) -> Path:
    """A channel's 2025 posts as an earlier Paperboy filed them: one file for the year, with
    a finished day, a day still claimed (its process died) and a released day."""
    finished = PostRecord(CHANNEL, OLD_DAY, "posted", "old-host", T0,
                          (PostItem("2503.00001", "2503.00001", "50.1"),))
    open_claim = PostRecord(CHANNEL, OLD_OPEN_DAY, "claimed", "old-host", T0,
                            (PostItem("2503.00002", "2503.00002", None),))
    released = {"day": "2025-03-01", "items": [codec.item_to_dict(
        PostItem("2503.00003", "2503.00003", "40.1"))]}
    path = existing_dir / "posts/slack/T1/C1/2025.json"
    write_json_atomic(path, {
        "claims": {r.day.isoformat(): codec.post_to_dict(r) for r in (finished, open_claim)},
        "released": {"2025-03-01#0": released},
    })
    return path


async def test_year_file_posts_still_count_as_posted(year_file: Path, writer: TinyDBStore) -> None:
    await writer.claim_post(CHANNEL, DAY, "h", T0, [PostItem("2505.01234", "2505.01234", "9")])
    assert await writer.posted_ids(CHANNEL) == {
        "2503.00001", "2503.00002", "2503.00003", "2505.01234"
    }


async def test_year_file_messages_still_lead_to_their_papers(
    year_file: Path, writer: TinyDBStore
) -> None:
    message = ChatRef("slack", "T1", "C1", "40.1")
    assert await writer.paper_for_message(message) == "2503.00003"


async def test_day_claimed_in_a_year_file_is_not_claimed_again(
    year_file: Path, writer: TinyDBStore
) -> None:
    assert await writer.claim_post(CHANNEL, OLD_DAY, "h", T0) is None


async def test_claim_left_in_a_year_file_can_be_resumed(
    year_file: Path, writer: TinyDBStore
) -> None:
    await writer.record_items(CHANNEL, OLD_OPEN_DAY, [PostItem("2503.00004", "2503.00004", None)])
    await writer.finish_post(CHANNEL, OLD_OPEN_DAY, "posted")
    record = await writer.get_post(CHANNEL, OLD_OPEN_DAY)
    assert record is not None and [i.key for i in record.items] == ["2503.00002", "2503.00004"]


async def test_claim_resumed_from_a_year_file_survives_reopening(
    year_file: Path, data_dir: Path
) -> None:
    store = await TinyDBStore.open(data_dir)
    await store.finish_post(CHANNEL, OLD_OPEN_DAY, "posted")
    await store.close()
    store = await TinyDBStore.open(data_dir)
    record = await store.get_post(CHANNEL, OLD_OPEN_DAY)
    await store.close()
    assert record is not None and record.status == "posted"


async def test_day_released_from_a_year_file_can_be_claimed_again(
    year_file: Path, writer: TinyDBStore
) -> None:
    await writer.release_post(CHANNEL, OLD_DAY)
    assert await writer.claim_post(CHANNEL, OLD_DAY, "h", T0) is not None


async def test_items_released_from_a_year_file_still_count(
    year_file: Path, data_dir: Path
) -> None:
    store = await TinyDBStore.open(data_dir)
    await store.release_post(CHANNEL, OLD_DAY)
    await store.close()
    store = await TinyDBStore.open(data_dir)
    posted = await store.posted_ids(CHANNEL)
    await store.close()
    assert "2503.00001" in posted


async def test_new_posts_leave_the_year_file_as_it_was(
    year_file: Path, writer: TinyDBStore
) -> None:
    before = await asyncio.to_thread(year_file.read_bytes)
    await writer.claim_post(CHANNEL, date(2025, 3, 9), "h", T0)
    await writer.record_items(CHANNEL, OLD_OPEN_DAY, [PostItem("header", None, "7")])
    assert await asyncio.to_thread(year_file.read_bytes) == before


async def test_reader_sees_a_claim_resumed_from_a_year_file(
    year_file: Path, writer: TinyDBStore, data_dir: Path
) -> None:
    await writer.finish_post(CHANNEL, OLD_OPEN_DAY, "posted")
    reader = await TinyDBStore.open(data_dir, readonly=True)
    record = await reader.get_post(CHANNEL, OLD_OPEN_DAY)
    await reader.close()
    assert record is not None and record.status == "posted"


# --- team lists written in the earlier layout (<YYMM>-<number // 5000>.json) --------------

OLD_LIST = "lists/slack/T1/2505-0.json"


@pytest.fixture
def old_list(existing_dir: Path) -> Path:
    """A team list as an earlier Paperboy filed it: two papers of May 2025 in one file."""
    entries = {
        arxiv_id: {"paper": codec.paper_to_dict(paper(arxiv_id)),
                   "savers": [codec.saver_to_dict(saver("ana", minutes=n))]}
        for n, arxiv_id in enumerate(["2505.00001", "2505.04000"])
    }
    path = existing_dir / OLD_LIST
    write_json_atomic(path, {"entries": entries})
    return path


async def test_writer_refiles_an_old_list_into_smaller_files(
    old_list: Path, writer: TinyDBStore, data_dir: Path
) -> None:
    assert _files(data_dir / "lists", "*.json") == [
        "slack/T1/2505/000.json", "slack/T1/2505/008.json"
    ]


async def test_refiled_list_keeps_every_entry(old_list: Path, writer: TinyDBStore) -> None:
    listed = [e.paper.arxiv_id for e in await writer.saved_papers("slack", "T1")]
    assert listed == ["2505.04000", "2505.00001"]


async def test_refiled_list_takes_new_saves(old_list: Path, writer: TinyDBStore) -> None:
    change = await writer.save("slack", "T1", paper("2505.00001"), saver("bob", minutes=5))
    assert change.savers == 2


async def test_reader_lists_an_old_list_without_refiling_it(
    old_list: Path, data_dir: Path
) -> None:
    reader = await TinyDBStore.open(data_dir, readonly=True)
    listed = [e.paper.arxiv_id for e in await reader.saved_papers("slack", "T1", limit=5)]
    await reader.close()
    assert (listed, _files(data_dir / "lists", "*.json")) == (
        ["2505.04000", "2505.00001"], ["slack/T1/2505-0.json"]
    )


async def test_refiling_cut_short_is_finished_without_duplicates(
    old_list: Path, data_dir: Path
) -> None:
    # A writer died after writing one new file and before deleting the old one.
    moved = json.loads((data_dir / OLD_LIST).read_text("utf-8"))["entries"]["2505.00001"]
    write_json_atomic(data_dir / "lists/slack/T1/2505/000.json",
                      {"entries": {"2505.00001": moved}})
    store = await TinyDBStore.open(data_dir)
    listed = [e.paper.arxiv_id for e in await store.saved_papers("slack", "T1")]
    count = await store.count_saved("slack", "T1")
    await store.close()
    assert (listed, count) == (["2505.04000", "2505.00001"], 2)


async def test_corrupt_old_list_is_left_and_named(old_list: Path, data_dir: Path) -> None:
    (data_dir / OLD_LIST).write_bytes(b"garbage")
    store = await TinyDBStore.open(data_dir)
    with pytest.raises(StoreError, match=f"{old_list} is corrupt"):
        await store.saved_papers("slack", "T1")
    await store.close()


# --- a writable store on a directory that does not exist yet ------------------------------


async def test_store_created_on_write_leaves_nothing_when_only_read(data_dir: Path) -> None:
    store = await TinyDBStore.open(data_dir, create_on_write=True)
    await store.saved_papers("slack", "T1")
    await store.get_meta("k")
    await store.close()
    assert _files(data_dir.parent, "*") == []


async def test_store_created_on_write_creates_the_directory_on_its_first_write(
    data_dir: Path,
) -> None:
    store = await TinyDBStore.open(data_dir, create_on_write=True)
    await store.put_papers([paper()])
    await store.close()
    store = await TinyDBStore.open(data_dir, readonly=True)
    found = await store.get_papers(["2505.01234"])
    await store.close()
    assert found == {"2505.01234": paper()}


async def test_store_created_on_write_locks_once_it_writes(data_dir: Path) -> None:
    store = await TinyDBStore.open(data_dir, create_on_write=True)
    await store.set_meta("k", 1)
    with pytest.raises(StoreLocked):
        await TinyDBStore.open(data_dir)
    await store.close()


async def test_store_created_on_write_locks_an_existing_directory_at_once(
    existing_dir: Path,
) -> None:
    store = await TinyDBStore.open(existing_dir, create_on_write=True)
    with pytest.raises(StoreLocked):
        await TinyDBStore.open(existing_dir)
    await store.close()
