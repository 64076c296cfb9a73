"""The Store on disk: many small TinyDB JSON files in the data directory, one writing process.

TinyDB rewrites a whole file on every write, so the data is split where it grows and each
write touches one small file (see REFERENCE.md, "TinyDB 4.x"; paths in bot.store._layout):

    paperboy.lock                                  who writes here (pid, command)
    meta.json                                      small state (`get_meta` / `set_meta`)
    channels.json                                  channels set up from chat (bot.store._setups)
    papers/<YYMM>.json, papers/old.json            paper cache, by the arXiv id's month
    summaries/<YYMM>.json                          summary cache, by the arXiv id's month
    posts/<platform>/<team>/<channel>/<YYYY-MM>.json  a month of one channel's daily posts
    lists/<platform>/<team>/<YYMM>/<k>.json        a team list, by the saved paper's month
                                                   and number (k = number // 500)
    lists/<platform>/<team>/old.json               list entries with pre-2007 arXiv ids
    <team-state file>.bak                          its previous version (hard link)
    <cache file>.corrupt-<UTC stamp>               an unreadable cache file, set aside

A list entry keeps a whole paper (~2.5 kB), and a save rewrites its entry's file, so files
must stay small however long the list grows: split by month and by 500 arXiv numbers, a file
holds what a team saved of 500 submissions (Hugging Face features ~1,500 papers a month, so
even a team that saves them all has ~30 entries, ~75 kB, per file). With 5,000 numbers per
file, a 20,000-entry list had 360 kB files and saves twice as slow as at 1,000 entries
(bench/store.py). Lists written in that layout (`<YYMM>-<k>.json`) are moved into this one
when a writer opens the directory; until then readers read both.

Posts are filed by month so that a post's N+1 writes cost the same after years of history
(a year file grew to ~220 kB and was rewritten ~8 times per post). Year files written by
earlier versions (`<YYYY>.json`) are still read; a day's record in a month file wins over
the same day in a year file, and new writes go to month files.

The posts files are also the message index: `paper_for_message` and `posted_ids` read the
channel's own ledger, so no second file can disagree with it after a crash. A writing store
reads each channel's ledger and each team's list once and then answers from in-memory
indexes (bot.store._index), updated after each of its own writes reached the disk.

Team state (lists, posts, meta.json) keeps its previous version as `<name>.bak`; a corrupt
team-state file is refused with a StoreError naming the file and that backup, and stops only
the calls that need that file. A corrupt cache file is moved aside and read as empty.

Safety: an exclusive lock makes this the only writing process (a second gets StoreLocked);
every file is replaced atomically (bot.store._files); all file I/O runs on one worker thread,
which serialises the calls (a claim is atomic) and keeps the event loop free; what a person
waits on (list, count, save, unsave, the paper a message carries) goes before queued post
writes and cache writes (bot.store._lanes). Read-only stores
take no lock, follow a live writer's files, and refuse writes; one on a directory that does
not exist reads as empty and creates nothing. A store opened `create_on_write` (the reading
commands) creates and locks a missing directory only when it first writes a cache.
Does not: merge papers field by field (the caller decides), or rewrite year files.
Opened by bot.runtime / the CLI; the contract suite and bench/store.py exercise it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import errno
import functools
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from tinydb import TinyDB
from tinydb.table import Document, Table

from bot.channel_setup import ChannelSetup
from bot.errors import StoreError
from bot.models import ChatRef, Paper, SavedPaper, Saver, Summary
from bot.store import ListChange, PostItem, PostRecord, PostStatus, _setups, with_items
from bot.store import _codec as codec
from bot.store import _layout as layout
from bot.store._files import (
    AtomicJSONStorage,
    DataDirLock,
    DataDirReadOnly,
    remove_stale_temp_files,
)
from bot.store._index import ItemKey, LedgerIndex, ListIndex
from bot.store._lanes import Lanes

T = TypeVar("T")

log = logging.getLogger(__name__)




class _KeyedTable(Table):
    # Documents are filed under their natural key (an arXiv id, a date), not a counter.
    document_id_class = str  # type: ignore[assignment]


class _KeyedTinyDB(TinyDB):
    table_class = _KeyedTable


class TinyDBStore:
    """Paperboy's state in `data_dir`. Create with `await TinyDBStore.open(path)`."""

    def __init__(self, data_dir: Path, *, readonly: bool, lanes: Lanes) -> None:
        # Absolute, so that error messages name the directory unambiguously.
        self.data_dir = Path(data_dir).absolute()
        self.readonly = readonly
        # The lock file makes a writable store this process's alone.
        self.exclusive = not readonly
        self._lanes = lanes
        self._lock = DataDirLock(self.data_dir)
        self._dbs: dict[Path, _KeyedTinyDB] = {}
        # Values decoded from a table, kept while its file's content version is unchanged.
        self._decoded: dict[tuple[str, str], tuple[int, list[Any]]] = {}
        # Exclusive stores only: built on first use from the files, then kept by our writes.
        self._ledgers: dict[str, LedgerIndex] = {}
        self._lists: dict[str, ListIndex] = {}
        # True while a writable store's directory does not exist yet (see `open`).
        self._deferred = False
        self._closed = False

    @classmethod
    async def open(
        cls, data_dir: Path, *, readonly: bool = False, create_on_write: bool = False
    ) -> TinyDBStore:
        """Open (creating it when writable) the data directory.

        Raises StoreLocked when another process writes there, DataDirReadOnly when it cannot
        be written, StoreError when it cannot be created. Read-only, a missing directory reads
        as empty and is not created. With `create_on_write`, a missing directory is created
        (and locked) by the first write, so a command that only reads leaves nothing behind.
        """
        lanes = Lanes("paperboy-store")
        store = cls(data_dir, readonly=readonly, lanes=lanes)
        store._deferred = create_on_write and not readonly
        try:
            await store._run(store._open)
        except BaseException:
            lanes.shutdown()
            raise
        return store

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Queued behind every call already queued (in either lane), so nothing is cut off
        # mid-write.
        await asyncio.wrap_future(self._lanes.submit(self._release))
        self._lanes.shutdown()

    # --- papers -------------------------------------------------------------------------
    async def put_papers(self, papers: Iterable[Paper]) -> None:
        await self._write(self._put_papers, list(papers))

    async def get_papers(self, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
        # Urgent: a 📌 or `/papers details` looks the paper up while the fan-out writes.
        return await self._run(self._get_papers, list(arxiv_ids), urgent=True)

    async def all_papers(self) -> list[Paper]:
        return await self._run(self._all_papers)

    async def iter_papers(self, batch: int = 1000) -> AsyncIterator[list[Paper]]:
        size = max(1, batch)
        buffer: list[Paper] = []
        for relative in await self._run(self._files, "papers"):
            buffer.extend(await self._run(self._paper_shard, relative))
            while len(buffer) >= size:
                yield buffer[:size]
                buffer = buffer[size:]
        if buffer:
            yield buffer

    # --- summaries ----------------------------------------------------------------------
    async def get_summaries(
        self, arxiv_ids: Iterable[str], summarizer: str, model: str | None
    ) -> dict[str, Summary]:
        return await self._run(self._get_summaries, list(arxiv_ids), summarizer, model)

    async def put_summary(self, arxiv_id: str, summarizer: str, summary: Summary) -> None:
        await self._write(self._put_summary, arxiv_id, summarizer, summary)

    # --- daily posts --------------------------------------------------------------------
    async def claim_post(
        self, channel: ChatRef, day: date, owner: str, now: datetime,
        items: Sequence[PostItem] = (),
    ) -> PostRecord | None:
        return await self._write(self._claim_post, channel, day, owner, now, tuple(items))

    async def get_post(self, channel: ChatRef, day: date) -> PostRecord | None:
        return await self._run(self._get_post, channel, day)

    async def record_items(
        self,
        channel: ChatRef,
        day: date,
        items: Sequence[PostItem],
        status: PostStatus | None = None,
    ) -> None:
        await self._write(self._record_items, channel, day, tuple(items), status)

    async def finish_post(self, channel: ChatRef, day: date, status: PostStatus) -> None:
        await self._write(self._finish_post, channel, day, status)

    async def drop_item(self, channel: ChatRef, day: date, key: str) -> None:
        await self._write(self._drop_item, channel, day, key)

    async def release_post(self, channel: ChatRef, day: date) -> None:
        await self._write(self._release_post, channel, day)

    async def posted_ids(self, channel: ChatRef) -> frozenset[str]:
        return await self._run(self._posted_ids, channel)

    async def paper_for_message(self, message: ChatRef) -> str | None:
        if message.message is None:
            return None
        found = await self._run(self._paper_for_message, message, message.message,
                                urgent=True)
        if found is None and not self.readonly:
            # The urgent lane may have overtaken the confirmation of a message posted a
            # moment ago (queued behind other channels' writes): ask again after them.
            found = await self._run(self._paper_for_message, message, message.message)
        return found

    async def import_post(self, record: PostRecord, *, released: bool = False) -> bool:
        """Write a post record another store kept (`paperboy db export`): a claim with its
        status, owner and items as they were (replacing a different claim for that day, whose
        items stay in the ledger), or (`released`) a released claim's items. False when it is
        already here, so an export can run again."""
        return await self._write(self._import_post, record, released)

    # --- team reading list --------------------------------------------------------------
    async def save(self, platform: str, team: str, paper: Paper, saver: Saver) -> ListChange:
        return await self._write(self._save, platform, team, paper, saver, urgent=True)

    async def unsave(self, platform: str, team: str, arxiv_id: str, user: str) -> ListChange:
        return await self._write(self._unsave, platform, team, arxiv_id, user, urgent=True)

    async def saved_papers(
        self, platform: str, team: str, *, limit: int | None = None
    ) -> list[SavedPaper]:
        return await self._run(self._saved_papers, platform, team, limit, urgent=True)

    async def count_saved(self, platform: str, team: str) -> int:
        return await self._run(self._count_saved, platform, team, urgent=True)

    async def known_teams(self) -> list[tuple[str, str]]:
        return await self._run(self._known_teams, urgent=True)

    # --- small state --------------------------------------------------------------------
    async def get_meta(self, key: str) -> Any:
        return await self._run(self._get_meta, key)

    async def set_meta(self, key: str, value: Any) -> None:
        self._check_writable()
        # Copy through JSON now: a value that cannot be stored fails here, in the caller.
        stored = None if value is None else json.loads(json.dumps(value))
        await self._write(self._set_meta, key, stored)

    # --- channels set up from chat (bot.store._setups, in channels.json) ----------------
    async def get_channel_setup(self, channel: ChatRef) -> ChannelSetup | None:
        return await self._run(self._on_setups, _setups.get, channel)

    async def put_channel_setup(self, setup: ChannelSetup) -> None:
        await self._write(self._on_setups, _setups.put, setup)

    async def delete_channel_setup(self, channel: ChatRef) -> bool:
        return await self._write(self._on_setups, _setups.delete, channel)

    async def channel_setups(self) -> list[ChannelSetup]:
        return await self._run(self._on_setups, _setups.everything)

    def _on_setups(self, function: Callable[..., T], *args: Any) -> T:
        return function(self._table(_setups.FILE, _setups.TABLE), *args)

    # --- the worker thread: everything below runs there, one call at a time -------------
    async def _run(self, function: Callable[..., T], *args: Any, urgent: bool = False) -> T:
        """Run `function(*args)` on the store's thread. `urgent` calls (what a person waits
        on: the team list, a 📌, the paper a message carries) go before queued ones (post
        ledger writes, caches), so chat is not held up by a morning fan-out
        (bot.store._lanes). Calls within a lane keep their order."""
        if self._closed:
            raise StoreError(f"the store for {self.data_dir} is closed")
        call = functools.partial(function, *args)
        return await asyncio.wrap_future(self._lanes.submit(call, urgent=urgent))

    async def _write(self, function: Callable[..., T], *args: Any, urgent: bool = False) -> T:
        self._check_writable()
        return await self._run(self._open_then, function, *args, urgent=urgent)

    def _open_then(self, function: Callable[..., T], *args: Any) -> T:
        if self._deferred:
            self._open_for_writing()
            self._deferred = False
        return function(*args)

    def _open(self) -> None:
        if self.readonly or self._deferred:
            if self.data_dir.exists() and not self.data_dir.is_dir():
                raise StoreError(f"data directory {self.data_dir} is not a directory")
            if self._deferred and self.data_dir.is_dir():
                self._deferred = False  # it exists: lock it now, as any writer
            else:
                if self._deferred and not _creatable(self.data_dir):
                    # Nothing could ever be written there: say so now, as a read-only store.
                    self.readonly, self.exclusive, self._deferred = True, False, False
                return
        self._open_for_writing()

    def _open_for_writing(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
                raise DataDirReadOnly(
                    f"cannot create data directory {self.data_dir}: {exc.strerror or exc}"
                ) from exc
            raise StoreError(
                f"cannot create data directory {self.data_dir}: {exc.strerror or exc}"
            ) from exc
        self._lock.acquire()
        # Only the lock holder may: a temp file could be another writer's work in progress.
        remove_stale_temp_files(self.data_dir)
        layout.refile_old_lists(self.data_dir)

    def _release(self) -> None:
        self._dbs.clear()
        self._decoded.clear()
        self._ledgers.clear()
        self._lists.clear()
        self._lock.release()

    def _check_writable(self) -> None:
        if self.readonly:
            raise StoreError(f"read-only: the store for {self.data_dir} refuses writes")

    def _db(self, relative: str) -> _KeyedTinyDB:
        path = self.data_dir / relative
        db = self._dbs.get(path)
        if db is None:
            db = _KeyedTinyDB(
                path,
                storage=AtomicJSONStorage,
                readonly=self.readonly,
                rebuildable=relative.startswith(layout.CACHE_DIRS),
            )
            self._dbs[path] = db
        return db

    def _table(self, relative: str, name: str) -> Table:
        # cache_size=0: TinyDB's query cache would go stale when another process writes.
        return self._db(relative).table(name, cache_size=0)

    def _decode_all(self, relative: str, name: str, decode: Callable[[Any], T]) -> list[T]:
        """Every document of a table, decoded; re-decoded only after the file changed.

        Listing 5,000 saved papers spends its time building dataclasses from dicts: this
        keeps listing a ~130-file team list cheap when one file changed since last time.
        """
        table = self._table(relative, name)
        version = _storage(table).current_version()
        cached = self._decoded.get((relative, name))
        if cached is not None and cached[0] == version:
            return cached[1]
        values = [decode(doc) for doc in table.all()]
        self._decoded[(relative, name)] = (version, values)
        return values

    def _raw(self, relative: str, name: str) -> dict[str, Any]:
        """A table's documents as stored (no copy, no Document objects): read only."""
        data = self._db(relative).storage.read() or {}
        return data.get(name, {})

    def _list_files(self, platform: str, team: str) -> list[str]:
        """A team list's files: month folders, old.json, and files of the earlier layout."""
        team_dir = layout.team_dir(platform, team)
        directory = self.data_dir / team_dir
        if not directory.is_dir():
            return []
        return sorted(p.relative_to(self.data_dir).as_posix()
                      for pattern in ("*.json", "*/*.json") for p in directory.glob(pattern))

    def _files(self, relative_dir: str) -> list[str]:
        directory = self.data_dir / relative_dir
        if not directory.is_dir():
            return []
        return sorted(f"{relative_dir}/{p.name}" for p in directory.glob("*.json"))

    # papers
    def _put_papers(self, papers: list[Paper]) -> None:
        by_shard: dict[str, list[Paper]] = {}
        for paper in papers:
            by_shard.setdefault(layout.paper_file(paper.arxiv_id), []).append(paper)
        for relative, shard_papers in by_shard.items():
            table = self._table(relative, "papers")
            with _batch(table):
                for paper in shard_papers:
                    _put(table, paper.arxiv_id, codec.paper_to_dict(paper))

    def _get_papers(self, arxiv_ids: list[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        for arxiv_id in arxiv_ids:
            doc = self._table(layout.paper_file(arxiv_id), "papers").get(doc_id=arxiv_id)
            if doc is not None:
                found[arxiv_id] = codec.paper_from_dict(doc)
        return found

    def _all_papers(self) -> list[Paper]:
        return [
            paper
            for relative in self._files("papers")
            for paper in self._decode_all(relative, "papers", codec.paper_from_dict)
        ]

    def _paper_shard(self, relative: str) -> list[Paper]:
        # Read without keeping the file open: streaming every shard once must not end up
        # holding the whole cache, as `all_papers` does.
        path = self.data_dir / relative
        kept = path in self._dbs
        try:
            return [codec.paper_from_dict(doc) for doc in self._table(relative, "papers").all()]
        finally:
            if not kept:
                self._dbs.pop(path, None)

    # summaries
    def _get_summaries(
        self, arxiv_ids: list[str], summarizer: str, model: str | None
    ) -> dict[str, Summary]:
        found: dict[str, Summary] = {}
        for arxiv_id in arxiv_ids:
            table = self._table(layout.summary_file(arxiv_id), "summaries")
            doc = table.get(doc_id=_summary_key(arxiv_id, summarizer, model))
            if doc is not None:
                found[arxiv_id] = codec.summary_from_dict(doc)
        return found

    def _put_summary(self, arxiv_id: str, summarizer: str, summary: Summary) -> None:
        table = self._table(layout.summary_file(arxiv_id), "summaries")
        with _batch(table):
            key = _summary_key(arxiv_id, summarizer, summary.model)
            _put(table, key, codec.summary_to_dict(summary))

    # daily posts
    def _claims(self, channel: ChatRef, day: date, name: str = "claims") -> Table:
        # "claims" holds one record per day; "released" keeps the items of released claims.
        return self._table(layout.post_file(channel, day), name)

    def _find_claim(self, channel: ChatRef, day: date) -> tuple[Table, dict[str, Any]] | None:
        """The table holding the claim for (channel, day) and its document: the month file,
        else the year file an earlier version wrote."""
        key = day.isoformat()
        for relative in (layout.post_file(channel, day), layout.year_file(channel, day.year)):
            table = self._table(relative, "claims")
            doc = table.get(doc_id=key)
            if doc is not None:
                return table, doc  # type: ignore[return-value]
        return None

    def _claim_post(
        self, channel: ChatRef, day: date, owner: str, now: datetime,
        items: tuple[PostItem, ...],
    ) -> PostRecord | None:
        if self._find_claim(channel, day) is not None:
            return None
        record = PostRecord(
            channel=replace(channel, message=None),
            day=day,
            status="claimed",
            owner=owner,
            claimed_at=now,
            items=items,
        )
        claims = self._claims(channel, day)
        with _batch(claims):
            claims.insert(Document(codec.post_to_dict(record), doc_id=day.isoformat()))
        self._indexed_ledger(channel, lambda ledger: ledger.set_claim(
            day.isoformat(), _item_keys(items)))
        return record

    def _get_post(self, channel: ChatRef, day: date) -> PostRecord | None:
        found = self._find_claim(channel, day)
        return codec.post_from_dict(found[1]) if found is not None else None

    def _record_items(
        self, channel: ChatRef, day: date, new: tuple[PostItem, ...], status: PostStatus | None
    ) -> None:
        self._put_post(with_items(self._claimed(channel, day), new, status))

    def _drop_item(self, channel: ChatRef, day: date, key: str) -> None:
        record = self._claimed(channel, day)
        kept = tuple(item for item in record.items if item.key != key)
        self._put_post(replace(record, items=kept))

    def _finish_post(self, channel: ChatRef, day: date, status: PostStatus) -> None:
        self._put_post(replace(self._claimed(channel, day), status=status))

    def _release_post(self, channel: ChatRef, day: date) -> None:
        key = day.isoformat()
        found = self._find_claim(channel, day)
        if found is None:
            return
        items = found[1]["items"]
        claims = self._claims(channel, day)
        released = self._claims(channel, day, "released")
        # One file, one batch: the claim goes and its items move to the ledger together.
        with _batch(claims):
            if items:
                entry = {"day": key, "items": items}
                released.insert(Document(entry, doc_id=f"{key}#{len(released)}"))
            if claims.get(doc_id=key) is not None:
                claims.remove(doc_ids=[key])
        # A claim made before month files: its items are in the month file's ledger now.
        year_claims = self._table(layout.year_file(channel, day.year), "claims")
        if year_claims.get(doc_id=key) is not None:
            with _batch(year_claims):
                year_claims.remove(doc_ids=[key])
        self._indexed_ledger(channel, lambda ledger: ledger.release_claim(key))

    def _import_post(self, record: PostRecord, released: bool) -> bool:
        if not released:
            found = self._find_claim(record.channel, record.day)
            if found is not None and codec.post_from_dict(found[1]) == record:
                return False
            month = self._claims(record.channel, record.day)
            # Superseded, its messages stay in the ledger as released; in one write when the
            # old claim is in the month file, so a crash cannot leave the day unclaimed.
            in_month = found is None or _storage(found[0]) is _storage(month)
            with _batch(month) if in_month else contextlib.nullcontext():
                if found is not None:
                    self._release_post(record.channel, record.day)
                self._put_post(replace(record, channel=replace(record.channel, message=None)))
            return True
        key, items = record.day.isoformat(), [codec.item_to_dict(i) for i in record.items]
        table = self._claims(record.channel, record.day, "released")
        if any(doc["day"] == key and _item_bag(doc["items"]) == _item_bag(items)
               for doc in table.all()):
            return False
        with _batch(table):  # filed as `_release_post` files it
            table.insert(Document({"day": key, "items": items}, doc_id=f"{key}#{len(table)}"))
        self._indexed_ledger(record.channel,
                             lambda ledger: ledger.add_released(_dict_keys(items)))
        return True

    def _claimed(self, channel: ChatRef, day: date) -> PostRecord:
        record = self._get_post(channel, day)
        if record is None:
            raise StoreError(f"no claim for {_describe(channel)} on {day}: claim_post first")
        return record

    def _put_post(self, record: PostRecord) -> None:
        claims = self._claims(record.channel, record.day)
        with _batch(claims):
            _put(claims, record.day.isoformat(), codec.post_to_dict(record))
        self._indexed_ledger(record.channel, lambda ledger: ledger.set_claim(
            record.day.isoformat(), _item_keys(record.items)))

    def _read_ledger(self, channel: ChatRef) -> LedgerIndex:
        """The channel's ledger from its files: year files first, so that a day's record in
        a month file replaces the same day's in a year file."""
        files = sorted(self._files(layout.channel_dir(channel)),
                       key=lambda r: (layout.YEAR_FILE.search(r) is None, r))
        claims: dict[str, list[dict[str, Any]]] = {}
        ledger = LedgerIndex()
        for relative in files:
            for day, doc in self._raw(relative, "claims").items():
                claims[day] = doc["items"]
            for doc in self._raw(relative, "released").values():
                ledger.add_released(_dict_keys(doc["items"]))
        for day, items in claims.items():
            ledger.set_claim(day, _dict_keys(items))
        return ledger

    def _ledger(self, channel: ChatRef) -> LedgerIndex:
        if self.readonly:
            return self._read_ledger(channel)  # another process writes: read it afresh
        key = layout.channel_dir(channel)
        ledger = self._ledgers.get(key)
        if ledger is None:
            ledger = self._ledgers[key] = self._read_ledger(channel)
        return ledger

    def _indexed_ledger(self, channel: ChatRef, change: Callable[[LedgerIndex], None]) -> None:
        """Apply a write that reached the disk to the channel's index, if one was built."""
        ledger = self._ledgers.get(layout.channel_dir(channel))
        if ledger is not None:
            change(ledger)

    def _posted_ids(self, channel: ChatRef) -> frozenset[str]:
        return self._ledger(channel).posted_ids()

    def _paper_for_message(self, message: ChatRef, message_id: str) -> str | None:
        return self._ledger(message).paper_for_message(message_id)

    # team reading list
    def _entries(self, platform: str, team: str, arxiv_id: str) -> Table:
        return self._table(layout.list_file(platform, team, arxiv_id), "entries")

    def _save(self, platform: str, team: str, paper: Paper, saver: Saver) -> ListChange:
        entries = self._entries(platform, team, paper.arxiv_id)
        doc = entries.get(doc_id=paper.arxiv_id)
        if doc is None:
            # The first save keeps the snapshot: the list must not depend on the cache.
            entry = {"paper": codec.paper_to_dict(paper), "savers": []}
            snapshot = paper
        elif any(old["user"] == saver.user for old in doc["savers"]):
            return ListChange(codec.paper_from_dict(doc["paper"]), False, len(doc["savers"]))
        else:
            entry = dict(doc)
            snapshot = codec.paper_from_dict(doc["paper"])
        entry["savers"] = [*entry["savers"], codec.saver_to_dict(saver)]
        with _batch(entries):
            _put(entries, paper.arxiv_id, entry)
        index = self._lists.get(layout.team_dir(platform, team))
        if index is not None:
            index.put(paper.arxiv_id, _last_saved_at(entry), len(entry["savers"]))
        return ListChange(snapshot, True, len(entry["savers"]))

    def _unsave(self, platform: str, team: str, arxiv_id: str, user: str) -> ListChange:
        entries = self._entries(platform, team, arxiv_id)
        doc = entries.get(doc_id=arxiv_id)
        if doc is None:
            return ListChange(None, False, 0)
        snapshot = codec.paper_from_dict(doc["paper"])
        savers = [old for old in doc["savers"] if old["user"] != user]
        if len(savers) == len(doc["savers"]):
            return ListChange(snapshot, False, len(savers))
        with _batch(entries):
            if savers:
                _put(entries, arxiv_id, {**doc, "savers": savers})
            else:
                entries.remove(doc_ids=[arxiv_id])
        index = self._lists.get(layout.team_dir(platform, team))
        if index is not None:
            if savers:
                index.put(arxiv_id, _last_saved_at({"savers": savers}), len(savers))
            else:
                index.remove(arxiv_id)
        return ListChange(snapshot, True, len(savers))

    def _saved_papers(self, platform: str, team: str, limit: int | None) -> list[SavedPaper]:
        if limit is not None and not self.readonly:
            return [
                _entry_from_dict(self._entries(platform, team, arxiv_id).get(doc_id=arxiv_id))
                for arxiv_id in self._list_index(platform, team).newest(limit)
            ]
        # By id: a reader may see an entry in an old-layout file and in its new file while
        # the writer refiles it.
        saved = {
            entry.paper.arxiv_id: entry
            for relative in self._list_files(platform, team)
            for entry in self._decode_all(relative, "entries", _entry_from_dict)
        }
        ordered = sorted(saved.values(), key=_newest_first_key, reverse=True)
        return ordered if limit is None else ordered[:limit]

    def _count_saved(self, platform: str, team: str) -> int:
        if not self.readonly:
            return self._list_index(platform, team).count()
        files = self._list_files(platform, team)
        return len(set().union(*(self._raw(relative, "entries") for relative in files)))

    def _list_index(self, platform: str, team: str) -> ListIndex:
        key = layout.team_dir(platform, team)
        index = self._lists.get(key)
        if index is None:
            # Built from the stored dicts: dates and counts only, no paper is decoded.
            index = ListIndex(
                (arxiv_id, _last_saved_at(doc), len(doc["savers"]))
                for relative in self._list_files(platform, team)
                for arxiv_id, doc in self._raw(relative, "entries").items()
            )
            self._lists[key] = index
        return index

    def _known_teams(self) -> list[tuple[str, str]]:
        teams: set[tuple[str, str]] = set()
        for kind in ("lists", "posts"):
            root = self.data_dir / kind
            if not root.is_dir():
                continue
            for team_dir in root.glob("*/*"):
                if team_dir.is_dir() and next(team_dir.rglob("*.json"), None) is not None:
                    teams.add((layout.unpart(team_dir.parent.name), layout.unpart(team_dir.name)))
        return sorted(teams)

    # small state
    def _get_meta(self, key: str) -> Any:
        doc = self._table("meta.json", "meta").get(doc_id=key)
        # A deep copy: the caller may change what it gets without touching our cache.
        return copy.deepcopy(doc["value"]) if doc is not None else None

    def _set_meta(self, key: str, value: Any) -> None:
        table = self._table("meta.json", "meta")
        with _batch(table):
            if value is not None:
                _put(table, key, {"value": value})
            elif table.get(doc_id=key) is not None:
                table.remove(doc_ids=[key])


def _creatable(directory: Path) -> bool:
    """Whether `directory` (missing) could be created: its nearest existing parent is
    writable."""
    parent = directory.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return os.access(parent, os.W_OK)


def _batch(table: Table) -> AbstractContextManager[None]:
    """One atomic write of the table's file for all the changes made in the block."""
    return _storage(table).batch()


def _storage(table: Table) -> AtomicJSONStorage:
    storage = table.storage
    if not isinstance(storage, AtomicJSONStorage):  # pragma: no cover - a wiring bug
        raise TypeError(f"unexpected storage {storage!r}")
    return storage


def _put(table: Table, key: str, document: Mapping[str, Any]) -> None:
    """Insert or wholly replace the document filed under `key`."""
    if table.get(doc_id=key) is None:
        table.insert(Document(document, doc_id=key))  # type: ignore[arg-type]
        return

    def overwrite(old: dict[str, Any]) -> None:
        old.clear()
        old.update(document)

    table.update(overwrite, doc_ids=[key])  # type: ignore[list-item]


def _entry_from_dict(doc: dict[str, Any]) -> SavedPaper:
    return SavedPaper(
        paper=codec.paper_from_dict(doc["paper"]),
        savers=tuple(codec.saver_from_dict(s) for s in doc["savers"]),
    )


def _newest_first_key(entry: SavedPaper) -> tuple[datetime, str]:
    return (entry.last_saved_at, entry.paper.arxiv_id)


def _last_saved_at(doc: Mapping[str, Any]) -> datetime:
    return max(datetime.fromisoformat(s["saved_at"]) for s in doc["savers"])


def _item_keys(items: Iterable[PostItem]) -> list[ItemKey]:
    return [(item.arxiv_id, item.message_id) for item in items]


def _dict_keys(items: Iterable[Mapping[str, Any]]) -> list[ItemKey]:
    return [(item.get("arxiv_id"), item.get("message_id")) for item in items]


def _item_bag(items: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    # Compared as a bag: the same released post whatever order its items were read in.
    return sorted((i["key"], i.get("arxiv_id") or "", i.get("message_id") or "") for i in items)


def _summary_key(arxiv_id: str, summarizer: str, model: str | None) -> str:
    # A JSON list keeps the three parts apart whatever characters a model name holds.
    return json.dumps([arxiv_id, summarizer, model])


def _describe(channel: ChatRef) -> str:
    return f"{channel.platform}/{channel.team}/{channel.channel}"
