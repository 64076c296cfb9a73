"""Time the morning fan-out through the wiring `paperboy run` uses, and chat answered during it.

One real day of the corpus (../shared/data; the day whose batch is closest to 50 papers,
as raw `/api/daily_papers` items from bench/digest.py) is served by the fake Hugging Face
in tests/fakes on 127.0.0.1. The data directory is a long-running team's: a year of daily
posts (250 posting days) for every channel, a 20,000-paper team list and the search index
over the corpus — written once in the store's own files (bench/_seed.py) and copied for each
run. The bot is wired as `paperboy run` wires it (bot.runtime.open_runtime, the TinyDB store,
the search index, paperboy.wiring.build_service), a bench adapter connects through
bot.running.connect_all, and the real DailyScheduler fires every channel's 09:00 job at once
(its clock moved to 09:00). While the posts go out, the adapter asks what users ask —
`/papers search`, a 📌 on a posted paper (and its removal), `/papers list` — one every 20 ms,
and times each answer.

Reported, median of RUNS runs: the fan-out's wall time; the floor its exactly-once design
needs, measured right after each run on the same disk (N+1 atomic writes of a month's post
file per post of N messages: the claim with the first announcement, then one per message,
as many as that run sent); the same fan-out without chat, on the long-running team's data
and on a fresh directory (no history, no list), to show it is flat in history and list
size; one run at 2,000 channels (linear, no worse); and the answer times during the
fan-out (search p95, save p99, list max). Targets: fan-out ≤ 3× floor; without chat, a year
of history ≤ 1.25× fresh; search p95 ≤ 100 ms; save p99 ≤ 50 ms; list ≤ 100 ms.
Prints a markdown table with the machine and rewrites its own section of docs/benchmarks.md.
Exit status 1 when a target is missed, 2 when the corpus is absent.
Run: .venv/bin/python bench/fanout.py [--channels 500] [--runs 3] [--big 2000] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._corpus import load_corpus  # noqa: E402
from bench._report import machine, write_section  # noqa: E402
from bench._seed import post_records, seed_cache, seed_list, seed_posts  # noqa: E402
from bench.digest import corpus_day, make_channels  # noqa: E402
from bot.config import ChannelConfig, Config, HuggingFaceConfig, StorageConfig  # noqa: E402
from bot.events import (  # noqa: E402
    CommandEvent,
    DetailsReply,
    Identity,
    ListReply,
    Outgoing,
    ReactionEvent,
    SaveReply,
    SearchReply,
)
from bot.models import ChatRef, Digest, Paper, Pick  # noqa: E402
from bot.running import connect_all  # noqa: E402
from bot.runtime import open_runtime  # noqa: E402
from bot.schedule import DailyScheduler  # noqa: E402
from bot.search import open_index, rebuild_index  # noqa: E402
from bot.service import Service  # noqa: E402
from bot.store._files import write_json_atomic  # noqa: E402
from bot.store.tinydb import TinyDBStore  # noqa: E402
from paperboy.wiring import build_service  # noqa: E402
from tests.fakes.hf_server import FakeHuggingFace  # noqa: E402

SECTION = "fanout"
CHANNELS = 500
BIG = 2000
RUNS = 3
HISTORY_DAYS = 250
LISTED = 20_000
TEAM = "T0BENCH"
BOT_USER = "U0PAPERBOY"
PROBE_EVERY = 0.02
FLOOR_FACTOR = 3.0
# "Flat in history": a year of history and a 20,000-paper list cost at most this much more.
FLAT_FACTOR = 1.25
SEARCH_P95_MS = 100.0
SAVE_P99_MS = 50.0
LIST_MAX_MS = 100.0
QUERIES = ("diffusion video", "speculative decoding", "reinforcement learning agents",
           "multimodal reasoning", "retrieval augmented generation", "author:Wang")


class BenchAdapter:
    """A chat adapter with no platform: it counts what it is asked to post, and its `probe`
    asks the service what users ask, timing each answer."""

    platform = "slack"

    def __init__(self, service: Service, saveable: Sequence[ChatRef]) -> None:
        self.service = service
        self.identity = Identity("slack", TEAM, BOT_USER)
        self.sent: Counter[str] = Counter()
        self.timings: dict[str, list[float]] = {"search": [], "save": [], "list": []}
        self.wrong: list[str] = []
        self._saveable = list(saveable)
        self._ids = itertools.count(1)

    async def connect(self) -> Identity:
        return self.identity

    async def run(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def post_header(self, out: Outgoing, digest: Digest) -> str:
        return self._send("header")

    async def post_pick(self, out: Outgoing, digest: Digest, pick: Pick) -> str:
        return self._send("pick")

    async def post_note(self, out: Outgoing, text: str) -> str:
        return self._send("note")

    async def find_posted(self, out: Outgoing, since: datetime) -> str | None:
        return None  # nothing was interrupted

    async def post_in_thread(self, reply: DetailsReply) -> str:
        return self._send("thread")

    def _send(self, kind: str) -> str:
        self.sent[kind] += 1
        return f"9{next(self._ids):09d}.000000"

    async def probe(self, until: asyncio.Event) -> None:
        """One question every PROBE_EVERY seconds, in turn, until `until` is set."""
        where = ChatRef("slack", TEAM, "C0000000000")
        rng = random.Random(7)
        for turn in itertools.count():
            if until.is_set():
                return
            kind = ("search", "save", "list")[turn % 3]
            started = time.perf_counter()
            if kind == "search":
                reply = await self.service.handle_command(
                    CommandEvent(where, "U0ANA", "search " + rng.choice(QUERIES)))
                ok = isinstance(reply, SearchReply)
            elif kind == "save":
                message = self._saveable[(turn // 3) % len(self._saveable)]
                added = (turn // 3 // len(self._saveable)) % 2 == 0
                reply = await self.service.handle_reaction(
                    ReactionEvent(message, "U0ANA", "pushpin", added), bot_user=BOT_USER)
                ok = isinstance(reply, SaveReply)
            else:
                reply = await self.service.handle_command(CommandEvent(where, "U0ANA", "list"))
                ok = isinstance(reply, ListReply)
            self.timings[kind].append((time.perf_counter() - started) * 1000)
            if not ok:
                self.wrong.append(f"{kind}: {type(reply).__name__}")
            await asyncio.sleep(PROBE_EVERY)


@dataclass(frozen=True)
class Run:
    channels: int
    seconds: float
    floor: float
    sent: Counter[str]
    timings: dict[str, list[float]] = field(default_factory=dict)
    wrong: tuple[str, ...] = ()
    load: float = 0.0  # 1-minute load average right after: other work competes


def slack_channels(items: Sequence[dict[str, Any]], count: int) -> list[ChannelConfig]:
    """bench/digest.py's varied channels, all posting at 09:00 UTC on weekdays."""
    return [replace(c, team=TEAM, id=f"C{i:010d}") for i, c in
            enumerate(make_channels(items, count))]


