"""Feed the search index in batches, off the event loop: the one way papers get indexed.

One job: accept papers from anywhere in the bot (`offer`, cheap and synchronous: a dict
update) and commit them to `PaperIndex` in batches — when `batch_size` papers wait, when the
oldest has waited `delay` seconds, or when `flush` is awaited (drain, close, a search that
needs them now). Does not decide what to index (the searcher and the service do) and does
not rank or read anything.

Why it looks like this:
- A tantivy commit fsyncs segment files and reloads the searcher: tens of milliseconds. One
  per digest, save or search hit was the most expensive thing the bot did on the event loop's
  behalf; a batch amortises it, and `PaperIndex.add` skips papers whose content is unchanged,
  so offering the same papers twice costs no commit.
- Commits run in a worker thread and readers use the last committed snapshot, so a search
  never waits for a commit; a paper offered is searchable after the next batch commit.
- One commit at a time: a flush requested while one runs is picked up when it ends.
- The index is a cache: when a write fails (read-only disk, disk full) the batch stays
  pending and is retried after `retry_delay`; the failure is logged once at WARNING (and its
  recovery at INFO), never raised into the caller that offered the papers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from bot.errors import StoreError
from bot.models import Paper
from bot.search.index import PaperIndex

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
DEFAULT_DELAY = 2.0
DEFAULT_RETRY_DELAY = 60.0


class Indexer:
    """Batches papers into `index`. Create and use it inside a running event loop."""

    def __init__(
        self,
        index: PaperIndex,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        delay: float = DEFAULT_DELAY,
        retry_delay: float = DEFAULT_RETRY_DELAY,
    ) -> None:
        self.index = index
        self.batch_size = max(1, batch_size)
        self.delay = delay
        self.retry_delay = retry_delay
        self._pending: dict[str, Paper] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._commit: asyncio.Task[None] | None = None
        self._failing = False
        self._started = asyncio.Event()

    @property
    def pending(self) -> int:
        """How many papers wait for the next commit."""
        return len(self._pending)

    @property
    def committing(self) -> bool:
        """True while a batch commit is in flight."""
        return self._commit is not None

    def offer(self, papers: Iterable[Paper]) -> int:
        """Queue papers for the next batch commit (a newer copy of a paper replaces a queued
        one). Returns how many were queued; 0 when the index is read-only."""
        if self.index.readonly:
            return 0
        count = 0
        for paper in papers:
            self._pending[paper.arxiv_id] = paper
            count += 1
        if len(self._pending) >= self.batch_size:
            self._start()
        elif self._pending and self._timer is None and self._commit is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self._start)
        return count

    async def flush(self) -> None:
        """Commit everything queued now, waiting for a commit in flight first. Returns when
        the papers are searchable, or were kept pending because the write failed (logged)."""
        while self._commit is not None:
            await asyncio.shield(self._commit)
        if self._pending:
            self._start()
            if self._commit is not None:
                await asyncio.shield(self._commit)

    async def settled(self) -> None:
        """Wait, without forcing anything, until the batches due have been committed and
        nothing is pending (benchmarks and tests watch the timer and the batch size work).
        Only for a writable index: a failing write keeps papers pending."""
        while self._pending or self._commit is not None:
            if self._commit is not None:
                await asyncio.shield(self._commit)
            else:
                self._started.clear()
                await self._started.wait()

    async def close(self) -> None:
        """Commit what is queued and stop the timer. Papers still pending after a failed
        write are dropped: they are in the paper cache, and `paperboy index rebuild` puts
        them back."""
        await self.flush()
        self._cancel_timer()
        await asyncio.to_thread(self.index.release)
        if self._pending:
            log.warning("%d papers were not indexed (the index could not be written)",
                        len(self._pending))
            self._pending.clear()

    # --- internals ------------------------------------------------------------------
    def _start(self) -> None:
        self._cancel_timer()
        if self._commit is None and self._pending:
            self._commit = asyncio.get_running_loop().create_task(self._commit_pending())
            self._started.set()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _commit_pending(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, {}
                try:
                    written = await asyncio.to_thread(self.index.add, list(batch.values()))
                except StoreError as exc:
                    # Newer copies offered meanwhile win over the failed batch.
                    batch.update(self._pending)
                    self._pending = batch
                    self._failed(exc)
                    return
                self._recovered()
                log.debug("search index: %d papers offered, %d written", len(batch), written)
        finally:
            self._commit = None
            if self._pending and self._timer is None:
                wait = self.retry_delay if self._failing else self.delay
                self._timer = asyncio.get_running_loop().call_later(wait, self._start)

    def _failed(self, exc: StoreError) -> None:
        if not self._failing:
            # The message, not the exception: a log record must not keep its traceback alive.
            log.warning("search index not updated, %d papers kept for a retry: %s",
                        len(self._pending), str(exc))
        else:
            log.debug("search index still not writable: %s", str(exc))
        self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            log.info("search index writes work again")
        self._failing = False


__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_DELAY", "Indexer"]
