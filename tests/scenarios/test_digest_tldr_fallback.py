"""`paperboy digest` with an LLM too slow for its wait: the picks come out on time with the
offline TL;DR, and stderr says so in ONE line — how many TL;DRs fell back and why."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from bench.digest import without_hf_summaries
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.llm_server import FakeOpenAI
from tests.scenarios.conftest import DAY, RunPaperboy

WriteConfig = Callable[..., Path]


@pytest_asyncio.fixture
async def hf_without_summaries(
    sample_items: list[dict[str, Any]],
) -> AsyncIterator[FakeHuggingFace]:
    async with FakeHuggingFace(batches={DAY: without_hf_summaries(sample_items, every=1)}) \
            as server:
        yield server


def _llm_table(url: str, **settings: object) -> str:
    lines = ["[summaries]", f"base_url = {json.dumps(url)}", 'model = "fake-model"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


async def test_a_slow_llm_gives_offline_tldrs_and_one_line_saying_why(
    hf_without_summaries: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    async with FakeOpenAI(delay=2.0) as llm:
        config = write_config(hf_without_summaries.base_url,
                              extra=_llm_table(llm.v1, wait=0.2, timeout=30))
        run = await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert {row["summary_source"] for row in run.json()} == {"extractive"}
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        "LLM: 5 of 5 TL;DRs use the offline TL;DR (5 not answered within the 0.2s wait)"
    )


async def test_a_refusing_model_is_one_line_with_the_guards_reason(
    hf_without_summaries: FakeHuggingFace, write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    async with FakeOpenAI(style="refusal") as llm:
        config = write_config(hf_without_summaries.base_url, extra=_llm_table(llm.v1))
        run = await paperboy("--config", str(config), "digest", "--date", DAY, "--json")
    assert {row["summary_source"] for row in run.json()} == {"extractive"}
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        "LLM: 5 of 5 TL;DRs use the offline TL;DR (5 rejected by the guard: refusal)"
    )