def build_template(
    template: Path, channels: Sequence[ChannelConfig], corpus: Sequence[Paper],
    post_day: date, *, history: bool,
) -> list[ChatRef]:
    """A data directory as a long-running bot leaves it (or a fresh one); returns messages
    of past posts that a 📌 can be put on."""
    template.mkdir(parents=True)
    if not history:
        return []
    papers = list(corpus)
    listed = _distinct_copies(papers, LISTED)
    seed_cache(template, papers)
    seed_list(template, ("slack", TEAM), listed)
    first = post_day - timedelta(days=HISTORY_DAYS)
    saveable: list[ChatRef] = []
    for n, channel in enumerate(channels):
        where = ChatRef("slack", TEAM, channel.id)
        offset = papers[n % len(papers):] + papers[: n % len(papers)]
        records = post_records(where, offset, first, HISTORY_DAYS)
        seed_posts(template, records)
        if n < 20:
            item = records[-1].items[1]
            saveable.append(replace(where, message=item.message_id))
    return saveable


async def index_template(template: Path) -> None:
    store = await TinyDBStore.open(template)
    try:
        await rebuild_index(await open_index(template, store), store)
    finally:
        await store.close()


async def fan_out(
    template: Path, work: Path, channels: Sequence[ChannelConfig], day: str,
    items: list[dict[str, Any]], saveable: Sequence[ChatRef],
) -> Run:
    data = work / "data"
    shutil.copytree(template, data)
    posted_day = date.fromisoformat(day)
    nine = datetime.combine(posted_day, datetime.min.time(), tzinfo=UTC).replace(hour=9)
    now = [nine - timedelta(minutes=1)]
    async with FakeHuggingFace(batches={day: items}) as hf:
        config = Config(
            storage=StorageConfig(path=data),
            huggingface=HuggingFaceConfig(base_url=hf.base_url),
            channels=tuple(channels),
        )
        async with open_runtime(config, env={}) as rt:
            service = await build_service(rt, clock=lambda: now[0])
            adapter = BenchAdapter(service, saveable)
            targets = await connect_all(service, [adapter])
            by_name = {t.channel.name: t for t in targets}
            # As `paperboy run` does after connecting (it started earlier in the morning).
            await service.warm_up(targets)
            scheduler = DailyScheduler(
                [t.channel for t in targets],
                lambda channel, d: service.poster.post(by_name[channel.name], d),
                store=rt.store, clock=lambda: now[0],
                addresses={t.channel.name: t.where for t in targets},
            )
            await scheduler.start()
            done = asyncio.Event()
            probing = asyncio.ensure_future(adapter.probe(done)) if saveable else None
            now[0] = nine + timedelta(seconds=30)
            started = time.perf_counter()
            await scheduler.run_due()
            seconds = time.perf_counter() - started
            done.set()
            if probing is not None:
                await probing
            await scheduler.shutdown()
    # The floor right after, on the same disk: as many writes as this fan-out's posts need.
    floor = _floor(work / "floor", len(channels), sum(adapter.sent.values()) + len(channels))
    return Run(len(channels), seconds, floor, adapter.sent, adapter.timings,
               tuple(adapter.wrong), os.getloadavg()[0])


