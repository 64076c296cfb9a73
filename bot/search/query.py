"""Turn what a person typed after "search" into a ParsedQuery; never into engine syntax.

Pure: no index, network or clock. `parse_query(text)` reads the small search grammar below
and returns words, filters and the scope; it raises `UserInputError` (one line, with the usage)
for a query that cannot mean anything. It does not build tantivy queries — `bot.search.index`
does that from these tokens, term by term, which is why quotes, colons, brackets, `AND`/`OR`,
`*`, `~` or `^` in user text can never reach tantivy's query parser and never raise there.

Syntax (any order, case-insensitive keys):

    speculative decoding draft     plain words: ranked by relevance (typos tolerated)
    "draft model"                  quotes only group words; they are searched as words
    author:hinton                  only papers with an author named Hinton
    author:"geoffrey hinton"       ... with that full name
    since:2025-01  since:2025-01-15   only papers published on or after that month / day
    in:saved  in:posted            only the team's saved list / what this channel was sent
    2406.12345  arxiv.org/abs/2406.12345v2  huggingface.co/papers/2406.12345
                                   an arXiv id or paper link alone: that exact paper

Called by `bot.search.searcher.Searcher.search` (and through it by the CLI and `/papers`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.errors import UserInputError
from bot.ids import looks_like_paper_ref, parse_paper_ref

Scope = Literal["all", "saved", "posted"]

MAX_QUERY_CHARS = 500
# Hugging Face rejects a longer `q`; the issue asks us to trim, not to refuse.
REMOTE_QUERY_CHARS = 250

SEARCH_USAGE = (
    "usage: search WORDS [author:NAME] [since:YYYY-MM] [in:saved|in:posted] "
    "— or an arXiv id / paper link"
)

# One token of the grammar: a known key with a quoted or bare value, a quoted group, or a word.
_TOKEN = re.compile(
    r'(?P<key>author|since|in):(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))'
    r'|"(?P<group>[^"]*)"'
    r"|(?P<word>\S+)",
    re.IGNORECASE,
)
_SINCE = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})(?:-(?P<day>\d{2}))?$")
_HAS_WORD = re.compile(r"\w")
# Punctuation around a word is noise ("(diffusion)", "models," "`rag`"); inside it is meaning
# ("gpt-4o", "c++" keeps "c"), so only the ends are stripped.
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True)
class ParsedQuery:
    """A search request taken apart.

    `words` are the plain words as typed (edge punctuation removed), `authors` one entry per
    `author:` filter (a full name may have several words), `since` the earliest publication
    date, `scope` the `in:` word if any, and `exact_id` the canonical id when the whole query
    was one arXiv id or paper link (then everything else is empty).
    """

    text: str
    words: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    since: date | None = None
    scope: Scope | None = None
    exact_id: str | None = None

    @property
    def remote_text(self) -> str:
        """What to send to Hugging Face search: words and author names, ≤ 250 characters.

        Filters are not sent (HF has no syntax for them); they are applied to its results.
        Longer text is trimmed at a word boundary rather than rejected.
        """
        joined = " ".join((*self.words, *self.authors))
        if len(joined) <= REMOTE_QUERY_CHARS:
            return joined
        cut = joined[: REMOTE_QUERY_CHARS + 1]
        return cut[: cut.rfind(" ")] if " " in cut else cut[:REMOTE_QUERY_CHARS]


def parse_query(text: str) -> ParsedQuery:
    """Parse one search query. Raises UserInputError for empty, wordless or overlong text."""
    stripped = text.strip()
    if len(stripped) > MAX_QUERY_CHARS:
        # Say how long it was, never echo it: the message goes back to a chat.
        raise UserInputError(
            f"That query is {len(stripped):,} characters long; "
            f"searches are limited to {MAX_QUERY_CHARS}.",
            usage=SEARCH_USAGE,
        )
    if not stripped:
        raise UserInputError("Type some words to search for.", usage=SEARCH_USAGE)
    if looks_like_paper_ref(stripped):
        return ParsedQuery(text=stripped, exact_id=parse_paper_ref(stripped))

    words: list[str] = []
    authors: list[str] = []
    since: date | None = None
    scope: Scope | None = None
    for match in _TOKEN.finditer(stripped):
        key = (match.group("key") or "").lower()
        value = match.group("quoted") if match.group("quoted") is not None else match.group(
            "bare"
        )
        if key == "author":
            name = " ".join(_clean_words(value or ""))
            if name:
                authors.append(name)
        elif key == "since":
            since = _parse_since(value or "")
        elif key == "in":
            scope = _parse_scope(value or "")
        elif match.group("group") is not None:
            words.extend(_clean_words(match.group("group")))
        else:
            words.extend(_clean_words(match.group("word")))

    if not words and not authors:
        raise UserInputError(
            "That query has no words to search for (only punctuation or filters).",
            usage=SEARCH_USAGE,
        )
    return ParsedQuery(
        text=stripped, words=tuple(words), authors=tuple(authors), since=since, scope=scope
    )


def _clean_words(text: str) -> list[str]:
    cleaned = (_EDGE_PUNCT.sub("", raw) for raw in text.split())
    return [word for word in cleaned if _HAS_WORD.search(word)]


def _parse_since(value: str) -> date:
    match = _SINCE.match(value.strip())
    if match:
        try:
            return date(int(match["year"]), int(match["month"]), int(match["day"] or 1))
        except ValueError:
            pass  # 2025-13 or 2025-02-30: same message as any other bad value
    raise UserInputError(
        "since: takes a month or a day, like since:2025-01 or since:2025-01-15.",
        usage=SEARCH_USAGE,
    )


def _parse_scope(value: str) -> Scope:
    lowered = value.strip().lower()
    if lowered == "saved":
        return "saved"
    if lowered == "posted":
        return "posted"
    raise UserInputError("in: takes saved or posted, like in:saved.", usage=SEARCH_USAGE)


__all__ = [
    "MAX_QUERY_CHARS",
    "REMOTE_QUERY_CHARS",
    "SEARCH_USAGE",
    "ParsedQuery",
    "Scope",
    "parse_query",
]
