"""`paperboy digest`, end to end: the installed command against a fake Hugging Face.

A person (or a cron job) runs `paperboy digest` to see the day's picks without posting
anything. These scenarios run the real console script as a child process, with a config
file pointing it at local fakes, and check what a script or a person relies on: the JSON
contract, the exit status and its one-line error, one upstream request per page, the LLM
step and its cache, that nothing is marked as posted, and that secrets never reach the
output.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bench.digest import without_hf_summaries
from bot.config import ChannelConfig
from bot.models import ChatRef
from bot.store.tinydb import TinyDBStore
from tests.conftest import HF_SAMPLE as SAMPLE
from tests.conftest import shared_fixture
from tests.fakes.hf_server import FakeHuggingFace, load_items
from tests.fakes.llm_server import COMPLETIONS, FakeOpenAI
from tests.scenarios.conftest import (
    DAY,
    Run,
    RunPaperboy,
    config_text,
    run_paperboy,
)

Item = dict[str, Any]
WriteConfig = Callable[..., Path]

SATURDAY = "2026-06-13"
DAILY = "/api/daily_papers"
KEY = "sk-proj-scenario0123456789abcdefSECRET"
FIELDS = {"id", "title", "summary", "summary_source", "authors", "upvotes", "reason",
          "source", "score", "links"}
CANONICAL_ID = re.compile(r"^\d{4}\.\d{4,5}$")


def _text(value: str) -> str:
    return " ".join(value.split())


def _raw_papers(items: list[Item]) -> dict[str, Item]:
    return {item["paper"]["id"]: item["paper"] for item in items}


def _https(url: str | None) -> str | None:
    return url if url and url.startswith("https://") else None


def _without_hf_summaries(items: list[Item]) -> list[Item]:
    variant = copy.deepcopy(items)
    for item in variant:
        item["paper"].pop("ai_summary", None)
    return variant


# --- the JSON contract, on the sample batch and on the recorded 30-item batch --------------


@pytest.fixture(params=["sample-5", "recorded-30"])
def batch(request: pytest.FixtureRequest) -> list[Item]:
    if request.param == "sample-5":
        return load_items(SAMPLE)
    return load_items(shared_fixture("hf_daily_papers_limit30_2026-06-12.json"))


@pytest_asyncio.fixture
async def batch_hf(batch: list[Item]) -> AsyncIterator[FakeHuggingFace]:
    async with FakeHuggingFace(batches={DAY: batch}) as server:
        yield server


@pytest_asyncio.fixture
async def digest_json(
    batch_hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> Run:
    config = write_config(batch_hf.base_url)
    return await paperboy("--config", str(config), "digest", "--date", DAY, "--json")


async def test_digest_json_exits_0(digest_json: Run) -> None:
    assert digest_json.returncode == 0


async def test_digest_json_prints_one_array_of_the_channels_top_5(digest_json: Run) -> None:
    assert len(digest_json.json()) == 5


async def test_digest_json_elements_have_every_documented_field(digest_json: Run) -> None:
    missing = [sorted(FIELDS - set(row)) for row in digest_json.json()]
    assert missing == [[]] * len(missing)


async def test_digest_json_ids_are_canonical_without_version(digest_json: Run) -> None:
    assert [row["id"] for row in digest_json.json() if not CANONICAL_ID.match(row["id"])] == []


async def test_digest_json_titles_are_the_upstream_titles(
    digest_json: Run, batch: list[Item]
) -> None:
    raw = _raw_papers(batch)
    assert {r["id"]: r["title"] for r in digest_json.json()} == {
        r["id"]: _text(raw[r["id"]]["title"]) for r in digest_json.json()
    }


async def test_digest_json_summaries_are_hugging_faces_when_items_have_one(
    digest_json: Run,
) -> None:
    assert {row["summary_source"] for row in digest_json.json()} == {"huggingface"}


async def test_digest_json_summaries_are_non_empty_text(digest_json: Run) -> None:
    assert [row["id"] for row in digest_json.json()
            if not isinstance(row["summary"], str) or not row["summary"].strip()] == []


async def test_digest_json_authors_are_the_upstream_names_in_order(
    digest_json: Run, batch: list[Item]
) -> None:
    raw = _raw_papers(batch)
    assert {r["id"]: r["authors"] for r in digest_json.json()} == {
        r["id"]: [_text(a["name"]) for a in raw[r["id"]]["authors"] if a.get("name")]
        for r in digest_json.json()
    }


async def test_digest_json_upvotes_are_the_upstream_counts(
    digest_json: Run, batch: list[Item]
) -> None:
    raw = _raw_papers(batch)
    assert {r["id"]: r["upvotes"] for r in digest_json.json()} == {
        r["id"]: raw[r["id"]].get("upvotes") for r in digest_json.json()
    }


async def test_digest_json_upvotes_are_whole_numbers_or_null(digest_json: Run) -> None:
    kinds = {type(row["upvotes"]).__name__ for row in digest_json.json()}
    assert kinds <= {"int", "NoneType"}


async def test_digest_json_every_pick_says_why(digest_json: Run) -> None:
    assert [row["id"] for row in digest_json.json() if not row["reason"].strip()] == []


async def test_digest_json_source_is_huggingface(digest_json: Run) -> None:
    assert {row["source"] for row in digest_json.json()} == {"huggingface"}


async def test_digest_json_picks_are_ordered_by_score(digest_json: Run) -> None:
    scores = [row["score"] for row in digest_json.json()]
    assert scores == sorted(scores, reverse=True)


async def test_digest_json_ranks_count_from_1(digest_json: Run) -> None:
    rows = digest_json.json()
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))


async def test_digest_json_links_point_at_the_paper_on_hf_and_arxiv(digest_json: Run) -> None:
    assert {r["id"]: [r["links"].get(k) for k in ("huggingface", "arxiv", "pdf")]
            for r in digest_json.json()} == {
        r["id"]: [f"https://huggingface.co/papers/{r['id']}", f"https://arxiv.org/abs/{r['id']}",
                  f"https://arxiv.org/pdf/{r['id']}"]
        for r in digest_json.json()
    }


async def test_digest_json_links_have_github_and_project_when_upstream_had_them(
    digest_json: Run, batch: list[Item]
) -> None:
    raw = _raw_papers(batch)
    assert {r["id"]: (r["links"].get("github"), r["links"].get("project"))
            for r in digest_json.json()} == {
        r["id"]: (_https(raw[r["id"]].get("githubRepo")), _https(raw[r["id"]].get("projectPage")))
        for r in digest_json.json()
    }


async def test_digest_json_links_are_all_https(digest_json: Run) -> None:
    urls = [url for row in digest_json.json() for url in row["links"].values()]
    assert [url for url in urls if not url.startswith("https://")] == []


async def test_digest_fetches_the_day_with_one_request(
    digest_json: Run, batch_hf: FakeHuggingFace
) -> None:
    assert batch_hf.requests[DAILY] == 1


# --- options and output ---------------------------------------------------------------------


async def test_digest_top_2_prints_2_picks(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY, "--top", "2", "--json")
    assert len(run.json()) == 2


async def test_digest_asks_for_each_page_once_when_the_day_spans_pages(
    sample_items: list[Item], write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    # Two items a page, whatever the client asks: five items take pages 0, 1 and 2.
    async with FakeHuggingFace(batches={DAY: sample_items}, page_cap=2) as hf:
        config = write_config(hf.base_url)
        await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert [call.query.get("p") for call in hf.calls] == ["0", "1", "2"]


async def test_digest_text_shows_every_title(
    hf: FakeHuggingFace, sample_items: list[Item], write_config: WriteConfig,
    paperboy: RunPaperboy,
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    titles = [_text(item["paper"]["title"]) for item in sample_items]
    assert [title for title in titles if title not in run.stdout] == []


async def test_digest_text_exits_0_with_nothing_on_stderr(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    assert (run.returncode, run.stderr) == (0, "")


async def test_digest_output_has_no_terminal_codes_when_piped(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "-v", "digest", "--date", DAY)
    assert "\x1b" not in run.stdout + run.stderr


async def test_saturday_digest_exits_0(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", SATURDAY)
    assert run.returncode == 0


async def test_saturday_digest_prints_one_line_saying_there_is_no_batch(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", SATURDAY)
    assert run.stdout.splitlines() == [
        "Daily papers — Sat 13 Jun 2026: Hugging Face publishes no Daily Papers on Saturdays"
    ]


# --- failures -------------------------------------------------------------------------------

# 400: Hugging Face refused the request. 429 asking for 120 s: longer than the retry policy
# waits, so the command must give up at once instead of hanging for two minutes.
UPSTREAM_FAILURES = [
    pytest.param({"status": 400}, id="http-400"),
    pytest.param({"status": 429, "retry_after": 120}, id="http-429-retry-after-120"),
]


@pytest.fixture(params=UPSTREAM_FAILURES)
def failing_hf(hf: FakeHuggingFace, request: pytest.FixtureRequest) -> FakeHuggingFace:
    hf.fail_next(DAILY, **request.param)
    return hf


async def test_upstream_failure_exits_1(
    failing_hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(failing_hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    assert run.returncode == 1


async def test_upstream_failure_is_one_line_on_stderr_starting_with_paperboy(
    failing_hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(failing_hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    assert [line[:9] for line in run.stderr.splitlines()] == ["paperboy:"]


async def test_upstream_failure_prints_no_traceback(
    failing_hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(failing_hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    assert "Traceback" not in run.stdout + run.stderr


async def test_upstream_failure_prints_nothing_on_stdout(
    failing_hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(failing_hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert run.stdout == ""


async def test_upstream_failure_that_a_retry_cannot_fix_is_asked_once(
    failing_hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(failing_hf.base_url)
    await paperboy("--config", str(config), "digest", "--date", DAY)
    assert failing_hf.requests[DAILY] == 1


async def test_debug_prints_the_traceback_of_an_upstream_failure(
    failing_hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(failing_hf.base_url)
    run = await paperboy("--config", str(config), "--debug", "digest", "--date", DAY)
    assert "Traceback (most recent call last)" in run.stderr


async def test_unknown_config_key_exits_2(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url, channels='[[channels]]\nname = "x"\ncolour = "blue"\n')
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    assert run.returncode == 2


async def test_unknown_config_key_is_named_on_one_line(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url, channels='[[channels]]\nname = "x"\ncolour = "blue"\n')
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    assert [line for line in run.stderr.splitlines() if "channels[0].colour" in line] == [
        run.stderr.strip()
    ]


async def test_unknown_config_key_asks_no_upstream(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url, channels='[[channels]]\nname = "x"\ncolour = "blue"\n')
    await paperboy("--config", str(config), "digest", "--date", DAY)
    assert hf.total_requests == 0


async def test_unknown_channel_exits_2(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY, "--channel", "nope")
    assert run.returncode == 2


async def test_unknown_channel_error_names_it_on_one_line(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "digest", "--date", DAY, "--channel", "nope")
    assert run.stderr.splitlines() == [
        "paperboy: no channel named 'nope' (configured: console)"
    ]


# --- read-only, and beside a running bot ---------------------------------------------------


async def test_digest_marks_nothing_as_posted(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy, data_dir: Path
) -> None:
    config = write_config(hf.base_url)
    await paperboy("--config", str(config), "digest", "--date", DAY)
    store = await TinyDBStore.open(data_dir)
    try:
        posted = await store.posted_ids(ChatRef("console", "console", ChannelConfig().id))
    finally:
        await store.close()
    assert posted == frozenset()


async def test_digest_runs_while_a_bot_holds_the_data_directory(
    hf: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy, data_dir: Path
) -> None:
    config = write_config(hf.base_url)
    bot_store = await TinyDBStore.open(data_dir)  # the running bot's writer lock
    try:
        run = await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    finally:
        await bot_store.close()
    assert (run.returncode, len(run.json())) == (0, 5)


# --- the LLM step ---------------------------------------------------------------------------


@pytest_asyncio.fixture
async def hf_without_summaries(sample_items: list[Item]) -> AsyncIterator[FakeHuggingFace]:
    """The sample batch with Hugging Face's `ai_summary` removed from every item."""
    async with FakeHuggingFace(batches={DAY: _without_hf_summaries(sample_items)}) as server:
        yield server


