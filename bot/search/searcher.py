"""Answer one search: the local index and Hugging Face search together, merged into one list.

One job: turn a query string into `SearchResults` in time. It parses the query
(`bot.search.query`), runs the local index (`bot.search.index`, in a worker thread) and
Hugging Face's `/api/papers/search` concurrently, merges them without duplicates, and feeds
papers it learns about back into the store and the index. It does not render anything
(adapters do), rank digests (bot.picks) or fetch Daily Papers (bot.search.backfill, bot.daily).

Why it looks like this:
- The remote call is bounded by `remote_timeout` (asyncio.wait_for) and local results never
  wait longer than that: a slow or failing Hugging Face marks the answer
  `remote_status="timeout"|"error"` (local-only) instead of failing it.
- Merging is reciprocal rank fusion: a paper at rank r (1-based) in a list earns
  1 / (60 + r) from that list, and its score is the sum over the lists it is in (local, remote).
  Ranks, not raw scores, because BM25 scores and Hugging Face's hybrid ranking are on
  different scales; a paper both engines found rises above one only one of them found; with
  one list the order is simply that list's. 60 is the usual constant from the RRF paper.
- An arXiv id or link is looked up exactly: the store, then the index, then Hugging Face,
  then arXiv. Papers found upstream (remote hits, exact lookups) are added to the store in
  a background task and offered to the index, so the next search finds them offline without
  this one waiting for a store write or a commit; `drain()` waits for both (the CLI calls it
  at exit).
- Indexing has one owner: `index_papers` queues papers for `bot.search.indexer`, which
  commits in batches off the event loop; a search reads the last committed snapshot and
  never waits behind a commit.
- Scopes: `saved` searches the team's reading list (the snapshots are indexed first if the
  index lacks them), `posted` what was sent to one channel; both are local-only.

Called by bot.service (`/papers search`, and `index_papers` when papers enter the paper
cache) and the CLI (`paperboy search`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.errors import StoreError, UpstreamError, UpstreamTimeout, UserInputError
from bot.models import ChatRef, Paper
from bot.search.index import PaperIndex
from bot.search.indexer import Indexer
from bot.search.query import SEARCH_USAGE, ParsedQuery, Scope, parse_query
from bot.search.relevance import LocalHit
from bot.sources.arxiv import ArxivClient
from bot.sources.huggingface import HuggingFaceClient, SearchHit
from bot.store import Store

log = logging.getLogger(__name__)

Match = Literal["local", "remote", "exact"]
RemoteStatus = Literal["ok", "timeout", "error", "skipped"]

RRF_K = 60
DEFAULT_REMOTE_TIMEOUT = 1.5
# An exact lookup has no local answer to fall back on: it may wait a little longer.
DEFAULT_EXACT_TIMEOUT = 5.0


@dataclass(frozen=True)
class SearchResult:
    """One paper in the answer: why it matched (snippet, ** marks the words) and how."""

    paper: Paper
    snippet: str | None
    match: Match
    score: float


@dataclass(frozen=True)
class SearchResults:
    """The merged answer. `note` explains an empty or partial answer in one line."""

    hits: tuple[SearchResult, ...]
    remote_status: RemoteStatus
    note: str | None = None

    @property
    def local_only(self) -> bool:
        """True when Hugging Face was asked but did not contribute (slow or down)."""
        return self.remote_status in ("timeout", "error")


class Searcher:
    """Search over the local index, Hugging Face search and exact id lookups.

    `hf` / `arxiv` may be None (offline): remote search is then "skipped" and exact lookups
    stop at the local store and index.
    """

    def __init__(
        self,
        index: PaperIndex,
        store: Store,
        hf: HuggingFaceClient | None,
        arxiv: ArxivClient | None,
        remote_timeout: float = DEFAULT_REMOTE_TIMEOUT,
        *,
        exact_timeout: float = DEFAULT_EXACT_TIMEOUT,
        indexer: Indexer | None = None,
    ) -> None:
        self.index = index
        self.indexer = indexer or Indexer(index)
        self.store = store
        self.hf = hf
        self.arxiv = arxiv
        self.remote_timeout = remote_timeout
        self.exact_timeout = exact_timeout
        self._keeping: set[asyncio.Task[None]] = set()

    async def search(
        self,
        text: str | ParsedQuery,
        *,
        limit: int = 10,
        scope: Scope = "all",
        team: tuple[str, str] | None = None,
        channel: ChatRef | None = None,
    ) -> SearchResults:
        """The best `limit` papers for `text` (or the query a caller already parsed from
        it). Raises UserInputError for unusable text.

        `in:saved` / `in:posted` in the text override `scope`. `team` is (platform, team id),
        needed for "saved"; `channel` is needed for "posted".
        """
        query = text if isinstance(text, ParsedQuery) else parse_query(text)
        scope = query.scope or scope
        limit = max(1, limit)
        ids = await self._scope_ids(scope, team, channel)
        if query.exact_id:
            return await self._exact(query.exact_id, ids)
        if scope != "all" or self.hf is None or not query.remote_text:
            local = await asyncio.to_thread(self.index.search, query, limit, ids=ids)
            note = None
            if ids is not None and not ids:
                note = ("Your team has not saved any papers yet" if scope == "saved"
                        else "Nothing has been posted to this channel yet")
            return SearchResults(_fuse(local, [], limit), "skipped", note)

        local_task = asyncio.to_thread(self.index.search, query, limit)
        remote_task = self._remote(query, limit)
        local, (remote, status) = await asyncio.gather(local_task, remote_task)
        if remote:
            self._keep([hit.paper for hit in remote])
        note = None
        if status in ("timeout", "error"):
            reason = "did not answer in time" if status == "timeout" else "failed"
            note = f"local results only: Hugging Face search {reason}"
        return SearchResults(_fuse(local, remote, limit), status, note)

    async def drain(self) -> None:
        """Wait until papers found upstream by earlier searches are in the store, and every
        paper handed to `index_papers` is committed to the index. Call before the process
        exits (the CLI) or before checking them (tests)."""
        while self._keeping:
            await asyncio.gather(*self._keeping)
        await self.indexer.flush()

    async def close(self) -> None:
        """`drain`, then stop the indexer's timer. Call once, when the bot stops."""
        while self._keeping:
            await asyncio.gather(*self._keeping)
        await self.indexer.close()

    async def index_papers(self, papers: Iterable[Paper]) -> int:
        """Queue papers for the index; cheap, never waits for a commit. Call it when papers
        enter the paper cache (a day's fetch, a paper looked up by id). Unchanged papers
        cost nothing; a paper is searchable after the next batch commit or `drain()`.
        Returns how many were queued (0 with a read-only index)."""
        return self.indexer.offer(papers)

    # --- scopes ---------------------------------------------------------------------
    async def _scope_ids(
        self, scope: Scope, team: tuple[str, str] | None, channel: ChatRef | None
    ) -> frozenset[str] | None:
        if scope == "all":
            return None
        if scope == "saved":
            if team is None:
                raise UserInputError(
                    "in:saved searches a team's list; there is no team here.", usage=SEARCH_USAGE
                )
            saved = [entry.paper for entry in await self.store.saved_papers(*team)]
            # Snapshots outlive the paper cache: make sure the index can see each of them.
            await self._ensure_indexed({paper.arxiv_id: paper for paper in saved})
            return frozenset(paper.arxiv_id for paper in saved)
        if channel is None:
            raise UserInputError(
                "in:posted searches what a channel was sent; there is no channel here.",
                usage=SEARCH_USAGE,
            )
        posted = await self.store.posted_ids(channel)
        missing = await asyncio.to_thread(self.index.missing, posted)
        if missing:
            await self._ensure_indexed(await self.store.get_papers(missing))
        return frozenset(posted)

    async def _ensure_indexed(self, papers: dict[str, Paper]) -> None:
        # A scoped search must see these papers now: commit them before searching.
        missing = await asyncio.to_thread(self.index.missing, papers)
        if missing:
            self.indexer.offer(papers[i] for i in sorted(missing))
            await self.indexer.flush()

    # --- remote ---------------------------------------------------------------------
    async def _remote(
        self, query: ParsedQuery, limit: int
    ) -> tuple[list[SearchHit], RemoteStatus]:
        assert self.hf is not None
        try:
            hits = await asyncio.wait_for(
                self.hf.search(query.remote_text, limit=limit), self.remote_timeout
            )
        except (TimeoutError, UpstreamTimeout):
            log.warning("Hugging Face search timed out after %.1f s", self.remote_timeout)
            return [], "timeout"
        except UpstreamError as exc:
            log.warning("Hugging Face search failed: %s", exc)
            return [], "error"
        # HF knows no filters: apply ours to what it returns.
        return [hit for hit in hits if _passes(hit.paper, query)], "ok"

    async def _exact(self, arxiv_id: str, ids: frozenset[str] | None) -> SearchResults:
        if ids is not None and arxiv_id not in ids:
            return SearchResults((), "skipped", f"{arxiv_id} is not in this list")
        known = (await self.store.get_papers([arxiv_id])).get(arxiv_id)
        if known is None:
            known = (await asyncio.to_thread(self.index.get, [arxiv_id])).get(arxiv_id)
        if known is not None:
            return SearchResults((SearchResult(known, None, "exact", 1.0),), "skipped")
        statuses: list[RemoteStatus] = []
        for lookup in (self._hf_paper, self._arxiv_paper):
            paper, status = await lookup(arxiv_id)
            if paper is not None:
                self._keep([paper])
                return SearchResults((SearchResult(paper, None, "exact", 1.0),), "ok")
            statuses.append(status)
        asked = [status for status in statuses if status != "skipped"]
        failed = [status for status in asked if status != "ok"]
        if not asked:  # offline: nobody to ask
            return SearchResults((), "skipped", f"No paper {arxiv_id} in the local index")
        if len(failed) == len(asked):
            return SearchResults((), failed[0], f"Could not look up {arxiv_id}: upstream failed")
        note = f"No paper {arxiv_id} on Hugging Face or arXiv"
        if failed:
            note += " (one of them did not answer)"
        return SearchResults((), failed[0] if failed else "ok", note)

    async def _hf_paper(self, arxiv_id: str) -> tuple[Paper | None, RemoteStatus]:
        if self.hf is None:
            return None, "skipped"
        return await self._bounded(self.hf.paper(arxiv_id), "Hugging Face", arxiv_id)

    async def _arxiv_paper(self, arxiv_id: str) -> tuple[Paper | None, RemoteStatus]:
        if self.arxiv is None:
            return None, "skipped"
        return await self._bounded(_first(self.arxiv.by_ids([arxiv_id])), "arXiv", arxiv_id)

    async def _bounded(
        self, lookup: Awaitable[Paper | None], name: str, arxiv_id: str
    ) -> tuple[Paper | None, RemoteStatus]:
        try:
            paper = await asyncio.wait_for(lookup, self.exact_timeout)
        except (TimeoutError, UpstreamTimeout):
            log.warning("%s lookup of %s timed out", name, arxiv_id)
            return None, "timeout"
        except UpstreamError as exc:
            log.warning("%s lookup of %s failed: %s", name, arxiv_id, exc)
            return None, "error"
        return paper, "ok"

    # --- learning from upstream ------------------------------------------------------
    def _keep(self, papers: Sequence[Paper]) -> None:
        if self.index.readonly:
            return  # the running bot owns the store and the index: learn nothing here
        # In the background: a store write rewrites a file (tens of ms for thousands of
        # papers) and the answer should not wait for it. `drain` waits for these tasks.
        task = asyncio.create_task(self._learn(papers))
        self._keeping.add(task)
        task.add_done_callback(self._keeping.discard)

    async def _learn(self, papers: Sequence[Paper]) -> None:
        """Keep papers found upstream: new ones go into the store, missing ones into the
        index. A record already in the store is richer (TL;DR, keywords) than a search hit
        and is not overwritten. A failure here is logged; the answer is still given."""
        by_id = {paper.arxiv_id: paper for paper in papers}
        stored: dict[str, Paper] = {}
        try:
            stored = await self.store.get_papers(by_id)
            new = [paper for arxiv_id, paper in by_id.items() if arxiv_id not in stored]
            # A read-only store belongs to another process (the running bot): index only.
            if new and not self.store.readonly:
                await self.store.put_papers(new)
        except StoreError as exc:
            log.warning("could not keep %d papers found upstream in the store: %s",
                        len(by_id), exc)
        # Unchanged papers are skipped at commit time, so offering known ones is free.
        self.indexer.offer({**by_id, **stored}.values())


