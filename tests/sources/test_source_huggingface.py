"""bot.sources.huggingface against real payloads and a fake Hugging Face API.

Fixtures: tests/fixtures/hf_daily_papers_2026-06-12_sample.json and
hf_papers_search_q-kazakh_sample.json are verbatim items cut from the recorded payloads in
../shared/fixtures; hf_daily_papers_edge_cases.json is hand-written in the real item shape
(hard line breaks, hidden and empty authors, missing and wrong-typed fields, malformed items).
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from bot.errors import BadPayload, InvalidPaperId, RateLimited, UpstreamError, UpstreamTimeout
from bot.sources.http import MalformedItem, RetryPolicy, make_client
from bot.sources.huggingface import HuggingFaceClient, parse_daily_item, parse_paper
from tests.conftest import FIXTURES, shared_fixture
from tests.fakes.hf_server import FakeHuggingFace, load_items

DAY = date(2026, 6, 12)
SAMPLE = load_items(FIXTURES / "hf_daily_papers_2026-06-12_sample.json")
EDGE = load_items(FIXTURES / "hf_daily_papers_edge_cases.json")
KAZAKH = load_items(FIXTURES / "hf_papers_search_q-kazakh_sample.json")
DAILY = "/api/daily_papers"


def _by_id(items: list[dict[str, Any]], arxiv_id: str) -> dict[str, Any]:
    return next(
        i for i in items if isinstance(i.get("paper"), dict) and i["paper"].get("id") == arxiv_id
    )


def _item(arxiv_id: str, upvotes: int = 1) -> dict[str, Any]:
    """A Daily Papers item in the real shape, with a chosen id and upvote count."""
    item = copy.deepcopy(SAMPLE[0])
    item["paper"]["id"] = arxiv_id
    item["paper"]["upvotes"] = upvotes
    return item


def _client(http: httpx.AsyncClient, server: FakeHuggingFace, **kwargs: Any) -> HuggingFaceClient:
    return HuggingFaceClient(http, base_url=server.base_url, **kwargs)


# --- parsing: the real shapes ---------------------------------------------------------


def test_all_30_real_daily_items_parse() -> None:
    items = load_items(shared_fixture("hf_daily_papers_limit30_2026-06-12.json"))
    assert len({parse_daily_item(item).arxiv_id for item in items}) == 30


def test_real_daily_items_are_all_featured_on_their_batch_day() -> None:
    items = load_items(shared_fixture("hf_daily_papers_limit30_2026-06-12.json"))
    assert {parse_daily_item(item).featured_on for item in items} == {DAY}


def test_real_daily_items_carry_their_thumbnail() -> None:
    items = load_items(shared_fixture("hf_daily_papers_limit30_2026-06-12.json"))
    paper = parse_daily_item(_by_id(items, "2606.00467"))
    assert paper.image == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2606.00467.png"
    )


def test_published_at_is_the_papers_own_not_the_shifted_top_level_one() -> None:
    paper = parse_daily_item(_by_id(SAMPLE, "2606.00467"))
    assert paper.published_at == datetime(2026, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("title", "MiniMax Sparse Attention"),
        ("upvotes", 103),
        ("github_repo", "https://github.com/MiniMax-AI/MSA"),
        ("github_stars", 251),
        ("organization", "MiniMax"),
        ("num_comments", 4),
        ("source", "huggingface"),
        ("featured_on", DAY),
        ("withdrawn", False),
    ],
)
def test_daily_item_field_comes_from_the_real_shape(field: str, expected: object) -> None:
    paper = parse_daily_item(_by_id(SAMPLE, "2606.13392"))
    assert getattr(paper, field) == expected


def test_daily_item_keeps_every_author() -> None:
    assert len(parse_daily_item(_by_id(SAMPLE, "2606.13392")).authors) == 11


def test_ai_summary_and_keywords_are_kept() -> None:
    paper = parse_daily_item(_by_id(SAMPLE, "2606.00467"))
    assert paper.ai_keywords[:2] == ("zero-shot annotation", "LLM-as-a-judge")


def test_project_page_is_kept() -> None:
    paper = parse_daily_item(_by_id(SAMPLE, "2606.12303"))
    assert paper.project_page == "https://zju-xyc.github.io/1D-Fusion-Project-Page/"


def test_hidden_author_is_kept_in_order() -> None:
    paper = parse_daily_item(_by_id(SAMPLE, "2606.12575"))
    assert paper.authors[3] == "Dengyang Jiang"


def test_hard_line_breaks_in_title_are_normalised() -> None:
    paper = parse_daily_item(_by_id(EDGE, "2606.20001"))
    assert paper.title == "Hard Line Breaks: A Study of Whitespace in Titles"


def test_hard_line_breaks_in_abstract_are_normalised() -> None:
    paper = parse_daily_item(_by_id(EDGE, "2606.20001"))
    assert paper.abstract == "We study titles that wrap. Abstracts wrap too."


def test_empty_author_names_are_skipped() -> None:
    paper = parse_daily_item(_by_id(EDGE, "2606.20001"))
    assert paper.authors == ("Ada Lovelace", "Grace Hopper")


@pytest.mark.parametrize(
    ("field", "empty"),
    [("ai_summary", None), ("ai_keywords", ()), ("github_repo", None), ("github_stars", None),
     ("project_page", None), ("organization", None), ("withdrawn", False)],
)
def test_missing_optional_field_is_none_or_empty(field: str, empty: object) -> None:
    paper = parse_daily_item(_by_id(EDGE, "2606.20001"))
    assert getattr(paper, field) == empty


def test_wrong_typed_optional_field_is_dropped_and_the_paper_kept() -> None:
    paper = parse_daily_item(_by_id(EDGE, "2606.20002"))
    assert paper.github_stars is None


def test_organization_without_fullname_uses_its_name() -> None:
    assert parse_daily_item(_by_id(EDGE, "2606.20002")).organization == "example-lab"


def test_withdrawn_at_marks_the_paper_withdrawn() -> None:
    assert parse_daily_item(_by_id(EDGE, "2606.20002")).withdrawn is True


def test_versioned_id_is_canonicalised() -> None:
    item = _item("2606.13392v2")
    assert parse_daily_item(item).arxiv_id == "2606.13392"


@pytest.mark.parametrize("index", [2, 3, 4], ids=["no-id", "title-not-text", "no-paper"])
def test_malformed_item_raises_malformed_item(index: int) -> None:
    with pytest.raises(MalformedItem):
        parse_daily_item(EDGE[index])


def test_flat_paper_shape_parses() -> None:
    flat = _by_id(SAMPLE, "2606.13392")["paper"]
    assert parse_paper(flat).github_stars == 251


# --- daily: paging, de-duplication, order ------------------------------------------------


async def test_small_day_is_one_request(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        await _client(http, hf).daily(DAY)
    assert hf.requests[DAILY] == 1


async def test_daily_asks_for_the_day_with_the_largest_page(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        await _client(http, hf).daily(DAY)
    assert hf.calls[0].query == {"date": "2026-06-12", "limit": "100", "p": "0"}


async def test_daily_sorts_by_upvotes_then_id(http: httpx.AsyncClient) -> None:
    batch = [_item("2606.00003", 5), _item("2606.00001", 9), _item("2606.00002", 5)]
    async with FakeHuggingFace({DAY: batch}) as hf:
        papers = await _client(http, hf).daily(DAY)
    assert [p.arxiv_id for p in papers] == ["2606.00001", "2606.00002", "2606.00003"]


async def test_daily_follows_link_next_across_pages(http: httpx.AsyncClient) -> None:
    batch = [_item(f"2606.{n:05d}") for n in range(250)]
    async with FakeHuggingFace({DAY: batch}) as hf:
        await _client(http, hf).daily(DAY)
    assert [c.query["p"] for c in hf.calls] == ["0", "1", "2"]


async def test_daily_returns_the_papers_of_every_page(http: httpx.AsyncClient) -> None:
    batch = [_item(f"2606.{n:05d}") for n in range(250)]
    async with FakeHuggingFace({DAY: batch}) as hf:
        papers = await _client(http, hf).daily(DAY)
    assert len(papers) == 250


async def test_duplicate_across_pages_is_returned_once(http: httpx.AsyncClient) -> None:
    batch = [_item("2606.00001", 5), _item("2606.00002", 3), _item("2606.00001", 9)]
    async with FakeHuggingFace({DAY: batch}) as hf:
        papers = await _client(http, hf, page_size=2).daily(DAY)
    assert [p.arxiv_id for p in papers] == ["2606.00001", "2606.00002"]


async def test_duplicate_keeps_the_copy_with_more_upvotes(http: httpx.AsyncClient) -> None:
    # The better-voted copy comes first: keeping the last copy seen would be wrong.
    batch = [_item("2606.00001", 9), _item("2606.00002", 3), _item("2606.00001", 5)]
    async with FakeHuggingFace({DAY: batch}) as hf:
        papers = await _client(http, hf, page_size=2).daily(DAY)
    assert papers[0].upvotes == 9


async def test_link_next_is_followed_after_a_short_page(http: httpx.AsyncClient) -> None:
    batch = [_item(f"2606.{n:05d}") for n in range(5)]
    async with FakeHuggingFace({DAY: batch}, page_cap=2) as hf:
        papers = await _client(http, hf).daily(DAY)
    assert len(papers) == 5


async def test_without_link_header_paging_ends_at_an_empty_page(http: httpx.AsyncClient) -> None:
    batch = [_item(f"2606.{n:05d}") for n in range(4)]
    async with FakeHuggingFace({DAY: batch}, link_next=False) as hf:
        await _client(http, hf, page_size=2).daily(DAY)
    assert hf.requests[DAILY] == 3


async def test_without_link_header_a_short_page_ends_paging(http: httpx.AsyncClient) -> None:
    batch = [_item(f"2606.{n:05d}") for n in range(3)]
    async with FakeHuggingFace({DAY: batch}, link_next=False) as hf:
        await _client(http, hf, page_size=2).daily(DAY)
    assert hf.requests[DAILY] == 2


async def test_paging_stops_at_the_safety_bound(http: httpx.AsyncClient) -> None:
    batch = [_item(f"2606.{n:05d}") for n in range(10)]
    async with FakeHuggingFace({DAY: batch}) as hf:
        await _client(http, hf, page_size=1, max_pages=3).daily(DAY)
    assert hf.requests[DAILY] == 3


async def test_paging_safety_bound_is_logged(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [_item(f"2606.{n:05d}") for n in range(10)]
    async with FakeHuggingFace({DAY: batch}) as hf:
        with caplog.at_level(logging.WARNING, logger="bot.sources.huggingface"):
            await _client(http, hf, page_size=1, max_pages=3).daily(DAY)
    assert "stopped paging 2026-06-12 at 3 pages" in caplog.text


async def test_day_without_batch_is_empty(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({}) as hf:
        assert await _client(http, hf).daily(date(2026, 6, 13)) == []


async def test_malformed_item_is_skipped_and_the_rest_parse(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: EDGE}) as hf:
        papers = await _client(http, hf).daily(DAY)
    assert sorted(p.arxiv_id for p in papers) == ["2606.20001", "2606.20002"]


async def test_malformed_item_is_named_in_a_warning(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeHuggingFace({DAY: EDGE}) as hf:
        with caplog.at_level(logging.WARNING, logger="bot.sources.huggingface"):
            await _client(http, hf).daily(DAY)
    assert "'A Paper Without An Id'" in caplog.text


# --- daily: failures ---------------------------------------------------------------------


async def test_429_then_success_returns_the_papers(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        hf.fail_next(DAILY, status=429, retry_after=1)
        papers = await _client(http, hf).daily(DAY)
    assert len(papers) == 5


async def test_429_then_success_asks_twice(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        hf.fail_next(DAILY, status=429, retry_after=1)
        await _client(http, hf).daily(DAY)
    assert hf.requests[DAILY] == 2


async def test_429_with_a_long_retry_after_raises_rate_limited(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        hf.fail_next(DAILY, status=429, retry_after=3600)
        with pytest.raises(RateLimited) as caught:
            await _client(http, hf).daily(DAY)
    assert caught.value.retry_after == 3600.0


async def test_500s_exhaust_attempts_then_raise_upstream_error(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        hf.fail_next(DAILY, status=500, times=10)
        with pytest.raises(UpstreamError, match="HTTP 500"):
            await _client(http, hf, retry=RetryPolicy(attempts=3)).daily(DAY)
    assert hf.requests[DAILY] == 3


async def test_timeout_raises_upstream_timeout() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    async with make_client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(UpstreamTimeout):
            await HuggingFaceClient(http, base_url="https://hf.test").daily(DAY)


async def test_html_error_page_raises_bad_payload_naming_the_url(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        hf.fail_next(DAILY, body="<html><body><h1>We'll be right back</h1></body></html>")
        with pytest.raises(BadPayload, match="/api/daily_papers"):
            await _client(http, hf).daily(DAY)


async def test_truncated_json_raises_bad_payload(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        hf.fail_next(DAILY, truncate=True)
        with pytest.raises(BadPayload, match="truncated JSON"):
            await _client(http, hf).daily(DAY)


async def test_non_list_body_raises_bad_payload(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        hf.fail_next(DAILY, body='{"papers": []}', content_type="application/json")
        with pytest.raises(BadPayload, match="expected a JSON list"):
            await _client(http, hf).daily(DAY)


# --- window ------------------------------------------------------------------------------


async def test_month_window_collects_every_day_of_the_month(http: httpx.AsyncClient) -> None:
    batches = {
        "2026-06-11": [_item("2606.00001")],
        "2026-06-12": [_item("2606.00002")],
        "2026-07-01": [_item("2607.00003")],
    }
    async with FakeHuggingFace(batches) as hf:
        papers = await _client(http, hf).window(month="2026-06")
    assert sorted(p.arxiv_id for p in papers) == ["2606.00001", "2606.00002"]


async def test_week_window_collects_the_iso_week(http: httpx.AsyncClient) -> None:
    batches = {"2026-06-12": [_item("2606.00002")], "2026-06-15": [_item("2606.00004")]}
    async with FakeHuggingFace(batches) as hf:
        papers = await _client(http, hf).window(week="2026-W24")
    assert [p.arxiv_id for p in papers] == ["2606.00002"]


async def test_malformed_month_is_a_clear_upstream_error(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({}) as hf:
        with pytest.raises(UpstreamError, match="HTTP 400 Bad Request: Invalid month: 2026-13"):
            await _client(http, hf).window(month="2026-13")


async def test_window_needs_exactly_one_of_month_or_week(http: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        await HuggingFaceClient(http).window(month="2026-06", week="2026-W24")


# --- one paper ----------------------------------------------------------------------------


async def test_paper_is_found_by_id(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        paper = await _client(http, hf).paper("2606.13392")
    assert paper is not None and paper.title == "MiniMax Sparse Attention"


async def test_paper_by_versioned_id_asks_for_the_canonical_id(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        await _client(http, hf).paper("2606.13392v2")
    assert hf.calls[0].path == "/api/papers/2606.13392"


async def test_unknown_paper_is_none(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        assert await _client(http, hf).paper("2101.00001") is None


async def test_invalid_paper_id_is_refused_before_any_request(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        with pytest.raises(InvalidPaperId):
            await _client(http, hf).paper("not-an-id")
    assert hf.total_requests == 0


# --- search -------------------------------------------------------------------------------


async def test_search_returns_hits_in_upstream_order(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace(searches={"kazakh": KAZAKH}) as hf:
        hits = await _client(http, hf).search("kazakh")
    assert [h.paper.arxiv_id for h in hits] == ["2404.04487", "2403.19399", "2403.19335"]


async def test_search_snippet_marks_the_highlight(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace(searches={"kazakh": KAZAKH}) as hf:
        hits = await _client(http, hf).search("kazakh")
    assert hits[0].snippet is not None and hits[0].snippet.startswith(
        "We introduce KazQAD -- a **Kazakh** open-domain question answering (ODQA) dataset"
    )


async def test_search_snippet_is_trimmed_around_the_first_highlight(
    http: httpx.AsyncClient,
) -> None:
    async with FakeHuggingFace(searches={"kazakh": KAZAKH}) as hf:
        hits = await _client(http, hf).search("kazakh")
    assert hits, "no hit: the length check would hold vacuously"
    assert all(h.snippet is not None and len(h.snippet) <= 210 for h in hits)


async def test_search_of_the_real_kazakh_payload_finds_nine(http: httpx.AsyncClient) -> None:
    results = load_items(shared_fixture("hf_papers_search_q-kazakh.json"))
    async with FakeHuggingFace(searches={"kazakh": results}) as hf:
        hits = await _client(http, hf).search("kazakh")
    assert sum(1 for h in hits if h.snippet and "**Kazakh**" in h.snippet) == 9


async def test_search_query_is_trimmed_to_250_characters_at_a_word(
    http: httpx.AsyncClient,
) -> None:
    query = " ".join(["diffusion"] * 40)  # 399 characters
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        await _client(http, hf).search(query)
    assert hf.calls[0].query["q"] == " ".join(["diffusion"] * 25)  # 249 characters


@pytest.mark.parametrize(("asked", "sent"), [(0, "1"), (20, "20"), (500, "120")])
async def test_search_limit_is_clamped(http: httpx.AsyncClient, asked: int, sent: str) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        await _client(http, hf).search("attention", limit=asked)
    assert hf.calls[0].query["limit"] == sent


async def test_blank_search_sends_no_request(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        await _client(http, hf).search("   ")
    assert hf.total_requests == 0


async def test_search_without_highlights_has_no_snippet(http: httpx.AsyncClient) -> None:
    plain = copy.deepcopy(KAZAKH[0])
    plain["highlightedTitle"] = [{"type": "text", "text": plain["title"]}]
    plain["highlightedSummary"] = [{"type": "text", "text": plain["summary"]}]
    async with FakeHuggingFace(searches={"q": [plain]}) as hf:
        hits = await _client(http, hf).search("q")
    assert hits[0].snippet is None


async def test_requests_counter_matches_what_reached_the_wire(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}, searches={"kazakh": KAZAKH}) as hf:
        client = _client(http, hf)
        hf.fail_next(DAILY, status=503)
        await client.daily(DAY)
        await client.search("kazakh")
        await client.paper("2606.13392")
    assert client.requests == 4


async def test_requests_carry_the_paperboy_user_agent(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({DAY: SAMPLE}) as hf:
        await _client(http, hf).daily(DAY)
    assert hf.calls[0].headers["User-Agent"].startswith("paperboy/")
