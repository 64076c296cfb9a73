"""bot.sources.arxiv against real payloads, hand-written ones in the real shape, and a fake
arXiv.

tests/fixtures/arxiv_*.xml are hand-written in the real shapes (each says so in an XML
comment); the real recorded answers in ../shared/fixtures are parsed too. Politeness is
checked with an injected clock: nothing here waits three real seconds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from bot.errors import BadPayload, InvalidPaperId, UpstreamError
from bot.sources.arxiv import ArxivClient, parse_api_entry, parse_feed, parse_listing_entry
from bot.sources.http import make_client
from tests.conftest import FIXTURES, shared_fixture
from tests.fakes.arxiv_server import ATOM, FakeArxiv, entries_from_feed
from tests.fakes.clock import MonotonicClock

TWO = FIXTURES / "arxiv_api_query_id_list_two.xml"
ERROR = FIXTURES / "arxiv_api_error_incorrect_id.xml"
LISTING = FIXTURES / "arxiv_rss_atom_cs.CL-cs.LG.xml"
EMPTY_LISTING = FIXTURES / "arxiv_rss_atom_empty.xml"
QUERY = "/api/query"


def _client(http: httpx.AsyncClient, server: FakeArxiv, **kwargs: object) -> ArxivClient:
    clock = kwargs.pop("clock", None) or MonotonicClock()
    return ArxivClient(
        http, base_url=server.base_url, rss_url=server.base_url,
        clock=clock, sleep=clock.sleep, **kwargs,  # type: ignore[arg-type]
    )


def _fake(**kwargs: object) -> FakeArxiv:
    return FakeArxiv(
        entries_from_feed(TWO), listings={"cs.CL+cs.LG": LISTING.read_bytes()}, **kwargs
    )


# --- parsing -------------------------------------------------------------------------------


def test_real_id_list_answer_parses() -> None:
    feed = parse_feed(shared_fixture("arxiv_api_query_id_list-1605.08386.atom.xml").read_bytes(),
                      url="https://export.arxiv.org/api/query")
    assert parse_api_entry(feed.entries[0]).arxiv_id == "1605.08386"


def test_real_entry_keeps_authors_in_order() -> None:
    feed = parse_feed(shared_fixture("arxiv_api_query_id_list-1605.08386.atom.xml").read_bytes(),
                      url="https://export.arxiv.org/api/query")
    assert parse_api_entry(feed.entries[0]).authors == ("Caprice Stanley", "Tobias Windisch")


def test_real_entry_has_its_published_time() -> None:
    feed = parse_feed(shared_fixture("arxiv_api_query_id_list-1605.08386.atom.xml").read_bytes(),
                      url="https://export.arxiv.org/api/query")
    assert parse_api_entry(feed.entries[0]).published_at == datetime(
        2016, 5, 26, 17, 59, 46, tzinfo=UTC
    )


def test_real_search_answer_parses_every_entry_with_primary_category_first() -> None:
    content = shared_fixture(
        "arxiv_api_query_search_query-testing_start0_max10.atom.xml"
    ).read_bytes()
    feed = parse_feed(content, url="https://export.arxiv.org/api/query")
    papers = [parse_api_entry(e) for e in feed.entries]
    primaries = [e["arxiv_primary_category"]["term"] for e in feed.entries]
    assert [p.categories[0] for p in papers] == primaries


def test_api_entry_title_and_abstract_are_whitespace_normalised() -> None:
    paper = parse_api_entry(parse_feed(TWO.read_bytes(), url="u").entries[0])
    assert (paper.title, paper.abstract) == (
        "Sparse Attention for Long-Context Language Models",
        "We propose a sparse attention scheme for long contexts. It scales linearly with "
        "sequence length.",
    )


def test_api_entry_versioned_id_is_canonicalised() -> None:
    assert parse_api_entry(parse_feed(TWO.read_bytes(), url="u").entries[0]).arxiv_id == (
        "2406.12345"
    )


def test_api_entry_old_style_id_keeps_its_archive() -> None:
    assert parse_api_entry(parse_feed(TWO.read_bytes(), url="u").entries[1]).arxiv_id == (
        "hep-th/9901001"
    )


def test_api_entry_lists_primary_category_first() -> None:
    paper = parse_api_entry(parse_feed(TWO.read_bytes(), url="u").entries[0])
    assert paper.categories == ("cs.CL", "cs.LG")


def test_api_entry_is_an_arxiv_paper_without_upvotes() -> None:
    paper = parse_api_entry(parse_feed(TWO.read_bytes(), url="u").entries[0])
    assert (paper.source, paper.upvotes) == ("arxiv", None)


def test_error_entry_raises_with_arxivs_message() -> None:
    with pytest.raises(UpstreamError, match="incorrect id format for abc"):
        parse_feed(ERROR.read_bytes(), url="https://export.arxiv.org/api/query?id_list=abc")


def test_error_entry_is_not_called_an_unreadable_payload() -> None:
    with pytest.raises(UpstreamError) as caught:
        parse_feed(ERROR.read_bytes(), url="u")
    assert not isinstance(caught.value, BadPayload)


def test_html_page_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload, match="expected an Atom feed"):
        parse_feed(b"<html><body><h1>502 Bad Gateway</h1></body></html>", url="u")


def test_truncated_feed_is_a_bad_payload() -> None:
    content = TWO.read_bytes()
    with pytest.raises(BadPayload, match="truncated"):
        parse_feed(content[: len(content) // 2], url="u")


def test_a_string_that_looks_like_a_url_is_never_fetched() -> None:
    # feedparser fetches str URLs; parse_feed takes bytes and must treat them as content.
    with pytest.raises(BadPayload):
        parse_feed(b"https://export.arxiv.org/api/query?id_list=1605.08386", url="u")


def test_listing_entry_strips_the_announce_prefix_from_the_abstract() -> None:
    paper = parse_listing_entry(parse_feed(LISTING.read_bytes(), url="u").entries[0])
    assert paper.abstract == "Reasoning models spend tokens freely. We budget them."


def test_listing_entry_splits_the_creator_list() -> None:
    paper = parse_listing_entry(parse_feed(LISTING.read_bytes(), url="u").entries[0])
    assert paper.authors == ("Ada Lovelace", "Alan Turing", "Grace Hopper")


def test_listing_entry_title_is_whitespace_normalised() -> None:
    paper = parse_listing_entry(parse_feed(LISTING.read_bytes(), url="u").entries[0])
    assert paper.title == "Token Budgets for Reasoning Models"


# --- by_ids ----------------------------------------------------------------------------------


async def test_by_ids_returns_papers_in_the_order_asked(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        papers = await _client(http, arxiv).by_ids(["hep-th/9901001", "2406.12345v2"])
    assert [p.arxiv_id for p in papers] == ["hep-th/9901001", "2406.12345"]


async def test_by_ids_asks_with_version_less_ids(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        await _client(http, arxiv).by_ids(["2406.12345v2", "hep-th/9901001"])
    assert arxiv.calls[0].query == {"id_list": "2406.12345,hep-th/9901001", "max_results": "2"}


async def test_by_ids_leaves_unknown_ids_out(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        papers = await _client(http, arxiv).by_ids(["2406.12345", "2101.00001"])
    assert [p.arxiv_id for p in papers] == ["2406.12345"]


async def test_by_ids_sends_one_request_per_chunk(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        await _client(http, arxiv, chunk_size=1).by_ids(["2406.12345", "hep-th/9901001"])
    assert arxiv.requests[QUERY] == 2


async def test_by_ids_refuses_a_non_id_before_any_request(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        with pytest.raises(InvalidPaperId):
            await _client(http, arxiv).by_ids(["abc"])
    assert arxiv.total_requests == 0


async def test_http_400_with_error_entry_raises_arxivs_message(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        arxiv.fail_next(QUERY, status=400, body=ERROR.read_text(), content_type=ATOM)
        with pytest.raises(UpstreamError, match="arXiv rejected the query: incorrect id format"):
            await _client(http, arxiv).by_ids(["2406.12345"])


async def test_http_400_without_explanation_raises_upstream_error(
    http: httpx.AsyncClient,
) -> None:
    async with _fake() as arxiv:
        arxiv.fail_next(QUERY, status=400, body="<html>Bad Request</html>")
        with pytest.raises(UpstreamError, match="HTTP 400"):
            await _client(http, arxiv).by_ids(["2406.12345"])


async def test_html_answer_raises_bad_payload(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        arxiv.fail_next(QUERY, body="<html><body>Down for maintenance</body></html>")
        with pytest.raises(BadPayload):
            await _client(http, arxiv).by_ids(["2406.12345"])


async def test_rate_limit_is_retried(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        arxiv.fail_next(QUERY, status=429, retry_after=5)
        papers = await _client(http, arxiv).by_ids(["2406.12345"])
    assert [p.arxiv_id for p in papers] == ["2406.12345"]


# --- new_in ----------------------------------------------------------------------------------


async def test_new_in_keeps_new_and_cross_listings_only(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        papers = await _client(http, arxiv).new_in(["cs.CL", "cs.LG"])
    assert [p.arxiv_id for p in papers] == ["2606.30001", "2606.30002", "2606.30003"]


async def test_new_in_reads_the_combined_category_feed(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        await _client(http, arxiv).new_in(["cs.CL", "cs.LG"])
    assert arxiv.calls[0].path == "/atom/cs.CL+cs.LG"


async def test_new_in_on_a_weekend_is_empty(http: httpx.AsyncClient) -> None:
    async with FakeArxiv(listings={"cs.CL+cs.LG": EMPTY_LISTING.read_bytes()}) as arxiv:
        assert await _client(http, arxiv).new_in(["cs.CL", "cs.LG"]) == []


async def test_new_in_without_categories_sends_no_request(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        await _client(http, arxiv).new_in([])
    assert arxiv.total_requests == 0


async def test_new_in_refuses_a_malformed_category(http: httpx.AsyncClient) -> None:
    async with _fake() as arxiv:
        with pytest.raises(ValueError, match="not arXiv categories"):
            await _client(http, arxiv).new_in(["cs.CL/../x"])


# --- politeness ------------------------------------------------------------------------------


async def test_second_request_waits_the_minimum_interval(http: httpx.AsyncClient) -> None:
    clock = MonotonicClock()
    async with _fake() as arxiv:
        client = _client(http, arxiv, clock=clock)
        await client.by_ids(["2406.12345"])
        await client.new_in(["cs.CL", "cs.LG"])
    assert clock.sleeps == [3.0]


async def test_time_already_passed_counts_toward_the_interval(http: httpx.AsyncClient) -> None:
    clock = MonotonicClock()
    async with _fake() as arxiv:
        client = _client(http, arxiv, clock=clock)
        await client.by_ids(["2406.12345"])
        clock.now += 2.0
        await client.by_ids(["2406.12345"])
    assert clock.sleeps == [1.0]


async def test_first_request_does_not_wait(http: httpx.AsyncClient) -> None:
    clock = MonotonicClock()
    async with _fake() as arxiv:
        await _client(http, arxiv, clock=clock).by_ids(["2406.12345"])
    assert clock.sleeps == []


async def test_retries_are_spaced_too(http: httpx.AsyncClient) -> None:
    clock = MonotonicClock()
    async with _fake() as arxiv:
        arxiv.fail_next(QUERY, status=503)
        await _client(http, arxiv, clock=clock).by_ids(["2406.12345"])
    assert clock.sleeps == [3.0]


async def test_concurrent_calls_never_overlap_on_the_wire() -> None:
    in_flight = 0
    most = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0)  # let the other call run if it could
        in_flight -= 1
        return httpx.Response(200, content=EMPTY_LISTING.read_bytes())

    clock = MonotonicClock()
    async with make_client(transport=httpx.MockTransport(handler)) as http:
        client = ArxivClient(http, rss_url="https://rss.test", clock=clock, sleep=clock.sleep)
        await asyncio.gather(*(client.new_in(["cs.CL"]) for _ in range(3)))
    assert most == 1
