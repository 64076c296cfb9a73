"""A fake arXiv: the export API's id lookups and the announcement feeds, on a local server.

Serves:
    GET /api/query?id_list=a,b&max_results=N   an Atom feed with the known entries among the
                                               ids (any version asked → the stored entry),
                                               in the order asked; an id that is not an
                                               arXiv id → HTTP 400 with arXiv's error entry
                                               ("incorrect id format for abc").
    GET /atom/{categories}                     the feed registered for "cs.CL+cs.LG" (exact
                                               path text), else an empty feed — arXiv's
                                               weekend/holiday answer.

Usage:
    entries = entries_from_feed(Path("tests/fixtures/arxiv_api_query_id_list_two.xml"))
    async with FakeArxiv(entries, listings={"cs.CL+cs.LG": feed_bytes}) as arxiv:
        client = ArxivClient(http, base_url=arxiv.base_url, rss_url=arxiv.base_url)

Constructor: FakeArxiv(entries=None, *, listings=None) where `entries` maps a version-less id
to its raw `<entry>…</entry>` XML (`entries_from_feed` cuts them out of a recorded answer).
Counting, the call log and failure injection (`fail_next`) are described in
tests/fakes/__init__.py. The `fake_arxiv` fixture (registered in tests/conftest.py) yields an
empty running fake.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

import pytest_asyncio
from aiohttp import web

from tests.fakes import FakeServer

ATOM = "application/atom+xml"
_ENTRY = re.compile(r"<entry>.*?</entry>", re.DOTALL)
_ENTRY_ID = re.compile(r"<id>https?://arxiv\.org/abs/(?P<id>.+?)(?:v\d+)?</id>")
_ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z.\-]*[a-z]/\d{7})(?:v\d+)?$", re.IGNORECASE)

_FEED_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
    "  <id>https://arxiv.org/api/fake</id>\n"
    "  <title>arXiv Query: {query}</title>\n"
    "  <updated>2026-06-12T00:00:00Z</updated>\n"
    "  <opensearch:itemsPerPage>{count}</opensearch:itemsPerPage>\n"
    "  <opensearch:totalResults>{count}</opensearch:totalResults>\n"
    "  <opensearch:startIndex>0</opensearch:startIndex>\n"
)
_ERROR_ENTRY = """  <entry>
    <id>https://arxiv.org/api/errors#incorrect_id_format_for_{slug}</id>
    <title>Error</title>
    <summary>incorrect id format for {raw}</summary>
    <updated>2026-06-12T00:00:00Z</updated>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
"""
_EMPTY_LISTING = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us">
  <id>http://rss.arxiv.org/atom/{cats}</id>
  <title>{cats} updates on arXiv.org</title>
  <updated>2026-06-13T04:30:05+00:00</updated>
  <link href="http://rss.arxiv.org/atom/{cats}" rel="self" type="application/atom+xml"/>
  <subtitle>{cats} updates on the arXiv.org e-print archive.</subtitle>
</feed>
"""


def entries_from_feed(source: str | bytes | Path) -> dict[str, str]:
    """The `<entry>` elements of a recorded export-API answer, by version-less id."""
    if isinstance(source, Path):
        source = source.read_bytes()
    text = source.decode("utf-8") if isinstance(source, bytes) else source
    entries: dict[str, str] = {}
    for block in _ENTRY.findall(text):
        match = _ENTRY_ID.search(block)
        if match:
            entries[match.group("id")] = block
    return entries


class FakeArxiv(FakeServer):
    """The fake; see the module docstring."""

    def __init__(
        self,
        entries: Mapping[str, str] | None = None,
        *,
        listings: Mapping[str, bytes | str] | None = None,
    ) -> None:
        super().__init__()
        self.entries = dict(entries or {})
        self.listings = {
            k: v.encode("utf-8") if isinstance(v, str) else v for k, v in (listings or {}).items()
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/query", self._query),
            web.get("/atom/{categories}", self._listing),
        ]

    async def _query(self, request: web.Request) -> web.Response:
        raw_ids = [i for i in request.query.get("id_list", "").split(",") if i]
        title = escape(f"search_query=&id_list={','.join(raw_ids)}")
        bad = next((i for i in raw_ids if not _ARXIV_ID.match(i)), None)
        if bad is not None:
            body = _FEED_HEAD.format(query=title, count=1) + _ERROR_ENTRY.format(
                slug=re.sub(r"\W", "_", bad), raw=escape(bad)
            )
            return web.Response(status=400, text=body + "</feed>\n", content_type=ATOM)
        found = [
            self.entries[key]
            for key in (re.sub(r"v\d+$", "", i) for i in raw_ids)
            if key in self.entries
        ]
        body = _FEED_HEAD.format(query=title, count=len(found))
        body += "".join(f"  {entry}\n" for entry in found)
        return web.Response(text=body + "</feed>\n", content_type=ATOM)

    async def _listing(self, request: web.Request) -> web.Response:
        categories = request.match_info["categories"]
        body = self.listings.get(categories)
        if body is None:
            body = _EMPTY_LISTING.format(cats=escape(categories)).encode("utf-8")
        return web.Response(body=body, content_type=ATOM)


@pytest_asyncio.fixture
async def fake_arxiv() -> AsyncIterator[FakeArxiv]:
    """An empty running fake (it knows no paper); fill `fake_arxiv.entries` / `.listings`
    in the test."""
    async with FakeArxiv() as server:
        yield server


__all__ = ["FakeArxiv", "entries_from_feed", "fake_arxiv"]
