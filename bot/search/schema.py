"""What a paper looks like inside the search index: fields, analysers, documents, payloads.

One job: the mapping between a `Paper` and a tantivy document, shared by the index's
lifecycle (`bot.search.index` writes documents) and relevance (`bot.search.relevance` reads
fields and analyses query words the same way). Pure: no disk, no searching.

Why it looks like this:
- Papers are stored whole (a JSON payload), so a hit renders without a second lookup.
- `digest` is a 64-bit hash of that payload, a fast field: re-indexing a paper whose content
  did not change is detected with one query and skipped, so the digest pipeline may hand the
  same papers over again at no cost.
- Tokenizers are not persisted by tantivy: `register` must run on every open.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, time

import tantivy
from tantivy import Filter, TextAnalyzerBuilder, Tokenizer

from bot.models import Paper
from bot.store._codec import paper_from_dict, paper_to_dict

# Field → BM25 boost. Title words say what a paper is about more than abstract words do; a
# larger title boost made paraphrase queries worse (bench/search.py: 3.0 → recall@5 0.90).
TEXT_FIELDS: dict[str, float] = {
    "title": 1.5,
    "keywords": 1.5,
    "summary": 1.0,
    "abstract": 1.0,
    "org": 1.0,
}

EN = "paperboy_en"
NAME = "paperboy_name"
_GITHUB_OWNER = re.compile(r"^https?://(?:www\.)?github\.com/([^/?#]+)", re.IGNORECASE)


def analyzer(stem: bool) -> tantivy.TextAnalyzer:
    """The text analyser: simple words, lowercased, ASCII-folded, stemmed when `stem`."""
    builder = (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
    )
    if stem:
        builder = builder.filter(Filter.stemmer("english"))
    return builder.build()


def build_schema() -> tantivy.Schema:
    """The index schema. Changing it means bumping `bot.search.index.SCHEMA_VERSION`."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("arxiv_id", stored=True, tokenizer_name="raw")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=EN)
    builder.add_text_field("authors", tokenizer_name=NAME)
    # Only which documents hold a word: fuzzy matching and the vocabulary need no positions.
    builder.add_text_field("words", tokenizer_name=NAME, index_option="basic")
    builder.add_date_field("date", indexed=True, fast=True)
    builder.add_unsigned_field("upvotes", fast=True)
    builder.add_unsigned_field("digest", fast=True)
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


def register(index: tantivy.Index) -> tuple[tantivy.TextAnalyzer, tantivy.TextAnalyzer]:
    """Register the analysers on `index`; returns (stemming, names) for query analysis."""
    en, name = analyzer(stem=True), analyzer(stem=False)
    index.register_tokenizer(EN, en)
    index.register_tokenizer(NAME, name)
    return en, name


def payload(paper: Paper) -> bytes:
    """The stored form of a paper (JSON)."""
    return json.dumps(paper_to_dict(paper), sort_keys=True).encode()


def digest(data: bytes) -> int:
    """A 64-bit fingerprint of a payload: equal payloads, equal digests."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def paper_from_payload(data: bytes) -> Paper:
    """The paper stored in a document's payload."""
    return paper_from_dict(json.loads(data))


def document(paper: Paper, data: bytes) -> tantivy.Document:
    """The document for `paper`, whose payload is `data` (see `payload`)."""
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
    doc.add_text("words", searchable_text(paper))
    for author in paper.authors:
        doc.add_text("authors", author)
    doc.add_unsigned("upvotes", max(0, paper.upvotes or 0))
    doc.add_unsigned("digest", digest(data))
    when = _paper_date(paper)
    if when is not None:
        doc.add_date("date", when)
    doc.add_bytes("payload", data)
    return doc


def searchable_text(paper: Paper) -> str:
    """All of a paper's words that searches match (the spelling vocabulary's source)."""
    return " ".join(
        (paper.title, paper.abstract, paper.ai_summary or "", " ".join(paper.ai_keywords),
         paper.organization or "")
    )


def _repo_owner(url: str | None) -> str | None:
    match = _GITHUB_OWNER.match(url or "")
    return match.group(1) if match else None


def _paper_date(paper: Paper) -> datetime | None:
    # `since:` means published (arXiv v1) on or after; HF's feature day stands in when the
    # publication time is unknown.
    if paper.published_at is not None:
        when = paper.published_at
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    if paper.featured_on is not None:
        return datetime.combine(paper.featured_on, time(), tzinfo=UTC)
    return None


__all__ = [
    "EN",
    "NAME",
    "TEXT_FIELDS",
    "analyzer",
    "build_schema",
    "digest",
    "document",
    "paper_from_payload",
    "payload",
    "register",
    "searchable_text",
]
