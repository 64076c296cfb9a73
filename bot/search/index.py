"""The local full-text index of every paper the bot has seen, on tantivy.

One job: keep papers searchable on this machine and answer a ParsedQuery with ranked hits,
each carrying the paper itself and a highlighted snippet. It does not talk to Hugging Face,
merge remote results or know about teams and channels (`bot.search.searcher` does that); it
only receives an optional set of ids to stay inside.

Inputs/outputs: `add(papers)` upserts by canonical arXiv id (delete-then-add, one commit per
batch); `search(query, limit, ids=, since=)` returns `LocalHit`s; `get(ids)` finds papers by
id; `rebuild(papers)` replaces everything in one commit. All methods block (tantivy does the
work in Rust): async callers run them with `asyncio.to_thread` — see `bot.search.searcher`.

Why it looks like this:
- Papers are stored whole (a JSON payload) in the index, so a hit renders without a second
  lookup: reading ten hits' payloads takes about 0.2 ms (bench/search.py), as fast as an
  idle TinyDBStore, but it never queues behind the store's writes and still works when the
  store's paper cache is rebuilt or trimmed.
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
- The on-disk schema carries a version in `paperboy-index.json`; an index written by another
  version (or unreadable) is wiped and recreated with a log line, and `fresh` tells the
  caller to refill it from the store (`open_index` in `bot.search` does both).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import threading
from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import tantivy
from tantivy import Filter, Occur, Query, TextAnalyzerBuilder, Tokenizer

from bot.errors import StoreError
from bot.ids import looks_like_paper_ref, parse_paper_ref
from bot.models import Paper
from bot.search.query import ParsedQuery
from bot.store._codec import paper_from_dict, paper_to_dict

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MARKER_FILE = "paperboy-index.json"

# Field → BM25 boost. Title words say what a paper is about more than abstract words do; a
# larger title boost made paraphrase queries worse (bench/search.py: 3.0 → recall@5 0.90).
TEXT_FIELDS: dict[str, float] = {
    "title": 1.5,
    "keywords": 1.5,
    "summary": 1.0,
    "abstract": 1.0,
    "org": 1.0,
}
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

_EN = "paperboy_en"
_NAME = "paperboy_name"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_GITHUB_OWNER = re.compile(r"^https?://(?:www\.)?github\.com/([^/?#]+)", re.IGNORECASE)
# tantivy wants at least ~15 MB per indexing thread; one thread keeps RSS low and is plenty
# for batches of a few thousand papers (8,036 papers index in about a second).
_WRITER_HEAP = 48_000_000
_VOCAB_UPDATE_MAX = 500


@dataclass(frozen=True)
class LocalHit:
    """One local result: the paper, its BM25 score and the snippet (highlights in **)."""

    arxiv_id: str
    score: float
    snippet: str | None
    paper: Paper


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    builder = (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
    )
    if stem:
        builder = builder.filter(Filter.stemmer("english"))
    return builder.build()


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("arxiv_id", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=_EN)
    builder.add_text_field("authors", tokenizer_name=_NAME)
    # Only which documents hold a word: fuzzy matching and the vocabulary need no positions.
    builder.add_text_field("words", tokenizer_name=_NAME, index_option="basic")
    builder.add_date_field("date", indexed=True, fast=True)
    builder.add_unsigned_field("upvotes", fast=True)
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


class PaperIndex:
    """A tantivy index of papers, on disk (`open`) or in memory (`in_memory`).

    `fresh` is True when the index was created empty by this process (a new directory, or an
    incompatible one that was wiped): the caller should `rebuild` it from the store.
    Writes are serialised by a lock; searches run concurrently on the latest committed view.
    """

    def __init__(self, index: tantivy.Index, *, path: Path | None, fresh: bool) -> None:
        self._index = index
        self._schema = index.schema
        self.path = path
        self.fresh = fresh
        self._en = _analyzer(stem=True)
        self._name = _analyzer(stem=False)
        # Tokenizers are not persisted by tantivy: register them on every open.
        index.register_tokenizer(_EN, self._en)
        index.register_tokenizer(_NAME, self._name)
        self._write_lock = threading.Lock()
        self.readonly = False  # set by open_readonly: another process owns the index
        self._searcher = index.searcher()
        self._vocabulary: dict[str, int] | None = None

    # --- opening ----------------------------------------------------------------------
    @classmethod
    def in_memory(cls) -> PaperIndex:
        """An empty index in RAM (tests, throwaway runs)."""
        return cls(tantivy.Index(_schema()), path=None, fresh=True)

    @classmethod
    def open_readonly(cls, path: Path) -> PaperIndex:
        """Open the index another process (the running bot) writes, without touching it:
        no marker, no wipe, no rebuild. A missing or incompatible index reads as empty."""
        path = Path(path)
        index: PaperIndex
        if _read_marker(path) != SCHEMA_VERSION:
            log.info("no usable search index at %s; searching remote only", path)
            index = cls.in_memory()
        else:
            try:
                index = cls(tantivy.Index(_schema(), path=str(path), reuse=True),
                            path=path, fresh=False)
            except ValueError as exc:
                log.warning("search index at %s is unreadable (%s)", path, exc)
                index = cls.in_memory()
        index.readonly = True
        return index

    @classmethod
    def open(cls, path: Path) -> PaperIndex:
        """Open the index in `path`, creating it; an incompatible one is wiped and recreated."""
        path = Path(path)
        fresh = not path.exists() or not any(path.iterdir())
        if not fresh:
            found = _read_marker(path)
            if found != SCHEMA_VERSION:
                if found is None and not (path / "meta.json").exists():
                    raise StoreError(
                        f"{path} is not empty and is not a Paperboy search index; "
                        "point the data directory elsewhere or empty it"
                    )
                log.warning(
                    "search index at %s has schema %s, this Paperboy writes schema %s: "
                    "recreating it empty (refill with `paperboy index rebuild`)",
                    path, found, SCHEMA_VERSION,
                )
                _wipe(path)
                fresh = True
        path.mkdir(parents=True, exist_ok=True)
        try:
            index = tantivy.Index(_schema(), path=str(path), reuse=True)
        except ValueError as exc:
            if fresh:
                raise StoreError(f"cannot create the search index in {path}: {exc}") from exc
            log.warning("search index at %s is unreadable (%s): recreating it empty", path, exc)
            _wipe(path)
            path.mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(_schema(), path=str(path), reuse=True)
            fresh = True
        _write_marker(path)
        return cls(index, path=path, fresh=fresh)

    # --- writing ----------------------------------------------------------------------
    def add(self, papers: Iterable[Paper]) -> int:
        """Insert or replace papers by canonical id, in one commit. Returns how many."""
        batch = {paper.arxiv_id: paper for paper in papers}  # last one wins within a batch
        if not batch:
            return 0
        with self._write_lock:
            writer = self._writer()
            try:
                for arxiv_id, paper in batch.items():
                    writer.delete_documents_by_term("arxiv_id", arxiv_id)
                    writer.add_document(self._document(paper))
                writer.commit()
                writer.wait_merging_threads()
            finally:
                del writer  # releases tantivy's directory lock for the next batch
            self._reload(added=batch.values())
        return len(batch)

    def rebuild(self, papers: Iterable[Paper]) -> int:
        """Replace the whole index with `papers` in one commit. Returns how many."""
        batch = {paper.arxiv_id: paper for paper in papers}
        with self._write_lock:
            writer = self._writer()
            try:
                writer.delete_all_documents()
                for paper in batch.values():
                    writer.add_document(self._document(paper))
                writer.commit()
                writer.wait_merging_threads()
            finally:
                del writer
            self._reload()
        self.fresh = False
        log.info("search index rebuilt: %d papers", len(batch))
        return len(batch)

    def warm(self) -> None:
        """Read the spelling vocabulary now (≈ 15 ms per 8k papers), so that the first
        misspelt query does not pay for it."""
        self._vocab()

    # --- reading ----------------------------------------------------------------------
    def count(self) -> int:
        """How many papers the index holds."""
        return self._searcher.num_docs

    def get(self, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
        """The indexed papers among `arxiv_ids` (canonical), by id."""
        wanted = sorted(set(arxiv_ids))
        if not wanted:
            return {}
        searcher = self._searcher
        query = Query.term_set_query(self._schema, "arxiv_id", wanted)
        found: dict[str, Paper] = {}
        for _score, address in searcher.search(query, len(wanted), count=False).hits:
            paper = _paper_from_payload(searcher.doc(address).get_first("payload"))
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
        if self._searcher.search(query, 1, count=True).count == len(wanted):
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
        searcher = self._searcher
        if query.exact_id:
            if ids is not None and query.exact_id not in ids:
                return []
            paper = self.get([query.exact_id]).get(query.exact_id)
            return [LocalHit(paper.arxiv_id, 1.0, None, paper)] if paper else []

        compiled = self._compile(query, searcher, ids, since)
        if compiled is None:
            return []
        found = self._ranked(searcher, compiled, limit)
        names = {*self._name.analyze(" ".join((*query.words, *query.authors)))}
        snippets = _Snippets(searcher, compiled, self._schema, names, self._name)
        hits = []
        for score, address in found:
            paper = _paper_from_payload(searcher.doc(address).get_first("payload"))
            hits.append(LocalHit(paper.arxiv_id, float(score), snippets.of(paper), paper))
        return hits

    def _compile(
        self,
        query: ParsedQuery,
        searcher: tantivy.Searcher,
        ids: Set[str] | None = None,
        since: date | None = None,
    ) -> Query | None:
        """The whole tantivy query: relevance, author filters, `since`, `ids`; None when
        nothing in the query can match."""
        relevance = self._relevance(query, searcher)
        must: list[tuple[Occur, Query]] = []
        if relevance is not None:
            must.append((Occur.Must, relevance))
        for author in query.authors:
            author_query = self._author_filter(author, searcher)
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
    def _relevance(self, query: ParsedQuery, searcher: tantivy.Searcher) -> Query | None:
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
                for fix in self._corrections(word):
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

    def _corrections(self, word: str) -> list[str]:
        vocabulary = self._vocab()
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

    def _vocab(self) -> dict[str, int]:
        # Every unstemmed word with its document count, read from the term dictionary of
        # the `words` field on first need after a commit (about 15 ms for 8k papers).
        if self._vocabulary is None:
            self._vocabulary = dict(self._searcher.terms_with_prefix("words", ""))
        return self._vocabulary

    # --- internals --------------------------------------------------------------------
    def _writer(self) -> tantivy.IndexWriter:
        try:
            return self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        except ValueError as exc:
            raise StoreError(
                f"the search index{' in ' + str(self.path) if self.path else ''} is being "
                "written by another process"
            ) from exc

    def _reload(self, added: Iterable[Paper] = ()) -> None:
        self._index.reload()
        self._searcher = self._index.searcher()
        added = list(added)
        if self._vocabulary is not None and 0 < len(added) <= _VOCAB_UPDATE_MAX:
            # Small batches (a digest, a few remote hits) extend the vocabulary in place
            # instead of forcing the next typo to rescan every term dictionary.
            for paper in added:
                for term in set(self._name.analyze(_searchable_text(paper))):
                    self._vocabulary[term] = self._vocabulary.get(term, 0) + 1
        elif self._vocabulary is not None:
            # Re-read now, in the writer's thread, rather than in the next misspelt search.
            self._vocabulary = None
            self._vocab()

    def _document(self, paper: Paper) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_text("arxiv_id", paper.arxiv_id)
        doc.add_text("title", paper.title)
        doc.add_text("abstract", paper.abstract)
        if paper.ai_summary:
            doc.add_text("summary", paper.ai_summary)
        for keyword in paper.ai_keywords:
            doc.add_text("keywords", keyword)
        if paper.organization:
            doc.add_text("org", paper.organization)
        owner = _repo_owner(paper.github_repo)
        if owner:
            # The code's owner is often the lab ("tencent", "facebookresearch", "qwenlm"),
            # which HF's organisation field names for only ~7% of papers.
            doc.add_text("org", owner)
        # Unstemmed words of all the text, for spelling fixes and distance-2 fuzzy matching.
        doc.add_text("words", _searchable_text(paper))
        for author in paper.authors:
            doc.add_text("authors", author)
        doc.add_unsigned("upvotes", max(0, paper.upvotes or 0))
        when = _paper_date(paper)
        if when is not None:
            doc.add_date("date", when)
        doc.add_bytes("payload", json.dumps(paper_to_dict(paper)).encode())
        return doc


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


def _repo_owner(url: str | None) -> str | None:
    match = _GITHUB_OWNER.match(url or "")
    return match.group(1) if match else None


def _searchable_text(paper: Paper) -> str:
    return " ".join(
        (paper.title, paper.abstract, paper.ai_summary or "", " ".join(paper.ai_keywords),
         paper.organization or "")
    )


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _ALPHABET]
    inserts = [a + c + b for a, b in splits for c in _ALPHABET]
    return set(deletes + transposes + replaces + inserts)


def _paper_date(paper: Paper) -> datetime | None:
    # `since:` means published (arXiv v1) on or after; HF's feature day stands in when the
    # publication time is unknown.
    if paper.published_at is not None:
        when = paper.published_at
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    if paper.featured_on is not None:
        return datetime.combine(paper.featured_on, time(), tzinfo=UTC)
    return None


def _paper_from_payload(payload: bytes) -> Paper:
    return paper_from_dict(json.loads(payload))


def _read_marker(path: Path) -> int | None:
    try:
        return int(json.loads((path / MARKER_FILE).read_text())["schema"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_marker(path: Path) -> None:
    temporary = path / (MARKER_FILE + ".tmp")
    temporary.write_text(json.dumps({"schema": SCHEMA_VERSION}))
    os.replace(temporary, path / MARKER_FILE)


def _wipe(path: Path) -> None:
    shutil.rmtree(path)


__all__ = ["SCHEMA_VERSION", "LocalHit", "PaperIndex"]
