"""`paperboy backfill`, `search` and `index rebuild`, end to end: the installed command
against a fake Hugging Face and a fake arXiv.

A person fills the local index with past months of Daily Papers, then searches it from the
terminal: by words (typos included), by an arXiv id or link, merged with Hugging Face's own
search. These scenarios run the real console script as a child process, with a config file
pointing every URL at the local fakes, and check what that person and their scripts rely on:
the exit status and its one-line error, the JSON fields, what reached the fakes (a completed
month is never fetched twice), and that a slow or failing Hugging Face never costs the local
answer.

Two data sets: the project's own fixtures (always) and three months of the real corpus in
../shared/data (skipped when absent). Backfilling three months takes at least 4 s (the
command pauses 2 s between months to stay polite to Hugging Face), so each data set is
backfilled once per module by a real `paperboy backfill` and every test gets a copy of the
resulting data directory.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.search.searcher import DEFAULT_REMOTE_TIMEOUT
from tests.conftest import FIXTURES, corpus_path, shared_fixture
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.hf_server import FakeHuggingFace, load_items
from tests.scenarios.conftest import Run, run_paperboy

Item = dict[str, Any]
Paperboy = Callable[..., Awaitable[Run]]

DAILY = "/api/daily_papers"
SEARCH = "/api/papers/search"
FIRST, LAST = "2024-01", "2024-03"
SAMPLE = FIXTURES / "hf_daily_papers_2026-06-12_sample.json"
KAZAKH_SAMPLE = FIXTURES / "hf_papers_search_q-kazakh_sample.json"
KAZAKH_FULL = "hf_papers_search_q-kazakh.json"
MINIMAX = "2606.13392"
KAZPARC = "2403.19399"  # in the fixture months and in the recorded "kazakh" search
KAZQAD = "2404.04487"  # only in the recorded "kazakh" search
UNKNOWN = "2606.99999"
JSON_FIELDS = {"id", "title", "summary", "summary_source", "authors", "upvotes", "source",
               "links", "snippet", "match"}
LINK_KEYS = {"huggingface", "arxiv", "pdf"}


# --- data sets: three months of Daily Papers ----------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """Raw Daily Papers items by featured day, and one paper the tests look for."""

    name: str
    batches: dict[str, list[Item]]
    target: str  # arXiv id of the paper searched for
    words: str  # words from its title
    typo: str  # the same words, misspelt

    @property
    def paper_ids(self) -> set[str]:
        return {item["paper"]["id"] for items in self.batches.values() for item in items}

    @property
    def target_title(self) -> str:
        return next(
            " ".join(item["paper"]["title"].split())
            for items in self.batches.values() for item in items
            if item["paper"]["id"] == self.target
        )


def _redated(item: Item, day: str) -> Item:
    moved = copy.deepcopy(item)
    moved["paper"]["submittedOnDailyAt"] = f"{day}T00:00:00.000Z"
    return moved


@functools.cache
def _fixture_dataset() -> Dataset:
    # The five papers of the 2026-06-12 sample, featured again across three months of 2024,
    # plus KazParC, which Hugging Face's recorded "kazakh" search also returns.
    sample = load_items(SAMPLE)
    kazparc = next(i for i in load_items(KAZAKH_SAMPLE) if i["paper"]["id"] == KAZPARC)
    days = {
        "2024-01-15": [sample[0], sample[1]],
        "2024-02-12": [sample[2], sample[3]],
        "2024-03-11": [sample[4], kazparc],
    }
    batches = {day: [_redated(i, day) for i in items] for day, items in days.items()}
    return Dataset("fixtures", batches, MINIMAX, "MiniMax sparse attention",
                   "minimx sparce atention")


@functools.cache
def _corpus_dataset() -> Dataset:
    batches: dict[str, list[Item]] = {}
    with corpus_path().open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if FIRST <= record["daily_date"][:7] <= LAST:
                batches.setdefault(record["daily_date"], []).append(_raw_item(record))
    return Dataset("corpus", batches, "2401.12945", "space-time diffusion video generation",
                   "spce-time difusion vidoe generaton")


def _raw_item(record: dict[str, Any]) -> Item:
    """A corpus record back in the shape `/api/daily_papers` serves."""
    paper: Item = {
        "id": record["arxiv_id"],
        "title": record["title"],
        "summary": record["abstract"],
        "authors": [{"name": name, "hidden": False} for name in record["authors"]],
        "publishedAt": record["published_at"],
        "submittedOnDailyAt": record["submitted_on_daily_at"],
        "upvotes": record["upvotes"],
    }
    for ours, theirs in (("ai_summary", "ai_summary"), ("ai_keywords", "ai_keywords"),
                         ("github_repo", "githubRepo"), ("github_stars", "githubStars"),
                         ("project_page", "projectPage"), ("organization", "organization")):
        if record.get(ours) is not None:
            paper[theirs] = record[ours]
    return {"paper": paper, "publishedAt": record["published_at"], "title": record["title"],
            "summary": record["abstract"], "numComments": record.get("num_comments", 0)}


_DATASETS = {"fixtures": _fixture_dataset, "corpus": _corpus_dataset}


@pytest.fixture(params=["fixtures", pytest.param("corpus", marks=pytest.mark.corpus)])
def dataset(request: pytest.FixtureRequest) -> Dataset:
    """Each data set in turn; `parametrize("dataset", ["fixtures"], indirect=True)` picks one."""
    return _DATASETS[request.param]()


# --- one real backfill per data set, copied into each test -------------------------------


@dataclass(frozen=True)
class Backfill:
    """The data directory a first `paperboy backfill --from 2024-01 --to 2024-03` left,
    what the command printed, and the `month=` of every Daily Papers request it sent."""

    data_dir: Path
    run: Run
    months_requested: list[str]


def _write_config(folder: Path, data_dir: Path, hf_url: str, arxiv_url: str) -> Path:
    """config.toml in `folder` whose every URL is a local fake."""
    path = folder / "config.toml"
    path.write_text(
        "\n".join([
            "[storage]", f"path = {json.dumps(str(data_dir))}", "",
            "[sources.huggingface]", f"base_url = {json.dumps(hf_url)}", "timeout = 10", "",
            "[sources.arxiv]", f"base_url = {json.dumps(arxiv_url)}",
            f"rss_url = {json.dumps(arxiv_url)}", "",
        ]),
        encoding="utf-8",
    )
    return path


async def _first_backfill(dataset: Dataset, folder: Path) -> Backfill:
    data_dir = folder / "data"
    async with FakeHuggingFace(batches=dataset.batches) as hf:
        config = _write_config(folder, data_dir, hf.base_url, hf.base_url)
        run = await run_paperboy(
            "--config", str(config), "backfill", "--from", FIRST, "--to", LAST, cwd=folder
        )
    months = [call.query.get("month", "") for call in hf.calls if call.path == DAILY]
    return Backfill(data_dir, run, months)


@pytest.fixture(scope="module")
def backfills(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Dataset], Backfill]]:
    """The first backfill of a data set, run once per module. It runs in its own event loop
    on a worker thread, so that it does not depend on any test's loop."""
    done: dict[str, Backfill] = {}

    def get(dataset: Dataset) -> Backfill:
        if dataset.name not in done:
            folder = tmp_path_factory.mktemp(f"backfill-{dataset.name}")
            done[dataset.name] = pool.submit(
                asyncio.run, _first_backfill(dataset, folder)
            ).result()
        return done[dataset.name]

    with ThreadPoolExecutor(max_workers=1) as pool:
        yield get