async def _first(lookup: Awaitable[list[Paper]]) -> Paper | None:
    papers = await lookup
    return papers[0] if papers else None


def _passes(paper: Paper, query: ParsedQuery) -> bool:
    if query.since is not None:
        when = paper.published_at.date() if paper.published_at else paper.featured_on
        if when is None or when < query.since:
            return False
    for author in query.authors:
        wanted = author.casefold().split()
        if not any(all(word in name.casefold() for word in wanted) for name in paper.authors):
            return False
    return True


def _fuse(local: list[LocalHit], remote: list[SearchHit], limit: int) -> tuple[SearchResult, ...]:
    """Reciprocal rank fusion of the two ranked lists (see the module docstring)."""
    scores: dict[str, float] = {}
    papers: dict[str, Paper] = {}
    snippets: dict[str, str | None] = {}
    matches: dict[str, Match] = {}
    for rank, hit in enumerate(local, start=1):
        scores[hit.arxiv_id] = scores.get(hit.arxiv_id, 0.0) + 1.0 / (RRF_K + rank)
        papers[hit.arxiv_id] = hit.paper
        snippets[hit.arxiv_id] = hit.snippet
        matches[hit.arxiv_id] = "local"
    for rank, remote_hit in enumerate(remote, start=1):
        arxiv_id = remote_hit.paper.arxiv_id
        scores[arxiv_id] = scores.get(arxiv_id, 0.0) + 1.0 / (RRF_K + rank)
        # The local record is richer (TL;DR, keywords); the better snippet wins either way.
        papers.setdefault(arxiv_id, remote_hit.paper)
        matches.setdefault(arxiv_id, "remote")
        snippets[arxiv_id] = _better_snippet(snippets.get(arxiv_id), remote_hit.snippet)
    order = sorted(scores, key=lambda arxiv_id: (-scores[arxiv_id], arxiv_id))[:limit]
    return tuple(
        SearchResult(papers[i], snippets.get(i), matches[i], scores[i]) for i in order
    )


def _better_snippet(local: str | None, remote: str | None) -> str | None:
    # More highlighted words explain the match better; on a tie the local one stays.
    if remote is None:
        return local
    if local is None:
        return remote
    return remote if remote.count("**") > local.count("**") else local


__all__ = [
    "Match",
    "RemoteStatus",
    "SearchResult",
    "SearchResults",
    "Searcher",
]
