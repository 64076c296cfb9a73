"""Build the day's digests: fetch candidates once, rank them for every channel, summarise picks.

This is the read side of the daily post: it never posts and never claims anything. One
upstream fetch per day serves every channel, however many there are; only papers that some
channel picked are summarised, so an LLM is asked about five papers, not fifty.
Inputs: the day, the channels, the sources and the summariser; output: one Digest per channel.
Called by `paperboy digest` (bot.cli) and by the posting service.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot import picks
from bot.config import ChannelConfig
from bot.errors import StoreError
from bot.models import ChatRef, Digest, Paper, SavedPaper
from bot.sources.arxiv import ArxivClient
from bot.sources.huggingface import HuggingFaceClient
from bot.store import Store
from bot.summarize import Summarizer

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


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


def channel_ref(channel: ChannelConfig, teams: Mapping[str, str] | None = None) -> ChatRef:
    """The chat address of a configured channel. A channel without a `team` belongs to the
    team its adapter is connected to (`teams[platform]`, learnt at start-up)."""
    team = channel.team or (teams or {}).get(channel.platform) or _DEFAULT_TEAM[channel.platform]
    return ChatRef(channel.platform, team, channel.id)


# Until an adapter says which workspace/server it is connected to.
_DEFAULT_TEAM = {"console": "console", "slack": "default", "discord": "default"}


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


async def build_digests(
    candidates: Candidates,
    channels: Sequence[ChannelConfig],
    *,
    store: Store,
    summarizer: Summarizer,
    top_n: int | None = None,
    exclude_day_from_posted: bool = False,
    allow_again: frozenset[str] = frozenset(),
    teams: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> list[Digest]:
    """Rank the candidates for each channel, then summarise the union of all picks once.

    `exclude_day_from_posted` lets a channel see again what it was sent on this very day
    (for `/papers today` after the post, or resuming an interrupted one); `allow_again`
    lists papers a deliberate re-post may send again."""
    prepared = candidates.prepared
    saved_lists: dict[tuple[str, str], Sequence[SavedPaper]] = {}
    digests: list[Digest] = []
    for channel in channels:
        ref = channel_ref(channel, teams)
        posted = await store.posted_ids(ref)
        if exclude_day_from_posted:
            record = await store.get_post(ref, candidates.day)
            if record is not None:
                posted = posted - {i.arxiv_id for i in record.items if i.arxiv_id}
        posted = posted - allow_again
        # The team's list makes picks learn what it likes; read once per team, not channel.
        team = (ref.platform, ref.team)
        if team not in saved_lists:
            try:
                saved_lists[team] = await store.saved_papers(*team)
            except StoreError as exc:
                # The list only boosts similar papers: a damaged one must not stop the post.
                log.warning("ranking without the team list of %s:%s: %s", *team, exc)
                saved_lists[team] = ()
        saved = saved_lists[team]
        digests.append(
            picks.rank(
                prepared, channel, summaries={}, posted=posted, saved=saved,
                day=candidates.day, top_n=top_n,
            )
        )
    if not candidates.papers:
        why = _why_no_candidates(candidates.day)
        digests = [dataclasses.replace(d, note=why) for d in digests]
    chosen = {p.paper.arxiv_id: p.paper for d in digests for p in d.picks}
    if chosen:
        _say(progress, f"Summarising {len(chosen)} papers")
    summaries = await summarizer.summarize(list(chosen.values()))
    return [
        dataclasses.replace(
            d,
            picks=tuple(
                dataclasses.replace(p, summary=summaries.get(p.paper.arxiv_id, p.summary))
                for p in d.picks
            ),
        )
        for d in digests
    ]


def _why_no_candidates(day: date) -> str:
    if day.weekday() == 5:
        return "Hugging Face publishes no Daily Papers on Saturdays"
    return "Hugging Face has no Daily Papers for this day (yet)"


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)
