"""`paperboy summaries test` against a fake OpenAI-compatible server (one request: latency,
guard verdict, answer) and `paperboy config check` warning when the LLM's timeout is below
the speed it measured, or below a local model's likely speed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from tests.fakes.llm_server import COMPLETIONS, FakeOpenAI
from tests.scenarios.conftest import RunPaperboy

WriteConfig = Callable[..., Path]
KEY = "sk-probe-0123456789abcdef-secret"


def _config(write_config: WriteConfig, url: str, **settings: object) -> Path:
    lines = ["[summaries]", f"base_url = {json.dumps(url)}", 'model = "fake-model"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    # The Hugging Face URL is never asked by these commands.
    return write_config("http://127.0.0.1:9", extra="\n".join(lines) + "\n")


async def test_summaries_test_shows_latency_verdict_and_answer(
    write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    async with FakeOpenAI(delay=0.3, style="preamble") as llm:
        config = _config(write_config, llm.v1)
        run = await paperboy("--config", str(config), "summaries", "test")
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(": ", 1) for line in run.stdout.splitlines())
    assert float(lines["latency"].split("s")[0]) >= 0.3
    assert lines["guard"] == "accepted"
    assert lines["answer"].startswith("Sure! Here is a TL;DR of the paper:")
    assert lines["tldr"] == "This paper presents TinyRoute: Routing Questions to the " \
        "Smallest Model That Can Answer Them."
    assert llm.completions == 1


async def test_summaries_test_says_why_the_guard_refused_and_fails(
    write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    async with FakeOpenAI(style="refusal") as llm:
        run = await paperboy("--config", str(_config(write_config, llm.v1)), "summaries", "test")
    assert run.returncode == 1
    assert "guard: rejected: refusal" in run.stdout.splitlines()


async def test_summaries_test_reports_a_refused_key_without_showing_it(
    write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    async with FakeOpenAI(api_key="another-key") as llm:
        run = await paperboy("--config", str(_config(write_config, llm.v1)), "summaries",
                             "test", env={"OPENAI_API_KEY": KEY})
    assert run.returncode == 1
    assert "guard: failed: HTTP 401" in run.stdout.splitlines()
    assert KEY not in run.stdout + run.stderr


async def test_config_check_warns_when_the_timeout_is_below_the_measured_speed(
    write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    async with FakeOpenAI(delay=0.4) as llm:
        config = _config(write_config, llm.v1, timeout=0.2)
        await paperboy("--config", str(config), "summaries", "test")
        run = await paperboy("--config", str(config), "config", "check")
    warnings = [line for line in run.stdout.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1
    measured = re.match(r"warning: \[summaries\] timeout = 0.2 is too short: `paperboy "
                        r"summaries test` measured ([\d.]+)s per paper", warnings[0])
    assert measured is not None, warnings[0]
    assert float(measured[1]) >= 0.4
    assert run.stdout.rstrip().endswith("config OK")


async def test_config_check_is_quiet_when_the_timeout_fits_the_measured_speed(
    write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    async with FakeOpenAI() as llm:
        config = _config(write_config, llm.v1, timeout=30)
        await paperboy("--config", str(config), "summaries", "test")
        run = await paperboy("--config", str(config), "config", "check")
    assert [line for line in run.stdout.splitlines() if line.startswith("warning")] == []


async def test_config_check_warns_about_a_local_model_with_a_short_timeout(
    write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    config = _config(write_config, "http://localhost:11434/v1", timeout=20)
    run = await paperboy("--config", str(config), "config", "check")
    assert any(line.startswith("warning: [summaries] timeout = 20 is too short: a local model")
               for line in run.stdout.splitlines())


async def test_a_failed_request_counts_as_no_measurement(
    write_config: WriteConfig, paperboy: RunPaperboy,
) -> None:
    async with FakeOpenAI() as llm:
        llm.fail_next(COMPLETIONS, status=500)
        config = _config(write_config, llm.v1, timeout=0.2)
        probe = await paperboy("--config", str(config), "summaries", "test")
        run = await paperboy("--config", str(config), "config", "check")
    assert "guard: failed: HTTP 500" in probe.stdout.splitlines()
    # The fake listens on 127.0.0.1: only the likely speed of a local model is left to go by.
    assert [line for line in run.stdout.splitlines() if "measured" in line] == []
