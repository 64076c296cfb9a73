"""Rank one channel's candidate papers for a day: filters, score, reasons, de-duplication.

Pure: no network, disk or clock — the caller passes the day, what the channel
has already received and what the team has saved. Returns a `Digest` whose Picks are in
order, each with a short human reason ("matches: diffusion, video", "by Yann LeCun",
"similar to 'Attention Is All You Need' (saved by ana)", "412 upvotes, #1 today").

    prepared = prepare(candidates)                 # once per day's batch
    digest = rank(prepared, channel, posted=..., saved=..., day=today)   # per channel

`prepare` de-duplicates the batch by canonical arXiv id (the Hugging Face record wins over
an arXiv one and takes its categories), tokenises every candidate once and builds the
TF-IDF postings that saved-list similarity needs; `rank` then costs a few set lookups per
keyword and candidate. That split is the point: one day's ~50 papers are ranked for
hundreds of channels (bench/picks.py: 500 profiles in well under a second), and channels of
one team share a saved list whose similarity rows `Prepared` computes once.

Score = community (upvotes, log-scaled against the day's best: 0..1) + topic (each keyword
1.0 in the title, 0.5 in the abstract or HF keywords; at most 3) + authors (1.5 each) +
saved-list similarity (5 × TF-IDF cosine to the closest saved paper, at most 2, counted only
from `SIMILAR_AT`, below which two abstracts merely share vocabulary). Ties break on
upvotes, then id, so a digest is reproducible. Reasons list the channel-specific signals
strongest first and the upvotes last.
Called by bot.daily (prepare once, rank per channel); timed by bench/picks.py.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date

from bot.config import ChannelConfig
from bot.errors import InvalidPaperId
from bot.ids import canonical_id
from bot.models import (
    ByAuthors,
    Digest,
    MatchesKeywords,
    NewIn,
    Paper,
    Pick,
    ReasonPart,
    SavedPaper,
    SimilarToSaved,
    Upvotes,
)
from bot.textsim import Text, idf_table, normalise_name, phrase, term_counts, tfidf

# Weights of the score's parts (see the module docstring for the scale).
COMMUNITY_WEIGHT = 1.0
TITLE_MATCH = 1.0
BODY_MATCH = 0.5
TOPIC_CAP = 3.0
AUTHOR_MATCH = 1.5
# A saved-list match at the threshold weighs like a keyword in the title, and at most two.
SIMILARITY_WEIGHT = 5.0
SIMILARITY_CAP = 2.0
# Measured on the corpus (one day's 49 papers against 2,000 others): unrelated pairs have
# a median cosine of 0.04 and a 99.9th percentile of 0.21; from about 0.2 up, pairs are
# visibly about the same thing ("Self-Play Preference Optimization" ~ "Self-Boosting LLMs
# with Synthetic Preference Data", 0.23).
SIMILAR_AT = 0.2
# Similarity looks at the team's most recent saves (the list comes newest first): what a
# team reads now says more about tomorrow's picks than what it saved years ago, and the cost
# stays flat however long the list grows (20,000 saves would take ~5 s a day on a 2-core
# machine; 2,000 take ~0.5 s, then ~0.1 s once their words are counted).
SIMILAR_RECENT = 2000


@dataclass(frozen=True, eq=False)
class _Candidate:
    """One paper with everything ranking needs, computed once per day."""

    paper: Paper
    index: int
    title: Text
    body: Text  # abstract + HF ai_keywords
    authors: dict[str, str]  # normalised name → name as written
    categories: frozenset[str]  # case-folded
    sort_upvotes: int  # -1 when unknown, so arXiv-only papers sort after voted ones
    community: float  # 0..1
    day_rank: int | None  # 1 = most upvoted of the day


@dataclass(eq=False)
class Prepared:
    """A day's candidates, de-duplicated and tokenised; reusable for any number of channels.

    Holds two caches that only grow within one day: compiled keyword phrases and the
    similarity row of each saved paper seen so far (saved lists repeat across a team's
    channels).
    """

    candidates: tuple[_Candidate, ...]
    _postings: dict[str, list[tuple[int, float]]]
    _idf: dict[str, float]
    _default_idf: float
    _phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _similarity_rows: dict[str, list[float]] = field(default_factory=dict)
    # id(saved list) → (the list, its best matches): one team's channels share one list
    # object (bot.daily.SavedLists), so the O(saved × candidates) pass runs once per team
    # and day, not once per channel. The list is kept so its id cannot be reused.
    _best: dict[int, tuple[Sequence[SavedPaper], dict[int, tuple[float, SavedPaper]]]] = (
        field(default_factory=dict)
    )

    @property
    def papers(self) -> tuple[Paper, ...]:
        return tuple(c.paper for c in self.candidates)

    def phrase(self, term: str) -> tuple[str, ...]:
        words = self._phrases.get(term)
        if words is None:
            words = self._phrases[term] = phrase(term)
        return words

    def best_saved(
        self, saved: Sequence[SavedPaper]
    ) -> dict[int, tuple[float, SavedPaper]]:
        """Candidate index → (closeness, the closest saved paper), for those close enough;
        computed once per saved-list object."""
        known = self._best.get(id(saved))
        if known is None or known[0] is not saved:
            known = self._best[id(saved)] = (saved, _best_saved(self, saved[:SIMILAR_RECENT]))
        return known[1]

    def similarity_row(self, saved: Paper) -> list[float]:
        """Cosine of one saved paper against every candidate (by candidate index)."""
        row = self._similarity_rows.get(saved.arxiv_id)
        if row is None:
            vector = tfidf(_saved_counts(saved.abstract, saved.title), self._idf,
                           self._default_idf)
            row = [0.0] * len(self.candidates)
            postings = self._postings
            for word, weight in vector.items():
                for index, candidate_weight in postings.get(word, ()):
                    row[index] += weight * candidate_weight
            self._similarity_rows[saved.arxiv_id] = row
        return row


def prepare(candidates: Sequence[Paper]) -> Prepared:
    """De-duplicate and tokenise a day's candidates once, for ranking in many channels."""
    papers = dedupe(candidates)
    counts = [term_counts(p.abstract, title=p.title) for p in papers]
    idf, default_idf = idf_table(c.keys() for c in counts)
    postings: dict[str, list[tuple[int, float]]] = {}
    for index, document in enumerate(counts):
        for word, weight in tfidf(document, idf, default_idf).items():
            postings.setdefault(word, []).append((index, weight))

    voted = sorted(p.upvotes for p in papers if p.upvotes is not None)
    best = voted[-1] if voted else 0
    scale = math.log1p(best) if best > 0 else 1.0
    prepared = tuple(
        _Candidate(
            paper=p,
            index=i,
            title=Text.of((p.title,)),
            body=Text.of((p.abstract, *p.ai_keywords)),
            authors={normalise_name(a): a for a in p.authors},
            categories=frozenset(c.casefold() for c in p.categories),
            sort_upvotes=-1 if p.upvotes is None else p.upvotes,
            community=math.log1p(max(p.upvotes, 0)) / scale if p.upvotes else 0.0,
            # Standard competition ranking: papers with equal upvotes share a place.
            day_rank=None if p.upvotes is None else 1 + len(voted) - bisect_right(voted, p.upvotes),
        )
        for i, p in enumerate(papers)
    )
    return Prepared(
        candidates=prepared,
        _postings=postings,
        _idf=idf,
        _default_idf=default_idf,
    )


