"""Time TinyDBStore where a running bot feels it: saving and unsaving by reaction.

Builds a data directory in a temp dir with real papers from the corpus (bench/_corpus.py):
a 5,000-entry team list and a year of daily post records for 20 channels (5 papers and a
header each). Then, on a warm store (a running bot's steady state), times each operation
one at a time and prints p50/p95/p99 in a markdown table with the machine it ran on.
Target: save and unsave p99 <= 20 ms. Exit status 1 when the target is missed.

The seed data is written straight into the store's file layout (a year of posts through the
public API would take 100,000 fsyncs); the store then reads it back through the public API
and the script checks the counts, so a layout change fails here rather than timing nothing.
Also rewrites its own section of docs/benchmarks.md (between `<!-- bench:store -->` markers).
Run: .venv/bin/python bench/store.py [--ops 500] [--tmp DIR] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from bot.models import ChatRef, Paper, Saver
from bot.store import PostItem, PostRecord
from bot.store import _codec as codec
from bot.store._files import write_json_atomic
from bot.store.tinydb import TinyDBStore, list_file, post_file

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._report import DOCS, machine, write_section  # noqa: E402

TARGET_MS = 20.0
TEAM = ("slack", "T0BENCH")
START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    operation: str
    millis: list[float]
    targeted: bool = False  # held to the p99 target

    def percentile(self, p: float) -> float:
        ordered = sorted(self.millis)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Result:
    rows: list[Row]
    list_files: int
    largest_list_file: int
    entries: int
    channels: int
    days: int

    def target_met(self) -> bool:
        return all(r.percentile(99) <= TARGET_MS for r in self.rows if r.targeted)


async def run(
    papers: Sequence[Paper],
    parent: Path,
    *,
    entries: int = 5000,
    channels: int = 20,
    days: int = 365,
    ops: int = 500,
) -> Result:
    """Build the data directory under `parent` and time `ops` of each operation."""
    if len(papers) < entries + 2 * ops:
        raise SystemExit(f"need {entries + 2 * ops} papers, have {len(papers)}")
    rng = random.Random(7)
    shuffled = list(papers)
    rng.shuffle(shuffled)
    listed, fresh = shuffled[:entries], shuffled[entries : entries + 2 * ops]
    data_dir = Path(tempfile.mkdtemp(prefix="paperboy-bench-store-", dir=parent))
    refs = [ChatRef(TEAM[0], TEAM[1], f"C{n:03d}") for n in range(channels)]
    _seed_list(data_dir, listed)
    messages = _seed_posts(data_dir, refs, days, shuffled)

    store = await TinyDBStore.open(data_dir)
    try:
        # Warm up, as a bot that has been running: every file read once. Also checks the seed.
        if len(await store.saved_papers(*TEAM)) != entries:
            raise SystemExit("seeded team list does not read back: has the layout changed?")
        for ref in refs:
            if not await store.posted_ids(ref):
                raise SystemExit("seeded posts do not read back: has the layout changed?")
        rows = await _measure(store, rng, listed, fresh, refs, messages, days, ops)
    finally:
        await store.close()

    list_files = list((data_dir / list_file(*TEAM, "2501.00001")).parent.glob("*.json"))
    return Result(
        rows=rows,
        list_files=len(list_files),
        largest_list_file=max(p.stat().st_size for p in list_files),
        entries=entries,
        channels=channels,
        days=days,
    )


async def _measure(
    store: TinyDBStore,
    rng: random.Random,
    listed: list[Paper],
    fresh: list[Paper],
    refs: list[ChatRef],
    messages: list[ChatRef],
    days: int,
    ops: int,
) -> list[Row]:
    new_papers, shared = fresh[:ops], rng.sample(listed, ops)
    later = START + timedelta(days=days + 1)
    saver = Saver("UBENCH", later, refs[0])
    channels = [refs[n % len(refs)] for n in range(ops)]
    new_days = [later.date() + timedelta(days=n // len(refs)) for n in range(ops)]
    saves = [partial(store.save, *TEAM, p, saver) for p in new_papers]
    second_saves = [partial(store.save, *TEAM, p, saver) for p in shared]
    unsaves_shared = [partial(store.unsave, *TEAM, p.arxiv_id, saver.user) for p in shared]
    unsaves_last = [partial(store.unsave, *TEAM, p.arxiv_id, saver.user) for p in new_papers]
    lookups = [partial(store.paper_for_message, m) for m in rng.sample(messages, ops)]
    ledgers = [partial(store.posted_ids, ref) for ref in channels]
    claims = [
        partial(store.claim_post, ref, day, "bench", later)
        for ref, day in zip(channels, new_days, strict=True)
    ]
    listings = [partial(store.saved_papers, *TEAM)] * max(10, ops // 10)
    first_listing = [partial(store.saved_papers, *TEAM)]
    return [
        Row("save (new entry)", await _time(saves), targeted=True),
        Row("save (second saver)", await _time(second_saves), targeted=True),
        Row("unsave (one of two savers)", await _time(unsaves_shared), targeted=True),
        Row("unsave (last saver)", await _time(unsaves_last), targeted=True),
        Row("paper_for_message", await _time(lookups)),
        Row(f"posted_ids ({days} days)", await _time(ledgers)),
        Row("claim_post", await _time(claims)),
        # The rows above changed every month file: this listing decodes all of them again.
        Row(f"saved_papers ({len(listed):,}), first after changes", await _time(first_listing)),
        Row(f"saved_papers ({len(listed):,}), unchanged", await _time(listings)),
    ]


async def _time(calls: Sequence[Callable[[], Awaitable[object]]]) -> list[float]:
    """Milliseconds each call took, run one after another as reactions would arrive."""
    millis = []
    for call in calls:
        began = time.perf_counter()
        await call()
        millis.append((time.perf_counter() - began) * 1000)
    return millis


def _seed_list(data_dir: Path, listed: list[Paper]) -> None:
    shards: dict[str, dict[str, object]] = {}
    for n, paper in enumerate(listed):
        saved_at = START + timedelta(minutes=n)
        where = ChatRef(TEAM[0], TEAM[1], "C000", f"{saved_at.timestamp():.6f}")
        entry = {
            "paper": codec.paper_to_dict(paper),
            "savers": [codec.saver_to_dict(Saver(f"U{n % 40:03d}", saved_at, where))],
        }
        shards.setdefault(list_file(*TEAM, paper.arxiv_id), {})[paper.arxiv_id] = entry
    for relative, docs in shards.items():
        write_json_atomic(data_dir / relative, {"entries": docs})


def _seed_posts(
    data_dir: Path, refs: list[ChatRef], days: int, papers: list[Paper]
) -> list[ChatRef]:
    messages: list[ChatRef] = []
    for c, ref in enumerate(refs):
        by_year: dict[int, dict[str, object]] = {}
        for d in range(days):
            day = START.date() + timedelta(days=d)
            ts = datetime.combine(day, START.timetz())
            items = [PostItem("header", None, f"{ts.timestamp():.6f}")]
            for k in range(5):
                paper = papers[(c * days * 5 + d * 5 + k) % len(papers)]
                message_id = f"{ts.timestamp() + k + 1:.6f}"
                items.append(PostItem(paper.arxiv_id, paper.arxiv_id, message_id))
            messages.extend(ChatRef(ref.platform, ref.team, ref.channel, i.message_id)
                            for i in items[1:])
            record = PostRecord(ref, day, "posted", "bench", ts, tuple(items))
            by_year.setdefault(day.year, {})[day.isoformat()] = codec.post_to_dict(record)
        for year, claims in by_year.items():
            write_json_atomic(data_dir / post_file(ref, year), {"claims": claims})
    return messages


def render(result: Result, disk: Path, when: date | None = None) -> str:
    """The markdown section for docs/benchmarks.md (and the terminal)."""
    when = when or date.today()
    lines = [
        "## Store: save / unsave latency (`bench/store.py`)",
        "",
        f"Measured {when.isoformat()} on {machine()}; data directory under `{disk}`.",
        f"Data: a {result.entries:,}-entry team list of real corpus papers "
        f"({result.list_files} files, largest {result.largest_list_file / 1024:.0f} KiB) and "
        f"{result.days} days of posts for {result.channels} channels (5 papers + header each). "
        "Warm store; every write is a temp file + fsync + rename + directory fsync.",
        "",
        "| operation | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in result.rows:
        lines.append(
            f"| {row.operation} | {len(row.millis)} | {row.percentile(50):.2f} | "
            f"{row.percentile(95):.2f} | {row.percentile(99):.2f} | {max(row.millis):.2f} |"
        )
    verdict = "met" if result.target_met() else "MISSED"
    lines += ["", f"Target: save and unsave p99 <= {TARGET_MS:.0f} ms: **{verdict}**."]
    return "\n".join(lines)








def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=500, help="operations timed per row (>= 200)")
    parser.add_argument("--tmp", type=Path, default=None, help="where to build the data dir")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)

    from _corpus import load_corpus  # bench/ is on sys.path when run as a script

    papers = load_corpus()
    with tempfile.TemporaryDirectory(dir=args.tmp) as parent:
        result = asyncio.run(run(papers, Path(parent), ops=args.ops))
    section = render(result, disk=args.tmp or Path(tempfile.gettempdir()))
    print(section)
    if not args.no_docs:
        write_section("store", section)
        print(f"\nupdated {DOCS.relative_to(PROJECT)}")
    return 0 if result.target_met() else 1


if __name__ == "__main__":
    sys.exit(main())
