"""Build the day's digests: fetch candidates once, rank them for every channel, summarise picks.

This is the read side of the daily post: it never posts and never claims anything. One
upstream fetch per day serves every channel, however many there are; only papers that some
channel picked are summarised, so an LLM is asked about five papers, not fifty.
Inputs: the day, the channels, the sources and the summariser; output: one Digest per channel.
Called by `paperboy digest` and by bot.service / bot.posting (through `CandidateCache`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot import picks
from bot.config import ChannelConfig, Config
from bot.errors import StoreError, UpstreamError
from bot.models import ChatRef, Digest, Paper, SavedPaper
from bot.sources.arxiv import ArxivClient
from bot.sources.huggingface import HuggingFaceClient
from bot.store import Store
from bot.summaries import Summarizer

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
# How long one fetch of a day's candidates serves every channel posting that day.
CANDIDATES_TTL = timedelta(minutes=30)
# One thread ranks, so a day's Prepared (whose caches fill as channels are ranked) is never
# used by two threads at once.
_RANKING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ranking")
# How long a team's saved list, as ranking sees it, serves the team's channels.
SAVED_LIST_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Candidates:
    """The day's candidate papers and where they came from."""

    day: date
    papers: tuple[Paper, ...]
    from_huggingface: int
    from_arxiv: int

    @functools.cached_property
    def prepared(self) -> picks.Prepared:
        """The batch de-duplicated and tokenised for ranking, once: the service ranks one
        channel per call, and preparing ~50 papers costs ~25 ms while a rank costs ~1 ms."""
        return picks.prepare(self.papers)


async def fetch_candidates(
    day: date,
    channels: Sequence[ChannelConfig],
    *,
    hf: HuggingFaceClient,
    arxiv: ArxivClient | None = None,
    arxiv_categories: Sequence[str] = (),
    today: date | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
) -> Candidates:
    """One fetch per source for the whole day. arXiv new listings exist only for today.
    With a writable `store`, the fetched papers are cached there (once, not per channel)."""
    _say(progress, f"Fetching Hugging Face Daily Papers for {day.isoformat()}")
    hf_papers = await hf.daily(day)
    categories = sorted({*arxiv_categories, *(c for ch in channels for c in ch.categories)})
    arxiv_papers: list[Paper] = []
    if arxiv is not None and categories:
        if today is not None and day != today:
            log.info("arXiv new listings are only available for today; skipped for %s", day)
        else:
            _say(progress, f"Fetching new arXiv papers in {', '.join(categories)}")
            arxiv_papers = await arxiv.new_in(categories)
    known = {p.arxiv_id for p in hf_papers}
    extra = [p for p in arxiv_papers if p.arxiv_id not in known]
    log.info(
        "%s: %d candidates (%d from Hugging Face, %d new from arXiv)",
        day, len(hf_papers) + len(extra), len(hf_papers), len(extra),
    )
    papers = tuple(hf_papers) + tuple(extra)
    if store is not None and not store.readonly and papers:
        await store.put_papers(papers)
    return Candidates(day, papers, len(hf_papers), len(extra))


@dataclass(frozen=True)
class Audience:
    """One channel as ranking sees it: its profile, where it lives (None when no connection
    has said, e.g. `paperboy digest` for a Slack channel: then nothing is filtered as posted
    and no team list is used), and the papers it may see again (`allow_again`: what it was
    sent on this very day, for `/papers today` or resuming a post, or a deliberate re-post)."""

    channel: ChannelConfig
    where: ChatRef | None
    allow_again: frozenset[str] = frozenset()


