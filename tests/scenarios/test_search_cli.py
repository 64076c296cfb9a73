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
../shared/data (skipped when absent). Each data set is backfilled once per module by a real
`paperboy backfill` (with `backfill_pause = 0`: no test sleeps between months) and every test
gets a copy of the resulting data directory. Tests that only read what one command did share
one child per command (`shared_run`); tests that run commands in sequence get their own copy.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.conftest import FIXTURES, corpus_path, shared_fixture
from tests.conftest import HF_SAMPLE as SAMPLE
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.hf_server import FakeHuggingFace, load_items
from tests.scenarios.conftest import Run, run_paperboy

Item = dict[str, Any]
Paperboy = Callable[..., Awaitable[Run]]

DAILY = "/api/daily_papers"
SEARCH = "/api/papers/search"
FIRST, LAST = "2024-01", "2024-03"
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


def _write_config(
    folder: Path, data_dir: Path, hf_url: str, arxiv_url: str, *, hf_timeout: float = 10
) -> Path:
    """config.toml in `folder` whose every URL is a local fake; backfill never pauses."""
    path = folder / "config.toml"
    path.write_text(
        "\n".join([
            "[storage]", f"path = {json.dumps(str(data_dir))}", "",
            "[sources.huggingface]", f"base_url = {json.dumps(hf_url)}",
            f"timeout = {hf_timeout}", "backfill_pause = 0", "",
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
def worker() -> Iterator[ThreadPoolExecutor]:
    """A thread for module-wide runs: each runs in its own event loop there, so that it does
    not depend on any test's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


@pytest.fixture(scope="module")
def backfills(
    tmp_path_factory: pytest.TempPathFactory, worker: ThreadPoolExecutor
) -> Callable[[Dataset], Backfill]:
    """The first backfill of a data set, run once per module."""
    done: dict[str, Backfill] = {}

    def get(dataset: Dataset) -> Backfill:
        if dataset.name not in done:
            folder = tmp_path_factory.mktemp(f"backfill-{dataset.name}")
            done[dataset.name] = worker.submit(
                asyncio.run, _first_backfill(dataset, folder)
            ).result()
        return done[dataset.name]

    return get


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


@pytest.fixture
def cli(
    tmp_path: Path, data_copy: Path, fake_hf: FakeHuggingFace, fake_arxiv: FakeArxiv
) -> Paperboy:
    """Run the installed `paperboy` on the backfilled copy, pointed at the running fakes."""
    config = _write_config(tmp_path, data_copy, fake_hf.base_url, fake_arxiv.base_url)

    def run(*args: str) -> Awaitable[Run]:
        return run_paperboy("--config", str(config), *args, cwd=tmp_path)

    return run


# --- one child per command, shared by the tests that only read what it did ---------------


@dataclass(frozen=True)
class Outcome:
    """What one `paperboy` child did on its own copy of the backfill, and what reached the
    fakes (stopped by now; their request counts stay)."""

    run: Run
    hf: FakeHuggingFace
    arxiv: FakeArxiv


def _hang_search(hf: FakeHuggingFace) -> None:
    hf.fail_next(SEARCH, hang=True)


def _fail_search(hf: FakeHuggingFace) -> None:
    hf.fail_next(SEARCH, status=500, times=10)


def _kazakh_search(source: str) -> Callable[[FakeHuggingFace], None]:
    def answer(hf: FakeHuggingFace) -> None:
        hf.searches["kazakh"] = _kazakh_results(source)

    return answer


# How Hugging Face behaves during a shared run. "hanging": its search never answers while
# the child runs, so only the command's own remote timeout can end the wait.
HF_STATES: dict[str, Callable[[FakeHuggingFace], None]] = {
    "healthy": lambda hf: None,
    "hanging": _hang_search,
    "http-500": _fail_search,
    "kazakh-sample": _kazakh_search("sample"),
    "kazakh-full": _kazakh_search("full"),
}
# A child still running after this long fails its test. Generous: it only has to be shorter
# than the HTTP timeout the hanging case configures, so that the guard, not that timeout,
# catches a command that waits for Hugging Face.
GUARD = 30.0
HANGING_HF_TIMEOUT = 2 * GUARD


async def _run_on_a_copy(
    dataset: Dataset, backfill: Backfill, folder: Path, args: tuple[str, ...], hf_state: str
) -> Outcome:
    data_dir = folder / "data"
    shutil.copytree(backfill.data_dir, data_dir)
    hf_timeout = HANGING_HF_TIMEOUT if hf_state == "hanging" else 10
    async with FakeHuggingFace(batches=dataset.batches) as hf, FakeArxiv() as arxiv:
        HF_STATES[hf_state](hf)
        config = _write_config(folder, data_dir, hf.base_url, arxiv.base_url,
                               hf_timeout=hf_timeout)
        async with asyncio.timeout(GUARD):
            run = await run_paperboy("--config", str(config), *args, cwd=folder)
    return Outcome(run, hf, arxiv)


SharedRun = Callable[..., Outcome]


@pytest.fixture(scope="module")
def shared_run(
    tmp_path_factory: pytest.TempPathFactory, worker: ThreadPoolExecutor,
    backfills: Callable[[Dataset], Backfill],
) -> SharedRun:
    """`shared_run(dataset, *args, hf_state="healthy")`: run `paperboy *args` once per module
    for these arguments, on a fresh copy of the data set's backfill, and return its Outcome.
    A failure (the guard included) is kept too, so every test that shares it fails at once."""
    done: dict[tuple[str, tuple[str, ...], str], Outcome | BaseException] = {}

    def get(dataset: Dataset, *args: str, hf_state: str = "healthy") -> Outcome:
        key = (dataset.name, args, hf_state)
        if key not in done:
            backfill = backfills(dataset)
            folder = tmp_path_factory.mktemp(f"run-{dataset.name}")
            try:
                done[key] = worker.submit(
                    asyncio.run, _run_on_a_copy(dataset, backfill, folder, args, hf_state)
                ).result()
            except Exception as exc:
                done[key] = exc
        outcome = done[key]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return get


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
    @pytest.fixture
    def refused(
        self, shared_run: SharedRun, dataset: Dataset, months: tuple[str, str]
    ) -> Outcome:
        return shared_run(dataset, "backfill", "--from", months[0], "--to", months[1])

    def test_exits_2(self, refused: Outcome) -> None:
        assert refused.run.returncode == 2

    def test_error_is_one_line_on_stderr(self, refused: Outcome) -> None:
        assert _one_line(refused.run.stderr)

    def test_nothing_is_fetched(self, refused: Outcome) -> None:
        assert refused.hf.total_requests == 0


# --- search by words ------------------------------------------------------------------------


@pytest.fixture
def words_json(shared_run: SharedRun, dataset: Dataset) -> Run:
    return shared_run(dataset, "search", dataset.words, "--json").run


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
    @pytest.fixture
    def lookup(self, shared_run: SharedRun, dataset: Dataset, form: str) -> Outcome:
        return shared_run(dataset, "search", form.format(id=dataset.target), "--json")

    def test_finds_exactly_that_paper(self, lookup: Outcome, dataset: Dataset) -> None:
        assert _ids(lookup.run) == [dataset.target]

    def test_says_the_match_is_exact(self, lookup: Outcome, dataset: Dataset) -> None:
        assert _match(lookup.run, dataset.target) == "exact"

    def test_asks_no_upstream(self, lookup: Outcome) -> None:
        assert lookup.hf.total_requests + lookup.arxiv.total_requests == 0


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
    @pytest.fixture
    def text(self, shared_run: SharedRun, dataset: Dataset) -> Outcome:
        return shared_run(dataset, "search", UNKNOWN)

    @pytest.fixture
    def as_json(self, shared_run: SharedRun, dataset: Dataset) -> Outcome:
        return shared_run(dataset, "search", UNKNOWN, "--json")

    def test_exits_0(self, text: Outcome) -> None:
        assert text.run.returncode == 0

    def test_says_in_one_line_that_no_paper_has_that_id(self, text: Outcome) -> None:
        assert [line for line in text.run.stdout.splitlines() if "No paper" in line] == [
            f"(No paper {UNKNOWN} on Hugging Face or arXiv)"
        ]

    def test_json_is_an_empty_array(self, as_json: Outcome) -> None:
        assert as_json.run.json() == []

    def test_json_mode_says_so_in_one_line_on_stderr(self, as_json: Outcome) -> None:
        assert as_json.run.stderr == f"No paper {UNKNOWN} on Hugging Face or arXiv\n"

    def test_asks_both_hugging_face_and_arxiv(self, as_json: Outcome) -> None:
        assert (as_json.hf.requests[f"/api/papers/{UNKNOWN}"],
                as_json.arxiv.requests["/api/query"]) == (1, 1)


# --- merged with Hugging Face search --------------------------------------------------------


def _kazakh_results(source: str) -> list[Item]:
    """Hugging Face's recorded answer to q=kazakh: the 3-result sample, or all 9."""
    if source == "sample":
        return load_items(KAZAKH_SAMPLE)
    return load_items(shared_fixture(KAZAKH_FULL))


@pytest.fixture(params=["sample", "full"])
def kazakh_source(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def kazakh_results(kazakh_source: str) -> list[Item]:
    return _kazakh_results(kazakh_source)


@pytest.fixture
def hf_answers_kazakh(
    fake_hf: FakeHuggingFace, kazakh_results: list[Item]
) -> FakeHuggingFace:
    fake_hf.searches["kazakh"] = kazakh_results
    return fake_hf


KAZAKH_SEARCH = ("search", "kazakh", "--json", "--limit", "20")


@pytest.fixture
def kazakh_json(
    shared_run: SharedRun, dataset: Dataset, kazakh_results: list[Item], kazakh_source: str
) -> Run:
    return shared_run(dataset, *KAZAKH_SEARCH, hf_state=f"kazakh-{kazakh_source}").run


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
class TestRemoteMerge:
    def test_papers_only_hugging_face_knows_are_remote_matches(
        self, kazakh_json: Run, kazakh_results: list[Item]
    ) -> None:
        remote_only = {item["paper"]["id"] for item in kazakh_results} - {KAZPARC}
        assert {row["id"]: row["match"] for row in kazakh_json.json()
                if row["id"] in remote_only} == dict.fromkeys(remote_only, "remote")

    def test_a_paper_found_by_both_appears_once(self, kazakh_json: Run) -> None:
        assert _ids(kazakh_json).count(KAZPARC) == 1

    def test_a_paper_found_by_both_keeps_its_local_record(self, kazakh_json: Run) -> None:
        assert _match(kazakh_json, KAZPARC) == "local"

    def test_results_are_unique_by_id(self, kazakh_json: Run) -> None:
        ids = _ids(kazakh_json)
        assert len(ids) == len(set(ids))

    async def test_remote_matches_are_in_the_local_index_next_time(
        self, cli: Paperboy, hf_answers_kazakh: FakeHuggingFace
    ) -> None:
        await cli(*KAZAKH_SEARCH)
        hf_answers_kazakh.searches.clear()  # now Hugging Face only knows the backfilled months
        again = await cli(*KAZAKH_SEARCH)
        assert _match(again, KAZQAD) == "local"


# --- Hugging Face slow or failing -------------------------------------------------------


@pytest.fixture(params=["hanging", "http-500"])
def degraded_search(
    request: pytest.FixtureRequest, shared_run: SharedRun, dataset: Dataset
) -> Run:
    """A text search while Hugging Face search never answers, or answers 500 to every retry.
    The shared run fails if the child is still running after GUARD seconds."""
    return shared_run(dataset, "search", dataset.words, hf_state=request.param).run


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
class TestHuggingFaceSearchDegraded:
    def test_exits_0(self, degraded_search: Run) -> None:
        assert degraded_search.returncode == 0

    def test_still_shows_the_local_result(self, degraded_search: Run, dataset: Dataset) -> None:
        assert f"[{dataset.target}, local]" in degraded_search.stdout

    def test_says_the_results_are_local_only(self, degraded_search: Run) -> None:
        assert "(local results only: Hugging Face search" in degraded_search.stdout


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
def test_json_mode_says_the_results_are_local_only_on_stderr(
    shared_run: SharedRun, dataset: Dataset
) -> None:
    run = shared_run(dataset, "search", dataset.words, "--json", hf_state="hanging").run
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
    @pytest.fixture
    def refused(self, shared_run: SharedRun, dataset: Dataset, query: str) -> Outcome:
        return shared_run(dataset, "search", query)

    def test_exits_2(self, refused: Outcome) -> None:
        assert refused.run.returncode == 2

    def test_error_is_one_line_on_stderr(self, refused: Outcome) -> None:
        assert _one_line(refused.run.stderr)

    def test_error_has_no_traceback(self, refused: Outcome) -> None:
        assert "Traceback" not in refused.run.stderr

    def test_nothing_is_printed_to_stdout(self, refused: Outcome) -> None:
        assert refused.run.stdout == ""

    def test_nothing_is_sent_upstream(self, refused: Outcome) -> None:
        assert refused.hf.total_requests == 0


@pytest.mark.parametrize("dataset", ["fixtures"], indirect=True)
def test_an_overlong_query_is_not_echoed(shared_run: SharedRun, dataset: Dataset) -> None:
    run = shared_run(dataset, "search", BAD_QUERIES["5000-characters"]).run
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
    @pytest.fixture
    def searched(self, shared_run: SharedRun, dataset: Dataset, query: str) -> Run:
        return shared_run(dataset, "search", query, "--json").run

    def test_exits_0(self, searched: Run) -> None:
        assert searched.returncode == 0

    def test_prints_nothing_on_stderr(self, searched: Run) -> None:
        assert searched.stderr == ""


# --- the index: rebuilt, and kept between processes ----------------------------------------


@pytest.fixture
def rebuilt(shared_run: SharedRun, dataset: Dataset) -> Run:
    return shared_run(dataset, "index", "rebuild").run


def test_index_rebuild_exits_0(rebuilt: Run) -> None:
    assert rebuilt.returncode == 0


def test_index_rebuild_counts_every_backfilled_paper(rebuilt: Run, dataset: Dataset) -> None:
    assert rebuilt.stdout.strip() == f"search index rebuilt: {len(dataset.paper_ids)} papers"


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
