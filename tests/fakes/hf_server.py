"""A fake Hugging Face papers API: a local aiohttp server that answers in the real shapes.

Serves, from batches of raw Daily Papers items (exactly as `GET /api/daily_papers` returns
them, e.g. loaded from tests/fixtures/hf_daily_2026-06-12.json with `load_items`):

    GET /api/daily_papers   date=YYYY-MM-DD | week=YYYY-Www | month=YYYY-MM (none: the latest
                            batch), p (page from 0), limit (1..100, default 50). A JSON list;
                            `Link: <…&p=N+1>; rel="next"` while more pages exist; [] past
                            the end; 400 {"error": …} for a malformed date, week, month,
                            limit or page.
    GET /api/papers/search  q (1..250 characters, else 400), limit (1..120, default 20).
                            A query registered with `searches=` answers its recorded
                            results (e.g. the kazakh fixture); any other query matches the
                            served items by words in title/abstract and builds results in
                            the real shape (top-level fields + `paper` + highlightedTitle /
                            highlightedSummary).
    GET /api/papers/{id}    the flat paper (`papers=` objects first, else the `paper` of a
                            batch item); 404 {"error": …} when unknown.

Usage:
    async with FakeHuggingFace(batches={"2026-06-12": load_items(path)}) as hf:
        client = HuggingFaceClient(http, base_url=hf.base_url)
        papers = await client.daily(date(2026, 6, 12))
        assert hf.requests["/api/daily_papers"] == 1
        hf.fail_next("/api/daily_papers", status=429, retry_after=1)

Constructor: FakeHuggingFace(batches=None, *, papers=None, searches=None, link_next=True,
page_cap=None). `link_next=False` omits the Link header (to test the other end-of-pages
signal); `page_cap=N` serves at most N items per page whatever `limit` asked (a server that
pages smaller than asked).
`add_batch(day, items)` and `add_paper(obj)` add data while running. Counting, the call log
and failure injection (`fail_next`) are described in tests/fakes/__init__.py.
The `fake_hf` fixture (registered in tests/conftest.py) yields an empty running fake.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest_asyncio
from aiohttp import web

from tests.fakes import FakeServer, json_error

Item = dict[str, Any]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def load_items(path: str | Path) -> list[Item]:
    """Raw items from a recorded `/api/daily_papers` (or search) response file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