async def test_digest_summarises_with_the_llm_when_hf_has_no_summary(
    hf_without_summaries: FakeHuggingFace, llm: FakeOpenAI, write_config: WriteConfig,
    paperboy: RunPaperboy,
) -> None:
    config = write_config(hf_without_summaries.base_url, llm_url=llm.v1)
    run = await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert {row["summary_source"] for row in run.json()} == {"llm"}


async def test_digest_shows_the_llms_answer_as_the_summary(
    hf_without_summaries: FakeHuggingFace, llm: FakeOpenAI, write_config: WriteConfig,
    paperboy: RunPaperboy,
) -> None:
    config = write_config(hf_without_summaries.base_url, llm_url=llm.v1)
    run = await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert [row["summary"] for row in run.json()] == [
        f"This paper presents {row['title']}." for row in run.json()
    ]


async def test_digest_asks_the_llm_once_per_pick(
    hf_without_summaries: FakeHuggingFace, llm: FakeOpenAI, write_config: WriteConfig,
    paperboy: RunPaperboy,
) -> None:
    config = write_config(hf_without_summaries.base_url, llm_url=llm.v1)
    await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert llm.completions == 5


async def test_second_digest_asks_the_llm_nothing(
    hf_without_summaries: FakeHuggingFace, llm: FakeOpenAI, write_config: WriteConfig,
    paperboy: RunPaperboy,
) -> None:
    config = write_config(hf_without_summaries.base_url, llm_url=llm.v1)
    await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    first = llm.completions
    await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert llm.completions - first == 0


