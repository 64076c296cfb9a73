"""Searcher: local + Hugging Face search merged, exact lookups, scopes, a slow or broken remote.

Hugging Face and arXiv are the local fakes in tests/fakes (real HTTP on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot.errors import UserInputError
from bot.models import ChatRef, Saver
from bot.search.index import PaperIndex
from bot.search.searcher import RRF_K, Searcher, SearchResults
from bot.sources.arxiv import ArxivClient
from bot.sources.huggingface import HuggingFaceClient, parse_daily_item
from bot.store import PostItem
from bot.store.memory import MemoryStore
from tests.conftest import FIXTURES, shared_fixture
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.hf_server import FakeHuggingFace
from tests.search.conftest import DIT, FORWARD_FORWARD, SMALL_SET, SPECULATIVE, hf_item, paper

KAZAKH_SAMPLE = FIXTURES / "hf_papers_search_q-kazakh_sample.json"
KAZQAD = "2404.04487"
LOCAL_KAZAKH = paper(
    "2309.99999", "Kazakh speech synthesis on a budget",
    "We build a Kazakh text-to-speech voice from ten hours of audio.",
)
CHANNEL = ChatRef("slack", "T1", "C1")
TEAM = ("slack", "T1")

ARXIV_ENTRY = """<entry>
    <id>http://arxiv.org/abs/1605.08386v1</id>
    <title>Heat-bath random walks with Markov bases</title>
    <updated>2016-05-26T17:59:46Z</updated>
    <summary>Graphs on lattice points are studied whose edges come from moves.</summary>
    <category term="math.CO" scheme="http://arxiv.org/schemas/atom"/>
    <published>2016-05-26T17:59:46Z</published>
    <arxiv:primary_category term="math.CO"/>
    <author><name>Caprice Stanley</name></author>
    <author><name>Tobias Windisch</name></author>
  </entry>"""


def kazakh_items(path: Path = KAZAKH_SAMPLE) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def arxiv_client(fake_arxiv: FakeArxiv, http: httpx.AsyncClient) -> ArxivClient:
    return ArxivClient(http, base_url=fake_arxiv.base_url, rss_url=fake_arxiv.base_url,
                       min_interval=0)


@pytest.fixture
def kazakh_index() -> PaperIndex:
    index = PaperIndex.in_memory()
    # KazQAD is known locally too, so the merge has an overlap to de-duplicate.
    index.add([parse_daily_item(kazakh_items()[0]), LOCAL_KAZAKH, *SMALL_SET])
    return index


_MADE: list[Searcher] = []


def searcher(index: PaperIndex, store: MemoryStore, hf: HuggingFaceClient | None = None,
             arxiv: ArxivClient | None = None, remote_timeout: float = 1.5) -> Searcher:
    made = Searcher(index, store, hf, arxiv, remote_timeout=remote_timeout)
    _MADE.append(made)
    return made


@pytest_asyncio.fixture(autouse=True)
async def _drain_searchers() -> AsyncIterator[None]:
    # Papers found upstream are kept in background tasks: finish them inside the test's loop.
    yield
    while _MADE:
        await _MADE.pop().close()


async def search_and_drain(made: Searcher, text: str) -> None:
    await made.search(text)
    await made.drain()


# --- merging with Hugging Face search ------------------------------------------------------
async def test_a_paper_found_locally_and_remotely_appears_once(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    results = await searcher(kazakh_index, store, hf_client).search("kazakh", limit=20)
    assert [r.paper.arxiv_id for r in results.hits].count(KAZQAD) == 1


async def test_merged_results_have_no_duplicate_ids(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items(shared_fixture("hf_papers_search_q-kazakh.json"))
    results = await searcher(kazakh_index, store, hf_client).search("kazakh", limit=20)
    found = [r.paper.arxiv_id for r in results.hits]
    assert len(found) == len(set(found))


async def test_merged_results_hold_local_and_remote_papers(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items(shared_fixture("hf_papers_search_q-kazakh.json"))
    results = await searcher(kazakh_index, store, hf_client).search("kazakh", limit=20)
    assert {r.paper.arxiv_id: r.match for r in results.hits} == {
        LOCAL_KAZAKH.arxiv_id: "local",
        KAZQAD: "local",
        **{i: "remote" for i in ("2403.19399", "2403.19335", "2111.13419", "2404.01033",
                                 "2502.13640", "2503.01493", "2108.01280", "2107.10637")},
    }


async def test_a_paper_found_both_ways_ranks_first(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    results = await searcher(kazakh_index, store, hf_client).search("kazakh")
    assert results.hits[0].paper.arxiv_id == KAZQAD


async def test_fused_score_adds_reciprocal_ranks(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    results = await searcher(kazakh_index, store, hf_client).search("kazakh")
    # KazQAD is first remotely; locally it ranks first or second ("kazakh" in both titles).
    assert results.hits[0].score in (2 / (RRF_K + 1), 1 / (RRF_K + 1) + 1 / (RRF_K + 2))


async def test_remote_snippet_is_kept_for_a_remote_hit(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    results = await searcher(kazakh_index, store, hf_client).search("kazakh")
    remote = next(r for r in results.hits if r.paper.arxiv_id == "2403.19399")
    assert "**Kazakh**" in (remote.snippet or "")


async def test_new_remote_hits_are_added_to_the_index(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    await search_and_drain(searcher(kazakh_index, store, hf_client), "kazakh")
    assert set(kazakh_index.get(["2403.19399", "2403.19335"])) == {"2403.19399", "2403.19335"}


async def test_new_remote_hits_are_added_to_the_store(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    await search_and_drain(searcher(kazakh_index, store, hf_client), "kazakh")
    assert set(await store.get_papers(["2403.19399", "2403.19335"])) == {
        "2403.19399", "2403.19335",
    }


async def test_a_richer_stored_record_is_not_overwritten_by_a_remote_hit(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    rich = parse_daily_item(kazakh_items()[1])
    from dataclasses import replace

    await store.put_papers([replace(rich, ai_summary="A parallel corpus, summarised.")])
    fake_hf.searches["kazakh"] = kazakh_items()
    await search_and_drain(searcher(kazakh_index, store, hf_client), "kazakh")
    stored = (await store.get_papers(["2403.19399"]))["2403.19399"]
    assert stored.ai_summary == "A parallel corpus, summarised."


async def test_remote_results_found_once_are_found_offline_later(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    await search_and_drain(searcher(kazakh_index, store, hf_client), "kazakh")
    offline = await searcher(kazakh_index, store).search("sentiment reviews kazakh")
    assert offline.hits[0].paper.arxiv_id == "2403.19335"


async def test_remote_status_is_ok_when_hugging_face_answers(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    results = await searcher(kazakh_index, store, hf_client).search("kazakh")
    assert results.remote_status == "ok"


async def test_since_filter_applies_to_remote_hits(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items(shared_fixture("hf_papers_search_q-kazakh.json"))
    results = await searcher(kazakh_index, store, hf_client).search("kazakh since:2025-01")
    assert {r.paper.arxiv_id for r in results.hits} == {"2502.13640", "2503.01493"}


async def test_author_filter_applies_to_remote_hits(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh braslavski"] = kazakh_items()
    results = await searcher(kazakh_index, store, hf_client).search(
        "kazakh author:braslavski"
    )
    assert [r.paper.arxiv_id for r in results.hits] == [KAZQAD]


async def test_hugging_face_is_asked_without_the_filters(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    await searcher(kazakh_index, store, hf_client).search("kazakh since:2024-01")
    assert fake_hf.calls[-1].query["q"] == "kazakh"


# --- a slow or broken remote ---------------------------------------------------------------
# The fake never answers a hanging request while the test runs, so only the searcher's own
# remote timeout can end the search; the 5 s guard turns a searcher that waits for the
# remote into a failure instead of a stalled run.
GUARD = 5.0


async def hanging_search(
    index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace, hf: HuggingFaceClient
) -> SearchResults:
    fake_hf.fail_next("/api/papers/search", hang=True)
    async with asyncio.timeout(GUARD):
        return await searcher(index, store, hf, remote_timeout=0.1).search("kazakh")


async def test_slow_remote_gives_local_results_marked_timeout(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    results = await hanging_search(kazakh_index, store, fake_hf, hf_client)
    assert results.remote_status == "timeout"


async def test_slow_remote_still_returns_the_local_hits(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    results = await hanging_search(kazakh_index, store, fake_hf, hf_client)
    assert {r.paper.arxiv_id for r in results.hits} == {KAZQAD, LOCAL_KAZAKH.arxiv_id}


async def test_slow_remote_answer_is_marked_local_only(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    results = await hanging_search(kazakh_index, store, fake_hf, hf_client)
    assert results.local_only and "local results only" in (results.note or "")


async def test_remote_server_error_gives_local_results_marked_error(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.fail_next("/api/papers/search", status=500)
    results = await searcher(kazakh_index, store, hf_client).search("kazakh")
    assert (results.remote_status, len(results.hits)) == ("error", 2)


async def test_remote_garbage_gives_local_results_marked_error(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.fail_next("/api/papers/search", body="<html>Bad gateway</html>")
    results = await searcher(kazakh_index, store, hf_client).search("kazakh")
    assert (results.remote_status, len(results.hits)) == ("error", 2)


async def test_without_a_remote_search_is_local_and_skipped(
    kazakh_index: PaperIndex, store: MemoryStore
) -> None:
    results = await searcher(kazakh_index, store).search("kazakh")
    assert (results.remote_status, len(results.hits)) == ("skipped", 2)


async def test_limit_caps_the_merged_list(
    kazakh_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    fake_hf.searches["kazakh"] = kazakh_items()
    results = await searcher(kazakh_index, store, hf_client).search("kazakh", limit=2)
    assert len(results.hits) == 2


# --- exact lookups ---------------------------------------------------------------------------
async def test_exact_id_in_the_store_asks_nobody(
    store: MemoryStore, fake_hf: FakeHuggingFace, hf_client: HuggingFaceClient
) -> None:
    await store.put_papers([DIT])
    await searcher(PaperIndex.in_memory(), store, hf_client).search("2212.09748")
    assert fake_hf.total_requests == 0


async def test_exact_id_in_the_store_is_an_exact_match(
    store: MemoryStore, hf_client: HuggingFaceClient
) -> None:
    await store.put_papers([DIT])
    results = await searcher(PaperIndex.in_memory(), store, hf_client).search(
        "https://arxiv.org/abs/2212.09748v2"
    )
    assert [(r.paper, r.match) for r in results.hits] == [(DIT, "exact")]


async def test_exact_id_only_in_the_index_is_found(
    small_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    results = await searcher(small_index, store, hf_client).search(
        "huggingface.co/papers/2212.13345"
    )
    assert [r.paper for r in results.hits] == [FORWARD_FORWARD]


async def test_exact_id_unknown_locally_comes_from_hugging_face(
    store: MemoryStore, fake_hf: FakeHuggingFace, hf_client: HuggingFaceClient
) -> None:
    fake_hf.add_paper(hf_item("2406.12345", "A paper only HF knows")["paper"])
    results = await searcher(PaperIndex.in_memory(), store, hf_client).search("2406.12345v3")
    assert [(r.paper.title, r.match) for r in results.hits] == [
        ("A paper only HF knows", "exact")
    ]


async def test_exact_id_from_hugging_face_is_kept_in_the_index(
    store: MemoryStore, fake_hf: FakeHuggingFace, hf_client: HuggingFaceClient
) -> None:
    index = PaperIndex.in_memory()
    fake_hf.add_paper(hf_item("2406.12345", "A paper only HF knows")["paper"])
    await search_and_drain(searcher(index, store, hf_client), "2406.12345")
    assert list(index.get(["2406.12345"])) == ["2406.12345"]


async def test_exact_id_unknown_to_hugging_face_comes_from_arxiv(
    store: MemoryStore, fake_hf: FakeHuggingFace, hf_client: HuggingFaceClient,
    fake_arxiv: FakeArxiv, arxiv_client: ArxivClient,
) -> None:
    fake_arxiv.entries["1605.08386"] = ARXIV_ENTRY
    results = await searcher(PaperIndex.in_memory(), store, hf_client, arxiv_client).search(
        "arxiv.org/abs/1605.08386v1"
    )
    assert [(r.paper.title, r.paper.source) for r in results.hits] == [
        ("Heat-bath random walks with Markov bases", "arxiv")
    ]


async def test_exact_id_falls_back_to_arxiv_when_hugging_face_fails(
    store: MemoryStore, fake_hf: FakeHuggingFace, hf_client: HuggingFaceClient,
    fake_arxiv: FakeArxiv, arxiv_client: ArxivClient,
) -> None:
    fake_hf.fail_next("*", status=500)
    fake_arxiv.entries["1605.08386"] = ARXIV_ENTRY
    results = await searcher(PaperIndex.in_memory(), store, hf_client, arxiv_client).search(
        "1605.08386"
    )
    assert [r.paper.arxiv_id for r in results.hits] == ["1605.08386"]


async def test_exact_id_nobody_knows_gives_no_hits_and_a_note(
    store: MemoryStore, hf_client: HuggingFaceClient, arxiv_client: ArxivClient
) -> None:
    results = await searcher(PaperIndex.in_memory(), store, hf_client, arxiv_client).search(
        "2406.99999"
    )
    assert (results.hits, results.note) == ((), "No paper 2406.99999 on Hugging Face or arXiv")


async def test_exact_id_when_both_upstreams_fail_says_it_could_not_look(
    store: MemoryStore, fake_hf: FakeHuggingFace, hf_client: HuggingFaceClient,
    fake_arxiv: FakeArxiv, arxiv_client: ArxivClient,
) -> None:
    fake_hf.fail_next("*", status=500)
    fake_arxiv.fail_next("*", status=503)
    results = await searcher(PaperIndex.in_memory(), store, hf_client, arxiv_client).search(
        "2406.99999"
    )
    assert (results.remote_status, results.note) == (
        "error", "Could not look up 2406.99999: upstream failed"
    )


async def test_exact_id_offline_and_unknown_says_so(store: MemoryStore) -> None:
    results = await searcher(PaperIndex.in_memory(), store).search("2406.99999")
    assert results.note == "No paper 2406.99999 in the local index"


# --- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "?!?", "x" * 5000])
async def test_unusable_queries_raise_user_input_error(
    small_index: PaperIndex, store: MemoryStore, text: str
) -> None:
    with pytest.raises(UserInputError):
        await searcher(small_index, store).search(text)


@pytest.mark.parametrize(
    "text",
    ['"unbalanced', "a:b:c", "(((models", "AND OR NOT", "foo^2~3*", "[1 TO 2]", "}{models"],
)
async def test_engine_syntax_never_raises(
    small_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient, text: str,
) -> None:
    results = await searcher(small_index, store, hf_client).search(text)
    assert results.remote_status == "ok"


# --- scopes --------------------------------------------------------------------------------
async def test_saved_scope_searches_the_team_snapshots_even_if_not_indexed(
    store: MemoryStore,
) -> None:
    index = PaperIndex.in_memory()
    index.add([SPECULATIVE])
    await store.save("slack", "T1", DIT, Saver("U1", datetime(2025, 1, 1, tzinfo=UTC)))
    results = await searcher(index, store).search("models", scope="saved", team=TEAM)
    assert [r.paper.arxiv_id for r in results.hits] == [DIT.arxiv_id]


async def test_saved_scope_leaves_out_papers_nobody_saved(
    small_index: PaperIndex, store: MemoryStore
) -> None:
    await store.save("slack", "T1", DIT, Saver("U1", datetime(2025, 1, 1, tzinfo=UTC)))
    results = await searcher(small_index, store).search("in:saved transformers", team=TEAM)
    assert [r.paper.arxiv_id for r in results.hits] == [DIT.arxiv_id]


async def test_saved_scope_is_another_teams_list_only_for_that_team(
    small_index: PaperIndex, store: MemoryStore
) -> None:
    await store.save("slack", "T2", DIT, Saver("U1", datetime(2025, 1, 1, tzinfo=UTC)))
    results = await searcher(small_index, store).search("in:saved transformers", team=TEAM)
    assert results.hits == ()


async def test_saved_scope_with_an_empty_list_says_so(
    small_index: PaperIndex, store: MemoryStore
) -> None:
    results = await searcher(small_index, store).search("in:saved diffusion", team=TEAM)
    assert results.note == "Your team has not saved any papers yet"


async def test_saved_scope_never_asks_hugging_face(
    small_index: PaperIndex, store: MemoryStore, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    await store.save("slack", "T1", DIT, Saver("U1", datetime(2025, 1, 1, tzinfo=UTC)))
    await searcher(small_index, store, hf_client).search("in:saved transformers", team=TEAM)
    assert fake_hf.total_requests == 0


async def test_saved_scope_without_a_team_is_a_user_error(
    small_index: PaperIndex, store: MemoryStore
) -> None:
    with pytest.raises(UserInputError, match="in:saved"):
        await searcher(small_index, store).search("in:saved diffusion")


async def test_posted_scope_searches_what_the_channel_was_sent(
    small_index: PaperIndex, store: MemoryStore
) -> None:
    day = date(2025, 1, 6)
    await store.claim_post(CHANNEL, day, "test", datetime(2025, 1, 6, 9, tzinfo=UTC))
    posted = SPECULATIVE.arxiv_id
    await store.record_items(CHANNEL, day, [PostItem(posted, posted, "m1")])
    results = await searcher(small_index, store).search(
        "decoding", scope="posted", channel=CHANNEL
    )
    assert [r.paper.arxiv_id for r in results.hits] == [SPECULATIVE.arxiv_id]


async def test_posted_scope_indexes_posted_papers_the_index_lacks(store: MemoryStore) -> None:
    day = date(2025, 1, 6)
    await store.put_papers([DIT])
    await store.claim_post(CHANNEL, day, "test", datetime(2025, 1, 6, 9, tzinfo=UTC))
    await store.record_items(CHANNEL, day, [PostItem(DIT.arxiv_id, DIT.arxiv_id, "m1")])
    results = await searcher(PaperIndex.in_memory(), store).search(
        "in:posted transformers", channel=CHANNEL
    )
    assert [r.paper.arxiv_id for r in results.hits] == [DIT.arxiv_id]


async def test_posted_scope_without_a_channel_is_a_user_error(
    small_index: PaperIndex, store: MemoryStore
) -> None:
    with pytest.raises(UserInputError, match="in:posted"):
        await searcher(small_index, store).search("in:posted diffusion")


async def test_exact_id_outside_the_scope_is_not_found(
    small_index: PaperIndex, store: MemoryStore
) -> None:
    await store.save("slack", "T1", DIT, Saver("U1", datetime(2025, 1, 1, tzinfo=UTC)))
    results = await searcher(small_index, store).search(
        SPECULATIVE.arxiv_id, scope="saved", team=TEAM
    )
    assert results.hits == ()


# --- incremental indexing --------------------------------------------------------------------
async def test_index_papers_makes_them_searchable_after_drain(store: MemoryStore) -> None:
    made = searcher(PaperIndex.in_memory(), store)
    await made.index_papers([DIT, SPECULATIVE])
    await made.drain()
    results = await made.search("speculative")
    assert results.hits[0].paper.arxiv_id == SPECULATIVE.arxiv_id


async def test_index_papers_does_not_commit_on_each_call(store: MemoryStore) -> None:
    index = PaperIndex.in_memory()
    made = searcher(index, store)
    await made.index_papers([DIT, SPECULATIVE])
    assert index.count() == 0


async def test_a_read_only_store_does_not_stop_remote_hits_reaching_the_index(
    tmp_path: Path, kazakh_index: PaperIndex, fake_hf: FakeHuggingFace,
    hf_client: HuggingFaceClient,
) -> None:
    from bot.store.tinydb import TinyDBStore

    await (await TinyDBStore.open(tmp_path / "data")).close()
    readonly = await TinyDBStore.open(tmp_path / "data", readonly=True)
    try:
        fake_hf.searches["kazakh"] = kazakh_items()
        made = Searcher(kazakh_index, readonly, hf_client, None)
        await made.search("kazakh")
        await made.drain()
    finally:
        await readonly.close()
    assert "2403.19399" in kazakh_index.get(["2403.19399"])
