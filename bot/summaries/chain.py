"""The TL;DR chain: one or two sentences (≤ 300 characters) for every paper, never empty.

For each paper, in order:
1. Hugging Face's `ai_summary` when the paper has one (free; ~99% of Daily Papers);
2. an LLM behind any OpenAI-compatible endpoint, when configured (`[summaries] base_url` +
   `model`), its answer passed through bot.summaries.guard;
3. the offline TL;DR (bot.summaries.offline).

LLM and offline results are cached in the Store per (paper, summarizer, model), so a paper
costs at most one LLM call per model, ever. Every LLM request runs as a task of this object,
one per paper however many callers want it, at most `concurrency` at once, each bounded by
the per-paper `timeout`; it writes its answer to the cache when it comes, whoever still
waits for it. So there are two ways in:
- `prefetch(papers)` starts those tasks and returns at once (the scheduler calls it well
  before the morning post, so a CPU model that takes a minute per paper is done in time);
- `summarize(papers)` (the post, `/papers today`, `paperboy digest`) reads the cache and
  waits for what is missing at most `wait` seconds; what is not there by then gets the
  offline TL;DR — uncached, so a later run uses the LLM's — while its task goes on.
A failed request (HTTP error, timeout, unreadable or rejected answer) falls back the same
way. A refused key (HTTP 401/403) is the same answer for every paper: the first stops the
batch's unstarted requests. Each batch logs ONE warning with its counts and reasons, never
the API key. Nothing here raises for an LLM failure: a summary never blocks a post.

Called by bot.daily (the union of all channels' picks) and bot.prefetch; `aclose()` cancels
what is still running when the bot or a command stops.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from bot.config import SummariesConfig
from bot.errors import StoreError
from bot.models import Paper, Summary
from bot.store import Store
from bot.summaries.guard import Rejected, guard
from bot.summaries.llm import KeyRefused, LLMClient, LLMError
from bot.summaries.offline import extractive_tldr, normalise, whole_sentences

log = logging.getLogger(__name__)

LLM = "llm"
EXTRACTIVE = "extractive"


@dataclass
class _Batch:
    """One caller's papers: whether its key was refused, and why papers fell back."""

    refused: KeyRefused | None = None
    reasons: Counter[str] = field(default_factory=Counter)


