"""Specification of the TL;DR chain: HF summary, then an OpenAI-compatible LLM, then the
offline extractive TL;DR — with the LLM faked at the HTTP boundary by a local server
(tests/fakes/llm_server.py) answering in the /v1/chat/completions shape."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

import httpx
import pytest

from bot.config import SummariesConfig
from bot.models import Paper, Summary
from bot.store.memory import MemoryStore
from bot.summaries import Summarizer, extractive_tldr, split_sentences
from tests.conftest import corpus_path
from tests.fakes.llm_server import COMPLETIONS, FakeOpenAI
from tests.fakes.refusing_port import refusing_url

KEY = "sk-test-0123456789abcdef-secret"
MODEL = "tiny-llm"

ABSTRACT = (
    "Large language models are increasingly used as agents, e.g. for web browsing, yet "
    "they fail on long tasks (Smith et al. 2024). Prior work scales context to 3.5 million "
    "tokens. In this paper, we propose MemoNav, a memory module that lets agents revisit "
    "pages. Experiments on 12 benchmarks show gains of 8.5 points."
)


def _paper(arxiv_id: str = "2509.00001", *, abstract: str = ABSTRACT, **fields: object) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        title=str(fields.pop("title", "MemoNav: Memory for Web Agents")),
        abstract=abstract,
        authors=("Ada Lovelace",),
        **fields,  # type: ignore[arg-type]
    )


ANSWER = "MemoNav adds a memory module that lets web agents revisit pages."
# Enough failures queued that every request of a test meets one: an upstream that stays down.
ALWAYS = 100


def _llm(content: str = ANSWER) -> FakeOpenAI:
    """The local fake LLM (not started yet) answering `content` to every request."""
    return FakeOpenAI(content=content)


def _failing(**failure: Any) -> FakeOpenAI:
    """A fake LLM whose every answer is the given failure (see FakeServer.fail_next)."""
    llm = _llm()
    llm.fail_next(COMPLETIONS, times=ALWAYS, **failure)
    return llm


def _config(base_url: str, **fields: object) -> SummariesConfig:
    return SummariesConfig(base_url=base_url, model=MODEL, **fields)  # type: ignore[arg-type]


# --- extractive --------------------------------------------------------------------------


def test_extractive_picks_the_contribution_sentence_over_background() -> None:
    tldr = extractive_tldr(_paper())
    assert tldr.startswith("In this paper, we propose MemoNav")


def test_extractive_adds_the_next_sentence_when_both_fit() -> None:
    tldr = extractive_tldr(_paper())
    assert tldr.endswith("Experiments on 12 benchmarks show gains of 8.5 points.")


def test_sentences_are_not_split_at_eg_et_al_or_decimals() -> None:
    sentences = split_sentences(ABSTRACT)
    assert len(sentences) == 4


def test_sentences_are_not_split_after_initials() -> None:
    sentences = split_sentences("Built on work by J. Smith and A. B. Jones. We propose X.")
    assert sentences == ["Built on work by J. Smith and A. B. Jones.", "We propose X."]


def test_extractive_prefers_we_introduce_over_a_result_sentence() -> None:
    abstract = ("We show that agents forget. We introduce Recall, a cache for agents. "
                "We find it helps.")
    assert extractive_tldr(_paper(abstract=abstract)).startswith("We introduce Recall")


def test_extractive_without_a_contribution_cue_takes_the_first_sentence() -> None:
    abstract = "Robots fall over on ice. Ice is slippery."
    assert extractive_tldr(_paper(abstract=abstract)) == abstract


def test_extractive_cuts_a_long_sentence_at_a_word_boundary() -> None:
    words = " ".join(f"word{i}" for i in range(100))
    tldr = extractive_tldr(_paper(abstract=f"We propose {words}."))
    assert tldr == ("We propose " + " ".join(f"word{i}" for i in range(100)))[:299].rsplit(
        " ", 1)[0] + "…"


def test_extractive_is_at_most_300_characters() -> None:
    words = " ".join(f"word{i}" for i in range(100))
    assert len(extractive_tldr(_paper(abstract=f"We propose {words}."))) <= 300


def test_extractive_normalises_whitespace() -> None:
    tldr = extractive_tldr(_paper(abstract="We propose\n  a   new\tthing.\n"))
    assert tldr == "We propose a new thing."


def test_extractive_falls_back_to_the_title_when_there_is_no_abstract() -> None:
    assert extractive_tldr(_paper(abstract="  ")) == "MemoNav: Memory for Web Agents"


def test_extractive_is_never_empty() -> None:
    assert extractive_tldr(_paper(abstract="", title="")) == "arXiv:2509.00001"


def _corpus_papers() -> list[Paper]:
    with corpus_path().open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    return [_paper(r["arxiv_id"], abstract=r["abstract"], title=r["title"]) for r in records]


@functools.cache
def _corpus_tldrs() -> list[tuple[Paper, str]]:
    # 8,036 TL;DRs take about a second: made once for the tests that sweep them all.
    return [(paper, extractive_tldr(paper)) for paper in _corpus_papers()]


@pytest.mark.corpus
def test_extractive_on_real_abstracts_picks_the_contribution_sentence() -> None:
    papers = {p.arxiv_id: p for p in _corpus_papers()}
    starts = {
        # background first, then "In this paper, we propose …"
        "2305.02483": "In this paper, we propose a tri-agent generation pipeline",
        # "Diffusion models have recently achieved …" first
        # "… To tackle these, in this paper we introduce …": the back-reference is dropped
        "2406.16260": "In this paper we introduce Video-Infinity",
        "2305.02463": "We present Shap-E, a conditional generative model for 3D assets.",
        "2412.15115": "In this report, we introduce Qwen2.5",
    }
    found = {i: extractive_tldr(papers[i])[: len(s)] for i, s in starts.items()}
    assert found == starts


@pytest.mark.corpus
def test_extractive_on_every_real_abstract_is_within_300_and_never_empty() -> None:
    tldrs = [tldr for _, tldr in _corpus_tldrs()]
    assert [t for t in tldrs if not t or len(t) > 300] == []


@pytest.mark.corpus
def test_extractive_on_real_abstracts_cuts_only_at_word_boundaries() -> None:
    broken = []
    for paper, tldr in _corpus_tldrs():
        if tldr.endswith("…"):
            # The TL;DR may rephrase its opening; its last words are the abstract's own.
            kept = tldr[:-1][-60:]
            source = " ".join(split_sentences(paper.abstract))
            after = source[source.index(kept) + len(kept):]
            if not after.startswith(" ") and after[:1] not in ",;:":
                broken.append(paper.arxiv_id)
    assert broken == []


# --- step 1: Hugging Face's summary --------------------------------------------------------


async def test_hf_ai_summary_is_used_first_without_calling_the_llm() -> None:
    async with _llm() as llm, httpx.AsyncClient() as http:
        summarizer = Summarizer(MemoryStore(), _config(llm.v1), http=http, api_key=KEY)
        result = await summarizer.summarize([_paper(ai_summary="HF says: memory for agents.")])
    assert result["2509.00001"] == Summary("HF says: memory for agents.", "huggingface")
    assert llm.total_requests == 0


async def test_hf_ai_summary_is_trimmed_to_300_at_a_word_boundary() -> None:
    long = "memory " * 60
    result = await Summarizer(MemoryStore()).summarize([_paper(ai_summary=long)])
    assert result["2509.00001"].text == ("memory " * 42).strip() + "…"


async def test_hf_ai_summary_is_not_cached() -> None:
    store = MemoryStore()
    await Summarizer(store).summarize([_paper(ai_summary="HF says so.")])
    assert await store.get_summaries(["2509.00001"], "huggingface", None) == {}


# --- step 2: the LLM ---------------------------------------------------------------------


async def test_llm_summary_is_used_when_the_paper_has_no_ai_summary() -> None:
    async with _llm() as llm, httpx.AsyncClient() as http:
        result = await Summarizer(MemoryStore(), _config(llm.v1), http=http).summarize(
            [_paper()])
    assert result["2509.00001"] == Summary(ANSWER, "llm", MODEL)


async def test_llm_request_names_the_model_and_sends_title_and_abstract() -> None:
    async with _llm() as llm, httpx.AsyncClient() as http:
        await Summarizer(MemoryStore(), _config(llm.v1), http=http).summarize([_paper()])
    body = llm.bodies[0]
    assert body["model"] == MODEL
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "In this paper, we propose MemoNav" in body["messages"][1]["content"]


@pytest.mark.parametrize("root", ["", "/", "/v1", "/v1/"])
async def test_base_url_with_or_without_v1_reaches_chat_completions(root: str) -> None:
    async with _llm() as llm, httpx.AsyncClient() as http:
        config = _config(llm.base_url + root)
        await Summarizer(MemoryStore(), config, http=http).summarize([_paper()])
    assert llm.urls[0] == f"{llm.base_url}/v1/chat/completions"


async def test_vendor_api_root_is_used_as_given() -> None:
    async with FakeOpenAI(content=ANSWER, api_root="/v1beta/openai") as llm, \
            httpx.AsyncClient() as http:
        config = _config(f"{llm.base_url}/v1beta/openai")
        await Summarizer(MemoryStore(), config, http=http).summarize([_paper()])
    assert llm.urls[0] == f"{llm.base_url}/v1beta/openai/chat/completions"


def _headers(llm: FakeOpenAI) -> dict[str, str]:
    """The first request's headers, names lower-cased (HTTP names are case-blind)."""
    return {name.lower(): value for name, value in llm.calls[0].headers.items()}