@pytest.fixture
def backfilled(dataset: Dataset, backfills: Callable[[Dataset], Backfill]) -> Backfill:
    return backfills(dataset)


@pytest.fixture
def data_copy(tmp_path: Path, backfilled: Backfill) -> Path:
    """A copy of the backfilled data directory, private to this test."""
    copied = tmp_path / "data"
    shutil.copytree(backfilled.data_dir, copied)
    return copied


@pytest_asyncio.fixture
async def fake_hf(dataset: Dataset) -> AsyncIterator[FakeHuggingFace]:
    """Hugging Face serving the data set's months (its search matches their words)."""
    async with FakeHuggingFace(batches=dataset.batches) as server:
        yield server


@pytest_asyncio.fixture
async def fake_arxiv() -> AsyncIterator[FakeArxiv]:
    """An arXiv that knows no paper."""
    async with FakeArxiv() as server:
        yield server


@pytest.fixture
def cli(
    tmp_path: Path, data_copy: Path, fake_hf: FakeHuggingFace, fake_arxiv: FakeArxiv
) -> Paperboy:
    """Run the installed `paperboy` on the backfilled copy, pointed at the running fakes."""
    config = _write_config(tmp_path, data_copy, fake_hf.base_url, fake_arxiv.base_url)

    def run(*args: str) -> Awaitable[Run]:
        return run_paperboy("--config", str(config), *args, cwd=tmp_path)

    return run