class FakeHuggingFace(FakeServer):
    """The fake; see the module docstring for what it serves and how to drive it."""

    def __init__(
        self,
        batches: Mapping[str | date, Sequence[Item]] | None = None,
        *,
        papers: Iterable[Item] = (),
        searches: Mapping[str, Sequence[Item]] | None = None,
        link_next: bool = True,
        page_cap: int | None = None,
    ) -> None:
        super().__init__()
        self.batches: dict[str, list[Item]] = {}
        for day, items in (batches or {}).items():
            self.add_batch(day, items)
        self.papers: dict[str, Item] = {}
        for obj in papers:
            self.add_paper(obj)
        self.searches = {q: list(results) for q, results in (searches or {}).items()}
        self.link_next = link_next
        self.page_cap = page_cap

    def add_batch(self, day: str | date, items: Sequence[Item]) -> None:
        """Serve `items` (raw Daily Papers items) as the batch featured on `day`."""
        key = day.isoformat() if isinstance(day, date) else day
        self.batches[key] = [copy.deepcopy(item) for item in items]

    def add_paper(self, obj: Item) -> None:
        """Serve a flat paper object at /api/papers/{obj["id"]}."""
        self.papers[str(obj["id"])] = copy.deepcopy(obj)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/daily_papers", self._daily_papers),
            web.get("/api/papers/search", self._search),
            web.get("/api/papers/{paper_id:.+}", self._paper),
        ]

    async def _daily_papers(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            items = self._select(query)
            limit = _int_param(query, "limit", default=50, low=1, high=100)
            page = _int_param(query, "p", default=0, low=0, high=10_000)
        except ValueError as exc:
            return json_error(400, str(exc))
        if self.page_cap is not None:
            limit = min(limit, self.page_cap)
        start = page * limit
        headers = {}
        if self.link_next and start + limit < len(items):
            next_query = urlencode({**query, "p": str(page + 1)})
            headers["Link"] = f'<{self.base_url}{request.path}?{next_query}>; rel="next"'
        return web.json_response(items[start : start + limit], headers=headers)

    def _select(self, query: Mapping[str, str]) -> list[Item]:
        if "date" in query:
            day = query["date"]
            if not _DATE.match(day) or not _is_date(day):
                raise ValueError(f"Invalid date: {day}")
            return self.batches.get(day, [])
        if "week" in query:
            match = _WEEK.match(query["week"])
            if not match or not 1 <= int(match.group(2)) <= 53:
                raise ValueError(f"Invalid week: {query['week']}")
            year, week = int(match.group(1)), int(match.group(2))
            return [
                item for day, batch in sorted(self.batches.items())
                if date.fromisoformat(day).isocalendar()[:2] == (year, week)
                for item in batch
            ]
        if "month" in query:
            match = _MONTH.match(query["month"])
            if not match or not 1 <= int(match.group(2)) <= 12:
                raise ValueError(f"Invalid month: {query['month']}")
            return [
                item for day, batch in sorted(self.batches.items())
                if day.startswith(query["month"] + "-")
                for item in batch
            ]
        return self.batches[max(self.batches)] if self.batches else []

    async def _search(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "")
        if not q.strip():
            return json_error(400, "Missing query parameter q")
        if len(q) > 250:
            return json_error(400, "Query too long (max 250 characters)")
        try:
            limit = _int_param(request.query, "limit", default=20, low=1, high=120)
        except ValueError as exc:
            return json_error(400, str(exc))
        if q in self.searches:
            return web.json_response(self.searches[q][:limit])
        return web.json_response(self._match(q)[:limit])

    def _match(self, q: str) -> list[Item]:
        words = [w for w in re.findall(r"\w+", q.lower()) if len(w) > 1]
        if not words:
            return []
        # Whole words only, as Hugging Face highlights: "and" must not light up "thousands".
        alternatives = "|".join(re.escape(w) for w in words)
        pattern = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)
        scored: list[tuple[int, int, Item]] = []
        for index, item in enumerate(self._all_items()):
            paper = item["paper"]
            text = f"{paper.get('title', '')} {paper.get('summary', '')}".lower()
            score = sum(1 for w in words if w in text)
            if score:
                scored.append((-score, index, _search_result(item, pattern)))
        return [result for _, _, result in sorted(scored, key=lambda s: s[:2])]

    def _all_items(self) -> list[Item]:
        seen: dict[str, Item] = {}
        for day in sorted(self.batches):
            for item in self.batches[day]:
                paper = item.get("paper") if isinstance(item, dict) else None
                if isinstance(paper, dict) and isinstance(paper.get("id"), str):
                    seen.setdefault(paper["id"], item)
        return list(seen.values())

    async def _paper(self, request: web.Request) -> web.Response:
        paper_id = request.match_info["paper_id"]
        if paper_id in self.papers:
            return web.json_response(self.papers[paper_id])
        for item in self._all_items():
            if item["paper"]["id"] == paper_id:
                return web.json_response(item["paper"])
        return json_error(404, "Paper not found")


def _search_result(item: Item, pattern: re.Pattern[str]) -> Item:
    paper = item["paper"]
    result = {
        "paper": copy.deepcopy(paper),
        "publishedAt": item.get("publishedAt", paper.get("publishedAt")),
        "title": paper.get("title", ""),
        "summary": paper.get("summary", ""),
        "thumbnail": item.get("thumbnail"),
        "numComments": item.get("numComments", 0),
        "upvoted": False,
        "isAuthorParticipating": item.get("isAuthorParticipating", False),
    }
    result["highlightedTitle"] = _highlight(str(paper.get("title", "")), pattern)
    result["highlightedSummary"] = _highlight(str(paper.get("summary", "")), pattern)
    return result


def _highlight(text: str, pattern: re.Pattern[str]) -> list[dict[str, str]]:
    segments: list[dict[str, str]] = []
    position = 0
    for match in pattern.finditer(text):
        if match.start() > position:
            segments.append({"type": "text", "text": text[position : match.start()]})
        segments.append({"type": "highlight", "text": match.group()})
        position = match.end()
    if position < len(text):
        segments.append({"type": "text", "text": text[position:]})
    return segments


def _int_param(query: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"Invalid {name}: {raw} (expected {low}..{high})")
    return int(raw)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@pytest_asyncio.fixture
async def fake_hf() -> AsyncIterator[FakeHuggingFace]:
    """An empty running fake; add batches with `fake_hf.add_batch(day, items)`."""
    async with FakeHuggingFace() as server:
        yield server


__all__ = ["FakeHuggingFace", "fake_hf", "load_items"]
