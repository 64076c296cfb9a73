"""Benchmark `/papers search` while Hugging Face refuses connections.

Run: `.venv/bin/python bench/search_remote_down.py` (flags: --rounds N, --cli-runs N, --no-docs).
Over the 8,036 real papers of ../shared/data (exits with a message when absent), indexed
once on disk. Target: with Hugging Face refusing every connection, a search answers from the
local index within the local latency plus a few milliseconds (p95 at most 5 ms above the
offline searcher's, same queries, same run) and says its results are local only.

In process, `Searcher.search` three ways, one query after the other so load hits all alike:
- offline: no remote source (the local work alone, the floor);
- refusing: the real Hugging Face client aimed at a local port that is bound but not
  listening, so every connect is refused at once, as a host that is down refuses it;
- answering: the same client against a local fake Hugging Face that answers at once (no hits).
Whole process, `paperboy search` (the CLI, interpreter start included), median wall time
with Hugging Face refusing next to the same command with it answering, same run.
Rewrites its section of docs/benchmarks.md (between `<!-- bench:search_remote_down -->`
markers). Exit status 1 when the target is missed, 2 when the corpus is absent.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _corpus import CORPUS, load_corpus
from search import LATENCY_QUERIES

from bot.search.index import PaperIndex
from bot.search.searcher import Searcher
from bot.sources.http import make_client
from bot.sources.huggingface import HuggingFaceClient
from bot.store.memory import MemoryStore

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._report import machine, write_section  # noqa: E402
from tests.fakes.hf_server import FakeHuggingFace  # noqa: E402

TARGET_EXTRA_MS = 5.0
CLI_QUERY = "diffusion transformer video"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="times each query is timed")
    parser.add_argument("--cli-runs", type=int, default=5, help="paperboy search runs per way")
    parser.add_argument("--no-docs", action="store_true", help="do not update the docs")
    args = parser.parse_args(argv)
    if not CORPUS.is_file():
        print(f"corpus not found: {CORPUS}\nbench/search_remote_down.py needs ../shared/data "
              "beside the project (see ../shared/data/README.md)", file=sys.stderr)
        return 2
    # One "Hugging Face search failed" warning per refused search, as the bot logs it;
    # formatted and dropped here rather than printed over the report.
    logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
    load_before = os.getloadavg()[0]
    results = asyncio.run(measure(args.rounds, args.cli_runs))
    results["load"] = (load_before, os.getloadavg()[0])
    section = render(results, args)
    print(section)
    if not args.no_docs:
        write_section("search_remote_down", section)
    if not results["met"]:
        print("target missed: searching with Hugging Face refusing is more than "
              f"{TARGET_EXTRA_MS:g} ms slower at p95 than searching offline", file=sys.stderr)
        return 1
    return 0


def refusing_port() -> socket.socket:
    """A port bound on 127.0.0.1 and never listened on: every connect to it is refused.
    Kept bound for the run so no other program can take it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def measure(rounds: int, cli_runs: int) -> dict[str, Any]:
    papers = load_corpus()
    with tempfile.TemporaryDirectory(prefix="paperboy-bench-") as tmp, \
            refusing_port() as refused:
        data = Path(tmp) / "data"
        index = PaperIndex.open(data / "index")
        index.add(papers)
        refused_url = f"http://127.0.0.1:{refused.getsockname()[1]}"
        async with make_client() as http, FakeHuggingFace() as answering:
            ways = {
                "offline": Searcher(index, MemoryStore(), None, None),
                "refusing": Searcher(index, MemoryStore(),
                                     HuggingFaceClient(http, base_url=refused_url), None),
                "answering": Searcher(index, MemoryStore(),
                                      HuggingFaceClient(http, base_url=answering.base_url),
                                      None),
            }
            latencies, statuses, same = await _time_searches(ways, rounds)
            index.release()  # the writer: `paperboy search` below opens the index
            cli = {
                "refusing": await _time_cli(Path(tmp), data, refused_url, cli_runs),
                "answering": await _time_cli(Path(tmp), data, answering.base_url, cli_runs),
            }
    p95 = {way: _percentile(values, 95) for way, values in latencies.items()}
    return {
        "papers": len(papers),
        "queries": len(LATENCY_QUERIES),
        "samples": len(latencies["offline"]),
        "p50": {way: _percentile(values, 50) for way, values in latencies.items()},
        "p95": p95,
        "max": {way: max(values) for way, values in latencies.items()},
        "statuses": statuses,
        "same_local_results": same,
        "cli": cli,
        "met": p95["refusing"] - p95["offline"] <= TARGET_EXTRA_MS and same,
    }