def _ids(run: Run) -> list[str]:
    return [row["id"] for row in run.json()]


def _match(run: Run, arxiv_id: str) -> str | None:
    """How `arxiv_id` matched in a `--json` answer; None when it is not there."""
    return next((row["match"] for row in run.json() if row["id"] == arxiv_id), None)


def _one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1


# --- backfill -------------------------------------------------------------------------------


async def test_backfill_of_three_months_exits_0(backfilled: Backfill) -> None:
    assert backfilled.run.returncode == 0


async def test_backfill_prints_one_summary_line_with_the_counts(
    backfilled: Backfill, dataset: Dataset
) -> None:
    assert backfilled.run.stdout.strip() == (
        f"backfill: 3 months fetched, 0 already done; {len(dataset.paper_ids)} new papers, "
        "0 updated"
    )


async def test_backfill_asks_for_each_month_of_the_range(backfilled: Backfill) -> None:
    assert sorted(set(backfilled.months_requested)) == ["2024-01", "2024-02", "2024-03"]


async def test_backfill_again_skips_every_completed_month(cli: Paperboy) -> None:
    run = await cli("backfill", "--from", FIRST, "--to", LAST)
    assert run.stdout.strip() == (
        "backfill: 0 months fetched, 3 already done; 0 new papers, 0 updated"
    )


async def test_backfill_again_sends_no_request_for_completed_months(
    cli: Paperboy, fake_hf: FakeHuggingFace
) -> None:
    await cli("backfill", "--from", FIRST, "--to", LAST)
    assert fake_hf.requests[DAILY] == 0


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
async def test_overlapping_backfill_fetches_only_the_new_month(
    cli: Paperboy, fake_hf: FakeHuggingFace
) -> None:
    await cli("backfill", "--from", "2024-02", "--to", "2024-04")
    assert [call.query.get("month") for call in fake_hf.calls if call.path == DAILY] == [
        "2024-04"
    ]


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
async def test_forced_backfill_updates_papers_instead_of_adding_them(
    cli: Paperboy,
) -> None:
    run = await cli("backfill", "--from", FIRST, "--to", FIRST, "--force")
    assert run.stdout.strip() == (
        "backfill: 1 months fetched, 0 already done; 0 new papers, 2 updated"
    )


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
async def test_a_paper_backfilled_twice_is_found_once(
    cli: Paperboy, dataset: Dataset
) -> None:
    await cli("backfill", "--from", FIRST, "--to", FIRST, "--force")
    run = await cli("search", dataset.target_title, "--json", "--limit", "50")
    assert _ids(run).count(dataset.target) == 1


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
@pytest.mark.parametrize(
    "months",
    [("2024-05", "2024-01"), ("2024-13", "2024-13"), ("2024-1", "2024-03"), ("2099-01", "2099-02")],
    ids=["from-after-to", "month-13", "one-digit-month", "future"],
)
class TestBackfillUsageErrors:
    async def test_exits_2(self, cli: Paperboy, months: tuple[str, str]) -> None:
        run = await cli("backfill", "--from", months[0], "--to", months[1])
        assert run.returncode == 2

    async def test_error_is_one_line_on_stderr(
        self, cli: Paperboy, months: tuple[str, str]
    ) -> None:
        run = await cli("backfill", "--from", months[0], "--to", months[1])
        assert _one_line(run.stderr)

    async def test_nothing_is_fetched(
        self, cli: Paperboy, fake_hf: FakeHuggingFace, months: tuple[str, str]
    ) -> None:
        await cli("backfill", "--from", months[0], "--to", months[1])
        assert fake_hf.total_requests == 0


# --- search by words ------------------------------------------------------------------------


@pytest_asyncio.fixture
async def words_json(cli: Paperboy, dataset: Dataset) -> Run:
    return await cli("search", dataset.words, "--json")


async def test_search_json_exits_0(words_json: Run) -> None:
    assert words_json.returncode == 0


async def test_search_json_is_one_array(words_json: Run) -> None:
    assert isinstance(words_json.json(), list)