async def test_authorization_header_carries_the_key() -> None:
    async with _llm() as llm, httpx.AsyncClient() as http:
        await Summarizer(MemoryStore(), _config(llm.v1), http=http, api_key=KEY).summarize(
            [_paper()])
    assert _headers(llm)["authorization"] == f"Bearer {KEY}"


async def test_no_authorization_header_without_a_key() -> None:
    async with _llm() as llm, httpx.AsyncClient() as http:
        await Summarizer(MemoryStore(), _config(llm.v1), http=http).summarize([_paper()])
    assert "authorization" not in _headers(llm)


async def test_llm_summary_is_cached_so_a_second_call_sends_nothing() -> None:
    store = MemoryStore()
    async with _llm() as llm, httpx.AsyncClient() as http:
        summarizer = Summarizer(store, _config(llm.v1), http=http)
        await summarizer.summarize([_paper()])
        await summarizer.summarize([_paper()])
    assert llm.completions == 1
    assert summarizer.llm_calls == 1
    assert summarizer.cache_hits == 1


async def test_llm_cache_outlives_the_summarizer_instance() -> None:
    store = MemoryStore()
    async with _llm() as llm, httpx.AsyncClient() as http:
        await Summarizer(store, _config(llm.v1), http=http).summarize([_paper()])
        again = Summarizer(store, _config(llm.v1), http=http)
        result = await again.summarize([_paper()])
    assert llm.completions == 1
    assert result["2509.00001"].source == "llm"


