"""Time the store where users feel it: a 📌 save or unsave by reaction, `/papers list`, and the
durable writes of a daily post.

Reactions and the listing go through the service, as an adapter calls it:
`Service.handle_reaction(ReactionEvent(...))` and `Service.handle_command(CommandEvent(...,
text="list"))`, on a real TinyDBStore in a temp directory, with team lists of 1,000, 5,000 and
20,000 saved papers. The reacted-to papers were posted to the channel first (the ledger maps
each message to its paper) and are in the paper cache, so no upstream is asked: the HTTP
client fails any request, and a bench that reached one would stop.

The corpus has ~8,000 real papers; larger lists reuse their text under made-up arXiv ids,
spread over the corpus's months and over each month's numbers as real ids are. Seed data is
written straight into the store's file layout (20,000 saves through the API would take
20,000 fsyncs); the store then reads it back and the script checks the counts, so a layout
change fails here rather than timing nothing.

Daily posts: a post of N messages makes N + 1 durable writes (claim, then one per message);
they are timed for a channel with 1 month, 1 year and 3 years of history, with the size of
the file each write replaces. Backups: a team-state write hard-links the previous file to
`<name>.bak`; its cost is timed on the largest list file.

Targets: reaction save/unsave p99 <= 50 ms at every size (and flat in size), `/papers list`
p99 <= 100 ms, the first one after a start included: the store is opened and warmed up as
`paperboy run` does (`Service.warm_up`, timed on its own row, no target) before users ask.
Exit status 1 when one is missed.
Rewrites its own section of docs/benchmarks.md (between `<!-- bench:store -->` markers).
Run: .venv/bin/python bench/store.py [--ops 200] [--sizes 1000,5000,20000] [--tmp DIR]
     [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx

from bot.config import Config
from bot.events import CommandEvent, ListReply, ReactionEvent, SaveReply
from bot.models import ChatRef, Paper
from bot.service import Service
from bot.sources.huggingface import HuggingFaceClient
from bot.store import PostItem, PostRecord
from bot.store import _codec as codec
from bot.store._files import read_json, write_json_atomic
from bot.store._layout import list_file, post_file
from bot.store.tinydb import TinyDBStore
from bot.summarize import Summarizer

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._report import DOCS, machine, write_section  # noqa: E402
from bench._seed import post_records, seed_cache, seed_list, seed_posts  # noqa: E402

REACTION_TARGET_MS = 50.0
LIST_TARGET_MS = 100.0
SIZES = (1000, 5000, 20000)
HISTORIES = (30, 365, 1095)
FIRST_LIST_NOTE = (
    "The warm-up at start (`Service.warm_up`, as `paperboy run` calls it) reads every file "
    "of each known team's list once, to count it and order it; the first listing after a "
    "start should then answer from that index as later ones do."
)
TEAM = ("slack", "T0BENCH")
CHANNEL = ChatRef(TEAM[0], TEAM[1], "C000")
START = datetime(2023, 1, 1, 9, 0, tzinfo=UTC)
USER = "UBENCH"
# arXiv numbers a month's ids are drawn from (recent months pass 20,000 submissions).
MONTH_NUMBERS = 25_000


@dataclass(frozen=True)
class Row:
    operation: str
    millis: list[float]
    target_ms: float | None = None  # p99 target, when there is one

    def percentile(self, p: float) -> float:
        ordered = sorted(self.millis)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    def met(self) -> bool:
        return self.target_ms is None or self.percentile(99) <= self.target_ms


@dataclass(frozen=True)
class SizeResult:
    entries: int
    rows: list[Row]
    list_files: int
    largest_list_file: int
    list_dir: Path


@dataclass(frozen=True)
class PostWrites:
    history_days: int
    writes_per_post: int
    millis: list[float]
    file_bytes: int  # the month file the last write replaced
    year_bytes: int  # what one year file of this channel would hold (the earlier layout)


@dataclass(frozen=True)
class BackupCost:
    file_bytes: int
    with_backup: list[float]
    without_backup: list[float]


@dataclass(frozen=True)
class Result:
    sizes: list[SizeResult]
    posts: list[PostWrites]
    backup: BackupCost
    ops: int
    load: tuple[float, float]  # 1-minute load average before and after: other work competes

    def target_met(self) -> bool:
        return all(row.met() for size in self.sizes for row in size.rows)


# --- the data ---------------------------------------------------------------------------


def distinct_papers(corpus: Sequence[Paper], count: int, rng: random.Random) -> list[Paper]:
    """`count` papers with distinct arXiv ids: the corpus's text under ids spread over its
    months and over each month's numbers."""
    months = sorted({p.arxiv_id[:4] for p in corpus if p.arxiv_id[4:5] == "."})
    per_month = math.ceil(count / len(months))
    numbers = {month: rng.sample(range(1, MONTH_NUMBERS), per_month) for month in months}
    papers = []
    for n in range(count):
        month = months[n % len(months)]
        arxiv_id = f"{month}.{numbers[month][n // len(months)]:05d}"
        papers.append(replace(corpus[n % len(corpus)], arxiv_id=arxiv_id))
    return papers