def dedupe(candidates: Sequence[Paper]) -> list[Paper]:
    """One paper per canonical arXiv id, first-seen order. When Hugging Face and arXiv both
    list a paper the HF record is kept (upvotes, AI summary) and gains the arXiv categories."""
    kept: dict[str, Paper] = {}
    for paper in candidates:
        key = _canonical(paper.arxiv_id)
        if key != paper.arxiv_id:
            paper = replace(paper, arxiv_id=key)
        seen = kept.get(key)
        if seen is None:
            kept[key] = paper
            continue
        preferred, other = (
            (paper, seen)
            if paper.source == "huggingface" and seen.source != "huggingface"
            else (seen, paper)
        )
        categories = preferred.categories or other.categories
        kept[key] = replace(preferred, categories=categories)
    return list(kept.values())


def rank(
    candidates: Sequence[Paper] | Prepared,
    channel: ChannelConfig,
    *,
    posted: Set[str] = frozenset(),
    saved: Sequence[SavedPaper] = (),
    day: date,
    top_n: int | None = None,
) -> Digest:
    """The channel's Digest for `day`: filtered, scored and explained picks, best first.

    `candidates` is the day's papers, or a `prepare`d batch to reuse across channels.
    `posted` holds canonical ids this channel already received; `saved` is the team list;
    `top_n` overrides the channel's. Picks carry no TL;DR yet: bot.daily summarises the
    union of every channel's picks once.
    """
    prepared = candidates if isinstance(candidates, Prepared) else prepare(candidates)
    limit = channel.top_n if top_n is None else top_n
    total = len(prepared.candidates)
    if total == 0:
        return Digest(channel=channel.name, day=day, picks=(), candidates=0,
                      note="no papers today")

    excludes = [(t, prepared.phrase(t)) for t in channel.exclude]
    keywords = [(t, prepared.phrase(t)) for t in channel.keywords]
    authors = {normalise_name(a) for a in channel.authors}
    authors.discard("")
    categories = frozenset(c.casefold() for c in channel.categories)

    dropped_posted = dropped_withdrawn = dropped_upvotes = dropped_categories = 0
    excluded_by: list[str] = []
    kept: list[_Candidate] = []
    for c in prepared.candidates:
        paper = c.paper
        if paper.arxiv_id in posted:
            dropped_posted += 1
        elif paper.withdrawn:
            dropped_withdrawn += 1
        elif paper.upvotes is not None and paper.upvotes < channel.min_upvotes:
            dropped_upvotes += 1
        elif categories and paper.source == "arxiv" and not (c.categories & categories):
            dropped_categories += 1
        else:
            term = _excluded_by(c, excludes)
            if term is None:
                kept.append(c)
            elif term not in excluded_by:
                excluded_by.append(term)

    similar = prepared.best_saved(saved) if saved else {}
    scored = []
    for c in kept:
        title_hits = [t for t, words in keywords if c.title.contains(words)]
        body_hits = [
            t for t, words in keywords if t not in title_hits and c.body.contains(words)
        ]
        topic = min(TOPIC_CAP, TITLE_MATCH * len(title_hits) + BODY_MATCH * len(body_hits))
        by = [name for key, name in c.authors.items() if key in authors] if authors else []
        match = similar.get(c.index)
        closeness = min(SIMILARITY_CAP, SIMILARITY_WEIGHT * match[0]) if match else 0.0
        score = (
            COMMUNITY_WEIGHT * c.community + topic + AUTHOR_MATCH * len(by) + closeness
        )
        scored.append((score, c, title_hits + body_hits, topic, by, match))
    scored.sort(key=lambda s: (-s[0], -s[1].sort_upvotes, s[1].paper.arxiv_id))

    picks = tuple(
        Pick(
            paper=c.paper,
            score=round(score, 4),
            rank=position,
            reasons=_reasons(c, hits, topic, by, match, categories),
        )
        for position, (score, c, hits, topic, by, match) in enumerate(
            scored[: max(limit, 0)], start=1
        )
    )
    note = None
    if not picks:
        note = _empty_note(
            channel, total, limit, dropped_posted, dropped_withdrawn, dropped_upvotes,
            dropped_categories, excluded_by,
        )
    return Digest(channel=channel.name, day=day, picks=picks, candidates=total, note=note)