async def test_search_json_rows_have_the_paper_fields_snippet_and_match(
    words_json: Run,
) -> None:
    missing = [sorted(JSON_FIELDS - set(row)) for row in words_json.json()]
    assert missing == [[]] * len(missing)


async def test_search_json_links_name_huggingface_arxiv_and_pdf(words_json: Run) -> None:
    missing = [sorted(LINK_KEYS - set(row["links"])) for row in words_json.json()]
    assert missing == [[]] * len(missing)


async def test_search_json_match_says_local_remote_or_exact(words_json: Run) -> None:
    assert {row["match"] for row in words_json.json()} <= {"local", "remote", "exact"}


async def test_search_finds_the_backfilled_paper_in_the_top_3(
    words_json: Run, dataset: Dataset
) -> None:
    assert dataset.target in _ids(words_json)[:3]


async def test_search_results_are_unique_by_id(words_json: Run) -> None:
    ids = _ids(words_json)
    assert len(ids) == len(set(ids))


async def test_misspelt_words_find_the_paper_in_the_local_index(
    cli: Paperboy, dataset: Dataset
) -> None:
    run = await cli("search", dataset.typo, "--json")
    assert _match(run, dataset.target) == "local"


async def test_text_search_prints_the_title_and_id(
    cli: Paperboy, dataset: Dataset
) -> None:
    run = await cli("search", dataset.words)
    assert f"{dataset.target_title}  [{dataset.target}, " in run.stdout


# --- exact lookups ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form", ["{id}", "https://arxiv.org/abs/{id}v2", "huggingface.co/papers/{id}"],
    ids=["bare-id", "arxiv-link-with-version", "huggingface-link"],
)
class TestExactLookupOfABackfilledPaper:
    async def test_finds_exactly_that_paper(
        self, cli: Paperboy, dataset: Dataset, form: str
    ) -> None:
        run = await cli("search", form.format(id=dataset.target), "--json")
        assert _ids(run) == [dataset.target]

    async def test_says_the_match_is_exact(
        self, cli: Paperboy, dataset: Dataset, form: str
    ) -> None:
        run = await cli("search", form.format(id=dataset.target), "--json")
        assert _match(run, dataset.target) == "exact"

    async def test_asks_no_upstream(
        self, cli: Paperboy, dataset: Dataset, fake_hf: FakeHuggingFace,
        fake_arxiv: FakeArxiv, form: str,
    ) -> None:
        await cli("search", form.format(id=dataset.target), "--json")
        assert fake_hf.total_requests + fake_arxiv.total_requests == 0


@pytest.fixture
def hf_knows_kazqad(fake_hf: FakeHuggingFace) -> FakeHuggingFace:
    """Hugging Face serves KazQAD at /api/papers/2404.04487; the local index lacks it."""
    item = next(i for i in load_items(KAZAKH_SAMPLE) if i["paper"]["id"] == KAZQAD)
    fake_hf.add_paper(item["paper"])
    return fake_hf


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
async def test_an_id_unknown_locally_is_found_on_hugging_face(
    cli: Paperboy, hf_knows_kazqad: FakeHuggingFace
) -> None:
    run = await cli("search", KAZQAD, "--json")
    assert [(row["id"], row["match"]) for row in run.json()] == [(KAZQAD, "exact")]


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
async def test_a_paper_found_on_hugging_face_is_kept_for_the_next_lookup(
    cli: Paperboy, hf_knows_kazqad: FakeHuggingFace
) -> None:
    await cli("search", KAZQAD, "--json")
    await cli("search", KAZQAD, "--json")
    assert hf_knows_kazqad.requests[f"/api/papers/{KAZQAD}"] == 1


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
class TestExactLookupOfAnUnknownId:
    async def test_exits_0(self, cli: Paperboy) -> None:
        run = await cli("search", UNKNOWN)
        assert run.returncode == 0

    async def test_says_in_one_line_that_no_paper_has_that_id(self, cli: Paperboy) -> None:
        run = await cli("search", UNKNOWN)
        assert [line for line in run.stdout.splitlines() if "No paper" in line] == [
            f"(No paper {UNKNOWN} on Hugging Face or arXiv)"
        ]

    async def test_json_is_an_empty_array(self, cli: Paperboy) -> None:
        run = await cli("search", UNKNOWN, "--json")
        assert run.json() == []

    async def test_json_mode_says_so_in_one_line_on_stderr(self, cli: Paperboy) -> None:
        run = await cli("search", UNKNOWN, "--json")
        assert run.stderr == f"No paper {UNKNOWN} on Hugging Face or arXiv\n"

    async def test_asks_both_hugging_face_and_arxiv(
        self, cli: Paperboy, fake_hf: FakeHuggingFace, fake_arxiv: FakeArxiv
    ) -> None:
        await cli("search", UNKNOWN, "--json")
        assert (fake_hf.requests[f"/api/papers/{UNKNOWN}"],
                fake_arxiv.requests["/api/query"]) == (1, 1)