def _messages(records: Sequence[PostRecord]) -> dict[str, ChatRef]:
    """The message that carried each paper."""
    return {
        item.arxiv_id: replace(record.channel, message=item.message_id)
        for record in records
        for item in record.items
        if item.arxiv_id
    }


# --- reactions and /papers list ---------------------------------------------------------


def _no_upstream(request: httpx.Request) -> httpx.Response:
    raise RuntimeError(f"the benchmark must not reach an upstream ({request.url})")


async def run_size(
    papers: Sequence[Paper], parent: Path, entries: int, ops: int
) -> SizeResult:
    """A team list of `entries` papers; `ops` reactions of each kind and some listings."""
    listed, fresh = papers[:entries], papers[entries : entries + ops]
    shared = list(listed[-ops:])  # on the list: a reaction adds a second saver
    data_dir = Path(tempfile.mkdtemp(prefix=f"paperboy-bench-store-{entries}-", dir=parent))
    records = post_records(CHANNEL, [*fresh, *shared], START.date(), math.ceil(2 * ops / 5))
    seed_list(data_dir, TEAM, listed, CHANNEL)
    seed_posts(data_dir, records)
    seed_cache(data_dir, [*fresh, *shared])
    messages = _messages(records)

    store = await TinyDBStore.open(data_dir)
    async with httpx.AsyncClient(transport=httpx.MockTransport(_no_upstream)) as http:
        service = Service(
            Config(),
            store=store,
            hf=HuggingFaceClient(http, base_url="http://upstream.invalid"),
            summarizer=Summarizer(store),
            clock=lambda: START + timedelta(days=3650),
        )
        try:
            rows = await _measure(service, messages, fresh, shared, entries, ops)
        finally:
            await store.close()
    list_dir = (data_dir / list_file(*TEAM, "hep-th/9901001")).parent  # the team's folder
    files = list(list_dir.rglob("*.json"))
    return SizeResult(entries, rows, len(files), max(p.stat().st_size for p in files), list_dir)