@functools.lru_cache(maxsize=2 * SIMILAR_RECENT)
def _saved_counts(abstract: str, title: str) -> dict[str, int]:
    # A saved paper's words do not change from day to day: counted once, reused every
    # morning (callers only read the dict).
    return term_counts(abstract, title=title)


def _canonical(arxiv_id: str) -> str:
    try:
        return canonical_id(arxiv_id)
    except InvalidPaperId:
        # Not an arXiv id at all: still a distinct paper; keep it as the source spelled it.
        return arxiv_id


def _excluded_by(c: _Candidate, excludes: list[tuple[str, tuple[str, ...]]]) -> str | None:
    for term, words in excludes:
        if c.title.contains(words) or c.body.contains(words):
            return term
    return None


def _best_saved(
    prepared: Prepared, saved: Sequence[SavedPaper]
) -> dict[int, tuple[float, SavedPaper]]:
    """For each candidate close enough to something saved: the closest saved paper."""
    best: dict[int, tuple[float, SavedPaper]] = {}
    for entry in saved:
        row = prepared.similarity_row(entry.paper)
        for index, value in enumerate(row):
            if value < SIMILAR_AT:
                continue
            if prepared.candidates[index].paper.arxiv_id == entry.paper.arxiv_id:
                continue  # a saved paper is not "similar to itself"
            current = best.get(index)
            if current is None or value > current[0]:
                best[index] = (value, entry)
    return best


