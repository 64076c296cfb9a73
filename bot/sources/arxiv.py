"""Read arXiv: papers by id from the export API, and today's new listings from the
announcement feed — politely.

Input: an `httpx.AsyncClient`, the API and feed base URLs; output: `Paper`s with
`source="arxiv"`, version-less ids, whitespace-normalised titles and abstracts, authors in
order and categories (primary first when arXiv says which). Bodies are parsed with feedparser
from the bytes httpx received; feedparser never fetches anything itself.
Politeness (arXiv's terms): one connection at a time and at least `min_interval` seconds
between the end of one answer and the next request, retries included. The clock and sleep
are injectable so tests do not wait. Retries and error translation come from
bot.sources.http. Does not cache (arXiv changes once a day; callers cache in the store) and
does not search.
Called by bot.daily (new listings), bot.service and bot.search (exact id lookups).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import time
import xml.sax
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import feedparser
import httpx

from bot.errors import BadPayload, InvalidPaperId, UpstreamError
from bot.ids import canonical_id
from bot.models import Paper
from bot.sources.http import (
    DEFAULT_RETRY,
    MalformedItem,
    RetryPolicy,
    parse_timestamp,
    safe_url,
    send_with_retries,
)

log = logging.getLogger(__name__)

SOURCE = "arxiv"
MIN_INTERVAL = 3.0  # arXiv's terms: no more than one request every three seconds
ID_CHUNK = 100  # ids per API request: keeps URLs short and answers quick
LISTED_TYPES = frozenset({"new", "cross"})  # replacements are old papers, not news

_API_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+?)/?$")
_LISTING_ID = re.compile(r"^oai:arXiv\.org:(?P<id>.+)$", re.IGNORECASE)
_LISTING_PREFIX = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?")
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ArxivClient:
    """arXiv's export API and announcement feeds. `requests` counts HTTP requests sent."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str = "https://export.arxiv.org",
        rss_url: str = "https://rss.arxiv.org",
        min_interval: float = MIN_INTERVAL,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        chunk_size: int = ID_CHUNK,
        timeout: float | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.rss_url = rss_url.rstrip("/")
        self.min_interval = min_interval
        self.retry = retry
        self.chunk_size = chunk_size
        # Each source waits as long as its own `[sources.*] timeout`, though they share a client.
        self.timeout = httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout)
        self.requests = 0
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._last_answer: float | None = None

    async def by_ids(self, ids: Sequence[str]) -> list[Paper]:
        """The papers with these arXiv ids (any version; the newest metadata comes back), in
        the order asked, unknown ids left out. Raises InvalidPaperId before any request for
        text that is not an id, UpstreamError with arXiv's message when arXiv rejects one."""
        wanted = list(dict.fromkeys(canonical_id(i) for i in ids))
        found: dict[str, Paper] = {}
        url = f"{self.base_url}/api/query"
        for start in range(0, len(wanted), self.chunk_size):
            chunk = wanted[start : start + self.chunk_size]
            params = {"id_list": ",".join(chunk), "max_results": str(len(chunk))}
            # arXiv answers a bad id with HTTP 400 *and* an Atom error entry saying why.
            response = await self._get(url, params, accept=(400,))
            where = str(response.url)
            if response.status_code == 400:
                with contextlib.suppress(BadPayload):  # no readable reason: say the status
                    await _parse(response.content, where)  # raises arXiv's own reason
                raise UpstreamError("HTTP 400 Bad Request", source=SOURCE, url=safe_url(where))
            feed = await _parse(response.content, where)
            for paper in _papers(feed.entries, parse_api_entry, url):
                found.setdefault(paper.arxiv_id, paper)
        missing = [i for i in wanted if i not in found]
        if missing:
            log.info("arXiv knows %d of %d ids; missing: %s",
                     len(wanted) - len(missing), len(wanted), ", ".join(missing[:10]))
        return [found[i] for i in wanted if i in found]

    async def new_in(self, categories: Sequence[str]) -> list[Paper]:
        """Today's new and cross-listed papers in `categories` (e.g. ["cs.CL", "cs.LG"]),
        in feed order; [] on weekends and holidays, when the feed is empty."""
        wanted = [c.strip() for c in categories if c.strip()]
        if not wanted:
            return []
        bad = [c for c in wanted if not _CATEGORY.match(c)]
        if bad:
            raise ValueError(f"not arXiv categories: {', '.join(bad)} (like cs.CL)")
        url = f"{self.rss_url}/atom/{'+'.join(wanted)}"
        response = await self._get(url, None)
        feed = await _parse(response.content, url)
        listed = [e for e in feed.entries if e.get("arxiv_announce_type") in LISTED_TYPES]
        papers = list({p.arxiv_id: p for p in _papers(listed, parse_listing_entry, url)}.values())
        log.info("arXiv %s: %d new or cross-listed, %d replacements skipped",
                 "+".join(wanted), len(papers), len(feed.entries) - len(listed))
        return papers

    async def _get(
        self, url: str, params: Mapping[str, str] | None, accept: Sequence[int] = ()
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            # The lock makes requests one at a time (one connection); the clock spaces them.
            async with self._lock:
                if self._last_answer is not None:
                    wait = self._last_answer + self.min_interval - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
                self.requests += 1
                try:
                    return await self.http.get(url, params=params, timeout=self.timeout)
                finally:
                    self._last_answer = self._clock()

        where = str(httpx.URL(url, params=params))
        return await send_with_retries(
            send, source=SOURCE, url=where, policy=self.retry, accept=accept
        )


async def _parse(content: bytes, url: str) -> Any:
    # feedparser is pure Python and takes a good fraction of a second on a full listing:
    # off the event loop, so commands stay answered during the daily fetch.
    return await asyncio.to_thread(parse_feed, content, url=url)


def parse_feed(content: bytes, *, url: str) -> Any:
    """feedparser's result for an Atom/RSS body. Raises BadPayload for anything that is not
    a whole feed (HTML page, truncated XML) and UpstreamError carrying arXiv's own message
    for an API error entry ("incorrect id format for abc")."""
    # A stream, never a string: feedparser fetches strings that look like URLs.
    parsed = feedparser.parse(io.BytesIO(content))
    where = safe_url(url)
    if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        raise BadPayload(
            f"malformed or truncated XML ({parsed['bozo_exception']})", source=SOURCE, url=where
        )
    if not parsed.get("version"):
        raise BadPayload(
            f"expected an Atom feed, got {len(content)} bytes of something else",
            source=SOURCE, url=where,
        )
    for entry in parsed.entries:
        if _is_error(entry):
            message = _text(entry.get("summary")) or "unspecified error"
            raise UpstreamError(f"arXiv rejected the query: {message}", source=SOURCE, url=where)
    return parsed


def parse_api_entry(entry: Mapping[str, Any]) -> Paper:
    """A Paper from one export-API entry (id `http://arxiv.org/abs/1605.08386v1`).
    Raises MalformedItem."""
    arxiv_id = _entry_id(entry, _API_ID)
    primary = entry.get("arxiv_primary_category")
    first = primary.get("term") if isinstance(primary, Mapping) else None
    return _paper(
        entry,
        arxiv_id,
        abstract=_text(entry.get("summary")) or "",
        authors=[a.get("name") for a in entry.get("authors", []) if isinstance(a, Mapping)],
        categories=[first, *_tags(entry)],
    )


def parse_listing_entry(entry: Mapping[str, Any]) -> Paper:
    """A Paper from one announcement-feed entry (id `oai:arXiv.org:2406.12345v1`, summary
    "arXiv:… Announce Type: new Abstract: …", authors in one comma-separated dc:creator).
    `published_at` is the announcement date — the feed carries no other. Raises
    MalformedItem."""
    arxiv_id = _entry_id(entry, _LISTING_ID)
    summary = _text(entry.get("summary")) or ""
    creators = [a.get("name") or "" for a in entry.get("authors", []) if isinstance(a, Mapping)]
    return _paper(
        entry,
        arxiv_id,
        abstract=_LISTING_PREFIX.sub("", summary),
        authors=[name for field in creators for name in field.split(",")],
        categories=_tags(entry),
    )


def _papers(
    entries: Iterable[Mapping[str, Any]],
    parse: Callable[[Mapping[str, Any]], Paper],
    url: str,
) -> Iterable[Paper]:
    for index, entry in enumerate(entries):
        try:
            yield parse(entry)
        except MalformedItem as exc:
            log.warning("skipping malformed arXiv entry #%d %r from %s: %s",
                        index, str(entry.get("id", "(no id)"))[:80], url, exc)


def _paper(
    entry: Mapping[str, Any],
    arxiv_id: str,
    *,
    abstract: str,
    authors: Iterable[Any],
    categories: Iterable[Any],
) -> Paper:
    title = _text(entry.get("title"))
    if not title:
        raise MalformedItem(f"{arxiv_id}: missing title")
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=tuple(name for name in (_text(a) for a in authors) if name),
        source="arxiv",
        published_at=parse_timestamp(entry.get("published")),
        upvotes=None,
        categories=tuple(dict.fromkeys(c for c in categories if isinstance(c, str) and c)),
    )