def _floor(directory: Path, channels: int, writes: int) -> float:
    """The exactly-once design's durable writes: N+1 per post of N messages (the claim
    with the first announcement, then one per message), each an atomic write of a month's
    post file (a temp file, fsync, rename, directory fsync), `writes` in all."""
    directory.mkdir(parents=True)
    month = {"claims": {f"2026-05-{d:02d}": {"items": [{"key": f"k{k}", "message_id": "1"}
                                                        for k in range(6)]}
                        for d in range(1, 21)}}
    started = time.perf_counter()
    for n in range(writes):
        write_json_atomic(directory / f"{n % channels}.json", month)
    return time.perf_counter() - started


def _distinct_copies(papers: Sequence[Paper], count: int) -> list[Paper]:
    """`count` papers with distinct ids: the corpus, then copies under unused numbers."""
    out = list(papers[:count])
    for copy in itertools.count(1):
        for paper in papers:
            if len(out) >= count:
                return out
            month, number = paper.arxiv_id.split(".")
            out.append(replace(paper, arxiv_id=f"{month}.{int(number) + 50_000 * copy:05d}"))
    return out


def _pct(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Measurement:
    runs: tuple[Run, ...]
    fresh: Run
    quiet: Run
    big: Run | None
    day: str
    papers: int

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def floor(self) -> float:
        return statistics.median(r.floor for r in self.runs)

    def timings(self, kind: str) -> list[float]:
        return [t for r in self.runs for t in r.timings.get(kind, [])]

    def misses(self) -> list[str]:
        missed = []
        if self.median > FLOOR_FACTOR * self.floor:
            missed.append(f"fan-out ≤ {FLOOR_FACTOR:g}× the floor")
        for kind, pct, limit in (("search", 95, SEARCH_P95_MS), ("save", 99, SAVE_P99_MS),
                                 ("list", 100, LIST_MAX_MS)):
            values = self.timings(kind)
            if not values or _pct(values, pct) > limit:
                missed.append(f"{kind} p{pct} ≤ {limit:g} ms")
        if self.quiet.seconds > FLAT_FACTOR * self.fresh.seconds:
            missed.append(f"flat in history (a year of history ≤ {FLAT_FACTOR:g}× a fresh "
                          "directory, both without chat)")
        if self.big is not None and self.big.seconds > 1.25 * self.median * (
                self.big.channels / self.runs[0].channels):
            missed.append(f"{self.big.channels} channels linear (≤ 1.25× the 500-channel rate)")
        wrong = [w for r in self.runs for w in r.wrong]
        if wrong:
            missed.append(f"{len(wrong)} wrong answers ({wrong[0]})")
        return missed


def render(m: Measurement, command: str) -> str:
    rows = [
        "| run | channels | history | fan-out s | floor s | fan-out / floor | messages | load |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, r in enumerate(m.runs, 1):
        rows.append(f"| {n} | {r.channels} | 1 year, {LISTED:,} saved | {r.seconds:.2f} | "
                    f"{r.floor:.2f} | {r.seconds / r.floor:.2f} | {sum(r.sent.values())} | "
                    f"{r.load:.1f} |")
    for name, history, r in (("no chat", f"1 year, {LISTED:,} saved", m.quiet),
                             ("fresh", "none", m.fresh)):
        rows.append(f"| {name} | {r.channels} | {history} | {r.seconds:.2f} | {r.floor:.2f} | "
                    f"{r.seconds / r.floor:.2f} | {sum(r.sent.values())} | {r.load:.1f} |")
    if m.big is not None:
        b = m.big
        rows.append(f"| big | {b.channels} | 1 year, {LISTED:,} saved | {b.seconds:.2f} | "
                    f"{b.floor:.2f} | {b.seconds / b.floor:.2f} | {sum(b.sent.values())} | "
                    f"{b.load:.1f} |")
    answers = ["| during the fan-out | answers | p50 ms | p95 ms | p99 ms | max ms | target |",
               "|---|---:|---:|---:|---:|---:|---|"]
    for kind, target in (("search", f"p95 ≤ {SEARCH_P95_MS:g}"),
                         ("save", f"p99 ≤ {SAVE_P99_MS:g}"), ("list", f"max ≤ {LIST_MAX_MS:g}")):
        v = m.timings(kind)
        if v:
            answers.append(f"| {kind} | {len(v)} | {_pct(v, 50):.1f} | {_pct(v, 95):.1f} | "
                           f"{_pct(v, 99):.1f} | {max(v):.1f} | {target} |")
    missed = m.misses()
    verdict = "all met" if not missed else "MISSED: " + "; ".join(missed)
    return "\n".join([
        "## Fan-out through the wiring of `paperboy run` (`bench/fanout.py`)",
        "",
        f"Measured {date.today().isoformat()} on {machine()}. Command: `{command}`.",
        f"Data: {m.day} from the corpus ({m.papers} papers) served by the fake Hugging Face; "
        f"each channel has a year of daily posts ({HISTORY_DAYS} days), the team a "
        f"{LISTED:,}-paper list, the search index the corpus. The real scheduler fires every "
        "channel's 09:00 job at once; the floor is N+1 atomic writes of a month's post file "
        "per post of N messages, as many as the run's messages need, on the same disk, "
        "measured right after each run. Numbered runs answer chat meanwhile (a search, a 📌 "
        "or its removal, a list, one every 20 ms); \"no chat\" is the same data without "
        "it, to compare with the fresh directory (no history, no list, no chat).",
        "",
        "The load column is the 1-minute load average after each run (2 CPUs, shared).",
        "",
        f"Median of {len(m.runs)} runs: **{m.median:.2f} s** for {m.runs[0].channels} channels "
        f"(floor {m.floor:.2f} s, {m.median / m.floor:.2f}×).",
        "",
        *rows,
        "",
        *answers,
        "",
        f"Targets (fan-out ≤ {FLOOR_FACTOR:g}× floor, flat in history (≤ {FLAT_FACTOR:g}× "
        "fresh without chat), linear in channels, "
        f"answers during the fan-out): **{verdict}**.",
    ])


async def measure(
    channels_n: int, runs: int, big_n: int | None, tmp: Path
) -> Measurement:
    day, items = corpus_day()
    corpus = load_corpus()
    channels = slack_channels(items, max(channels_n, big_n or 0))
    posted = date.fromisoformat(day)
    full = tmp / "template-full"
    saveable = build_template(full, channels, corpus, posted, history=True)
    await index_template(full)
    fresh = tmp / "template-fresh"
    build_template(fresh, channels, corpus, posted, history=False)
    results = []
    for n in range(runs):
        results.append(await fan_out(full, tmp / f"run-{n}", channels[:channels_n], day, items,
                                     saveable))
    quiet = await fan_out(full, tmp / "quiet", channels[:channels_n], day, items, [])
    fresh_run = await fan_out(fresh, tmp / "fresh", channels[:channels_n], day, items, [])
    big = None
    if big_n:
        big = await fan_out(full, tmp / "big", channels[:big_n], day, items, [])
    return Measurement(tuple(results), fresh_run, quiet, big, day, len(items))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=CHANNELS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--big", type=int, default=BIG, help="channels of the linear check "
                        "(0 skips it)")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="paperboy-fanout-") as tmp:
        m = asyncio.run(measure(args.channels, args.runs, args.big or None, Path(tmp)))
    command = " ".join([".venv/bin/python", "bench/fanout.py", *(argv or sys.argv[1:])])
    section = render(m, command)
    print(section)
    if not args.no_docs:
        write_section(SECTION, section)
    return 1 if m.misses() else 0


if __name__ == "__main__":
    sys.exit(main())