def _reasons(
    c: _Candidate,
    hits: list[str],
    topic: float,
    by: list[str],
    match: tuple[float, SavedPaper] | None,
    categories: frozenset[str],
) -> tuple[ReasonPart, ...]:
    """The signals behind a pick, strongest first; upvotes last."""
    parts: list[tuple[float, ReasonPart]] = []
    if by:
        parts.append((AUTHOR_MATCH * len(by), ByAuthors(tuple(by))))
    if hits:
        parts.append((topic, MatchesKeywords(tuple(hits))))
    if match:
        parts.append((min(SIMILARITY_CAP, SIMILARITY_WEIGHT * match[0]),
                      _similar(match[1])))
    parts.sort(key=lambda part: -part[0])  # stable: equal weights keep the order above
    reasons = [part for _, part in parts]
    # Upvotes come last whatever their weight: every paper has them, while the signals
    # above say why *this channel* gets the paper.
    if c.paper.upvotes:
        rank = c.day_rank if c.day_rank is not None and c.day_rank <= 3 else None
        reasons.append(Upvotes(c.paper.upvotes, rank))
    if not reasons:
        reasons.append(_new_in(c.paper, categories))
    return tuple(reasons)


def _similar(entry: SavedPaper) -> SimilarToSaved:
    savers = sorted(entry.savers, key=lambda s: (s.saved_at, s.user))
    return SimilarToSaved(entry.paper.title, entry.paper.arxiv_id,
                          tuple(s.user for s in savers))


def _new_in(paper: Paper, categories: frozenset[str]) -> NewIn:
    if paper.source == "arxiv":
        shared = [c for c in paper.categories if c.casefold() in categories]
        listed = shared or list(paper.categories)
        return NewIn("arxiv", listed[0] if listed else None)
    return NewIn("huggingface")


def _empty_note(
    channel: ChannelConfig,
    total: int,
    limit: int,
    posted: int,
    withdrawn: int,
    upvotes: int,
    categories: int,
    excluded_by: list[str],
) -> str:
    if limit <= 0:
        return f"top_n is {limit}: nothing to pick"
    if posted == total:
        return f"all {total} already posted"
    filters = []
    if upvotes:
        filters.append(f"min_upvotes {channel.min_upvotes}")
    if excluded_by:
        filters.append("exclude: " + ", ".join(excluded_by))
    if categories:
        filters.append("categories: " + ", ".join(channel.categories))
    if withdrawn:
        filters.append(f"{withdrawn} withdrawn")
    note = "nothing matched the filters (" + ", ".join(filters) + ")"
    if posted:
        note += f"; {posted} already posted"
    return note


__all__ = ["Prepared", "dedupe", "prepare", "rank"]