async def test_second_digest_serves_the_cached_llm_summaries(
    hf_without_summaries: FakeHuggingFace, llm: FakeOpenAI, write_config: WriteConfig,
    paperboy: RunPaperboy,
) -> None:
    config = write_config(hf_without_summaries.base_url, llm_url=llm.v1)
    await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    run = await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert {row["summary_source"] for row in run.json()} == {"llm"}


async def test_llm_key_from_the_environment_is_sent_as_a_bearer_token(
    hf_without_summaries: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy
) -> None:
    async with FakeOpenAI(api_key=KEY) as llm:
        config = write_config(hf_without_summaries.base_url, llm_url=llm.v1)
        await paperboy("--config", str(config), "digest", "--date", DAY, "--json",
                       env={"OPENAI_API_KEY": KEY})
    assert {call.headers.get("Authorization") for call in llm.calls} == {f"Bearer {KEY}"}


@pytest.mark.parametrize("llm_fails", [False, True], ids=["llm-answers", "llm-refuses-401"])
async def test_llm_key_never_appears_in_the_output_even_with_debug(
    hf_without_summaries: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy,
    llm_fails: bool,
) -> None:
    async with FakeOpenAI(api_key=KEY) as llm:
        if llm_fails:
            llm.fail_next(COMPLETIONS, status=401, times=5)
        config = write_config(hf_without_summaries.base_url, llm_url=llm.v1)
        run = await paperboy("--config", str(config), "--debug", "-v", "digest", "--date", DAY,
                             env={"OPENAI_API_KEY": KEY})
    assert KEY not in run.stdout + run.stderr


