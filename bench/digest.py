"""Measure the daily fan-out end to end: one upstream fetch for 500 channels, LLM calls, the
summary cache, and the memory and time of the `paperboy digest` command.

Serves one real day of the corpus (../shared/data; the day whose batch is closest to 50
papers, as bench/picks.py) from the fake Hugging Face in tests/fakes/hf_server.py, converted
back to raw `/api/daily_papers` items, with `ai_summary` removed from every second paper so
the LLM step has work; a fake OpenAI-compatible server (tests/scenarios/conftest.py) counts
LLM calls. Both listen on 127.0.0.1, so nothing leaves the machine.

(a) In-process, through `bot.runtime.open_runtime` like the CLI: `bot.daily.fetch_candidates`
    + `build_digests` for 500 generated channels, twice on the same data directory. Targets:
    the fake sees exactly the pages of ONE day, however many channels; the first run asks
    the LLM once per picked paper without an HF summary, the second run not at all (cache).
(b) The installed command, `paperboy digest --json` with a 20-channel config, run as a child
    process twice (cold, then warm cache): exit status, wall time, and peak RSS from
    `getrusage(RUSAGE_CHILDREN).ru_maxrss` (the kernel's high-water mark), read by a bare
    Python parent rather than by this process (see `_LAUNCHER`). Target: peak RSS ≤ 150 MB.

Prints a markdown table with the machine and rewrites its own section of docs/benchmarks.md
(between `<!-- bench:digest -->` markers). Exit status 1 when a target is missed, 2 when the
corpus is absent. `fan_out` and `make_channels` are importable; a scenario test checks the
fan-out property with 20 channels (tests/scenarios/test_digest_cli.py).
Run: .venv/bin/python bench/digest.py [--channels 500] [--cli-channels 20] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._corpus import CORPUS, paper_from_record  # noqa: E402
from bench._report import DOCS, machine, write_section  # noqa: E402
from bot import daily  # noqa: E402
from bot.config import (  # noqa: E402
    ArxivConfig,
    ChannelConfig,
    Config,
    HuggingFaceConfig,
    StorageConfig,
    SummariesConfig,
)
from bot.models import ChatRef  # noqa: E402
from bot.runtime import open_runtime  # noqa: E402
from bot.sources.huggingface import PAGE_SIZE, parse_daily_item  # noqa: E402
from tests.fakes.hf_server import FakeHuggingFace  # noqa: E402
from tests.fakes.llm_server import FakeOpenAI  # noqa: E402
from tests.scenarios.conftest import (  # noqa: E402
    PAPERBOY,
    child_environment,
    config_text,
)

Item = dict[str, Any]

DAILY = "/api/daily_papers"
MODEL = "bench-model"
RSS_TARGET_MB = 150.0
BATCH_NEAR = 50
SEED = 20260612
_THUMBNAILS = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/"
# Flattened corpus field → raw field inside `paper`, copied when the record has it.
_OPTIONAL = {
    "ai_summary": "ai_summary",
    "ai_keywords": "ai_keywords",
    "github_repo": "githubRepo",
    "github_stars": "githubStars",
    "project_page": "projectPage",
    "media_urls": "mediaUrls",
    "withdrawn_at": "withdrawnAt",
}


# --- the data -------------------------------------------------------------------------------


def item_from_record(record: Mapping[str, Any]) -> Item:
    """One flattened corpus record back in the raw Daily Papers item shape (as in
    ../shared/fixtures/hf_daily_papers_limit30_2026-06-12.json). What the export dropped
    (author and user ids, avatars) gets stable stand-ins; the parser ignores those."""
    arxiv_id = record["arxiv_id"]
    discussion = record.get("discussion_id") or f"bench-{arxiv_id}"
    submitter = record.get("submitted_by") or "anonymous"
    user = {"_id": f"user-{submitter}", "avatarUrl": "/avatars/bench.svg", "isPro": False,
            "fullname": submitter, "user": submitter, "type": "user", "name": submitter}
    paper: Item = {
        "id": arxiv_id,
        "authors": [
            {"_id": f"{discussion}-{index}", "name": name, "hidden": False}
            for index, name in enumerate(record.get("authors", ()))
        ],
        "publishedAt": record["published_at"],
        "submittedOnDailyAt": record["submitted_on_daily_at"],
        "title": record["title"],
        "submittedOnDailyBy": user,
        "summary": record.get("abstract", ""),
        "upvotes": record.get("upvotes", 0),
        "discussionId": discussion,
    }
    for flat, raw in _OPTIONAL.items():
        if flat in record:
            paper[raw] = record[flat]
    if "ai_summary" in record:
        paper["ai_summary_model"] = "Qwen/Qwen2.5-Coder-32B-Instruct"
    item: Item = {
        "paper": paper,
        "publishedAt": record["published_at"],
        "title": record["title"],
        "summary": record.get("abstract", ""),
        "thumbnail": f"{_THUMBNAILS}{arxiv_id}.png",
        "numComments": record.get("num_comments", 0),
        "submittedBy": {k: v for k, v in user.items() if k != "user"},
        "isAuthorParticipating": record.get("is_author_participating", False),
    }
    organization = record.get("organization")
    if organization:
        paper["organization"] = item["organization"] = {
            "_id": f"org-{organization.get('name')}", **organization
        }
    return item


def corpus_day(path: Path = CORPUS, day: str | None = None) -> tuple[str, list[Item]]:
    """A feature day of the corpus as raw items, most upvoted first: `day`, or the day
    whose batch is closest to 50 papers. Exits (status 2) when the corpus is absent, and
    when the converter does not give back the Papers bench/_corpus.py reads."""
    if not path.is_file():
        print(f"corpus not found: {path}\nbenchmarks need ../shared/data beside the project "
              "(see ../shared/data/README.md)", file=sys.stderr)
        sys.exit(2)
    by_day: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                by_day[record["daily_date"]].append(record)
    if day is None:
        day = min(by_day, key=lambda d: (abs(len(by_day[d]) - BATCH_NEAR), -len(by_day[d]), d))
    elif day not in by_day:
        print(f"no papers were featured on {day} in the corpus", file=sys.stderr)
        sys.exit(2)
    records = sorted(by_day[day], key=lambda r: (-r.get("upvotes", 0), r["arxiv_id"]))
    items = [item_from_record(r) for r in records]
    for record, item in zip(records, items, strict=True):
        _check_round_trip(record, item)
    return day, items


def _check_round_trip(record: Mapping[str, Any], item: Item) -> None:
    # The fake serves what the converter writes: a converter bug would time the wrong data.
    # The corpus keeps no thumbnail; the raw item carries HF's usual one.
    expected = replace(paper_from_record(dict(record)), thumbnail=item.get("thumbnail"))
    parsed = parse_daily_item(item)
    if parsed != expected:
        print(f"converter bug: {record['arxiv_id']} parses to {parsed}, expected {expected}",
              file=sys.stderr)
        sys.exit(2)


def without_hf_summaries(items: Sequence[Item], every: int = 2) -> list[Item]:
    """A copy of `items` with `ai_summary` removed from every `every`-th one (from the
    first), so that the LLM step has papers to summarise."""
    variant = copy.deepcopy(list(items))
    for item in variant[::every]:
        item["paper"].pop("ai_summary", None)
        item["paper"].pop("ai_summary_model", None)
    return variant


def make_channels(items: Sequence[Item], count: int, seed: int = SEED) -> list[ChannelConfig]:
    """`count` varied Slack channels for the day's `items`, the same for a given seed:
    0–4 keywords from the day's HF keywords, sometimes an author of the day, top 3–10,
    a few with a minimum of upvotes."""
    rng = random.Random(seed)
    vocabulary = sorted({k.lower() for item in items for k in item["paper"].get("ai_keywords", [])})
    authors = sorted({a["name"] for item in items for a in item["paper"]["authors"][:2]})
    channels = []
    for index in range(count):
        keywords = rng.sample(vocabulary, min(len(vocabulary), rng.randint(0, 4)))
        chosen = rng.sample(authors, 1) if authors and rng.random() < 0.3 else []
        channels.append(ChannelConfig(
            name=f"bench-{index:03d}",
            platform="slack",
            id=f"C{index:010d}",
            top_n=rng.randint(3, 10),
            min_upvotes=rng.choice((0, 0, 0, 5, 10)),
            keywords=tuple(keywords),
            authors=tuple(chosen),
        ))
    return channels


def pages_for(papers: int, page_size: int = PAGE_SIZE) -> int:
    """Requests one day takes: full pages, then one shorter (possibly empty) page."""
    return papers // page_size + 1


# --- (a) in-process fan-out -----------------------------------------------------------------


@dataclass(frozen=True)
class FanOutRun:
    daily_requests: int  # requests the fake Hugging Face received for /api/daily_papers
    llm_calls: int  # requests the fake LLM received
    picked: int  # distinct papers some channel picked
    picked_without_hf_summary: int  # of which need the LLM
    seconds: float


async def fan_out(
    items: Sequence[Item],
    day: str,
    channels: Sequence[ChannelConfig],
    data_dir: Path,
    *,
    runs: int = 2,
) -> list[FanOutRun]:
    """Build every channel's digest for `day` `runs` times, as that many `paperboy digest`
    invocations would: each run opens the runtime (store, HTTP client, summariser) on
    `data_dir` afresh. Upstream and LLM are fakes started here, in the running loop."""
    results = []
    async with FakeHuggingFace(batches={day: items}) as hf, FakeOpenAI() as llm:
        config = Config(
            storage=StorageConfig(path=data_dir),
            huggingface=HuggingFaceConfig(base_url=hf.base_url),
            arxiv=ArxivConfig(base_url=hf.base_url, rss_url=hf.base_url),
            summaries=SummariesConfig(base_url=llm.v1, model=MODEL),
            channels=tuple(channels),
        )
        for _ in range(runs):
            requests, calls = hf.requests[DAILY], llm.completions
            started = time.perf_counter()
            async with open_runtime(config, env={}) as rt:
                candidates = await daily.fetch_candidates(
                    date.fromisoformat(day), channels, hf=rt.hf, store=rt.store
                )
                audiences = [
                    daily.Audience(c, ChatRef(c.platform, c.team or "console", c.id))
                    for c in channels
                ]
                digests = await daily.build_digests(
                    candidates, audiences, store=rt.store, summarizer=rt.summarizer
                )
            seconds = time.perf_counter() - started
            picked = {p.paper.arxiv_id: p.paper for d in digests for p in d.picks}
            results.append(FanOutRun(
                daily_requests=hf.requests[DAILY] - requests,
                llm_calls=llm.completions - calls,
                picked=len(picked),
                picked_without_hf_summary=sum(not p.ai_summary for p in picked.values()),
                seconds=seconds,
            ))
    return results


# --- (b) the installed command --------------------------------------------------------------


@dataclass(frozen=True)
class CommandRun:
    label: str
    returncode: int
    picks: int  # JSON rows printed (-1 when stdout was not a JSON array)
    llm_calls: int
    seconds: float  # wall time of the command itself
    rss_mb: float  # its peak resident set
    launcher_mb: float  # the peak of the small parent that ran it (a floor for rss_mb)
    stderr: str


def channels_toml(channels: Sequence[ChannelConfig]) -> str:
    blocks = []
    for channel in channels:
        blocks.append("\n".join([
            "[[channels]]",
            f"name = {json.dumps(channel.name)}",
            f"platform = {json.dumps(channel.platform)}",
            f"id = {json.dumps(channel.id)}",
            f"top_n = {channel.top_n}",
            f"min_upvotes = {channel.min_upvotes}",
            f"keywords = {json.dumps(list(channel.keywords), ensure_ascii=False)}",
            f"authors = {json.dumps(list(channel.authors), ensure_ascii=False)}",
        ]))
    return "\n\n".join(blocks) + "\n"


# The command runs under a bare Python parent that reports the child's peak RSS
# (getrusage(RUSAGE_CHILDREN).ru_maxrss) and wall time. Not from this process: Linux charges
# a child the memory it shares with its parent between fork and exec, so a command spawned
# from the benchmark (corpus loaded, ~100 MB) would be billed the benchmark's own size.
_MARK = "paperboy-bench-measure:"
# The launcher's own high-water mark (VmHWM, Linux; 0 elsewhere) bounds the reading from
# below: a command smaller than its parent could not be told apart from it.
_LAUNCHER = f"""
import re, resource, subprocess, sys, time
try:
    with open("/proc/self/status") as status:
        launcher = int(re.search(r"VmHWM:\\s+(\\d+)", status.read()).group(1))
