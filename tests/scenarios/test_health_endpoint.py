"""`GET /healthz` and `paperboy status` of a real `paperboy run` (console, fake Hugging Face).

The installed command runs as a child process with `[health] port` set; the test asks the
endpoint over HTTP, runs the container's probe (`python -m paperboy.healthcheck`) and
`paperboy status` from other processes, and makes the bot unhealthy for real: Hugging Face
answers 503 to every attempt of a fetch (after the client's retries the fetch has failed),
then recovers. Ctrl-C turns the report unhealthy ("stopping") before the bot exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.ports import free_port
from tests.scenarios.conftest import CHILD_TIMEOUT, RunPaperboy, child_environment
from tests.scenarios.test_console_run import Console, console_channel

# The client tries a fetch three times; failing all three makes the fetch fail.
ATTEMPTS = 3


@pytest_asyncio.fixture
async def health_port() -> int:
    return free_port()


@pytest_asyncio.fixture
async def bot(
    tmp_path: Path, write_config: Callable[..., Path], hf: FakeHuggingFace, health_port: int
) -> AsyncIterator[Console]:
    config = write_config(hf.base_url, channels=console_channel(),
                          extra=f"\n[health]\nport = {health_port}\n")
    console = await Console.start("--config", str(config), cwd=tmp_path)
    try:
        await console.wait_ready()
        yield console
    finally:
        await console.stop()


async def healthz(port: int) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{port}/healthz")
    return response.status_code, response.json()


async def probe(port: int) -> tuple[int, str]:
    """The image's HEALTHCHECK command, as Docker runs it, against `port`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "paperboy.healthcheck",
        env=child_environment({"PAPERBOY_HEALTH_PORT": str(port),
                               "PAPERBOY_HEALTH_HOST": "0.0.0.0"}),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def fetch_fails(bot: Console, hf: FakeHuggingFace) -> None:
    hf.fail_next("/api/daily_papers", status=503, times=ATTEMPTS)
    assert "failed" in (await bot.reply("/papers today")).lower()


async def test_healthy_bot_answers_200(bot: Console, health_port: int) -> None:
    status, _ = await healthz(health_port)
    assert status == 200


async def test_report_names_the_console_connection(bot: Console, health_port: int) -> None:
    _, report = await healthz(health_port)
    assert report["adapters"] == [{"platform": "console", "team": "console",
                                   "connected": True}]


async def test_report_gives_the_next_post_per_channel(bot: Console, health_port: int) -> None:
    _, report = await healthz(health_port)
    when = datetime.fromisoformat(report["next_posts"]["console"])
    assert timedelta(hours=5) < when - datetime.now(UTC) < timedelta(hours=7)


async def test_heartbeat_is_seconds_old(bot: Console, health_port: int) -> None:
    _, report = await healthz(health_port)
    assert datetime.now(UTC) - datetime.fromisoformat(report["heartbeat"]) < timedelta(
        seconds=10)


async def test_report_lists_no_paused_channel_and_no_problem(
    bot: Console, health_port: int
) -> None:
    _, report = await healthz(health_port)
    assert (report["paused"], report["problems"]) == ([], [])


async def test_successful_fetch_is_reported(
    bot: Console, hf: FakeHuggingFace, health_port: int
) -> None:
    await bot.reply("/papers today")
    _, report = await healthz(health_port)
    assert report["last_fetch"]["ok_at"] is not None


async def test_hugging_face_down_makes_the_bot_unhealthy(
    bot: Console, hf: FakeHuggingFace, health_port: int
) -> None:
    await fetch_fails(bot, hf)
    status, report = await healthz(health_port)
    assert status == 503
    assert "fetching papers failed" in report["problems"][0]


async def test_bot_is_healthy_again_once_a_fetch_succeeds(
    bot: Console, hf: FakeHuggingFace, health_port: int
) -> None:
    await fetch_fails(bot, hf)
    await bot.reply("/papers today")
    status, _ = await healthz(health_port)
    assert status == 200


async def test_container_probe_passes_against_a_healthy_bot(
    bot: Console, health_port: int
) -> None:
    assert await probe(health_port) == (0, "healthy (200)\n")


async def test_container_probe_fails_against_an_unhealthy_bot(
    bot: Console, hf: FakeHuggingFace, health_port: int
) -> None:
    await fetch_fails(bot, hf)
    code, said = await probe(health_port)
    assert (code, said.startswith("unhealthy (503): fetching papers failed")) == (1, True)


async def test_container_probe_fails_when_nothing_listens() -> None:
    code, said = await probe(free_port())
    assert (code, said.startswith("no answer from")) == (1, True)


async def test_other_paths_are_not_found(bot: Console, health_port: int) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{health_port}/")
    assert response.status_code == 404


async def test_status_json_beside_the_running_bot_says_healthy(
    bot: Console, paperboy: RunPaperboy, tmp_path: Path
) -> None:
    run = await paperboy("--config", str(tmp_path / "config.toml"), "status", "--json")
    assert (run.returncode, json.loads(run.stdout)["healthy"]) == (0, True), run.stderr


async def test_status_reports_the_failed_fetch_and_exits_1(
    bot: Console, hf: FakeHuggingFace, paperboy: RunPaperboy, tmp_path: Path
) -> None:
    await fetch_fails(bot, hf)
    await asyncio.sleep(0.5)  # the bot writes its status file as soon as it changes
    run = await paperboy("--config", str(tmp_path / "config.toml"), "status")
    assert run.returncode == 1
    assert "problem: fetching papers failed" in run.stdout


async def test_bot_keeps_answering_after_status_read_its_file(
    bot: Console, paperboy: RunPaperboy, tmp_path: Path
) -> None:
    run = await paperboy("--config", str(tmp_path / "config.toml"), "status")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "/papers search" in await bot.reply("/papers help")


async def test_status_after_ctrl_c_says_the_bot_stopped(
    bot: Console, paperboy: RunPaperboy, tmp_path: Path
) -> None:
    assert await bot.interrupt() == 130
    run = await paperboy("--config", str(tmp_path / "config.toml"), "status", "--json")
    report = json.loads(run.stdout)
    assert (run.returncode, report["stopping"], report["stopped_at"] is not None) == (
        1, True, True)
    assert report["problems"][0].startswith("the bot stopped at")


async def test_status_without_a_running_bot_says_so(
    paperboy: RunPaperboy, write_config: Callable[..., Path], hf: FakeHuggingFace
) -> None:
    config = write_config(hf.base_url)
    run = await paperboy("--config", str(config), "status")
    assert (run.returncode, "has not run" in run.stderr) == (1, True)
