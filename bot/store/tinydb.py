"""The Store on disk: many small TinyDB JSON files in the data directory, one writing process.

TinyDB rewrites a whole file on every write, so the data is split where it grows and each
write touches one small file (see REFERENCE.md, "TinyDB 4.x"):

    paperboy.lock                                  who writes here (pid, command)
    meta.json                                      small state (`get_meta` / `set_meta`)
    papers/<YYMM>.json, papers/old.json            paper cache, by the arXiv id's month
    summaries/<YYMM>.json                          summary cache, by the arXiv id's month
    posts/<platform>/<team>/<channel>/<YYYY>.json  a year of one channel's daily posts
    lists/<platform>/<team>/<YYMM>-<k>.json        a team list, by the saved paper's month
                                                   and number (k = number // 5000)

A list entry keeps a whole paper (~2.5 kB) and teams save recent months most: with month
files alone, a 5,000-entry list of real papers had a 768 kB file and a save p99 near 20 ms
on a busy machine (bench/store.py); split by number, the largest is ~240 kB and p99 ~5 ms.

The posts files are also the message index: `paper_for_message` and `posted_ids` read the
channel's own ledger, so no second file can disagree with it after a crash.

Safety: an exclusive lock makes this the only writing process (a second gets StoreLocked);
every file is replaced atomically (bot.store._files); all file I/O runs on one worker thread,
which serialises the calls (a claim is atomic) and keeps the event loop free. Read-only stores
take no lock, follow a live writer's files, and refuse writes.
Does not: merge papers field by field (the caller decides), or migrate other layouts.
Opened by bot.runtime / the CLI; the contract suite and bench/store.py exercise it.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from tinydb import TinyDB
from tinydb.table import Document, Table

from bot.errors import StoreError
from bot.models import ChatRef, Paper, SavedPaper, Saver, Summary
from bot.store import PostItem, PostRecord, PostStatus, with_items
from bot.store import _codec as codec
from bot.store._files import AtomicJSONStorage, DataDirLock, remove_stale_temp_files

T = TypeVar("T")

_NEW_STYLE_MONTH = re.compile(r"^(\d{4})\.\d{4,5}$", re.ASCII)


class _KeyedTable(Table):
    # Documents are filed under their natural key (an arXiv id, a date), not a counter.
    document_id_class = str  # type: ignore[assignment]


class _KeyedTinyDB(TinyDB):
    table_class = _KeyedTable


class TinyDBStore:
    """Paperboy's state in `data_dir`. Create with `await TinyDBStore.open(path)`."""

    def __init__(self, data_dir: Path, *, readonly: bool, executor: ThreadPoolExecutor) -> None:
        # Absolute, so that error messages name the directory unambiguously.
        self.data_dir = Path(data_dir).absolute()
        self.readonly = readonly
        # The lock file makes a writable store this process's alone.
        self.exclusive = not readonly
        self._executor = executor
        self._lock = DataDirLock(self.data_dir)
        self._dbs: dict[Path, _KeyedTinyDB] = {}
        # Values decoded from a table, kept while its file's content version is unchanged.
        self._decoded: dict[tuple[str, str], tuple[int, list[Any]]] = {}
        self._closed = False

    @classmethod
    async def open(cls, data_dir: Path, *, readonly: bool = False) -> TinyDBStore:
        """Open (creating it when writable) the data directory.

        Raises StoreLocked when another process writes there, StoreError when it cannot be
        created or, read-only, does not exist.
        """
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paperboy-store")
        store = cls(data_dir, readonly=readonly, executor=executor)
        try:
            await store._run(store._open)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return store

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Queued behind any call still running, so nothing is cut off mid-write.
        await asyncio.get_running_loop().run_in_executor(self._executor, self._release)
        self._executor.shutdown(wait=False)

    # --- papers -------------------------------------------------------------------------
    async def put_papers(self, papers: Iterable[Paper]) -> None:
        self._check_writable()
        await self._run(self._put_papers, list(papers))

    async def get_papers(self, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
        return await self._run(self._get_papers, list(arxiv_ids))

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
        self._check_writable()
        await self._run(self._put_summary, arxiv_id, summarizer, summary)

    # --- daily posts --------------------------------------------------------------------
    async def claim_post(
        self, channel: ChatRef, day: date, owner: str, now: datetime,
        items: Sequence[PostItem] = (),
    ) -> PostRecord | None:
        self._check_writable()
        return await self._run(self._claim_post, channel, day, owner, now, tuple(items))

    async def get_post(self, channel: ChatRef, day: date) -> PostRecord | None:
        return await self._run(self._get_post, channel, day)

    async def record_items(
        self,
        channel: ChatRef,
        day: date,
        items: Sequence[PostItem],
        status: PostStatus | None = None,
    ) -> None:
        self._check_writable()
        await self._run(self._record_items, channel, day, tuple(items), status)

    async def finish_post(self, channel: ChatRef, day: date, status: PostStatus) -> None:
        self._check_writable()
        await self._run(self._finish_post, channel, day, status)

    async def drop_item(self, channel: ChatRef, day: date, key: str) -> None:
        self._check_writable()
        await self._run(self._drop_item, channel, day, key)

    async def release_post(self, channel: ChatRef, day: date) -> None:
        self._check_writable()
        await self._run(self._release_post, channel, day)

    async def posted_ids(self, channel: ChatRef) -> frozenset[str]:
        return await self._run(self._posted_ids, channel)

    async def paper_for_message(self, message: ChatRef) -> str | None:
        if message.message is None:
            return None
        return await self._run(self._paper_for_message, message)

    # --- team reading list --------------------------------------------------------------
    async def save(self, platform: str, team: str, paper: Paper, saver: Saver) -> bool:
        self._check_writable()
        return await self._run(self._save, platform, team, paper, saver)

    async def unsave(self, platform: str, team: str, arxiv_id: str, user: str) -> bool:
        self._check_writable()
        return await self._run(self._unsave, platform, team, arxiv_id, user)

    async def saved_papers(self, platform: str, team: str) -> list[SavedPaper]:
        return await self._run(self._saved_papers, platform, team)

    # --- small state --------------------------------------------------------------------
    async def get_meta(self, key: str) -> Any:
        return await self._run(self._get_meta, key)

    async def set_meta(self, key: str, value: Any) -> None:
        self._check_writable()
        # Copy through JSON now: a value that cannot be stored fails here, in the caller.
        stored = None if value is None else json.loads(json.dumps(value))
        await self._run(self._set_meta, key, stored)

    # --- the worker thread: everything below runs there, one call at a time -------------
    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreError(f"the store for {self.data_dir} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    def _open(self) -> None:
        if self.readonly:
            if not self.data_dir.is_dir():
                raise StoreError(f"data directory {self.data_dir} does not exist")
            return
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create data directory {self.data_dir}: {exc}") from exc
        self._lock.acquire()
        # Only the lock holder may: a temp file could be another writer's work in progress.
        remove_stale_temp_files(self.data_dir)

    def _release(self) -> None:
        self._dbs.clear()
        self._decoded.clear()
        self._lock.release()

    def _check_writable(self) -> None:
        if self.readonly:
            raise StoreError(f"read-only: the store for {self.data_dir} refuses writes")

    def _db(self, relative: str) -> _KeyedTinyDB:
        path = self.data_dir / relative
        db = self._dbs.get(path)
        if db is None:
            db = _KeyedTinyDB(path, storage=AtomicJSONStorage, readonly=self.readonly)
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

    def _files(self, relative_dir: str) -> list[str]:
        directory = self.data_dir / relative_dir
        if not directory.is_dir():
            return []
        return sorted(f"{relative_dir}/{p.name}" for p in directory.glob("*.json"))

    # papers
    def _put_papers(self, papers: list[Paper]) -> None:
        by_shard: dict[str, list[Paper]] = {}
        for paper in papers:
            by_shard.setdefault(f"papers/{_month(paper.arxiv_id)}.json", []).append(paper)
        for relative, shard_papers in by_shard.items():
            table = self._table(relative, "papers")
            with _batch(table):
                for paper in shard_papers:
                    _put(table, paper.arxiv_id, codec.paper_to_dict(paper))

    def _get_papers(self, arxiv_ids: list[str]) -> dict[str, Paper]:
        found: dict[str, Paper] = {}
        for arxiv_id in arxiv_ids:
            doc = self._table(f"papers/{_month(arxiv_id)}.json", "papers").get(doc_id=arxiv_id)
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
            table = self._table(f"summaries/{_month(arxiv_id)}.json", "summaries")
            doc = table.get(doc_id=_summary_key(arxiv_id, summarizer, model))
            if doc is not None:
                found[arxiv_id] = codec.summary_from_dict(doc)
        return found

    def _put_summary(self, arxiv_id: str, summarizer: str, summary: Summary) -> None:
        table = self._table(f"summaries/{_month(arxiv_id)}.json", "summaries")
        with _batch(table):
            key = _summary_key(arxiv_id, summarizer, summary.model)
            _put(table, key, codec.summary_to_dict(summary))

    # daily posts
    def _claims(self, channel: ChatRef, year: int, name: str = "claims") -> Table:
        # "claims" holds one record per day; "released" keeps the items of released claims.
        return self._table(post_file(channel, year), name)

    def _claim_post(
        self, channel: ChatRef, day: date, owner: str, now: datetime,
        items: tuple[PostItem, ...],
    ) -> PostRecord | None:
        claims = self._claims(channel, day.year)
        if claims.get(doc_id=day.isoformat()) is not None:
            return None
        record = PostRecord(
            channel=replace(channel, message=None),
            day=day,
            status="claimed",
            owner=owner,
            claimed_at=now,
            items=items,
        )
        with _batch(claims):
            claims.insert(Document(codec.post_to_dict(record), doc_id=day.isoformat()))
        return record

    def _get_post(self, channel: ChatRef, day: date) -> PostRecord | None:
        doc = self._claims(channel, day.year).get(doc_id=day.isoformat())
        return codec.post_from_dict(doc) if doc is not None else None

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
        claims = self._claims(channel, day.year)
        doc = claims.get(doc_id=day.isoformat())
        if doc is None:
            return
        released = self._claims(channel, day.year, "released")
        # One file, one batch: the claim goes and its items move to the ledger together.
        with _batch(claims):
            if doc["items"]:
                entry = {"day": day.isoformat(), "items": doc["items"]}
                released.insert(Document(entry, doc_id=f"{day.isoformat()}#{len(released)}"))
            claims.remove(doc_ids=[day.isoformat()])

    def _claimed(self, channel: ChatRef, day: date) -> PostRecord:
        record = self._get_post(channel, day)
        if record is None:
            raise StoreError(f"no claim for {_describe(channel)} on {day}: claim_post first")
        return record

    def _put_post(self, record: PostRecord) -> None:
        claims = self._claims(record.channel, record.day.year)
        with _batch(claims):
            _put(claims, record.day.isoformat(), codec.post_to_dict(record))

    def _ledger(self, channel: ChatRef) -> Iterable[dict[str, Any]]:
        """Every item ever recorded for the channel, newest year first."""
        for relative in reversed(self._files(_channel_dir(channel))):
            for name in ("claims", "released"):
                for doc in self._table(relative, name).all():
                    yield from doc["items"]

    def _posted_ids(self, channel: ChatRef) -> frozenset[str]:
        return frozenset(item["arxiv_id"] for item in self._ledger(channel) if item["arxiv_id"])

    def _paper_for_message(self, message: ChatRef) -> str | None:
        for item in self._ledger(message):
            if item["message_id"] == message.message:
                return item["arxiv_id"]
        return None

    # team reading list
    def _entries(self, platform: str, team: str, arxiv_id: str) -> Table:
        return self._table(list_file(platform, team, arxiv_id), "entries")

    def _save(self, platform: str, team: str, paper: Paper, saver: Saver) -> bool:
        entries = self._entries(platform, team, paper.arxiv_id)
        doc = entries.get(doc_id=paper.arxiv_id)
        if doc is None:
            # The first save keeps the snapshot: the list must not depend on the cache.
            entry = {"paper": codec.paper_to_dict(paper), "savers": []}
        elif any(old["user"] == saver.user for old in doc["savers"]):
            return False
        else:
            entry = dict(doc)
        entry["savers"] = [*entry["savers"], codec.saver_to_dict(saver)]
        with _batch(entries):
            _put(entries, paper.arxiv_id, entry)
        return True

    def _unsave(self, platform: str, team: str, arxiv_id: str, user: str) -> bool:
        entries = self._entries(platform, team, arxiv_id)
        doc = entries.get(doc_id=arxiv_id)
        if doc is None:
            return False
        savers = [old for old in doc["savers"] if old["user"] != user]
        if len(savers) == len(doc["savers"]):
            return False
        with _batch(entries):
            if savers:
                _put(entries, arxiv_id, {**doc, "savers": savers})
            else:
                entries.remove(doc_ids=[arxiv_id])
        return True

    def _saved_papers(self, platform: str, team: str) -> list[SavedPaper]:
        saved = [
            entry
            for relative in self._files(_team_dir(platform, team))
            for entry in self._decode_all(relative, "entries", _entry_from_dict)
        ]
        return sorted(saved, key=_newest_first_key, reverse=True)

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


def post_file(channel: ChatRef, year: int) -> str:
    """Where a channel's post records for `year` live, relative to the data directory."""
    return f"{_channel_dir(channel)}/{year:04d}.json"


def list_file(platform: str, team: str, arxiv_id: str) -> str:
    """Where a team's list entry for a paper lives, relative to the data directory."""
    match = _NEW_STYLE_MONTH.match(arxiv_id)
    shard = f"{match.group(1)}-{int(arxiv_id[5:]) // 5000}" if match else "old"
    return f"{_team_dir(platform, team)}/{shard}.json"


def _month(arxiv_id: str) -> str:
    """The shard of a paper: its YYMM for new-style ids, "old" for `hep-th/9901001` style."""
    match = _NEW_STYLE_MONTH.match(arxiv_id)
    return match.group(1) if match else "old"


def _summary_key(arxiv_id: str, summarizer: str, model: str | None) -> str:
    # A JSON list keeps the three parts apart whatever characters a model name holds.
    return json.dumps([arxiv_id, summarizer, model])


def _channel_dir(channel: ChatRef) -> str:
    return f"posts/{_part(channel.platform)}/{_part(channel.team)}/{_part(channel.channel)}"


def _team_dir(platform: str, team: str) -> str:
    return f"lists/{_part(platform)}/{_part(team)}"


def _part(text: str) -> str:
    """A path component that cannot escape its directory and maps back to one `text`."""
    if not text:
        return "%"
    return quote(text, safe="-_").replace(".", "%2E")


def _describe(channel: ChatRef) -> str:
    return f"{channel.platform}/{channel.team}/{channel.channel}"