except (OSError, AttributeError):
    launcher = 0
started = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
seconds = time.perf_counter() - started
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"\\n{_MARK} {{child}} {{launcher}} {{seconds}}\\n")
sys.exit(code)
"""


async def run_command(
    items: Sequence[Item], day: str, channels: Sequence[ChannelConfig], workdir: Path
) -> tuple[list[CommandRun], str]:
    """Run `paperboy digest --json` twice (cold, then warm cache) against fresh fakes.
    Returns the runs and the command line (with the config path shortened)."""
    runs = []
    async with FakeHuggingFace(batches={day: items}) as hf, FakeOpenAI() as llm:
        config = workdir / "config.toml"
        config.write_text(
            config_text(hf_url=hf.base_url, data_dir=workdir / "data", llm_url=llm.v1,
                        channels=channels_toml(channels)),
            encoding="utf-8",
        )
        args = ["--config", str(config), "digest", "--date", day, "--json"]
        for label in ("cold", "warm"):
            calls = llm.completions
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", _LAUNCHER, str(PAPERBOY), *args,
                cwd=workdir, env=child_environment(), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await process.communicate()
            stderr, child_kib, launcher_kib, seconds = _measured(err.decode("utf-8", "replace"))
            runs.append(CommandRun(
                label=label,
                returncode=process.returncode if process.returncode is not None else -1,
                picks=_rows(out),
                llm_calls=llm.completions - calls,
                seconds=seconds,
                rss_mb=_mb(child_kib),
                launcher_mb=_mb(launcher_kib),
                stderr=stderr,
            ))
    shown = " ".join(["paperboy", *args]).replace(str(workdir), "$TMP")
    return runs, shown


def _measured(stderr: str) -> tuple[str, int, int, float]:
    """The command's own stderr, and the launcher's figures from its last line."""
    head, _, tail = stderr.rstrip().rpartition("\n")
    if not tail.startswith(_MARK):
        raise RuntimeError(f"the launcher reported nothing; stderr was:\n{stderr}")
    child, launcher, seconds = tail.removeprefix(_MARK).split()
    return head.strip(), int(child), int(launcher), float(seconds)


def _mb(maxrss: int) -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS; MB here are 10^6 bytes.
    return maxrss / 1e6 if sys.platform == "darwin" else maxrss * 1024 / 1e6


def _rows(stdout: bytes) -> int:
    try:
        rows = json.loads(stdout)
    except ValueError:
        return -1
    return len(rows) if isinstance(rows, list) else -1


# --- report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    day: str
    papers: int
    without_summary: int
    channels: int
    fan_out: list[FanOutRun]
    cli_channels: int
    command: str
    command_runs: list[CommandRun]

    @property
    def rss_mb(self) -> float:
        return max(run.rss_mb for run in self.command_runs)

    @property
    def pages(self) -> int:
        return pages_for(self.papers)

    def misses(self) -> list[str]:
        """The targets missed, in words (empty when all are met)."""
        missed = []
        if any(run.daily_requests != self.pages for run in self.fan_out):
            missed.append(f"each run must fetch the day in {self.pages} request(s)")
        if self.fan_out[0].llm_calls != self.fan_out[0].picked_without_hf_summary:
            missed.append("the first run must ask the LLM once per pick without HF summary")
        if any(run.llm_calls for run in self.fan_out[1:]):
            missed.append("a cached run must ask the LLM nothing")
        if any(run.returncode != 0 or run.picks <= 0 for run in self.command_runs):
            missed.append("paperboy digest must exit 0 and print picks")
        if self.command_runs[-1].llm_calls:
            missed.append("the warm paperboy digest must ask the LLM nothing")
        if self.rss_mb > RSS_TARGET_MB:
            missed.append(f"peak RSS must be ≤ {RSS_TARGET_MB:g} MB")
        return missed




def render(result: Result, when: date | None = None) -> str:
    when = when or date.today()
    lines = [
        "## Digest: one day's fetch for many channels (`bench/digest.py`)",
        "",
        f"Measured {when.isoformat()} on {machine()}.",
        f"Data: {result.day} from the corpus, {result.papers} papers served as raw "
        f"`/api/daily_papers` items by the fake Hugging Face; `ai_summary` removed from "
        f"{result.without_summary} of them so the LLM step has work; a fake "
        "OpenAI-compatible LLM. Both on 127.0.0.1.",
        "",
        f"In-process: `fetch_candidates` + `build_digests` for {result.channels} generated "
        "channels through `open_runtime` (TinyDB store, LLM configured); each run reopens "
        "the same data directory.",
        "",
        "| run | channels | daily_papers requests | pages of one day | distinct picks "
        "| without HF summary | LLM calls | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, run in enumerate(result.fan_out, start=1):
        label = "1 (cold)" if number == 1 else f"{number} (cached)"
        lines.append(
            f"| {label} | {result.channels} | {run.daily_requests} | {result.pages} | "
            f"{run.picked} | {run.picked_without_hf_summary} | {run.llm_calls} | "
            f"{run.seconds:.2f} |"
        )
    lines += [
        "",
        f"The installed command with {result.cli_channels} channels, run twice as a child "
        f"process: `{result.command}`",
        "",
        "| run | exit | picks printed | LLM calls | wall s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in result.command_runs:
        lines.append(
            f"| {run.label} | {run.returncode} | {run.picks} | {run.llm_calls} | "
            f"{run.seconds:.2f} | {run.rss_mb:.1f} |"
        )
    launch = max(run.launcher_mb for run in result.command_runs)
    missed = result.misses()
    verdict = "met" if not missed else "MISSED (" + "; ".join(missed) + ")"
    lines += [
        "",
        "Peak RSS is `getrusage(RUSAGE_CHILDREN).ru_maxrss` read by a bare Python parent "
        f"whose own peak, {launch:.0f} MB, is the floor of the reading (MB = 10^6 bytes).",
        f"Targets: one fetch of the day whatever the channel count, no LLM call for a cached "
        f"summary, peak RSS ≤ {RSS_TARGET_MB:g} MB: **{verdict}**.",
    ]
    return "\n".join(lines)






async def measure(day: str | None, channels: int, cli_channels: int, tmp: Path) -> Result:
    day, items = corpus_day(day=day)
    served = without_hf_summaries(items)
    runs, command = await run_command(
        served, day, make_channels(items, cli_channels), tmp / "command"
    )
    fanned = await fan_out(served, day, make_channels(items, channels), tmp / "fan-out")
    return Result(
        day=day,
        papers=len(items),
        without_summary=sum("ai_summary" not in item["paper"] for item in served),
        channels=channels,
        fan_out=fanned,
        cli_channels=cli_channels,
        command=command,
        command_runs=runs,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", help="serve this feature day (YYYY-MM-DD)")
    parser.add_argument("--channels", type=int, default=500, help="in-process channels (500)")
    parser.add_argument("--cli-channels", type=int, default=20,
                        help="channels in the command's config (20)")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="paperboy-bench-") as tmp:
        (Path(tmp) / "command").mkdir()
        result = asyncio.run(measure(args.day, args.channels, args.cli_channels, Path(tmp)))
    section = render(result)
    print(section)
    for run in result.command_runs:
        if run.returncode != 0:
            print(f"\npaperboy digest ({run.label}) failed:\n{run.stderr}", file=sys.stderr)
    if not args.no_docs:
        write_section("digest", section)
        print(f"\nupdated {DOCS.relative_to(PROJECT)}")
    return 0 if not result.misses() else 1


if __name__ == "__main__":
    sys.exit(main())