async def test_llm_cache_is_per_model() -> None:
    store = MemoryStore()
    async with _llm() as llm, httpx.AsyncClient() as http:
        await Summarizer(store, _config(llm.v1), http=http).summarize([_paper()])
        other = SummariesConfig(base_url=llm.v1, model="bigger-llm")
        await Summarizer(store, other, http=http).summarize([_paper()])
    assert llm.completions == 2


async def test_duplicate_papers_in_one_batch_are_summarised_once() -> None:
    async with _llm() as llm, httpx.AsyncClient() as http:
        await Summarizer(MemoryStore(), _config(llm.v1), http=http).summarize(
            [_paper(), _paper()])
    assert llm.completions == 1


async def _summary_of_answer(content: str) -> str:
    async with _llm(content) as llm, httpx.AsyncClient() as http:
        result = await Summarizer(MemoryStore(), _config(llm.v1), http=http).summarize(
            [_paper()])
    return result["2509.00001"].text


async def test_quotes_markdown_and_labels_are_stripped_from_the_answer() -> None:
    text = await _summary_of_answer('TL;DR: "**MemoNav** lets web agents revisit pages."')
    assert text == "MemoNav lets web agents revisit pages."


async def test_reasoning_scratchpad_is_dropped_from_the_answer() -> None:
    text = await _summary_of_answer(
        "<think>The user wants a TL;DR.</think>\nMemoNav lets agents revisit pages.")
    assert text == "MemoNav lets agents revisit pages."


async def test_long_llm_answer_is_trimmed_to_300() -> None:
    text = await _summary_of_answer("MemoNav " + "helps agents " * 40)
    assert len(text) <= 300


# --- LLM failures fall back to extractive ---------------------------------------------------


async def _summarize_with(
    llm: FakeOpenAI, *, base_url: str | None = None, api_key: str = KEY, **config: object
) -> tuple[Summary, MemoryStore]:
    """Start `llm`, summarise one paper through it (or through `base_url`), stop it."""
    store = MemoryStore()
    async with llm, httpx.AsyncClient() as http:
        settings = _config(base_url or llm.v1, **config)
        summarizer = Summarizer(store, settings, http=http, api_key=api_key)
        result = await summarizer.summarize([_paper()])
    return result["2509.00001"], store