async def _time_searches(ways: dict[str, Searcher], rounds: int
                         ) -> tuple[dict[str, list[float]], dict[str, set[str]], bool]:
    latencies: dict[str, list[float]] = {way: [] for way in ways}
    statuses: dict[str, set[str]] = {way: set() for way in ways}
    same = True
    for text in LATENCY_QUERIES:  # warm-up: page cache, connection pool, code paths
        for searcher in ways.values():
            await searcher.search(text)
    for _ in range(rounds):
        for text in LATENCY_QUERIES:
            ids: dict[str, list[str]] = {}
            for way, searcher in ways.items():
                started = time.perf_counter()
                results = await searcher.search(text)
                latencies[way].append((time.perf_counter() - started) * 1000)
                statuses[way].add(results.remote_status)
                ids[way] = [hit.paper.arxiv_id for hit in results.hits]
            # Refused, the answer is the local one, not a worse one.
            same = same and ids["refusing"] == ids["offline"]
    return latencies, statuses, same


async def _time_cli(tmp: Path, data: Path, hf_url: str, runs: int) -> dict[str, Any]:
    config = tmp / "config.toml"
    config.write_text(f'[storage]\npath = "{data}"\n\n[sources.huggingface]\n'
                      f'base_url = "{hf_url}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOY_", "SLACK_",
                                                                       "DISCORD_", "OPENAI_"))}
    shown: list[float] = []  # until the answer's first line is out: what a person waits
    walls: list[float] = []  # until the process has exited
    last = ""
    for _ in range(runs):
        started = time.perf_counter()
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "paperboy", "search", "--config", str(config), CLI_QUERY,
            cwd=str(PROJECT), env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        assert child.stdout is not None
        first = await child.stdout.readline()
        shown.append((time.perf_counter() - started) * 1000)
        out, err = await child.communicate()
        walls.append((time.perf_counter() - started) * 1000)
        if child.returncode != 0:
            raise RuntimeError(f"paperboy search exited {child.returncode}: {err.decode()}")
        last = (first + out + err).decode()
    return {"median_ms": statistics.median(shown), "exit_ms": statistics.median(walls),
            "local_only_said": "local results only" in last}


def _percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def render(r: dict[str, Any], args: argparse.Namespace) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    load = r["load"]
    extra = r["p95"]["refusing"] - r["p95"]["offline"]
    rows = [
        "## Search while Hugging Face refuses connections (`bench/search_remote_down.py`)",
        "",
        f"Measured {when} on {machine()}; 1-minute load average {load[0]:.1f} before, "
        f"{load[1]:.1f} after. Command: `.venv/bin/python bench/search_remote_down.py "
        f"--rounds {args.rounds} --cli-runs {args.cli_runs}`.",
        f"{r['papers']:,} real papers indexed on disk; {r['queries']} everyday queries × "
        f"{args.rounds} rounds ({r['samples']} samples per way), the three ways one after "
        "the other for each query.",
        "",
        "| `Searcher.search` | p50 | p95 | max | remote status |",
        "|---|---:|---:|---:|---|",
    ]
    for way, label in (("offline", "offline (no remote: the floor)"),
                       ("refusing", "Hugging Face refusing connections"),
                       ("answering", "Hugging Face answering at once (local fake)")):
        rows.append(f"| {label} | {r['p50'][way]:.2f} ms | {r['p95'][way]:.2f} ms | "
                    f"{r['max'][way]:.2f} ms | {', '.join(sorted(r['statuses'][way]))} |")
    verdict = "met" if r["met"] else "MISSED"
    rows += [
        "",
        f"Refusing costs {extra:+.2f} ms at p95 over offline (target ≤ {TARGET_EXTRA_MS:g} ms): "
        f"**{verdict}**. Results with Hugging Face refusing equal the offline results for "
        f"every query: {'yes' if r['same_local_results'] else 'NO'}.",
        "",
        f"`paperboy search \"{CLI_QUERY}\"` as a whole process (interpreter start, config, "
        f"index open), median of {args.cli_runs}, until the answer is printed: "
        f"{r['cli']['refusing']['median_ms']:.0f} ms with Hugging Face refusing, "
        f"{r['cli']['answering']['median_ms']:.0f} ms with it answering (until the process "
        f"has exited: {r['cli']['refusing']['exit_ms']:.0f} and "
        f"{r['cli']['answering']['exit_ms']:.0f} ms); the refusing run says its results are "
        f"local only: {'yes' if r['cli']['refusing']['local_only_said'] else 'NO'}.",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