def _entry_id(entry: Mapping[str, Any], pattern: re.Pattern[str]) -> str:
    raw = entry.get("id")
    match = pattern.search(raw) if isinstance(raw, str) else None
    if not match:
        raise MalformedItem(f"unrecognised entry id {raw!r}")
    try:
        return canonical_id(match.group("id"))
    except InvalidPaperId as exc:
        raise MalformedItem(f"entry id {raw!r} is not an arXiv id") from exc


def _is_error(entry: Mapping[str, Any]) -> bool:
    # arXiv reports a bad query as an entry with id https://arxiv.org/api/errors#<reason>,
    # title "Error" and author "arXiv api core"; a real paper titled "Error" has an abs/ id.
    entry_id = str(entry.get("id", ""))
    return "arxiv.org/api/errors" in entry_id or (
        entry.get("title") == "Error" and "/abs/" not in entry_id
    )


def _tags(entry: Mapping[str, Any]) -> list[Any]:
    return [t.get("term") for t in entry.get("tags", []) if isinstance(t, Mapping)]


def _text(value: Any) -> str | None:
    # Atom titles and abstracts keep arXiv's hard line breaks: collapse to single spaces.
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


__all__ = [
    "ArxivClient",
    "parse_api_entry",
    "parse_feed",
    "parse_listing_entry",
]