EXTRACTIVE = Summary(extractive_tldr(_paper()), "extractive")


async def test_http_500_falls_back_to_extractive() -> None:
    summary, _ = await _summarize_with(_failing(status=500))
    assert summary == EXTRACTIVE


async def test_answer_with_a_link_falls_back_to_extractive() -> None:
    summary, _ = await _summarize_with(_llm("MemoNav, see https://evil.example/x for code."))
    assert summary == EXTRACTIVE


async def test_answer_with_a_number_not_in_the_abstract_falls_back_to_extractive() -> None:
    summary, _ = await _summarize_with(_llm("MemoNav improves agents by 40 points."))
    assert summary == EXTRACTIVE


async def test_answer_with_numbers_from_the_abstract_is_kept() -> None:
    summary, _ = await _summarize_with(_llm("MemoNav gains 8.5 points on 12 benchmarks."))
    assert summary.source == "llm"


async def test_empty_answer_falls_back_to_extractive() -> None:
    summary, _ = await _summarize_with(_llm('  ""  '))
    assert summary == EXTRACTIVE


async def test_answer_that_is_not_json_falls_back_to_extractive() -> None:
    summary, _ = await _summarize_with(_failing(status=200, body="<html>502 Bad Gateway</html>"))
    assert summary == EXTRACTIVE


async def test_answer_without_choices_falls_back_to_extractive() -> None:
    llm = _failing(status=200, body='{"error": "overloaded"}', content_type="application/json")
    summary, _ = await _summarize_with(llm)
    assert summary == EXTRACTIVE


# A hanging LLM never answers, so only the summariser's own deadline can end the call; the
# guard turns a summariser that waits for the LLM into a failure instead of a stalled run.
GUARD = 5.0


async def test_slow_llm_falls_back_to_extractive() -> None:
    async with asyncio.timeout(GUARD):
        summary, _ = await _summarize_with(_failing(hang=True), timeout=0.1)
    assert summary == EXTRACTIVE


async def _five_papers_behind_one_hanging_slot() -> tuple[int, dict[str, Summary]]:
    """The LLM requests the post sent, and its summaries."""
    papers = [_paper(f"2509.0000{i}") for i in range(5)]
    async with _failing(hang=True) as llm, httpx.AsyncClient() as http, \
            asyncio.timeout(GUARD):
        config = _config(llm.v1, timeout=60, wait=0.1, concurrency=1)
        summarizer = Summarizer(MemoryStore(), config, http=http)
        result = await summarizer.summarize(papers)
        requests = llm.completions  # as the post left them
        await summarizer.aclose()
    return requests, result


async def test_the_post_waits_no_longer_than_its_wait_whatever_the_timeout() -> None:
    # The four papers queued behind the hanging one never got a slot before the post's
    # wait ended: the LLM was asked once, and the post did not wait 5 × 60 s.
    requests, _ = await _five_papers_behind_one_hanging_slot()
    assert requests == 1


async def test_papers_past_the_wait_all_get_the_extractive_tldr() -> None:
    _, result = await _five_papers_behind_one_hanging_slot()
    assert [s.source for s in result.values()] == ["extractive"] * 5


async def test_each_paper_has_its_own_timeout() -> None:
    # A hanging request costs one timeout, then the next paper gets the slot and its own.
    papers = [_paper(f"2509.0000{i}") for i in range(3)]
    async with _failing(hang=True) as llm, httpx.AsyncClient() as http, \
            asyncio.timeout(GUARD):
        config = _config(llm.v1, timeout=0.1, wait=3, concurrency=1)
        result = await Summarizer(MemoryStore(), config, http=http).summarize(papers)
    assert llm.completions == 3
    assert {s.source for s in result.values()} == {"extractive"}


async def test_an_answer_after_the_wait_is_cached_for_the_next_post() -> None:
    store = MemoryStore()
    async with _llm() as llm, httpx.AsyncClient() as http, asyncio.timeout(GUARD):
        llm.hold()
        summarizer = Summarizer(store, _config(llm.v1, wait=0.05), http=http)
        first = await summarizer.summarize([_paper()])
        llm.release()
        await summarizer.idle()
        second = await summarizer.summarize([_paper()])
    assert (first["2509.00001"].source, second["2509.00001"].source) == ("extractive", "llm")
    assert llm.completions == 1


async def test_a_failed_llm_call_is_not_cached() -> None:
    _, store = await _summarize_with(_failing(status=500))
    cached = await store.get_summaries(["2509.00001"], "llm", MODEL)
    extractive = await store.get_summaries(["2509.00001"], "extractive", None)
    assert cached == {}
    assert extractive == {}