# --- merged with Hugging Face search --------------------------------------------------------


@pytest.fixture(params=["sample", "full"])
def kazakh_results(request: pytest.FixtureRequest) -> list[Item]:
    """Hugging Face's recorded answer to q=kazakh: the 3-result sample, or all 9."""
    if request.param == "sample":
        return load_items(KAZAKH_SAMPLE)
    return load_items(shared_fixture(KAZAKH_FULL))


@pytest.fixture
def hf_answers_kazakh(
    fake_hf: FakeHuggingFace, kazakh_results: list[Item]
) -> FakeHuggingFace:
    fake_hf.searches["kazakh"] = kazakh_results
    return fake_hf


@pytest_asyncio.fixture
async def kazakh_json(cli: Paperboy, hf_answers_kazakh: FakeHuggingFace) -> Run:
    return await cli("search", "kazakh", "--json", "--limit", "20")


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
class TestRemoteMerge:
    async def test_papers_only_hugging_face_knows_are_remote_matches(
        self, kazakh_json: Run, kazakh_results: list[Item]
    ) -> None:
        remote_only = {item["paper"]["id"] for item in kazakh_results} - {KAZPARC}
        assert {row["id"]: row["match"] for row in kazakh_json.json()
                if row["id"] in remote_only} == dict.fromkeys(remote_only, "remote")

    async def test_a_paper_found_by_both_appears_once(self, kazakh_json: Run) -> None:
        assert _ids(kazakh_json).count(KAZPARC) == 1

    async def test_a_paper_found_by_both_keeps_its_local_record(self, kazakh_json: Run) -> None:
        assert _match(kazakh_json, KAZPARC) == "local"

    async def test_results_are_unique_by_id(self, kazakh_json: Run) -> None:
        ids = _ids(kazakh_json)
        assert len(ids) == len(set(ids))

    async def test_remote_matches_are_in_the_local_index_next_time(
        self, kazakh_json: Run, cli: Paperboy, hf_answers_kazakh: FakeHuggingFace
    ) -> None:
        hf_answers_kazakh.searches.clear()  # now Hugging Face only knows the backfilled months
        again = await cli("search", "kazakh", "--json", "--limit", "20")
        assert _match(again, KAZQAD) == "local"


# --- Hugging Face slow or failing -------------------------------------------------------


# Longer than the remote timeout plus start-up: a command that waited for it would fail the
# wall-time bound below. The fake gives up on its own; no test waits for it.
SLOW = 5.0
WALL_BOUND = DEFAULT_REMOTE_TIMEOUT + 2.0


@dataclass(frozen=True)
class Timed:
    run: Run
    seconds: float


async def _timed(pending: Awaitable[Run]) -> Timed:
    started = time.monotonic()
    run = await pending
    return Timed(run, time.monotonic() - started)


@pytest_asyncio.fixture(params=["slow", "http-500"])
async def degraded_search(
    request: pytest.FixtureRequest, cli: Paperboy, fake_hf: FakeHuggingFace,
    dataset: Dataset,
) -> Timed:
    """A text search while Hugging Face search answers after 5 s, or 500 to every retry."""
    if request.param == "slow":
        fake_hf.fail_next(SEARCH, delay=SLOW)
    else:
        fake_hf.fail_next(SEARCH, status=500, times=10)
    return await _timed(cli("search", dataset.words))


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
class TestHuggingFaceSearchDegraded:
    async def test_exits_0(self, degraded_search: Timed) -> None:
        assert degraded_search.run.returncode == 0

    async def test_answers_within_the_remote_timeout(self, degraded_search: Timed) -> None:
        assert degraded_search.seconds < WALL_BOUND

    async def test_still_shows_the_local_result(
        self, degraded_search: Timed, dataset: Dataset
    ) -> None:
        assert f"[{dataset.target}, local]" in degraded_search.run.stdout

    async def test_says_the_results_are_local_only(self, degraded_search: Timed) -> None:
        assert "(local results only: Hugging Face search" in degraded_search.run.stdout


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
async def test_json_mode_says_the_results_are_local_only_on_stderr(
    cli: Paperboy, fake_hf: FakeHuggingFace, dataset: Dataset
) -> None:
    fake_hf.fail_next(SEARCH, delay=SLOW)
    run = await cli("search", dataset.words, "--json")
    assert "local results only: Hugging Face search did not answer in time" in run.stderr


