"""Relevance: turn a ParsedQuery into ranked local hits with snippets, over one snapshot.

One job: build the tantivy query for what a person typed, rank it and say why each paper
matched. It reads a `Snapshot` (one committed state of the index) and never writes, opens
or commits anything — `bot.search.index` owns the index's lifecycle and hands snapshots out.
Pure apart from tantivy's reads: no disk writes, network or clock. Called by
`PaperIndex.search` (in a worker thread).

Why it looks like this:
- Queries are built term by term from the analysed words, never by tantivy's query parser, so
  no user text can be a syntax error. Each word becomes BM25 term queries over title (×1.5),
  AI keywords (×1.5), AI summary, abstract and organisation, plus the author field (×2) and
  a title phrase bonus for the whole sequence.
- Ranking: BM25 picks the best 50, then community interest breaks near-ties among them:
  score × (1 + 0.1·ln(1 + upvotes)) — 100 upvotes weigh ×1.46. People look for papers they
  heard about; on bench/search.py's known-item queries this lifted recall@5 from 0.89 to 0.95
  (held-out queries: 0.93 → 1.00). Upvotes come from a fast field: no document is loaded.
- Typos: a word the index has never seen (or barely, ≤ 2 documents) is corrected against the
  index's own vocabulary of unstemmed words at edit distance 1 — "difusion" → "diffusion",
  "speculatve" → "speculative" (stems would hide these: "speculatv" is far from "specul") —
  and the correction is searched, stemmed, as an ordinary BM25 term at 0.7 weight: exact
  words rank higher, corrected hits are ranked by relevance rather than tied, and snippets
  highlight them. Words of 7+ letters with no distance-1 correction fall back to tantivy's
  fuzzy term query at distance 2 (prefix off) over the unstemmed `words` field, which scores
  a constant.
- A snapshot is never modified: a commit makes a new one, so a search in flight keeps a
  consistent view and never waits for a writer.
"""

from __future__ import annotations

import math
from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import tantivy
from tantivy import Occur, Query

from bot.ids import looks_like_paper_ref, parse_paper_ref
from bot.models import Paper
from bot.search.query import ParsedQuery
from bot.search.schema import TEXT_FIELDS, paper_from_payload

AUTHOR_BOOST = 2.0
ID_BOOST = 10.0
PHRASE_BOOST = 2.0
CORRECTION_WEIGHT = 0.7
FUZZY_BOOST = 1.0
MIN_TYPO_LEN = 4  # shorter words have too many neighbours to guess a spelling from
FUZZY2_MIN_LEN = 7
RARE_DOC_FREQ = 2  # a word this rare may itself be a typo that slipped into one abstract
MAX_CORRECTIONS = 2
SNIPPET_CHARS = 200
PRIOR_WEIGHT = 0.1
PRIOR_POOL = 50

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class LocalHit:
    """One local result: the paper, its BM25 score and the snippet (highlights in **)."""

    arxiv_id: str
    score: float
    snippet: str | None
    paper: Paper


class Snapshot:
    """One committed state of the index: a tantivy searcher and, read on first need, the
    spelling vocabulary (every unstemmed word with its document count, about 15 ms per 8k
    papers). `vocabulary` may be handed over already built by the writer that made it."""

    def __init__(
        self, searcher: tantivy.Searcher, vocabulary: dict[str, int] | None = None
    ) -> None:
        self.searcher = searcher
        self._vocabulary = vocabulary

    @property
    def built(self) -> bool:
        """True once the vocabulary has been read."""
        return self._vocabulary is not None

    def vocabulary(self) -> dict[str, int]:
        """The spelling vocabulary (read it once; never modify the returned dict)."""
        if self._vocabulary is None:
            # Two threads may both read it; the results are equal and either one is kept.
            self._vocabulary = dict(self.searcher.terms_with_prefix("words", ""))
        return self._vocabulary


