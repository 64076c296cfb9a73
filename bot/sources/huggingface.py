"""Read Hugging Face's papers API: a day's Daily Papers, a week or month of them, one paper,
and paper search.

Input: an `httpx.AsyncClient` (from `bot.sources.http.make_client`) and a base URL; output:
`Paper`s (and `SearchHit`s), de-duplicated and sorted here because Hugging Face guarantees
neither. `parse_daily_item` / `parse_paper` are pure and turn one upstream object into a
`Paper`; one malformed item is skipped with a warning, an unreadable body raises BadPayload.
Does not cache, rank or summarise (the store, bot.picks and bot.summaries do) and never
retries on its own (bot.sources.http does). `requests` counts HTTP requests sent, so tests
and benchmarks can prove "one fetch per day".
Called by bot.daily, bot.search and bot.service through bot.runtime.

Author policy: every named author is kept, in order, including those HF marks `hidden` — the
flag hides the paper from that person's HF profile; they are still an author of the paper.
Optional fields of the wrong type are dropped (the paper stays); a missing or malformed id or
title makes the item malformed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from typing import Any

import httpx

from bot.errors import BadPayload, InvalidPaperId
from bot.ids import canonical_id
from bot.models import Paper
from bot.sources.http import (
    DEFAULT_RETRY,
    MalformedItem,
    RetryPolicy,
    decode_json,
    parse_timestamp,
    send_with_retries,
)

log = logging.getLogger(__name__)

SOURCE = "huggingface"
PAGE_SIZE = 100  # the API's maximum `limit`
MAX_PAGES = 50  # a month of Daily Papers is ~12 pages; a server that never ends stops here
MAX_QUERY_CHARS = 250  # the search API refuses longer queries
SEARCH_LIMIT_MAX = 120
SNIPPET_CHARS = 200


@dataclass(frozen=True)
class InteractiveRetry(RetryPolicy):
    """The retry policy of paper search, which a person waits for within ~1.5 s and which
    always has local results to fall back on.

    A refused connection is not retried: the host answered "no", and the next try within a
    second gets the same answer. Timeouts are not retried either: an attempt that timed out
    has spent the budget already. What is retried — once, after ~50 ms — is what a second
    try fixes at once: a pooled keep-alive connection the server had dropped, a 502/503 from
    a proxy, a 429 without Retry-After. A 429 asking us to wait gives up (RateLimited).
    """

    attempts: int = 2
    timeout: float = 1.0
    wait_initial: float = 0.05
    wait_max: float = 0.1
    wait_jitter: float = 0.05
    max_retry_after: float = 0.0
    refused: tuple[type[Exception], ...] = field(
        default=(httpx.ConnectError, httpx.TimeoutException), repr=False
    )

    def backoff(self, exc: Exception) -> bool | float:
        if isinstance(exc, self.refused):
            return False
        return super().backoff(exc)


SEARCH_RETRY = InteractiveRetry()


@dataclass(frozen=True)
class SearchHit:
    """One search result: the paper and a snippet with the matched words in **bold**.

    `snippet` comes from Hugging Face's highlights (summary first, else title), about
    200 characters around the first match; None when nothing was highlighted.
    """

    paper: Paper
    snippet: str | None


class HuggingFaceClient:
    """Hugging Face's papers API. `requests` counts HTTP requests sent (retries included)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str = "https://huggingface.co",
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        search_retry: RetryPolicy = SEARCH_RETRY,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
        timeout: float | None = None,
    ) -> None:
        self.http = http
        # Each source waits as long as its own `[sources.*] timeout`, though they share a client.
        self.timeout = httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout)
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.search_retry = search_retry
        self.page_size = page_size
        self.max_pages = max_pages
        self.requests = 0

    async def daily(self, day: date) -> list[Paper]:
        """The papers featured on `day`, most upvoted first ([] when there is no batch)."""
        return await self._daily_papers({"date": day.isoformat()}, label=day.isoformat())

    async def window(self, *, month: str | None = None, week: str | None = None) -> list[Paper]:
        """The papers featured in `month` ("2026-06") or `week` ("2026-W24"), most upvoted
        first. Exactly one of the two; a malformed value gets HTTP 400 → UpstreamError."""
        if (month is None) == (week is None):
            raise ValueError("window() takes exactly one of month= or week=")
        params = {"month": month} if month is not None else {"week": str(week)}
        return await self._daily_papers(params, label=month or str(week))

    async def paper(self, arxiv_id: str) -> Paper | None:
        """One paper by arXiv id (any version), or None when Hugging Face does not index it.
        Raises InvalidPaperId for text that is not an arXiv id."""
        url = f"{self.base_url}/api/papers/{canonical_id(arxiv_id)}"
        response = await self._get(url, params=None, accept=(404,))
        if response.status_code == 404:
            return None
        body = decode_json(response, source=SOURCE, url=url)
        try:
            return parse_paper(body)
        except MalformedItem as exc:
            raise BadPayload(f"unreadable paper: {exc}", source=SOURCE, url=url) from exc

    async def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Hugging Face's paper search, in its relevance order. The query is cut to 250
        characters at a word boundary and `limit` clamped to 1..120; a blank query finds
        nothing without asking. Retries follow `search_retry` (see InteractiveRetry)."""
        q = _trim_query(query)
        if not q:
            return []
        url = f"{self.base_url}/api/papers/search"
        params = {"q": q, "limit": str(max(1, min(SEARCH_LIMIT_MAX, limit)))}
        response = await self._get(url, params=params, policy=self.search_retry)
        items = _json_list(response)
        hits: list[SearchHit] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            try:
                paper = parse_daily_item(item)
            except MalformedItem as exc:
                _log_skip(item, index, url, exc)
                continue
            if paper.arxiv_id not in seen:
                seen.add(paper.arxiv_id)
                hits.append(SearchHit(paper=paper, snippet=_snippet(item)))
        return hits

    async def _daily_papers(self, params: Mapping[str, str], *, label: str) -> list[Paper]:
        url = f"{self.base_url}/api/daily_papers"
        best: dict[str, Paper] = {}
        seen = skipped = pages = 0
        while True:
            if pages == self.max_pages:
                log.warning(
                    "stopped paging %s at %d pages; later pages were not read", label, pages
                )
                break
            page_params = {**params, "limit": str(self.page_size), "p": str(pages)}
            response = await self._get(url, params=page_params)
            items = _json_list(response)
            pages += 1
            if not items:
                break
            for index, item in enumerate(items):
                try:
                    paper = parse_daily_item(item)
                except MalformedItem as exc:
                    _log_skip(item, index, url, exc)
                    skipped += 1
                    continue
                seen += 1
                _keep_most_upvoted(best, paper)
            # Link rel="next" says more pages exist. A full page without one is ambiguous
            # (a proxy may drop the header), and one more request settles it.
            if "next" not in response.links and len(items) < self.page_size:
                break
        papers = sorted(best.values(), key=_by_upvotes)
        log.info(
            "Hugging Face %s: %d papers (%d pages, %d duplicates, %d skipped)",
            label, len(papers), pages, seen - len(papers), skipped,
        )
        return papers

    async def _get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None,
        accept: Sequence[int] = (),
        policy: RetryPolicy | None = None,
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            self.requests += 1
            return await self.http.get(url, params=params, timeout=self.timeout)

        # Errors name the full request (date, page…): that is what the admin needs to see.
        where = str(httpx.URL(url, params=params))
        return await send_with_retries(
            send, source=SOURCE, url=where, policy=policy or self.retry, accept=accept
        )


def parse_daily_item(obj: Any) -> Paper:
    """A Paper from one Daily Papers (or search) item: `{"paper": {...}, "numComments", ...}`.

    Uses `paper.publishedAt` (the top-level one is shifted by the US-Eastern offset) and
    `paper.submittedOnDailyAt` as the featured day. Raises MalformedItem.
    """
    if not isinstance(obj, dict):
        raise MalformedItem(f"item is a {type(obj).__name__}, not an object")
    inner = obj.get("paper")
    if not isinstance(inner, dict):
        raise MalformedItem("item has no 'paper' object")
    return _build(inner, obj)


def parse_paper(obj: Any) -> Paper:
    """A Paper from the flat `/api/papers/{id}` shape. Raises MalformedItem."""
    if not isinstance(obj, dict):
        raise MalformedItem(f"paper is a {type(obj).__name__}, not an object")
    return _build(obj, obj)


def _build(paper: dict[str, Any], outer: dict[str, Any]) -> Paper:
    raw_id = paper.get("id")
    if not isinstance(raw_id, str):
        raise MalformedItem("missing 'id'")
    try:
        arxiv_id = canonical_id(raw_id)
    except InvalidPaperId as exc:
        raise MalformedItem(f"id {raw_id[:40]!r} is not an arXiv id") from exc
    title = _text(paper.get("title")) or _text(outer.get("title"))
    if not title:
        raise MalformedItem(f"{arxiv_id}: missing 'title'")
    raw_authors = paper.get("authors", [])
    if not isinstance(raw_authors, list):
        raise MalformedItem(f"{arxiv_id}: 'authors' is not a list")
    published = parse_timestamp(paper.get("publishedAt"))
    featured = parse_timestamp(paper.get("submittedOnDailyAt"))
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=_text(paper.get("summary")) or _text(outer.get("summary")) or "",
        authors=tuple(_author_names(raw_authors)),
        source="huggingface",
        published_at=published,
        featured_on=featured.astimezone(UTC).date() if featured else None,
        upvotes=_int(paper.get("upvotes")),
        ai_summary=_text(paper.get("ai_summary")),
        ai_keywords=_keywords(paper.get("ai_keywords")),
        github_repo=_text(paper.get("githubRepo")),
        github_stars=_int(paper.get("githubStars")),
        project_page=_text(paper.get("projectPage")),
        organization=_organization(paper.get("organization") or outer.get("organization")),
        num_comments=_int(outer.get("numComments")),
        withdrawn=bool(paper.get("withdrawnAt")),
        thumbnail=_text(outer.get("thumbnail")),
    )


def _author_names(authors: Iterable[Any]) -> Iterable[str]:
    for author in authors:
        name = _text(author.get("name")) if isinstance(author, dict) else None
        if name:  # HF lists placeholder authors with empty names; they are nobody
            yield name


def _keywords(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(kw for kw in (_text(k) for k in value) if kw)


def _organization(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    return _text(value.get("fullname")) or _text(value.get("name"))


def _text(value: Any) -> str | None:
    # arXiv titles and abstracts carry hard line breaks and double spaces: one space each.
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _int(value: Any) -> int | None:
    # bool is an int in Python; `true` upvotes would be a bug upstream, not 1 upvote.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _keep_most_upvoted(best: dict[str, Paper], paper: Paper) -> None:
    # The same paper can come twice across pages, with counts read at different moments.
    current = best.get(paper.arxiv_id)
    if current is None or (paper.upvotes or 0) > (current.upvotes or 0):
        best[paper.arxiv_id] = paper


def _by_upvotes(paper: Paper) -> tuple[int, str]:
    return (-(paper.upvotes or 0), paper.arxiv_id)


def _json_list(response: httpx.Response) -> list[Any]:
    url = str(response.url)  # with the query: the date and page that went wrong
    body = decode_json(response, source=SOURCE, url=url)
    if not isinstance(body, list):
        raise BadPayload(
            f"expected a JSON list, got {type(body).__name__}", source=SOURCE, url=url
        )
    return body


def _log_skip(item: Any, index: int, url: str, exc: MalformedItem) -> None:
    log.warning("skipping malformed Hugging Face item #%d %s from %s: %s",
                index, _describe(item), url, exc)


def _describe(item: Any) -> str:
    # Name the item as precisely as it allows, so the admin can find it upstream.
    if isinstance(item, dict):
        inner = item.get("paper") if isinstance(item.get("paper"), dict) else item
        for key in ("id", "title"):
            value = inner.get(key)
            if isinstance(value, str) and value.strip():
                return repr(" ".join(value.split())[:80])
    return "(unnamed)"


def _trim_query(query: str) -> str:
    q = " ".join(query.split())
    if len(q) <= MAX_QUERY_CHARS:
        return q
    cut = q[: MAX_QUERY_CHARS + 1]
    # Cut at the last space so no word is halved; one giant "word" is cut where it must be.
    return cut.rsplit(" ", 1)[0] if " " in cut else q[:MAX_QUERY_CHARS]


def _snippet(item: dict[str, Any]) -> str | None:
    for key in ("highlightedSummary", "highlightedTitle"):
        chars = _highlighted_chars(item.get(key))
        if any(flag for _, flag in chars):
            return _render_snippet(chars)
    return None


def _highlighted_chars(segments: Any) -> list[tuple[str, bool]]:
    """Segments [{"type": "text"|"highlight", "text": ...}] as (char, highlighted) pairs,
    whitespace collapsed to single spaces across segment boundaries."""
    if not isinstance(segments, list):
        return []
    chars: list[tuple[str, bool]] = []
    for segment in segments:
        if not isinstance(segment, dict) or not isinstance(segment.get("text"), str):
            continue
        flag = segment.get("type") == "highlight"
        for char in segment["text"]:
            if char.isspace():
                if chars and chars[-1][0] != " ":
                    chars.append((" ", flag))
            else:
                chars.append((char, flag))
    while chars and chars[-1][0] == " ":
        chars.pop()
    # A space is bold only inside a bold phrase, so "**Kazakh** text" never becomes
    # "**Kazakh **text" (Markdown would not render that).
    return [
        (char, flag and 0 < i < len(chars) - 1 and chars[i - 1][1] and chars[i + 1][1])
        if char == " " else (char, flag)
        for i, (char, flag) in enumerate(chars)
    ]


def _render_snippet(chars: list[tuple[str, bool]]) -> str:
    text = "".join(char for char, _ in chars)
    first = next(i for i, (_, flag) in enumerate(chars) if flag)
    start = 0 if first < SNIPPET_CHARS // 3 else first - SNIPPET_CHARS // 3
    if start:
        # Begin at a word: after the next space, unless that would skip the highlight.
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else first
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", first, end)
        end = space if space > first else end
    parts: list[str] = ["…"] if start else []
    bold = False
    for char, flag in chars[start:end]:
        if flag != bold:
            parts.append("**")
            bold = flag
        parts.append(char)
    if bold:
        parts.append("**")
    if end < len(text):
        parts.append("…")
    return "".join(parts)


__all__ = [
    "SEARCH_RETRY",
    "HuggingFaceClient",
    "InteractiveRetry",
    "MalformedItem",
    "SearchHit",
    "parse_daily_item",
    "parse_paper",
]
