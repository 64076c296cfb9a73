"""The fake upstreams other tests rely on answer like the real ones and fail on request."""

from __future__ import annotations

import httpx

from tests.conftest import FIXTURES
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.hf_server import FakeHuggingFace, load_items

SAMPLE = load_items(FIXTURES / "hf_daily_papers_2026-06-12_sample.json")


async def test_fake_hf_answers_400_for_a_malformed_date(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace() as hf:
        response = await http.get(f"{hf.base_url}/api/daily_papers", params={"date": "2026-6-1"})
    assert response.status_code == 400


async def test_fake_hf_link_next_names_the_next_page(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({"2026-06-12": SAMPLE}) as hf:
        response = await http.get(
            f"{hf.base_url}/api/daily_papers", params={"date": "2026-06-12", "limit": "2"}
        )
    assert httpx.URL(response.links["next"]["url"]).params["p"] == "1"


async def test_fake_hf_answers_an_empty_list_past_the_end(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({"2026-06-12": SAMPLE}) as hf:
        response = await http.get(
            f"{hf.base_url}/api/daily_papers", params={"date": "2026-06-12", "p": "9"}
        )
    assert response.json() == []


async def test_fake_hf_without_date_serves_the_latest_batch(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({"2026-06-11": SAMPLE[:1], "2026-06-12": SAMPLE}) as hf:
        response = await http.get(f"{hf.base_url}/api/daily_papers")
    assert len(response.json()) == len(SAMPLE)


async def test_fake_hf_search_builds_highlights_in_the_real_shape(
    http: httpx.AsyncClient,
) -> None:
    async with FakeHuggingFace({"2026-06-12": SAMPLE}) as hf:
        response = await http.get(f"{hf.base_url}/api/papers/search", params={"q": "sparse"})
    highlights = [s["text"] for s in response.json()[0]["highlightedTitle"]
                  if s["type"] == "highlight"]
    assert highlights == ["Sparse"]


async def test_fail_next_fails_once_then_answers_normally(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({"2026-06-12": SAMPLE}) as hf:
        hf.fail_next("/api/daily_papers", status=503)
        url = f"{hf.base_url}/api/daily_papers"
        statuses = [(await http.get(url)).status_code for _ in range(2)]
    assert statuses == [503, 200]


async def test_fail_next_with_retry_after_sends_the_header(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace() as hf:
        hf.fail_next("*", status=429, retry_after=2)
        response = await http.get(f"{hf.base_url}/api/papers/2606.13392")
    assert response.headers["Retry-After"] == "2"


async def test_fail_next_truncate_cuts_the_real_answer(http: httpx.AsyncClient) -> None:
    async with FakeHuggingFace({"2026-06-12": SAMPLE}) as hf:
        url = f"{hf.base_url}/api/daily_papers"
        whole = (await http.get(url)).content
        hf.fail_next("/api/daily_papers", truncate=True)
        cut = (await http.get(url)).content
    assert cut == whole[: len(whole) // 2]


async def test_fake_arxiv_rejects_a_malformed_id_like_arxiv(http: httpx.AsyncClient) -> None:
    async with FakeArxiv() as arxiv:
        response = await http.get(f"{arxiv.base_url}/api/query", params={"id_list": "abc"})
    assert "incorrect id format for abc" in response.text


async def test_fake_arxiv_listing_defaults_to_an_empty_feed(http: httpx.AsyncClient) -> None:
    async with FakeArxiv() as arxiv:
        response = await http.get(f"{arxiv.base_url}/atom/cs.CL")
    assert "<entry>" not in response.text
