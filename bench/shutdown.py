"""How fast `paperboy run` answers /healthz, and how long SIGTERM takes to stop it.

The installed command runs as a child process, as in production, against the fakes in
tests/fakes on 127.0.0.1 (no internet):
- health: the console bot with `[health] port`; the time from start to the first 200, then
  `--requests` sequential `GET /healthz` (median, p99, max);
- idle stop: SIGTERM to a bot doing nothing, until it exits;
- stop mid fan-out: four Slack channels due two minutes ago post at start (the fake Web API
  takes 0.8 s per message), SIGTERM while a message is in flight; then a restart finishes
  the day, and every channel must hold its header and picks exactly once;
- hung message: Slack never answers chat.postMessage; SIGTERM until exit (bounded at 8 s).
Each stop is run `--runs` times. Prints a markdown section and rewrites its own section of
docs/benchmarks.md (with the machine and the load average). Exit status 1 when a stop takes
10 s or more, or a restart posts a message twice or leaves one out.
Run: .venv/bin/python bench/shutdown.py [--runs 3] [--requests 500] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._report import machine, write_section  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402
from tests.fakes.hf_server import FakeHuggingFace, load_items  # noqa: E402
from tests.fakes.ports import free_port  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.scenarios.conftest import PAPERBOY, child_environment, config_text  # noqa: E402

SECTION = "shutdown"
CHANNELS = ("C0BENCHA", "C0BENCHB", "C0BENCHC", "C0BENCHD")
POST = "/api/chat.postMessage"
ENV = {"SLACK_BOT_TOKEN": "xoxb-bench-0000-shutdown", "SLACK_SIGNING_SECRET": "bench-secret"}
TIMEOUT = 60.0


def write_config(work: Path, text: str) -> None:
    work.mkdir(parents=True)
    (work / "config.toml").write_text(text, "utf-8")


async def start(work: Path, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(PAPERBOY), "--config", str(work / "config.toml"), "run", cwd=work,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, env=child_environment(env),
    )


async def stop(process: asyncio.subprocess.Process) -> float:
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), TIMEOUT)
    return time.perf_counter() - started


async def until(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot never got there")
        await asyncio.sleep(0.01)


async def health(work: Path, hf: FakeHuggingFace, requests: int) -> dict[str, float]:
    port = free_port()
    write_config(work, config_text(
        hf_url=hf.base_url, data_dir=work / "data", extra=f"\n[health]\nport = {port}\n"))
    started = time.perf_counter()
    process = await start(work)
    url = f"http://127.0.0.1:{port}/healthz"
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.02)
        ready = time.perf_counter() - started
        times = []
        for _ in range(requests):
            began = time.perf_counter()
            (await http.get(url)).raise_for_status()
            times.append((time.perf_counter() - began) * 1000)
    idle = await stop(process)
    times.sort()
    return {"ready": ready, "median": statistics.median(times),
            "p99": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
            "max": times[-1], "idle_stop": idle}


def slack_config(work: Path, hf: FakeHuggingFace, slack: FakeSlack) -> None:
    due = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%H:%M")
    channels = "".join(
        f'\n[[channels]]\nname = "{c.lower()}"\nplatform = "slack"\nid = "{c}"\n'
        f'time = "{due}"\ntimezone = "UTC"\n'
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n' for c in CHANNELS)
    work.mkdir(parents=True)
    extra = (f'\n[slack]\nmode = "http"\nport = {free_port()}\n'
             f"api_url = {json.dumps(slack.api_url)}\n")
    (work / "config.toml").write_text(config_text(
        hf_url=hf.base_url, data_dir=work / "data", channels=channels, extra=extra))


def landed(slack: FakeSlack) -> int:
    return sum(len(slack.posted(c)) for c in CHANNELS)


async def mid_fan_out(work: Path, items: list[dict[str, Any]]) -> tuple[float, int, bool]:
    """(seconds the stop took, messages sent before it, every channel complete and
    without a duplicate after the restart)."""
    days = {(datetime.now(UTC) - timedelta(minutes=m)).date().isoformat(): items
            for m in (0, 10)}
    async with FakeHuggingFace(batches=days) as hf, FakeSlack() as slack:
        slack.post_delay = 0.8
        slack_config(work, hf, slack)
        process = await start(work, ENV)
        await until(lambda: landed(slack) >= 3 and slack.requests[POST] > landed(slack))
        took = await stop(process)
        before = landed(slack)
        process = await start(work, ENV)
        expected = 1 + 5  # header + top 5 of the sample batch
        await until(lambda: landed(slack) >= len(CHANNELS) * expected)
        await asyncio.sleep(1.0)  # a message sent twice would land now
        await stop(process)
        keys = [[m["metadata"]["event_payload"]["key"] for m in slack.posted(c)]
                for c in CHANNELS]
        exact = all(len(k) == expected == len(set(k)) and k[0] == "header" for k in keys)
    return took, before, exact


async def hung(work: Path, items: list[dict[str, Any]]) -> float:
    days = {(datetime.now(UTC) - timedelta(minutes=m)).date().isoformat(): items
            for m in (0, 10)}
    async with FakeHuggingFace(batches=days) as hf, FakeSlack() as slack:
        slack.post_delay = 120.0
        slack_config(work, hf, slack)
        process = await start(work, ENV)
        await until(lambda: slack.requests[POST] >= 1)
        return await stop(process)


async def measure(runs: int, requests: int) -> dict[str, Any]:
    items = load_items(FIXTURES / "hf_daily_papers_2026-06-12_sample.json")
    result: dict[str, Any] = {"idle": [], "fan_out": [], "hung": []}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        async with FakeHuggingFace() as hf:
            result["health"] = await health(root / "health", hf, requests)
        for run in range(runs):
            async with FakeHuggingFace() as hf:
                result["idle"].append((await health(root / f"idle{run}", hf, 1))["idle_stop"])
            result["fan_out"].append(await mid_fan_out(root / f"fan{run}", items))
            result["hung"].append(await hung(root / f"hung{run}", items))
    return result


def report(result: dict[str, Any], runs: int, requests: int, load: str) -> str:
    h = result["health"]
    fan = result["fan_out"]
    rows = [
        f"| idle | {' / '.join(f'{s:.2f}' for s in result['idle'])} | — | — |",
        "| mid fan-out (message in flight) | "
        f"{' / '.join(f'{t:.2f}' for t, _, _ in fan)} | "
        f"{' / '.join(str(n) for _, n, _ in fan)} of {len(CHANNELS) * 6} | "
        f"{'yes' if all(ok for _, _, ok in fan) else 'NO'} |",
        f"| message hung (Slack never answers) | "
        f"{' / '.join(f'{s:.2f}' for s in result['hung'])} | — | — |",
    ]
    return "\n".join([
        "## Health endpoint and graceful stop (`bench/shutdown.py`)",
        "",
        f"Command: `.venv/bin/python bench/shutdown.py` (--runs {runs}, --requests "
        f"{requests}). Machine: {machine()}; load average before the run: {load}.",
        "",
        f"`paperboy run` (console, `[health] port` set): first `/healthz` 200 "
        f"{h['ready']:.2f} s after the start; {requests} sequential `GET /healthz`: median "
        f"{h['median']:.2f} ms, p99 {h['p99']:.2f} ms, max {h['max']:.2f} ms.",
        "",
        "SIGTERM until the process exited (seconds, each run); the bound is 10 s (the bot "
        "exits by itself after 8 s):",
        "",
        "| case | stop took (s) | messages sent before the signal | restart: every "
        "channel complete, no duplicate |",
        "|---|---|---|---|",
        *rows,
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    result = asyncio.run(measure(args.runs, args.requests))
    section = report(result, args.runs, args.requests, load)
    print(section)
    if not args.no_docs:
        write_section(SECTION, section)
    slow = max([*result["idle"], *result["hung"], *(t for t, _, _ in result["fan_out"])])
    return 0 if slow < 10 and all(ok for _, _, ok in result["fan_out"]) else 1


if __name__ == "__main__":
    sys.exit(main())
