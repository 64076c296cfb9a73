"""Backfill: past months of Daily Papers into the store and the index, resumably, politely."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from bot.errors import UpstreamError, UserInputError
from bot.search.backfill import MONTHS_KEY, backfill, months_between
from bot.search.index import PaperIndex
from bot.search.query import parse_query
from bot.sources.huggingface import HuggingFaceClient
from bot.store.memory import MemoryStore
from tests.fakes.hf_server import FakeHuggingFace
from tests.search.conftest import hf_item

TODAY = date(2024, 6, 15)


class Pauses:
    """An injectable sleep that records instead of waiting."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def serve_three_months(fake: FakeHuggingFace) -> None:
    # 2024-01: 3 papers over two days; 2024-02: 2 papers, one of them featured again
    # (2401.00001 came back on a later day); 2024-03: 1 paper.
    fake.add_batch("2024-01-08", [hf_item("2401.00001", "Sparse mixture of experts routing"),
                                  hf_item("2401.00002", "Diffusion video editing")])
    fake.add_batch("2024-01-09", [hf_item("2401.00003", "Tokenizer free language models")])
    fake.add_batch("2024-02-05", [hf_item("2402.00001", "Retrieval augmented agents"),
                                  hf_item("2401.00001", "Sparse mixture of experts routing",
                                          upvotes=40)])
    fake.add_batch("2024-03-04", [hf_item("2403.00001", "Speculative decoding with trees")])


@pytest.fixture
def small_pages_client(fake_hf: FakeHuggingFace, http: httpx.AsyncClient) -> HuggingFaceClient:
    # Two papers a page, so that a month takes several pages.
    return HuggingFaceClient(http, base_url=fake_hf.base_url, page_size=2)


async def run(client: HuggingFaceClient, store: MemoryStore, index: PaperIndex,
              start: str = "2024-01", end: str = "2024-03", **kwargs: object):
    return await backfill(client, store, index, start=start, end=end, today=TODAY,
                          sleep=kwargs.pop("sleep", Pauses()), **kwargs)  # type: ignore[arg-type]