class Ranker:
    """Builds, runs and explains queries for one schema and its two analysers."""

    def __init__(
        self,
        schema: tantivy.Schema,
        stemmer: tantivy.TextAnalyzer,
        names: tantivy.TextAnalyzer,
    ) -> None:
        self._schema = schema
        self._en = stemmer
        self._name = names

    def search(
        self,
        snapshot: Snapshot,
        query: ParsedQuery,
        limit: int,
        ids: Set[str] | None = None,
        since: date | None = None,
    ) -> list[LocalHit]:
        """The best `limit` papers for a word/author query (not an exact id), optionally
        only among `ids` and from `since` on (default: the query's own `since:`)."""
        if ids is not None and not ids:
            return []
        compiled = self._compile(query, snapshot, ids, since)
        if compiled is None:
            return []
        searcher = snapshot.searcher
        found = self._ranked(searcher, compiled, limit)
        names = {*self._name.analyze(" ".join((*query.words, *query.authors)))}
        snippets = _Snippets(searcher, compiled, self._schema, names, self._name)
        hits = []
        for score, address in found:
            paper = paper_from_payload(searcher.doc(address).get_first("payload"))
            hits.append(LocalHit(paper.arxiv_id, float(score), snippets.of(paper), paper))
        return hits

    def _compile(
        self,
        query: ParsedQuery,
        snapshot: Snapshot,
        ids: Set[str] | None = None,
        since: date | None = None,
    ) -> Query | None:
        """The whole tantivy query: relevance, author filters, `since`, `ids`; None when
        nothing in the query can match."""
        relevance = self._relevance(query, snapshot)
        must: list[tuple[Occur, Query]] = []
        if relevance is not None:
            must.append((Occur.Must, relevance))
        for author in query.authors:
            author_query = self._author_filter(author, snapshot.searcher)
            if author_query is None:
                return None  # a name made only of characters the analyser drops
            must.append((Occur.Must, author_query))
        if not must:
            return None
        since = since if since is not None else query.since
        if since is not None:
            start = datetime.combine(since, time(), tzinfo=UTC)
            dated = Query.range_query(
                self._schema, "date", tantivy.FieldType.Date, lower_bound=start
            )
            must.append((Occur.Must, dated))
        if ids is not None:
            must.append((Occur.Must, Query.term_set_query(self._schema, "arxiv_id", sorted(ids))))
        return Query.boolean_query(must)

    def _ranked(
        self, searcher: tantivy.Searcher, query: Query, limit: int
    ) -> list[tuple[float, tantivy.DocAddress]]:
        # BM25 picks a pool; community interest (upvotes) then breaks near-ties inside it:
        # score × (1 + w·ln(1 + upvotes)). Read from a fast field, so no document is loaded.
        pool = searcher.search(query, max(limit, PRIOR_POOL), count=False).hits
        if not pool or PRIOR_WEIGHT == 0:
            return pool[:limit]
        upvotes = searcher.fast_field_values("upvotes", [address for _s, address in pool])
        rescored = [
            (score * (1.0 + PRIOR_WEIGHT * math.log1p(votes or 0)), address)
            for (score, address), votes in zip(pool, upvotes, strict=True)
        ]
        rescored.sort(key=lambda pair: pair[0], reverse=True)
        return rescored[:limit]

    # --- query building ---------------------------------------------------------------
    def _relevance(self, query: ParsedQuery, snapshot: Snapshot) -> Query | None:
        searcher, vocabulary = snapshot.searcher, snapshot.vocabulary
        text = " ".join(query.words)
        should: list[tuple[Occur, Query]] = []
        phrase: list[str] = []
        seen: set[str] = set()
        # Word by word: the unstemmed form finds spelling fixes ("speculatve" → "speculative"),
        # the stemmed form is what the text fields are searched with ("specul").
        for word in dict.fromkeys(self._name.analyze(text)):
            stems = self._en.analyze(word)
            if not stems or stems[0] in seen:
                continue
            term = stems[0]
            seen.add(term)
            frequency = self._doc_freq(searcher, term)
            variants = [(term, 1.0)]
            # A word that is someone's name ("yann") is not a typo of a common word ("yarn").
            if (
                len(word) >= MIN_TYPO_LEN
                and frequency <= RARE_DOC_FREQ
                and searcher.doc_freq("authors", word) == 0
            ):
                for fix in self._corrections(word, vocabulary()):
                    fixed = self._en.analyze(fix)
                    if fixed and fixed[0] not in (v for v, _w in variants):
                        variants.append((fixed[0], CORRECTION_WEIGHT))
            # The title phrase bonus follows the most likely spelling of each word.
            phrase.append(variants[1][0] if frequency == 0 and len(variants) > 1 else term)
            for variant, weight in variants:
                for field, boost in TEXT_FIELDS.items():
                    should.append(self._boosted(Query.term_query(self._schema, field, variant),
                                                boost * weight))
            if frequency == 0 and len(variants) == 1 and len(word) >= FUZZY2_MIN_LEN:
                fuzzy = Query.fuzzy_term_query(self._schema, "words", word, distance=2,
                                               prefix=False)
                should.append(self._boosted(fuzzy, FUZZY_BOOST))
        for name_word in dict.fromkeys(self._name.analyze(text)):
            should.append(
                self._boosted(Query.term_query(self._schema, "authors", name_word), AUTHOR_BOOST)
            )
        for word in query.words:
            if looks_like_paper_ref(word):
                exact = Query.term_query(self._schema, "arxiv_id", parse_paper_ref(word))
                should.append(self._boosted(exact, ID_BOOST))
        if len(phrase) >= 2:
            in_title = Query.phrase_query(self._schema, "title", phrase, slop=1)
            should.append(self._boosted(in_title, PHRASE_BOOST))
        return Query.boolean_query(should) if should else None

    def _author_filter(self, author: str, searcher: tantivy.Searcher) -> Query | None:
        words = self._name.analyze(author)
        if not words:
            return None
        if len(words) > 1:
            return Query.phrase_query(self._schema, "authors", words)
        word = words[0]
        if searcher.doc_freq("authors", word) == 0 and len(word) >= MIN_TYPO_LEN:
            # "author:hintn": a misspelt name still finds the person
            return Query.fuzzy_term_query(self._schema, "authors", word, distance=1)
        return Query.term_query(self._schema, "authors", word)

    def _boosted(self, query: Query, boost: float) -> tuple[Occur, Query]:
        return (Occur.Should, Query.boost_query(query, boost))

    def _doc_freq(self, searcher: tantivy.Searcher, term: str) -> int:
        return max(searcher.doc_freq(field, term) for field in TEXT_FIELDS)

    def _corrections(self, word: str, vocabulary: dict[str, int]) -> list[str]:
        # A correction must be much more common than the word, or it is just another word.
        floor = vocabulary.get(word, 0) * 10
        candidates = [
            (vocabulary[edit], edit)
            for edit in _edits1(word)
            if edit != word and vocabulary.get(edit, 0) > floor
        ]
        if not candidates:
            return []
        candidates.sort(reverse=True)
        # Keep the likely spellings only: "difusion" → "diffusion" (1,500 papers), not a
        # one-off neighbour.
        best = candidates[0][0]
        return [
            edit for count, edit in candidates[:MAX_CORRECTIONS] if count * 5 >= best
        ]