# --- queries the grammar refuses, and engine syntax it must not choke on -----------------


BAD_QUERIES = {
    "empty": "",
    "punctuation": "?!.,",
    "engine-operators-only": "*~^[]{}",
    "5000-characters": ("diffusion " * 500)[:5000],
}


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
@pytest.mark.parametrize("query", list(BAD_QUERIES.values()), ids=list(BAD_QUERIES))
class TestRefusedQueries:
    async def test_exits_2(self, cli: Paperboy, query: str) -> None:
        run = await cli("search", query)
        assert run.returncode == 2

    async def test_error_is_one_line_on_stderr(self, cli: Paperboy, query: str) -> None:
        run = await cli("search", query)
        assert _one_line(run.stderr)

    async def test_error_has_no_traceback(self, cli: Paperboy, query: str) -> None:
        run = await cli("search", query)
        assert "Traceback" not in run.stderr

    async def test_nothing_is_printed_to_stdout(self, cli: Paperboy, query: str) -> None:
        run = await cli("search", query)
        assert run.stdout == ""

    async def test_nothing_is_sent_upstream(
        self, cli: Paperboy, fake_hf: FakeHuggingFace, query: str
    ) -> None:
        await cli("search", query)
        assert fake_hf.total_requests == 0


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
async def test_an_overlong_query_is_not_echoed(cli: Paperboy) -> None:
    run = await cli("search", BAD_QUERIES["5000-characters"])
    assert "diffusion diffusion" not in run.stderr


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
@pytest.mark.parametrize(
    "query",
    ['title:(foo AND "bar', "sparse* ~attention^2 [minimax] {gqa}", "a OR", "NOT -sparse +",
     'author:" attention'],
    ids=["unbalanced-field-query", "operators-around-words", "dangling-or", "prefix-operators",
         "unclosed-author-quote"],
)
class TestEngineSyntaxIsJustText:
    async def test_exits_0(self, cli: Paperboy, query: str) -> None:
        run = await cli("search", query, "--json")
        assert run.returncode == 0

    async def test_prints_nothing_on_stderr(self, cli: Paperboy, query: str) -> None:
        run = await cli("search", query, "--json")
        assert run.stderr == ""


# --- the index: rebuilt, and kept between processes ----------------------------------------


async def test_index_rebuild_exits_0(cli: Paperboy) -> None:
    run = await cli("index", "rebuild")
    assert run.returncode == 0


async def test_index_rebuild_counts_every_backfilled_paper(
    cli: Paperboy, dataset: Dataset
) -> None:
    run = await cli("index", "rebuild")
    assert run.stdout.strip() == f"search index rebuilt: {len(dataset.paper_ids)} papers"


async def test_search_finds_backfilled_papers_after_a_rebuild(
    cli: Paperboy, dataset: Dataset
) -> None:
    await cli("index", "rebuild")
    run = await cli("search", dataset.words, "--json")
    assert dataset.target in _ids(run)[:3]


@pytest.mark.parametrize("hf_state", ["stopped", "failing"])
async def test_a_new_process_finds_backfilled_papers_without_hugging_face(
    tmp_path: Path, data_copy: Path, dataset: Dataset, fake_arxiv: FakeArxiv, hf_state: str
) -> None:
    async with FakeHuggingFace() as hf:
        hf.fail_next("*", status=500, times=100)
        config = _write_config(tmp_path, data_copy, hf.base_url, fake_arxiv.base_url)
        if hf_state == "stopped":
            await hf.stop()
        run = await run_paperboy(
            "--config", str(config), "search", dataset.words, "--json", cwd=tmp_path
        )
    assert _match(run, dataset.target) == "local"