class Summarizer:
    """Produce `Summary`s through the chain; counts LLM calls and cache hits for tests and
    benchmarks. One instance serves the whole life of a bot."""

    def __init__(
        self,
        store: Store,
        llm: SummariesConfig | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        api_key: str | None = None,
    ) -> None:
        """`llm` None (or one without base_url and model) skips step 2. `http` is used for
        the LLM when given, else a client is opened per request. `api_key` is sent as a
        Bearer token when given; the caller reads it from `llm.api_key_env`."""
        self._store = store
        self._config = llm or SummariesConfig()
        self._api_key = api_key or None
        self._client = LLMClient(self._config, http=http, api_key=self._api_key)
        self._slots = asyncio.Semaphore(max(1, self._config.concurrency))
        self._tasks: dict[str, asyncio.Task[Summary]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.cache_hits = 0  # summaries served from the store instead of being made

    @property
    def llm_calls(self) -> int:
        """HTTP requests sent to the LLM."""
        return self._client.requests

    @property
    def uses_llm(self) -> bool:
        return self._config.llm_enabled

    async def summarize(
        self, papers: Sequence[Paper], *, wait: float | None = None
    ) -> dict[str, Summary]:
        """A Summary for every paper, keyed by arXiv id, in input order. Papers neither in
        the cache nor answered within `wait` seconds (default: the config's) get the offline
        TL;DR; their LLM requests go on in the background."""
        unique = list({p.arxiv_id: p for p in papers}.values())
        result: dict[str, Summary] = {}
        need: list[Paper] = []
        for paper in unique:
            hf = normalise(paper.ai_summary)
            if hf:
                result[paper.arxiv_id] = Summary(text=whole_sentences(hf), source="huggingface")
            else:
                need.append(paper)
        if need:
            result.update(await self._summarize_rest(
                need, self._config.wait if wait is None else wait
            ))
        return {p.arxiv_id: result[p.arxiv_id] for p in unique}

    async def prefetch(self, papers: Sequence[Paper]) -> int:
        """Start the LLM requests for papers not cached yet and return how many were started
        (or joined); the answers go to the cache. One warning for the batch when it is done,
        if any failed. Without an LLM this does nothing: the offline TL;DR is instant."""
        if not self.uses_llm:
            return 0
        need = [p for p in {p.arxiv_id: p for p in papers}.values()
                if not normalise(p.ai_summary)]
        cached = await self._cached(need, LLM, self._config.model)
        missing = [p for p in need if p.arxiv_id not in cached]
        if not missing:
            return 0
        batch = _Batch()
        tasks = [self._task(paper, batch) for paper in missing]
        watcher = asyncio.ensure_future(self._report_when_done(tasks, batch))
        self._background.add(watcher)
        watcher.add_done_callback(self._background.discard)
        return len(missing)

    async def idle(self) -> None:
        """Wait until every LLM request and prefetch report has finished (tests, benches)."""
        while self._tasks or self._background:
            await asyncio.gather(*self._tasks.values(), *self._background,
                                 return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel what is still running; the cache keeps what already came back."""
        pending = [*self._tasks.values(), *self._background]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks.clear()
        self._background.clear()

    # --- internals ------------------------------------------------------------------------

    async def _summarize_rest(self, papers: list[Paper], wait: float) -> dict[str, Summary]:
        use_llm = self.uses_llm
        summarizer, model = (LLM, self._config.model) if use_llm else (EXTRACTIVE, None)
        cached = await self._cached(papers, summarizer, model)
        self.cache_hits += len(cached)
        missing = [p for p in papers if p.arxiv_id not in cached]
        result = dict(cached)
        batch = _Batch()
        if use_llm and missing:
            tasks = {p.arxiv_id: self._task(p, batch) for p in missing}
            if wait > 0:
                await asyncio.wait(tasks.values(), timeout=wait)
            for arxiv_id, task in tasks.items():
                if not task.done():
                    batch.reasons[f"not answered within the {wait:g}s wait"] += 1
                elif not task.cancelled() and task.exception() is None:
                    result[arxiv_id] = task.result()
                # A failed task has counted its reason already.
        for paper in missing:
            if paper.arxiv_id in result:
                continue
            summary = Summary(text=extractive_tldr(paper), source="extractive")
            result[paper.arxiv_id] = summary
            if not use_llm:
                # A fallback after an LLM failure is not cached: the next run retries.
                await self._remember(paper.arxiv_id, EXTRACTIVE, summary)
        self._report(batch, len(papers))
        return result

    def _task(self, paper: Paper, batch: _Batch) -> asyncio.Task[Summary]:
        """The one task asking the LLM about `paper`, started now unless one is running
        (then its failure is counted in the batch that started it, and here as such)."""
        task = self._tasks.get(paper.arxiv_id)
        if task is None:
            task = asyncio.ensure_future(self._make(paper, batch))
            self._tasks[paper.arxiv_id] = task
            task.add_done_callback(functools.partial(self._finished, paper.arxiv_id))
        else:
            task.add_done_callback(functools.partial(_count_joined_failure, batch))
        return task

    def _finished(self, arxiv_id: str, task: asyncio.Task[Summary]) -> None:
        self._tasks.pop(arxiv_id, None)
        if not task.cancelled():
            task.exception()  # counted in its batch; retrieved so asyncio does not log it

    async def _make(self, paper: Paper, batch: _Batch) -> Summary:
        """Ask, guard and cache one paper's TL;DR; records why it failed in `batch`."""
        try:
            async with self._slots:
                if batch.refused is not None:
                    raise batch.refused  # the key was refused: asking again cannot help
                async with asyncio.timeout(self._config.timeout):
                    answer = await self._client.ask(paper)
            text = guard(answer.text, paper, truncated=answer.truncated)
        except TimeoutError:
            batch.reasons[f"no answer within the {self._config.timeout:g}s timeout"] += 1
            raise
        except KeyRefused as exc:
            batch.refused = batch.refused or exc
            batch.reasons[f"key refused (HTTP {exc.status})"] += 1
            raise
        except Rejected as exc:
            log.debug("LLM answer for %s rejected: %s", paper.arxiv_id, self._safe(str(exc)))
            batch.reasons[f"rejected by the guard: {exc.reason}"] += 1
            raise
        except LLMError as exc:
            batch.reasons[self._safe(exc.reason)] += 1
            raise
        summary = Summary(text=text, source="llm", model=self._config.model)
        await self._remember(paper.arxiv_id, LLM, summary)
        return summary

    async def _report_when_done(self, tasks: list[asyncio.Task[Summary]], batch: _Batch) -> None:
        await asyncio.gather(*tasks, return_exceptions=True)
        self._report(batch, len(tasks), prefetch=True)

    def _report(self, batch: _Batch, total: int, *, prefetch: bool = False) -> None:
        """ONE warning for the batch: how many papers fell back to the offline TL;DR, why."""
        failed = sum(batch.reasons.values())
        if not failed:
            return
        what = "prefetched TL;DRs failed" if prefetch else "TL;DRs use the offline TL;DR"
        why = ", ".join(f"{count} {reason}" for reason, count in batch.reasons.most_common())
        if batch.refused is not None:
            log.warning("%s; %d of %d %s", self._key_problem(batch.refused.status),
                        failed, total, what)
        else:
            log.warning("LLM: %d of %d %s (%s)", failed, total, what, why)

    def _key_problem(self, status: int) -> str:
        variable = self._config.api_key_env or "the key variable in [summaries] api_key_env"
        if self._api_key:
            return f"LLM refused the key in {variable} (HTTP {status}): check that variable"
        return f"LLM wants a key (HTTP {status}) but {variable} is not set"

    def _safe(self, reason: str) -> str:
        # Reasons are ours, but never let the key through regardless.
        return reason.replace(self._api_key, "***") if self._api_key else reason

    async def _cached(
        self, papers: list[Paper], summarizer: str, model: str | None
    ) -> dict[str, Summary]:
        try:
            return await self._store.get_summaries(
                [p.arxiv_id for p in papers], summarizer, model
            )
        except StoreError as exc:
            log.warning("summary cache unreadable (%s); summarising without it", exc)
            return {}

    async def _remember(self, arxiv_id: str, summarizer: str, summary: Summary) -> None:
        if self._store.readonly:
            return
        try:
            await self._store.put_summary(arxiv_id, summarizer, summary)
        except StoreError as exc:
            log.warning("could not cache the summary of %s (%s)", arxiv_id, exc)


def _count_joined_failure(batch: _Batch, task: asyncio.Task[Summary]) -> None:
    if not task.cancelled() and task.exception() is not None:
        batch.reasons["failed in an earlier batch's request"] += 1


__all__ = ["EXTRACTIVE", "LLM", "Summarizer"]