async def test_after_a_failure_the_next_run_asks_the_llm_again() -> None:
    store = MemoryStore()
    async with _llm("MemoNav lets agents revisit pages.") as llm, httpx.AsyncClient() as http:
        llm.fail_next(COMPLETIONS, status=500)
        summarizer = Summarizer(store, _config(llm.v1), http=http)
        await summarizer.summarize([_paper()])
        result = await summarizer.summarize([_paper()])
    assert llm.completions == 2
    assert result["2509.00001"].source == "llm"


async def test_llm_failure_logs_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.summaries.chain")
    await _summarize_with(_failing(status=500))
    assert [r.getMessage() for r in caplog.records] == [
        "LLM: 1 of 1 TL;DRs use the offline TL;DR (1 HTTP 500)"
    ]


async def test_the_key_never_appears_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await _summarize_with(_failing(status=401))
    await _summarize_with(_failing(status=200, body=KEY))
    assert KEY not in caplog.text


async def test_connection_error_falls_back_without_the_key_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    summary, _ = await _summarize_with(_llm(), base_url=refusing_url() + "/v1")
    assert summary == EXTRACTIVE
    assert KEY not in caplog.text


async def test_an_error_quoting_the_key_falls_back_without_the_key_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A key read from a file with its newline is an illegal header value: httpx refuses to
    # send it, with an error whose text quotes the header, key and all. (httpcore's own DEBUG
    # trace quotes it too; at DEBUG only the formatter's masking of secrets stands between.)
    caplog.set_level(logging.WARNING)
    summary, _ = await _summarize_with(_llm(), api_key=KEY + "\n")
    assert summary == EXTRACTIVE
    assert KEY not in caplog.text


async def test_concurrency_never_exceeds_the_configured_limit() -> None:
    papers = [_paper(f"2509.0000{i}") for i in range(6)]
    async with _llm() as llm, httpx.AsyncClient() as http:
        llm.hold()
        summarizer = Summarizer(MemoryStore(), _config(llm.v1, concurrency=2), http=http)
        task = asyncio.create_task(summarizer.summarize(papers))
        await llm.busy.wait()
        # Time for any request the bound does not hold back to reach the server.
        await asyncio.sleep(0.2)
        llm.release()
        await task
    assert llm.max_in_flight == 2
    assert llm.completions == 6


# --- step 3 on its own, and the store --------------------------------------------------------


async def test_without_an_llm_the_extractive_tldr_is_used_and_cached() -> None:
    store = MemoryStore()
    result = await Summarizer(store).summarize([_paper()])
    cached = await store.get_summaries(["2509.00001"], "extractive", None)
    assert result["2509.00001"] == EXTRACTIVE
    assert cached == {"2509.00001": EXTRACTIVE}


async def test_cached_extractive_counts_as_a_cache_hit() -> None:
    store = MemoryStore()
    await Summarizer(store).summarize([_paper()])
    summarizer = Summarizer(store)
    await summarizer.summarize([_paper()])
    assert summarizer.cache_hits == 1


async def test_readonly_store_is_not_written_and_summaries_still_come_back() -> None:
    store = MemoryStore()
    store.readonly = True
    async with _llm() as llm, httpx.AsyncClient() as http:
        result = await Summarizer(store, _config(llm.v1), http=http).summarize([_paper()])
    cached = await store.get_summaries(["2509.00001"], "llm", MODEL)
    assert result["2509.00001"].source == "llm"
    assert cached == {}


async def test_results_follow_the_input_order() -> None:
    papers = [_paper("2509.00003"), _paper("2509.00001", ai_summary="HF."),
              _paper("2509.00002")]
    result = await Summarizer(MemoryStore()).summarize(papers)
    assert list(result) == ["2509.00003", "2509.00001", "2509.00002"]


# --- over a real local server ------------------------------------------------------------------


async def test_llm_over_a_real_local_server_is_called_once_and_cached() -> None:
    store = MemoryStore()
    answer = "MemoNav lets agents revisit pages."
    async with FakeOpenAI(content=answer) as server, httpx.AsyncClient() as http:
        config = SummariesConfig(base_url=server.base_url + "/v1", model=MODEL)
        for _ in range(3):
            result = await Summarizer(store, config, http=http, api_key=KEY).summarize(
                [_paper()])
    assert server.completions == 1
    assert result["2509.00001"].source == "llm"