async def _measure(
    service: Service,
    messages: dict[str, ChatRef],
    fresh: Sequence[Paper],
    shared: Sequence[Paper],
    entries: int,
    ops: int,
) -> list[Row]:
    def react(paper: Paper, added: bool) -> Callable[[], Awaitable[None]]:
        event = ReactionEvent(messages[paper.arxiv_id], USER, "pushpin", added)

        async def call() -> None:
            reply = await service.handle_reaction(event, bot_user=None)
            if not isinstance(reply, SaveReply) or not reply.changed:
                raise SystemExit(f"reaction on {paper.arxiv_id} did not change the list")
        return call

    async def listing() -> None:
        reply = await service.handle_command(CommandEvent(CHANNEL, USER, "list"))
        if not isinstance(reply, ListReply) or reply.total < entries:
            raise SystemExit("/papers list does not show the seeded list: has the layout changed?")

    # A bot just started: `paperboy run` warms the store up (every known team's list, every
    # channel's ledger) before users ask; timed apart, it has no target.
    warm_up = await _time([lambda: service.warm_up([])])
    first = await _time([react(fresh[0], True)])
    rows = [
        Row("start: warm-up (before users ask)", warm_up),
        Row("first 📌 after start", first),
        Row("📌 save, new entry", await _time(
            [react(p, True) for p in fresh[1:]]), REACTION_TARGET_MS),
        Row("📌 save, second saver", await _time(
            [react(p, True) for p in shared]), REACTION_TARGET_MS),
        Row("📌 removed, one of two savers", await _time(
            [react(p, False) for p in shared]), REACTION_TARGET_MS),
        Row("📌 removed, last saver", await _time(
            [react(p, False) for p in fresh]), REACTION_TARGET_MS),
        # The warm-up read every file of the list once (to count it and order it): the
        # first listing since the start answers from memory, as later ones do.
        Row("first /papers list after start", await _time([listing]), LIST_TARGET_MS),
        Row("/papers list (20 + total)", await _time(
            [listing] * max(20, ops // 10)), LIST_TARGET_MS),
    ]
    return rows


async def _time(calls: Sequence[Callable[[], Awaitable[object]]]) -> list[float]:
    """Milliseconds each call took, run one after another as reactions would arrive."""
    millis = []
    for call in calls:
        began = time.perf_counter()
        await call()
        millis.append((time.perf_counter() - began) * 1000)
    return millis


# --- daily post writes ------------------------------------------------------------------


async def run_post_writes(
    papers: Sequence[Paper], parent: Path, history_days: int, posts: int
) -> PostWrites:
    """Time each durable write of `posts` daily posts (header + 5 papers) made after
    `history_days` days of earlier posts, as bot.service writes them."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"paperboy-bench-posts-{history_days}-", dir=parent))
    history = post_records(CHANNEL, papers, START.date(), history_days)
    seed_posts(data_dir, history)
    year = [codec.post_to_dict(r) for r in history[-365:]]
    year_bytes = len(_json_bytes({"claims": {d["day"]: d for d in year}}))
    store = await TinyDBStore.open(data_dir)
    millis: list[float] = []
    writes = 0
    try:
        if len(await store.posted_ids(CHANNEL)) == 0 and history_days:
            raise SystemExit("seeded posts do not read back: has the layout changed?")
        first_day = START.date() + timedelta(days=history_days)
        for record in post_records(CHANNEL, papers[::-1], first_day, posts):
            day, items = record.day, record.items
            steps: list[Callable[[], Awaitable[object]]] = [
                partial(store.claim_post, CHANNEL, day, "bench", START, [_sending(items[0])])
            ]
            for k in range(len(items)):
                # Confirm message k and announce message k + 1 in one write, as the service.
                done = [items[k]] + ([_sending(items[k + 1])] if k + 1 < len(items) else [])
                status = "posted" if k + 1 == len(items) else None
                steps.append(partial(store.record_items, CHANNEL, day, done, status))
            writes = len(steps)
            millis += await _time(steps)
        last = data_dir / post_file(CHANNEL, first_day + timedelta(days=posts - 1))
        file_bytes = last.stat().st_size
    finally:
        await store.close()
    return PostWrites(history_days, writes, millis, file_bytes, year_bytes)


def _sending(item: PostItem) -> PostItem:
    return replace(item, message_id=None)


def _json_bytes(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- backups ----------------------------------------------------------------------------


def run_backup_cost(list_dir: Path, rounds: int) -> BackupCost:
    """Rewrite the largest list file with and without keeping `.bak`, alternating."""
    path = max(list_dir.rglob("*.json"), key=lambda p: p.stat().st_size)
    data = read_json(path)
    with_backup: list[float] = []
    without_backup: list[float] = []
    for _ in range(rounds):
        for backup, into in ((True, with_backup), (False, without_backup)):
            began = time.perf_counter()
            write_json_atomic(path, data, backup=backup)
            into.append((time.perf_counter() - began) * 1000)
    return BackupCost(path.stat().st_size, with_backup, without_backup)


# --- the whole run ----------------------------------------------------------------------


async def run(
    corpus: Sequence[Paper],
    parent: Path,
    *,
    sizes: Sequence[int] = SIZES,
    ops: int = 200,
    histories: Sequence[int] = HISTORIES,
    posts: int = 20,
) -> Result:
    load_before = os.getloadavg()[0]
    rng = random.Random(7)
    papers = distinct_papers(corpus, max(sizes) + ops, rng)
    rng.shuffle(papers)
    results = [await run_size(papers, parent, entries, ops) for entries in sizes]
    post_writes = [await run_post_writes(papers, parent, days, posts) for days in histories]
    biggest = max(results, key=lambda size: size.entries)
    backup = run_backup_cost(biggest.list_dir, max(20, ops // 4))
    return Result(results, post_writes, backup, ops, (load_before, os.getloadavg()[0]))


def render(result: Result, disk: Path, when: date | None = None) -> str:
    """The markdown section for docs/benchmarks.md (and the terminal)."""
    when = when or date.today()
    sizes = result.sizes
    lines = [
        "## Store: 📌 reactions, `/papers list` and daily-post writes (`bench/store.py`)",
        "",
        f"Measured {when.isoformat()} on {machine()}; data directories under `{disk}`; "
        f"1-minute load average {result.load[0]:.1f} before, {result.load[1]:.1f} after.",
        "Command: `.venv/bin/python bench/store.py` "
        f"(--ops {result.ops}; sizes {', '.join(f'{s.entries:,}' for s in sizes)}).",
        "Through `Service.handle_reaction` / `Service.handle_command(text=\"list\")` on a "
        "TinyDBStore, one reaction at a time, a warm store (a running bot). Every write is a "
        "temp file + fsync + rename + directory fsync, team state also hard-links `.bak`.",
        "Lists: real corpus papers (text reused under made-up ids past ~8,000), "
        + "; ".join(
            f"{s.entries:,} entries in {s.list_files} files (largest "
            f"{s.largest_list_file / 1024:.0f} KiB)" for s in sizes
        ) + ".",
        "",
        "| operation | " + " | ".join(f"{s.entries:,}: p50 / p99 ms" for s in sizes)
        + " | p99 target |",
        "|---|" + "---:|" * len(sizes) + "---:|",
    ]
    for r, row in enumerate(sizes[0].rows):
        cells = [_cell(size.rows[r]) for size in sizes]
        target = f"{row.target_ms:.0f} ms" if row.target_ms else "—"
        lines.append(f"| {row.operation} | " + " | ".join(cells) + f" | {target} |")
    missed = [f"{row.operation} at {size.entries:,}" for size in sizes
              for row in size.rows if not row.met()]
    lines += [""]
    if missed:
        lines.append("**Target MISSED** (p99 above target): " + "; ".join(missed) + ".")
        if any(m.startswith("first /papers list") for m in missed):
            lines.append(FIRST_LIST_NOTE)
    else:
        lines.append(
            f"Targets: reaction p99 <= {REACTION_TARGET_MS:.0f} ms and list p99 <= "
            f"{LIST_TARGET_MS:.0f} ms at every size: **met**."
        )
    lines += [
        "",
        "Daily post writes (claim + one per message, header + 5 papers), 20 posts after a "
        "channel's history:",
        "",
        "| history | writes per post | p50 ms per write | p99 ms | file rewritten | "
        "a year file would be |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for post in result.posts:
        row = Row("", post.millis)
        lines.append(
            f"| {post.history_days} days | {post.writes_per_post} | {row.percentile(50):.2f} | "
            f"{row.percentile(99):.2f} | {post.file_bytes / 1024:.1f} KiB | "
            f"{post.year_bytes / 1024:.0f} KiB |"
        )
    backup = result.backup
    with_ms = statistics.median(backup.with_backup)
    without_ms = statistics.median(backup.without_backup)
    lines += [
        "",
        f"Keeping `.bak` (hard link + rename): rewriting a {backup.file_bytes / 1024:.0f} KiB "
        f"list file takes {with_ms:.2f} ms with it and {without_ms:.2f} ms without "
        f"(medians of {len(backup.with_backup)}), {with_ms - without_ms:+.2f} ms.",
    ]
    return "\n".join(lines)


def _cell(row: Row) -> str:
    flag = "" if row.met() else " ✗"
    return f"{row.percentile(50):.2f} / {row.percentile(99):.2f}{flag}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200, help="reactions timed per row")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="team list sizes, comma-separated")
    parser.add_argument("--tmp", type=Path, default=None, help="where to build the data dirs")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)

    from _corpus import load_corpus  # bench/ is on sys.path when run as a script

    corpus = load_corpus()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=args.tmp) as parent:
        result = asyncio.run(run(corpus, Path(parent), sizes=sizes, ops=args.ops))
    section = render(result, disk=args.tmp or Path(tempfile.gettempdir()))
    print(section)
    if not args.no_docs:
        write_section("store", section)
        print(f"\nupdated {DOCS.relative_to(PROJECT)}")
    return 0 if result.target_met() else 1


if __name__ == "__main__":
    sys.exit(main())
