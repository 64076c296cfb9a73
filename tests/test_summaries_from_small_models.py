"""The TL;DR chain against an OpenAI-compatible server answering like small local models do
(tests.fakes.llm_server.FakeOpenAI over real HTTP): what is kept, what falls back, what is
sent (max_tokens, temperature = 0, and without them when the server refuses either), and
one warning per batch with its counts."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from bot.config import SummariesConfig
from bot.models import Paper, Summary
from bot.store.memory import MemoryStore
from bot.summaries import Summarizer
from bot.summaries.llm import MAX_TOKENS
from tests.fakes.llm_server import COMPLETIONS, FakeOpenAI

TITLE = "MemoNav: Memory for Web Agents"
ABSTRACT = (
    "Large language models are increasingly used as agents, yet they fail on long tasks. "
    "In this paper, we propose MemoNav, a memory module that lets agents revisit pages."
)
GUARD = 5.0  # no test here may hang: a summariser that waits too long fails instead


def _papers(n: int = 1) -> list[Paper]:
    return [Paper(arxiv_id=f"2509.{i:05d}", title=TITLE, abstract=ABSTRACT, authors=())
            for i in range(1, n + 1)]


async def _run(server: FakeOpenAI, n: int = 1, **config: object) -> dict[str, Summary]:
    settings = SummariesConfig(base_url=server.v1, model="qwen2.5:1.5b", **config)  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http, asyncio.timeout(GUARD):
        summarizer = Summarizer(MemoryStore(), settings, http=http)
        try:
            return await summarizer.summarize(_papers(n))
        finally:
            await summarizer.aclose()


async def test_a_too_long_answer_keeps_whole_sentences_and_no_cut_word() -> None:
    async with FakeOpenAI(style="too_long") as server:
        summary = (await _run(server))["2509.00001"]
    assert summary.source == "llm"
    assert len(summary.text) <= 300
    assert summary.text.endswith(".")  # whole sentences, not "… during subsequent…"
    assert summary.text.startswith(f"This paper presents {TITLE}")


@pytest.mark.parametrize("style", ["preamble", "markdown", "template"])
async def test_chatter_around_the_tldr_is_removed(style: str) -> None:
    async with FakeOpenAI(style=style) as server:
        summary = (await _run(server))["2509.00001"]
    assert (summary.source, summary.text) == ("llm", f"This paper presents {TITLE}.")


@pytest.mark.parametrize("style", ["refusal", "mention", "domain"])
async def test_a_refusal_a_mention_or_a_bare_domain_falls_back_offline(style: str) -> None:
    async with FakeOpenAI(style=style) as server:
        summary = (await _run(server))["2509.00001"]
    assert summary.source == "extractive"
    assert summary.text.startswith("In this paper, we propose MemoNav")


async def test_max_tokens_and_temperature_zero_are_sent() -> None:
    async with FakeOpenAI() as server:
        await _run(server)
    assert (server.bodies[0]["max_tokens"], server.bodies[0]["temperature"]) == (MAX_TOKENS, 0)


@pytest.mark.parametrize("refused", ["max_tokens", "temperature"])
async def test_a_server_refusing_a_parameter_is_asked_again_without_it(refused: str) -> None:
    async with FakeOpenAI(refuse_params={refused}) as server:
        result = await _run(server, n=3, concurrency=1)
    assert {s.source for s in result.values()} == {"llm"}
    # One refusal, then every request goes without the parameter.
    assert [refused in body for body in server.bodies] == [True, False, False, False]


async def test_max_tokens_refused_is_sent_as_max_completion_tokens() -> None:
    async with FakeOpenAI(refuse_params={"max_tokens"}) as server:
        await _run(server)
    assert server.bodies[-1].get("max_completion_tokens") == MAX_TOKENS


async def test_a_server_ignoring_the_model_name_is_fine() -> None:
    async with FakeOpenAI(served_model="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf") as server:
        summary = (await _run(server))["2509.00001"]
    assert (summary.source, summary.model) == ("llm", "qwen2.5:1.5b")


async def test_a_slow_model_past_its_timeout_falls_back() -> None:
    async with FakeOpenAI(delay=1.0) as server:
        summary = (await _run(server, timeout=0.1))["2509.00001"]
    assert summary.source == "extractive"


@pytest.mark.parametrize("status", [401, 500])
async def test_an_error_status_falls_back(status: int) -> None:
    async with FakeOpenAI() as server:
        server.fail_next(COMPLETIONS, status=status, times=3)
        result = await _run(server, n=3)
    assert {s.source for s in result.values()} == {"extractive"}


async def test_a_batch_logs_one_warning_with_its_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.summaries")
    async with FakeOpenAI(style="refusal") as server:
        server.fail_next(COMPLETIONS, status=500, times=2)
        await _run(server, n=5, concurrency=1)
    assert [r.getMessage() for r in caplog.records] == [
        "LLM: 5 of 5 TL;DRs use the offline TL;DR (3 rejected by the guard: refusal, "
        "2 HTTP 500)"
    ]
