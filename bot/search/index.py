"""The local search index's lifecycle on tantivy: open, heal, write, commit, rebuild.

One job: keep a tantivy index of papers on disk (or in memory) usable, and hand readers the
last committed `Snapshot`. Ranking and snippets are `bot.search.relevance`'s job, the mapping
of a paper to a document `bot.search.schema`'s; batching writes is `bot.search.indexer`'s.
All methods block (tantivy works in Rust and releases the GIL while committing): async
callers use `asyncio.to_thread`.

Inputs/outputs: `add(papers)` upserts by canonical arXiv id in one commit, skipping papers
whose stored content is identical; `rebuilding()` streams a full replacement in (readers
switch to it when it is done); `search`, `get`, `missing`, `count` read the last committed
snapshot and never wait for a writer.

Why it looks like this:
- The index is a cache of the store's paper cache. A directory that cannot be read as a
  complete index of this version — a crash while it was first created, truncated or garbage
  files, someone else's files — is moved aside to `index.broken-<UTC stamp>` (kept for
  inspection, never deleted) and recreated empty, with one WARNING; `fresh` then tells the
  caller to refill it from the store (`open_index` in `bot.search` does both). An index
  written by another schema version is ours and merely outdated: it is deleted and rebuilt.
- The marker file `paperboy-index.json` records the schema version and whether the index
  was completely filled: a crash during the first fill or a rebuild (which commits every
  2,000 papers to keep memory flat, see `Rebuild`) leaves `complete: false`, and the next
  start refills instead of trusting a half-filled index.
- Writes that fail (read-only directory, full disk) raise StoreError after rolling the
  writer back: tantivy only switches to a new state when a commit completes, so readers keep
  the last committed snapshot and the index on disk stays the last committed one.
- A data directory where nothing can be written (mounted read-only) still searches what the
  index holds, with one WARNING: tantivy takes a lock file even to read, so a private copy
  is searched read-only.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Set
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import tantivy
from tantivy import Query

from bot.errors import StoreError
from bot.models import Paper
from bot.search.query import ParsedQuery
from bot.search.relevance import LocalHit, Ranker, Snapshot
from bot.search.schema import (
    build_schema,
    digest,
    document,
    paper_from_payload,
    payload,
    register,
    searchable_text,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
MARKER_FILE = "paperboy-index.json"
BROKEN_INFIX = ".broken-"
# tantivy wants at least ~15 MB per indexing thread; one thread keeps RSS low and is plenty
# for batches of a few thousand papers (8,036 papers index in about a second).
_WRITER_HEAP = 48_000_000
_VOCAB_UPDATE_MAX = 500
REBUILD_COMMIT_EVERY = 2000
# tantivy raises ValueError for its own I/O and format errors; the OS raises OSError.
_WRITE_ERRORS = (ValueError, OSError)
# What reading a damaged index can raise: tantivy's errors, or a payload that decodes to
# something that is not a paper.
_UNREADABLE = (ValueError, KeyError, TypeError)


class PaperIndex:
    """A tantivy index of papers, on disk (`open`) or in memory (`in_memory`).

    `fresh` is True when the index does not hold a complete copy of the store (new, healed,
    or a first fill that never finished): the caller should rebuild it from the store.
    `readonly` indexes are never written (another process owns them, or the disk refuses).
    Writes are serialised by a lock; reads use the last committed snapshot.
    """

    def __init__(
        self, index: tantivy.Index, *, path: Path | None, fresh: bool, readonly: bool = False
    ) -> None:
        self._index = index
        self._schema = index.schema
        self.path = path
        self.fresh = fresh
        self.readonly = readonly
        stemmer, names = register(index)
        self._names = names
        self._ranker = Ranker(self._schema, stemmer, names)
        self._write_lock = threading.Lock()
        self._session: _Session | None = None
        self._snapshot = Snapshot(index.searcher())

    # --- opening ----------------------------------------------------------------------
    @classmethod
    def in_memory(cls) -> PaperIndex:
        """An empty index in RAM (tests, throwaway runs)."""
        return cls(tantivy.Index(build_schema()), path=None, fresh=True)

    @classmethod
    def open_readonly(cls, path: Path) -> PaperIndex:
        """Open the index another process (the running bot) writes, without touching it:
        no marker, no healing, no rebuild. A missing or unusable index reads as empty."""
        path = Path(path)
        marker = _read_marker(path)
        if marker is None or marker.get("schema") != SCHEMA_VERSION:
            log.info("no usable search index at %s; searching remote only", path)
            return cls._empty_readonly()
        if not os.access(path, os.W_OK):
            # tantivy's lock file needs a writable directory even to read (EROFS on a
            # read-only mount): read a private copy instead of an empty index.
            return cls._open_copy(path)
        try:
            index = cls(tantivy.Index(build_schema(), path=str(path), reuse=True),
                        path=path, fresh=False, readonly=True)
            index._probe()
        except (*_UNREADABLE, OSError) as exc:
            log.warning("search index at %s is unreadable (%s)", path, _one_line(exc))
            return cls._empty_readonly()
        return index

    @classmethod
    def open(cls, path: Path) -> PaperIndex:
        """Open the index in `path`, creating it; a broken or foreign one is moved aside and
        an outdated one deleted, then recreated empty (`fresh`). When nothing in `path` can
        be written, whatever index is there is opened read-only instead."""
        path = Path(path)
        try:
            return cls._open_writable(path)
        except OSError as exc:
            log.warning(
                "search index at %s cannot be written (%s): searching a read-only copy",
                path, _one_line(exc),
            )
            return cls._open_copy(path)

    @classmethod
    def _open_copy(cls, path: Path) -> PaperIndex:
        # tantivy takes a lock file even to read, which a read-only filesystem refuses: the
        # index is searched from a private copy, deleted when this object goes.
        if _read_marker(path) is None:
            return cls.open_readonly(path)  # nothing worth copying; says so itself
        scratch = Path(tempfile.mkdtemp(prefix="paperboy-index-"))
        copy = scratch / path.name
        try:
            shutil.copytree(path, copy, ignore=shutil.ignore_patterns(".tantivy-*.lock"))
        except OSError as exc:
            log.warning("could not copy the search index at %s (%s): searching remote only",
                        path, _one_line(exc))
            shutil.rmtree(scratch, ignore_errors=True)
            return cls._empty_readonly()
        index = cls.open_readonly(copy)
        weakref.finalize(index, shutil.rmtree, scratch, ignore_errors=True)
        return index

    @classmethod
    def _open_writable(cls, path: Path) -> PaperIndex:
        if path.is_dir() and any(path.iterdir()):
            marker = _read_marker(path)
            if marker is not None and marker.get("schema") != SCHEMA_VERSION:
                log.warning(
                    "search index at %s has schema %s, this Paperboy writes schema %s: "
                    "recreating it",
                    path, marker.get("schema"), SCHEMA_VERSION,
                )
                _check_writable(path)
                shutil.rmtree(path)
            elif marker is None:
                _move_aside(path, "is not a complete Paperboy search index")
            else:
                index = cls._reuse(path, complete=bool(marker.get("complete")))
                if index is not None:
                    return index
        elif path.exists() and not path.is_dir():
            _move_aside(path, "is not a directory")
        return cls._create(path)

    @classmethod
    def _reuse(cls, path: Path, *, complete: bool) -> PaperIndex | None:
        _check_writable(path)  # a read-only disk is not a broken index
        try:
            index = cls(tantivy.Index(build_schema(), path=str(path), reuse=True),
                        path=path, fresh=not complete)
            index._probe()
        except _UNREADABLE as exc:
            _move_aside(path, f"is unreadable ({_one_line(exc)})")
            return None
        if not complete:
            log.warning("search index at %s was never completely filled: refilling it", path)
        return index

    @classmethod
    def _create(cls, path: Path) -> PaperIndex:
        path.mkdir(parents=True, exist_ok=True)
        _check_writable(path)
        try:
            index = tantivy.Index(build_schema(), path=str(path), reuse=True)
        except ValueError as exc:
            raise StoreError(f"cannot create the search index in {path}: {exc}") from exc
        _write_marker(path, complete=False)
        return cls(index, path=path, fresh=True)

    @classmethod
    def remote_only(cls) -> PaperIndex:
        """An empty index that is never written: searches answer from upstream alone."""
        return cls._empty_readonly()

    @classmethod
    def _empty_readonly(cls) -> PaperIndex:
        index = cls.in_memory()
        index.fresh = False  # nothing to refill: this process may not write
        index.readonly = True
        return index

    def _probe(self) -> None:
        # Opening reads only meta.json; reading one stored document and the fast fields
        # touches the segment files, so truncated segments are caught here, not mid-search.
        searcher = self._snapshot.searcher
        if searcher.num_docs:
            hits = searcher.search(Query.all_query(), 1, count=False).hits
            address = hits[0][1]
            paper_from_payload(searcher.doc(address).get_first("payload"))
            searcher.fast_field_values("digest", [address])

    # --- writing ----------------------------------------------------------------------
    def add(self, papers: Iterable[Paper]) -> int:
        """Insert or replace papers by canonical id; papers whose stored content is identical
        are skipped (no commit when nothing changed). Readers see the whole batch at once,
        when it is done. Returns how many were written. Raises StoreError when the index
        cannot be written."""
        if self.readonly:
            raise StoreError("this search index is read-only")
        batch = {paper.arxiv_id: paper for paper in papers}  # last one wins within a batch
        if not batch:
            return 0
        with self._write_lock:
            payloads = {arxiv_id: payload(paper) for arxiv_id, paper in batch.items()}
            known = self._digests(payloads.keys())
            changed = {
                arxiv_id: data for arxiv_id, data in payloads.items()
                if digest(data) not in known
            }
            if not changed:
                return 0
            with self._writing() as session:
                for done, (arxiv_id, data) in enumerate(changed.items(), start=1):
                    session.writer.delete_documents_by_term("arxiv_id", arxiv_id)
                    session.writer.add_document(document(batch[arxiv_id], data))
                    if done % REBUILD_COMMIT_EVERY == 0:
                        # A big batch (a backfill month) must not fill tantivy's queue
                        # either (see `Rebuild`); upserts stay correct if cut short.
                        session.writer.commit()
            self._reload(added=[batch[arxiv_id] for arxiv_id in changed])
        return len(changed)

    @contextmanager
    def rebuilding(self) -> Iterator[Rebuild]:
        """Replace the whole index with what is added to the yielded `Rebuild`. Papers can
        be added in batches from a stream, so memory stays flat however many there are.

        Readers keep the previous snapshot until the block ends. On disk the rebuild is
        committed every `REBUILD_COMMIT_EVERY` papers (see `Rebuild`) with the marker saying
        `complete: false` until the last commit: if the process dies or the block raises
        midway, the index is refilled from the store at the next open."""
        if self.readonly:
            raise StoreError("this search index is read-only")
        with self._write_lock:
            with self._writing() as session:
                session.writer.delete_all_documents()
                rebuild = Rebuild(session, self._mark_incomplete)
                yield rebuild
            self._reload(eager=False)
        self._mark_complete()
        log.info("search index rebuilt: %d papers", rebuild.count)

    def rebuild(self, papers: Iterable[Paper]) -> int:
        """Replace the whole index with `papers` (any iterable, consumed once) in one
        commit. Returns how many."""
        with self.rebuilding() as rebuild:
            rebuild.add(papers)
        return rebuild.count

    def warm(self) -> None:
        """Read the spelling vocabulary now (≈ 15 ms per 8k papers), so that the first
        misspelt query does not pay for it. A rebuild drops it (the old one and the new
        one would otherwise both be in memory): `open_index` warms after refilling."""
        self._snapshot.vocabulary()

    # --- reading ----------------------------------------------------------------------
    def count(self) -> int:
        """How many papers the index holds."""
        return self._snapshot.searcher.num_docs

    def get(self, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
        """The indexed papers among `arxiv_ids` (canonical), by id."""
        wanted = sorted(set(arxiv_ids))
        if not wanted:
            return {}
        searcher = self._snapshot.searcher
        query = Query.term_set_query(self._schema, "arxiv_id", wanted)
        found: dict[str, Paper] = {}
        for _score, address in searcher.search(query, len(wanted), count=False).hits:
            paper = paper_from_payload(searcher.doc(address).get_first("payload"))
            found[paper.arxiv_id] = paper
        return found

    def missing(self, arxiv_ids: Iterable[str]) -> set[str]:
        """The ids among `arxiv_ids` that the index does not hold. Counts first and loads
        papers only when something is missing: a team list of thousands is checked on
        every `in:saved` search."""
        wanted = set(arxiv_ids)
        if not wanted:
            return set()
        query = Query.term_set_query(self._schema, "arxiv_id", sorted(wanted))
        if self._snapshot.searcher.search(query, 1, count=True).count == len(wanted):
            return set()
        return wanted - self.get(wanted).keys()

    def search(
        self,
        query: ParsedQuery,
        limit: int = 10,
        *,
        ids: Set[str] | None = None,
        since: date | None = None,
    ) -> list[LocalHit]:
        """Best `limit` papers for `query`, optionally only among `ids` and from `since` on.

        `since` defaults to the query's own `since:` filter. An exact-id query returns that
        paper if indexed. Never raises on user text.
        """
        if ids is not None and not ids:
            return []
        if query.exact_id:
            if ids is not None and query.exact_id not in ids:
                return []
            paper = self.get([query.exact_id]).get(query.exact_id)
            return [LocalHit(paper.arxiv_id, 1.0, None, paper)] if paper else []
        return self._ranker.search(self._snapshot, query, limit, ids, since)

    # --- internals --------------------------------------------------------------------
    def _digests(self, arxiv_ids: Iterable[str]) -> set[int]:
        # The digests stored for these ids, read from a fast field: no document is loaded.
        searcher = self._snapshot.searcher
        wanted = sorted(arxiv_ids)
        query = Query.term_set_query(self._schema, "arxiv_id", wanted)
        addresses = [address for _s, address in searcher.search(query, len(wanted)).hits]
        if not addresses:
            return set()
        return {value for value in searcher.fast_field_values("digest", addresses) if value}

    @contextmanager
    def _writing(self) -> Iterator[_Session]:
        """The index's writer, whose work is committed when the block ends. On failure the
        work is rolled back and the writer let go (a new one is made next time); tantivy I/O
        failures come out as StoreError.

        One writer lives as long as the index: each new tantivy writer starts an indexing
        thread whose memory the allocator keeps, which grew the bot by ~8 MB per batch."""
        where = f" in {self.path}" if self.path else ""
        if self._session is None:
            try:
                self._session = _Session(
                    self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
                )
            except ValueError as exc:
                raise StoreError(
                    f"the search index{where} cannot be written ({_one_line(exc)})"
                ) from exc
        session = self._session
        try:
            try:
                yield session
                session.writer.commit()
            except BaseException:
                # An uncommitted batch must not reach the next commit, and a writer tantivy
                # gave up on ("killed") cannot be used again: let it go.
                self._session = None
                try:
                    session.writer.rollback()
                except ValueError as rollback_error:
                    log.debug("rollback after a failed write failed too: %s", rollback_error)
                # Drops the writer, which releases tantivy's directory lock, even while the
                # error's traceback (kept by a log record, say) still references this frame.
                session.close()
                raise
        except _WRITE_ERRORS as exc:
            raise StoreError(
                f"could not write the search index{where} ({_one_line(exc)})"
            ) from exc

    def release(self) -> None:
        """Let the writer go (waiting for its background merges), which releases tantivy's
        directory lock. Safe at any time: the next write makes a new writer."""
        with self._write_lock:
            session, self._session = self._session, None
            if session is not None:
                writer = session.writer
                session.close()
                try:
                    writer.wait_merging_threads()
                except ValueError as exc:
                    log.debug("merging threads ended with an error: %s", exc)

    def _mark_incomplete(self) -> None:
        # From the first intermediate commit of a rebuild on, the index on disk is partial
        # until the last one: a crash or failure then means "refill", never "trust it".
        self.fresh = True
        if self.path is not None:
            _write_marker(self.path, complete=False)

    def _mark_complete(self) -> None:
        self.fresh = False
        if self.path is not None:
            try:
                _write_marker(self.path, complete=True)
            except OSError as exc:
                # The index itself is committed; the next start refills it once more.
                raise StoreError(
                    f"could not record the rebuilt search index in {self.path}: {exc}"
                ) from exc

    def _reload(self, added: Iterable[Paper] = (), *, eager: bool = True) -> None:
        self._index.reload()
        searcher = self._index.searcher()
        previous = self._snapshot
        added = list(added)
        vocabulary: dict[str, int] | None = None
        if previous.built and 0 < len(added) <= _VOCAB_UPDATE_MAX:
            # Small batches extend a copy of the vocabulary instead of forcing the next typo
            # to rescan every term dictionary; the old snapshot keeps its own.
            vocabulary = dict(previous.vocabulary())
            for paper in added:
                for term in set(self._names.analyze(searchable_text(paper))):
                    vocabulary[term] = vocabulary.get(term, 0) + 1
        snapshot = Snapshot(searcher, vocabulary)
        if previous.built and vocabulary is None and eager:
            snapshot.vocabulary()  # read now, in the writer's thread, not in the next search
        self._snapshot = snapshot


class _Session:
    """The index's IndexWriter behind one indirection; `close` lets it go."""

    def __init__(self, writer: tantivy.IndexWriter) -> None:
        self._writer: tantivy.IndexWriter | None = writer

    @property
    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError("this index write has ended")
        return self._writer

    def close(self) -> None:
        self._writer = None