async def test_backfill_fetches_every_month_in_the_range(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    report = await run(small_pages_client, store, PaperIndex.in_memory())
    assert report.months_done == ("2024-01", "2024-02", "2024-03")


async def test_backfill_pages_through_each_month(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    await run(small_pages_client, store, PaperIndex.in_memory())
    pages = [call.query["p"] for call in fake_hf.calls if call.query.get("month") == "2024-01"]
    assert pages == ["0", "1"]


async def test_backfill_puts_each_paper_in_the_store_once(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    await run(small_pages_client, store, PaperIndex.in_memory())
    assert sorted(p.arxiv_id for p in await store.all_papers()) == [
        "2401.00001", "2401.00002", "2401.00003", "2402.00001", "2403.00001",
    ]


async def test_backfill_puts_each_paper_in_the_index_once(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()
    await run(small_pages_client, store, index)
    assert index.count() == 5


async def test_backfilled_papers_are_searchable(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()
    await run(small_pages_client, store, index)
    assert [h.arxiv_id for h in index.search(parse_query("speculative trees"), 5)] == [
        "2403.00001"
    ]


async def test_backfill_counts_new_and_updated_papers(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    report = await run(small_pages_client, store, PaperIndex.in_memory())
    assert (report.papers_added, report.papers_updated) == (5, 1)


async def test_backfill_keeps_the_latest_record_of_a_paper_seen_twice(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    await run(small_pages_client, store, PaperIndex.in_memory())
    assert (await store.get_papers(["2401.00001"]))["2401.00001"].upvotes == 40


async def test_backfill_records_completed_months_in_store_meta(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    await run(small_pages_client, store, PaperIndex.in_memory())
    assert await store.get_meta(MONTHS_KEY) == ["2024-01", "2024-02", "2024-03"]


async def test_rerun_skips_completed_months(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()
    await run(small_pages_client, store, index)
    report = await run(small_pages_client, store, index, end="2024-04")
    assert (report.months_skipped, report.months_done) == (
        ("2024-01", "2024-02", "2024-03"), ("2024-04",)
    )


async def test_rerun_sends_no_request_for_completed_months(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()
    await run(small_pages_client, store, index)
    before = fake_hf.requests["/api/daily_papers"]
    await run(small_pages_client, store, index)
    assert fake_hf.requests["/api/daily_papers"] == before


async def test_rerun_adds_no_duplicates(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()
    await run(small_pages_client, store, index)
    await run(small_pages_client, store, index, force=True)
    assert (index.count(), len(await store.all_papers())) == (5, 5)


async def test_force_fetches_completed_months_again(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()
    await run(small_pages_client, store, index)
    report = await run(small_pages_client, store, index, force=True)
    # Every record is replaced; 2401.00001 twice, once in each month it was featured.
    assert (report.months_skipped, report.papers_added, report.papers_updated) == ((), 0, 6)


async def test_a_failed_month_stops_the_run_and_keeps_earlier_months(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()

    def fail_on_february(month: str, position: int, total: int) -> None:
        if month == "2024-01":  # January is done: February's first request fails
            fake_hf.fail_next("/api/daily_papers", status=500)

    with pytest.raises(UpstreamError):
        await run(small_pages_client, store, index, progress=fail_on_february)
    assert await store.get_meta(MONTHS_KEY) == ["2024-01"]


async def test_resumed_run_fetches_only_the_months_left(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()

    def fail_after_january(month: str, position: int, total: int) -> None:
        if month == "2024-01":
            fake_hf.fail_next("/api/daily_papers", status=500)

    with pytest.raises(UpstreamError):
        await run(small_pages_client, store, index, progress=fail_after_january)
    report = await run(small_pages_client, store, index)
    assert (report.months_skipped, report.months_done) == (
        ("2024-01",), ("2024-02", "2024-03")
    )


async def test_backfill_pauses_between_fetched_months(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    pauses = Pauses()
    await run(small_pages_client, store, PaperIndex.in_memory(), sleep=pauses, pause=2.0)
    assert pauses.seconds == [2.0, 2.0]


async def test_backfill_does_not_pause_for_skipped_months(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    index = PaperIndex.in_memory()
    await run(small_pages_client, store, index)
    pauses = Pauses()
    await run(small_pages_client, store, index, sleep=pauses)
    assert pauses.seconds == []


async def test_backfill_reports_progress_for_every_month(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    serve_three_months(fake_hf)
    seen: list[tuple[str, int, int]] = []
    await run(small_pages_client, store, PaperIndex.in_memory(),
              progress=lambda month, done, total: seen.append((month, done, total)))
    assert seen == [("2024-01", 1, 3), ("2024-02", 2, 3), ("2024-03", 3, 3)]


async def test_the_current_month_is_fetched_but_not_recorded_as_complete(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    fake_hf.add_batch("2024-06-03", [hf_item("2406.00001", "This month so far")])
    await run(small_pages_client, store, PaperIndex.in_memory(), start="2024-06", end="2024-06")
    assert await store.get_meta(MONTHS_KEY) is None


async def test_the_current_month_is_fetched_again_next_time(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    fake_hf.add_batch("2024-06-03", [hf_item("2406.00001", "This month so far")])
    index = PaperIndex.in_memory()
    await run(small_pages_client, store, index, start="2024-06", end="2024-06")
    report = await run(small_pages_client, store, index, start="2024-06", end="2024-06")
    assert report.months_done == ("2024-06",)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2024-13", "2024-12"), ("24-01", "2024-02"), ("2024-1", "2024-02"), ("2024-01", "June"),
     ("x" * 5000, "2024-01")],
)
async def test_malformed_months_are_refused(
    small_pages_client: HuggingFaceClient, store: MemoryStore, start: str, end: str
) -> None:
    with pytest.raises(UserInputError, match="takes a month like 2024-01"):
        await run(small_pages_client, store, PaperIndex.in_memory(), start=start, end=end)


async def test_start_after_end_is_refused(
    small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    with pytest.raises(UserInputError, match="is after"):
        await run(small_pages_client, store, PaperIndex.in_memory(), start="2024-03",
                  end="2024-01")


async def test_future_months_are_refused(
    small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    with pytest.raises(UserInputError, match="in the future"):
        await run(small_pages_client, store, PaperIndex.in_memory(), start="2024-05",
                  end="2024-07")


async def test_refused_arguments_send_no_request(
    fake_hf: FakeHuggingFace, small_pages_client: HuggingFaceClient, store: MemoryStore
) -> None:
    with pytest.raises(UserInputError):
        await run(small_pages_client, store, PaperIndex.in_memory(), start="2024-03",
                  end="2024-01")
    assert fake_hf.total_requests == 0


def test_months_between_crosses_a_year_boundary() -> None:
    assert months_between("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]


def test_refusal_of_a_long_argument_does_not_echo_it() -> None:
    with pytest.raises(UserInputError) as caught:
        months_between("9" * 5000, "2024-01")
    assert len(str(caught.value)) < 100