class _Snippets:
    """Why a paper matched: the best abstract passage, else the AI summary, else the
    matching author names — with ** around the matched words."""

    def __init__(
        self,
        searcher: tantivy.Searcher,
        query: Query,
        schema: tantivy.Schema,
        names: set[str],
        name_analyzer: tantivy.TextAnalyzer,
    ) -> None:
        self._abstract = tantivy.SnippetGenerator.create(searcher, query, schema, "abstract")
        self._abstract.set_max_num_chars(SNIPPET_CHARS)
        self._summary = tantivy.SnippetGenerator.create(searcher, query, schema, "summary")
        self._summary.set_max_num_chars(SNIPPET_CHARS)
        self._names = names
        self._name_analyzer = name_analyzer

    def of(self, paper: Paper) -> str | None:
        text = _highlight(self._abstract, "abstract", paper.abstract)
        if text is None and paper.ai_summary:
            text = _highlight(self._summary, "summary", paper.ai_summary)
        if text is None and self._names:
            text = self._authors(paper.authors)
        return text

    def _authors(self, authors: tuple[str, ...]) -> str | None:
        overlap = [
            (len(self._names.intersection(self._name_analyzer.analyze(name))), name)
            for name in authors
        ]
        best = max((count for count, _name in overlap), default=0)
        if best == 0:
            return None
        # "alex nichol" shows Alex Nichol, not every Alex among 400 authors.
        matched = [name for count, name in overlap if count == best]
        shown = ", ".join(f"**{name}**" for name in matched[:3])
        others = len(authors) - len(matched[:3])
        return "by " + shown + (f" and {others} other{'s' if others > 1 else ''}" if others else "")


def _highlight(generator: tantivy.SnippetGenerator, field: str, text: str) -> str | None:
    snippet = generator.snippet_from_doc(tantivy.Document(**{field: text}))
    marks = snippet.highlighted()
    if not marks:
        return None
    # tantivy reports byte offsets into the UTF-8 fragment, not character offsets.
    fragment = snippet.fragment().encode()
    parts: list[bytes] = []
    cursor = 0
    for mark in marks:
        parts += [fragment[cursor : mark.start], b"**", fragment[mark.start : mark.end], b"**"]
        cursor = mark.end
    parts.append(fragment[cursor:])
    body = " ".join(b"".join(parts).decode().split())
    span = snippet.fragment_range()
    total = len(text.encode())
    return ("…" if span.start > 0 else "") + body + ("…" if span.end < total else "")


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _ALPHABET]
    inserts = [a + c + b for a, b in splits for c in _ALPHABET]
    return set(deletes + transposes + replaces + inserts)


__all__ = ["LocalHit", "Ranker", "Snapshot"]