async def test_llm_over_a_real_local_server_receives_the_bearer_key() -> None:
    answer = "MemoNav lets agents revisit pages."
    async with FakeOpenAI(content=answer) as server, httpx.AsyncClient() as http:
        config = SummariesConfig(base_url=server.base_url, model=MODEL)
        await Summarizer(MemoryStore(), config, http=http, api_key=KEY).summarize([_paper()])
    assert server.calls[0].headers["Authorization"] == f"Bearer {KEY}"


async def test_hanging_real_server_falls_back_to_extractive() -> None:
    async with FakeOpenAI() as server:
        server.fail_next(COMPLETIONS, hang=True)
        config = SummariesConfig(base_url=server.base_url, model=MODEL, timeout=0.1)
        async with asyncio.timeout(GUARD):
            result = await Summarizer(MemoryStore(), config).summarize([_paper()])
    assert result["2509.00001"].source == "extractive"


# --- a refused key stops the LLM step for the batch ---------------------------------------

WRONG_KEY = "sk-wrong-0123456789abcdef-value"
BATCH = [_paper(f"2509.{i:05d}") for i in range(25)]


async def _batch_with_refused_key(
    *, api_key: str | None = WRONG_KEY, status: int | None = None, **config: object
) -> tuple[FakeOpenAI, dict[str, Summary]]:
    async with FakeOpenAI(api_key=KEY) as server, httpx.AsyncClient() as http:
        if status is not None:  # refuse whatever key arrives
            server.fail_next(COMPLETIONS, status=status, times=len(BATCH))
        settings = SummariesConfig(base_url=server.v1, model=MODEL, **config)  # type: ignore[arg-type]
        summarizer = Summarizer(MemoryStore(), settings, http=http, api_key=api_key)
        result = await summarizer.summarize(BATCH)
    return server, result


def _summarize_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "bot.summaries.chain" and r.levelno == logging.WARNING]


async def test_refused_key_gives_one_warning_for_the_whole_batch(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await _batch_with_refused_key()
    assert len(_summarize_warnings(caplog)) == 1


async def test_refused_key_warning_names_the_key_variable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await _batch_with_refused_key()
    assert _summarize_warnings(caplog) == [
        "LLM refused the key in OPENAI_API_KEY (HTTP 401): check that variable; "
        "25 of 25 TL;DRs use the offline TL;DR"
    ]


async def test_refused_key_warning_names_a_configured_key_variable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await _batch_with_refused_key(api_key_env="GROQ_API_KEY")
    assert "GROQ_API_KEY" in _summarize_warnings(caplog)[0]


async def test_refused_key_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await _batch_with_refused_key()
    assert WRONG_KEY not in caplog.text


async def test_missing_key_warning_says_the_variable_is_not_set(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await _batch_with_refused_key(api_key=None)
    assert _summarize_warnings(caplog) == [
        "LLM wants a key (HTTP 401) but OPENAI_API_KEY is not set; "
        "25 of 25 TL;DRs use the offline TL;DR"
    ]


async def test_forbidden_key_is_treated_like_a_refused_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await _batch_with_refused_key(api_key=KEY, status=403)
    assert _summarize_warnings(caplog) == [
        "LLM refused the key in OPENAI_API_KEY (HTTP 403): check that variable; "
        "25 of 25 TL;DRs use the offline TL;DR"
    ]


async def test_refused_key_stops_asking_the_llm_for_the_rest_of_the_batch() -> None:
    server, _ = await _batch_with_refused_key(concurrency=1)
    assert server.completions == 1


async def test_refused_key_asks_no_more_than_the_requests_already_in_flight() -> None:
    server, _ = await _batch_with_refused_key(concurrency=4)
    assert server.completions <= 4


async def test_refused_key_gives_every_paper_the_extractive_tldr() -> None:
    _, result = await _batch_with_refused_key()
    assert {summary.source for summary in result.values()} == {"extractive"}


async def test_next_batch_asks_the_llm_again_after_a_refused_key() -> None:
    async with FakeOpenAI(api_key=KEY) as server, httpx.AsyncClient() as http:
        server.fail_next(COMPLETIONS, status=401)
        settings = SummariesConfig(base_url=server.v1, model=MODEL, concurrency=1)
        summarizer = Summarizer(MemoryStore(), settings, http=http, api_key=KEY)
        await summarizer.summarize([_paper()])
        result = await summarizer.summarize([_paper()])
    assert result["2509.00001"].source == "llm"
