"""Summarise the papers a day's posts are likely to pick, in the background, before the posts.

A local LLM on a CPU takes about a minute per paper, far more than a post may wait. So some
time before a group of channels posts (`[summaries] prefetch_minutes`, run by
bot.schedule), this fetches the day's candidates (the same shared fetch the posts use),
ranks them for each of those channels with a small margin (a save or a late upvote may
shift the picks by post time) and hands the union to `Summarizer.prefetch`, which asks the
LLM paper by paper and fills the summary cache. The post then finds its TL;DRs there.
Never posts or claims anything; an upstream failure is logged and left to the post itself.
Called by bot.service (`Service.prefetch_summaries`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from bot import daily
from bot.errors import PaperboyError
from bot.events import PostTarget
from bot.store import Store
from bot.summaries import Summarizer

log = logging.getLogger(__name__)

# Papers beyond each channel's top_n that are summarised too.
MARGIN = 2


async def prefetch_summaries(
    targets: Sequence[PostTarget],
    day: date,
    today: date,
    *,
    candidates: daily.CandidateCache,
    store: Store,
    saved_lists: daily.SavedLists,
    summarizer: Summarizer,
) -> int:
    """Start summarising `targets`' likely picks for `day`; how many LLM requests started.
    `today` is the channels' local date (arXiv new listings exist only for today)."""
    if not summarizer.uses_llm or not targets:
        return 0
    try:
        fetched = await candidates.get(day, today)
        digests = await daily.rank_digests(
            fetched, [daily.Audience(t.channel, t.where) for t in targets],
            store=store, extra=MARGIN, saved_lists=saved_lists,
        )
    except PaperboyError as exc:
        log.warning("could not prefetch the TL;DRs for %s (%s); the post will try itself",
                    day.isoformat(), exc)
        return 0
    papers = list({p.paper.arxiv_id: p.paper for d in digests for p in d.picks}.values())
    started = await summarizer.prefetch(papers)
    log.info("prefetching %d TL;DRs for %s (%d likely picks of %d channels)",
             started, day.isoformat(), len(papers), len(targets))
    return started


__all__ = ["MARGIN", "prefetch_summaries"]