# --- fan-out: one fetch for many channels, through the installed command -----------------


CHANNELS = 20


@dataclass(frozen=True)
class FanOut:
    """Two `paperboy digest --json` runs for 20 channels, and what reached the fakes."""

    first: Run
    daily_requests: int  # /api/daily_papers requests during the first run
    first_llm_calls: int
    second_llm_calls: int
    without_hf_summary: int  # papers of the day that need the LLM


async def _digest_twice_for_twenty_channels(items: list[Item], tmp: Path) -> FanOut:
    # Every channel takes all five papers of the sample day (top 5, no filters).
    channels = "".join(
        f'\n[[channels]]\nname = "team-{n:02d}"\nplatform = "slack"\nid = "C{n:04d}"\n'
        "top_n = 5\n"
        for n in range(CHANNELS)
    )
    async with FakeHuggingFace(batches={DAY: items}) as hf, FakeOpenAI() as llm:
        config = tmp / "config.toml"
        config.write_text(
            config_text(hf_url=hf.base_url, data_dir=tmp / "data", llm_url=llm.v1,
                        channels=channels),
            "utf-8",
        )
        digest = ("--config", str(config), "digest", "--date", DAY, "--json")
        first = await run_paperboy(*digest, cwd=tmp)
        daily, first_calls = hf.requests[DAILY], llm.completions
        await run_paperboy(*digest, cwd=tmp)
    return FanOut(first, daily, first_calls, llm.completions - first_calls,
                  sum(not item["paper"].get("ai_summary") for item in items))


@pytest.fixture(scope="module")
def fan_out(tmp_path_factory: pytest.TempPathFactory) -> FanOut:
    """Run once per module, in its own event loop: the tests below only read the outcome."""
    # Every other paper loses its HF summary, so the LLM has some, not all, to summarise.
    items = without_hf_summaries(load_items(SAMPLE))
    return asyncio.run(_digest_twice_for_twenty_channels(items, tmp_path_factory.mktemp("fan")))


def test_digest_for_20_channels_exits_0(fan_out: FanOut) -> None:
    assert fan_out.first.returncode == 0


def test_digest_for_20_channels_fetches_the_day_once(fan_out: FanOut) -> None:
    # The sample day fits in one page: one request, not one per channel.
    assert fan_out.daily_requests == 1


def test_digest_for_20_channels_prints_five_picks_for_each(fan_out: FanOut) -> None:
    per_channel = Counter(row["channel"] for row in fan_out.first.json())
    assert per_channel == {f"team-{n:02d}": 5 for n in range(CHANNELS)}


def test_digest_for_20_channels_asks_the_llm_once_per_paper_not_per_channel(
    fan_out: FanOut,
) -> None:
    # Three of the five papers lack an HF summary: 3 calls, not 3 × 20.
    assert (fan_out.without_hf_summary, fan_out.first_llm_calls) == (3, 3)


def test_second_digest_for_20_channels_asks_the_llm_nothing(fan_out: FanOut) -> None:
    assert fan_out.second_llm_calls == 0