class Rebuild:
    """The papers going into a rebuild (see `PaperIndex.rebuilding`); `count` so far.

    Why it commits along the way: tantivy queues up to 10,000 documents between
    `add_document` and its indexing thread, and Python builds documents faster than that
    thread indexes them. At ~8 kB a document (text, spelling words, payload) the queue alone
    held ~150 MB at 80,000 papers; a commit waits for the queue to drain, so one every
    REBUILD_COMMIT_EVERY papers bounds it.
    """

    def __init__(self, session: _Session, before_first_commit: Callable[[], None]) -> None:
        self._session = session
        self._before_first_commit: Callable[[], None] | None = before_first_commit
        self.count = 0

    def add(self, papers: Iterable[Paper]) -> None:
        """Add papers (blocking: call it in a worker thread from async code)."""
        # `self._session.writer` each time, never a local: a traceback through this frame
        # must not keep a failed writer (and its directory lock) alive.
        for paper in papers:
            self._session.writer.add_document(document(paper, payload(paper)))
            self.count += 1
            if self.count % REBUILD_COMMIT_EVERY == 0:
                if self._before_first_commit is not None:
                    self._before_first_commit()
                    self._before_first_commit = None
                self._session.writer.commit()


def _read_marker(path: Path) -> dict[str, object] | None:
    try:
        marker = json.loads((path / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and "schema" in marker else None


def _write_marker(path: Path, *, complete: bool) -> None:
    temporary = path / (MARKER_FILE + ".tmp")
    temporary.write_text(json.dumps({"schema": SCHEMA_VERSION, "complete": complete}))
    os.replace(temporary, path / MARKER_FILE)


def _check_writable(path: Path) -> None:
    # Root ignores permission bits, so only a real write tells (a read-only mount refuses).
    probe = path / ".paperboy-write-probe"
    probe.write_bytes(b"")
    probe.unlink()


def _move_aside(path: Path, reason: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.name}{BROKEN_INFIX}{stamp}")
    os.rename(path, target)
    log.warning(
        "search index at %s %s: moved it to %s and rebuilding it from the paper cache",
        path, reason, target.name,
    )
    return target


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


__all__ = ["BROKEN_INFIX", "MARKER_FILE", "SCHEMA_VERSION", "LocalHit", "PaperIndex", "Rebuild"]