class SavedLists:
    """Each team's list as ranking sees it: read at most once per `ttl` and shared by all of
    the team's channels (the same object, so picks compare it with the day's candidates
    once per team). A save shapes picks from the next refresh, not from the next channel
    (re-reading a 20,000-paper list after every 📌 of a busy morning would stall the
    fan-out); what a channel was already sent is never cached. Without a clock, each list
    is read once for the object's life (one `paperboy digest`)."""

    def __init__(
        self, store: Store, clock: Callable[[], datetime] | None = None,
        ttl: timedelta = SAVED_LIST_TTL,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl
        self._lists: dict[tuple[str, str], tuple[datetime | None, tuple[SavedPaper, ...]]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def get(self, team: tuple[str, str]) -> tuple[SavedPaper, ...]:
        async with self._locks.setdefault(team, asyncio.Lock()):
            now = self._clock() if self._clock is not None else None
            known = self._lists.get(team)
            stale = known is not None and now is not None and known[0] is not None \
                and now - known[0] >= self._ttl
            if known is None or stale:
                known = self._lists[team] = (now, await self._read(team))
            return known[1]

    async def _read(self, team: tuple[str, str]) -> tuple[SavedPaper, ...]:
        try:
            # Ranking looks at the most recent saves only (picks.SIMILAR_RECENT): read no more.
            return tuple(await self._store.saved_papers(*team, limit=picks.SIMILAR_RECENT))
        except StoreError as exc:
            # The list only boosts similar papers: a damaged one must not stop the post.
            log.warning("ranking without the team list of %s:%s: %s", *team, exc)
            return ()


async def build_digests(
    candidates: Candidates,
    audiences: Sequence[Audience],
    *,
    store: Store,
    summarizer: Summarizer,
    top_n: int | None = None,
    saved_lists: SavedLists | None = None,
    progress: Progress | None = None,
) -> list[Digest]:
    """Rank the candidates for each channel, then summarise the union of all picks once.
    Without `saved_lists`, each team's list is read once for this call."""
    digests = await rank_digests(
        candidates, audiences, store=store, top_n=top_n, saved_lists=saved_lists
    )
    chosen = {p.paper.arxiv_id: p.paper for d in digests for p in d.picks}
    if chosen:
        _say(progress, f"Summarising {len(chosen)} papers")
    summaries = await summarizer.summarize(list(chosen.values()))
    return [
        dataclasses.replace(
            d,
            picks=tuple(
                dataclasses.replace(p, summary=summaries[p.paper.arxiv_id]) for p in d.picks
            ),
        )
        for d in digests
    ]


async def rank_digests(
    candidates: Candidates,
    audiences: Sequence[Audience],
    *,
    store: Store,
    top_n: int | None = None,
    extra: int = 0,
    saved_lists: SavedLists | None = None,
) -> list[Digest]:
    """Each channel's picks, without TL;DRs. `extra` asks for that many more than each
    channel's own `top_n` (the summary prefetch covers picks that may shift by post time)."""
    prepared = candidates.prepared
    lists = saved_lists or SavedLists(store)
    digests: list[Digest] = []
    for audience in audiences:
        posted: frozenset[str] = frozenset()
        saved: Sequence[SavedPaper] = ()
        if audience.where is not None:
            posted = await store.posted_ids(audience.where) - audience.allow_again
            # The team's list makes picks learn what it likes.
            saved = await lists.get((audience.where.platform, audience.where.team))
        limit = (audience.channel.top_n if top_n is None else top_n) + extra
        # On the ranking thread: the first ranking of a day compares the candidates with the
        # team's list (~0.4 s of CPU), and chat must not wait for it on the event loop.
        rank = functools.partial(
            picks.rank, prepared, audience.channel, posted=posted, saved=saved,
            day=candidates.day, top_n=limit,
        )
        digests.append(await asyncio.get_running_loop().run_in_executor(_RANKING, rank))
    if not candidates.papers:
        why = _why_no_candidates(candidates.day)
        digests = [dataclasses.replace(d, note=why) for d in digests]
    return digests


class CandidateCache:
    """The day's candidates, fetched once and shared by every channel posting soon after
    (one upstream fetch per day however many channels), and handed to `index` (the search
    index's one way in) when fetched."""

    def __init__(
        self,
        config: Config,
        *,
        hf: HuggingFaceClient,
        arxiv: ArxivClient | None,
        store: Store,
        clock: Callable[[], datetime],
        index: Callable[[Sequence[Paper]], Awaitable[object]] | None = None,
    ) -> None:
        self._config = config
        self._hf = hf
        self._arxiv = arxiv
        self._store = store
        self._clock = clock
        self._index = index
        self._cached: dict[date, tuple[datetime, Candidates]] = {}
        self._lock = asyncio.Lock()
        # Told how each upstream fetch ended (None: it succeeded); health watches this.
        self.fetch_listeners: list[Callable[[BaseException | None], None]] = []

    async def get(self, day: date, today: date) -> Candidates:
        """`day`'s candidates; `today` is the asking channel's local date (arXiv new
        listings exist only for today)."""
        async with self._lock:
            now = self._clock()
            cached = self._cached.get(day)
            if cached is not None and now - cached[0] < CANDIDATES_TTL:
                return cached[1]
            try:
                fetched = await fetch_candidates(
                    day, self._config.channels, hf=self._hf, arxiv=self._arxiv,
                    arxiv_categories=self._config.arxiv.categories, today=today,
                    store=self._store,
                )
            except UpstreamError as exc:
                self._tell(exc)
                raise
            self._tell(None)
            self._cached = {day: (now, fetched)}
            if self._index is not None and fetched.papers:
                await self._index(fetched.papers)
            return fetched

    def _tell(self, error: BaseException | None) -> None:
        for listener in self.fetch_listeners:
            listener(error)


def _why_no_candidates(day: date) -> str:
    if day.weekday() == 5:
        return "Hugging Face publishes no Daily Papers on Saturdays"
    return "Hugging Face has no Daily Papers for this day (yet)"


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)
