"""Time channel setups from chat on the TinyDB store as the number of subscribed channels grows.

All setups live in one team-state file (`channels.json`, bot.store._setups), rewritten whole
on every change: this measures what that costs at 100, 1,000 and 10,000 subscribed channels —
a change (`put_channel_setup`, what `/papers subscribe` and `/papers settings …` write), a
read (`get_channel_setup`, what `/papers settings` and `/papers today` read) and the start
(`channel_setups`, read once when the bot starts, cold). The file is seeded directly in the
store's encoding (as bench/_seed.py does for history), then `--ops` changes and reads run
through the store's API on a warm store. No target: many workspaces belong on a shared
PostgreSQL store (issue 13); the figures say where the one-file layout stops being cheap.
Prints a markdown section and rewrites its own section of docs/benchmarks.md.
Run: .venv/bin/python bench/channel_setups.py [--ops 50] [--sizes 100,1000,10000] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._report import machine, write_section  # noqa: E402
from bot.channel_setup import ChannelSetup, setup_to_dict  # noqa: E402
from bot.models import ChatRef  # noqa: E402
from bot.store import _setups  # noqa: E402
from bot.store._files import write_json_atomic  # noqa: E402
from bot.store.tinydb import TinyDBStore  # noqa: E402

AT = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)


def setup(i: int, top_n: int = 5) -> ChannelSetup:
    """Channel i of 50 workspaces, with the keywords a real channel has."""
    return ChannelSetup(
        channel=ChatRef("slack", f"T{i % 50:04d}", f"C{i:08d}"), time="09:00",
        timezone="Europe/Paris", days=("mon", "tue", "wed", "thu", "fri"),
        keywords=("diffusion", "video generation", "agents"), exclude=("survey",),
        top_n=top_n, subscriber=f"U{i:08d}", updated_at=AT, updated_by=f"U{i:08d}",
    )


@dataclass
class Row:
    channels: int
    file_kib: float
    start_ms: float
    put_ms: list[float]
    get_ms: list[float]


def seed(data_dir: Path, channels: int) -> None:
    documents = {_setups._doc_id(setup(i).channel): setup_to_dict(setup(i))
                 for i in range(channels)}
    write_json_atomic(data_dir / _setups.FILE, {_setups.TABLE: documents}, backup=True)


async def measure(channels: int, ops: int) -> Row:
    with tempfile.TemporaryDirectory(prefix="paperboy-bench-") as temp:
        data_dir = Path(temp) / "data"
        data_dir.mkdir()
        seed(data_dir, channels)
        store = await TinyDBStore.open(data_dir)
        try:
            began = time.perf_counter()
            assert len(await store.channel_setups()) == channels
            start_ms = (time.perf_counter() - began) * 1000
            put_ms, get_ms = [], []
            for n in range(ops):
                changed = setup(n * 7919 % channels, top_n=1 + n % 20)
                began = time.perf_counter()
                await store.put_channel_setup(changed)
                put_ms.append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                await store.get_channel_setup(changed.channel)
                get_ms.append((time.perf_counter() - began) * 1000)
            size = (data_dir / _setups.FILE).stat().st_size / 1024
        finally:
            await store.close()
    return Row(channels, size, start_ms, put_ms, get_ms)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def render(rows: list[Row], ops: int, load_before: float, load_after: float,
           command: str) -> str:
    lines = [
        "## Channels set up from chat: one `channels.json` (`bench/channel_setups.py`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; data directories under the "
        f"system temp dir; 1-minute load average {load_before:.1f} before, {load_after:.1f} "
        "after (shared machine: figures are noisy).",
        f"Command: `{command}` ({ops} changes and reads per size, warm store).",
        "Every change rewrites the whole file atomically (temp file, fsync, rename, directory "
        "fsync) and hard-links the previous version to `channels.json.bak`.",
        "",
        "| subscribed channels | channels.json | start: read all (cold) | change p50 / p99 "
        "| read p50 / p99 |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.channels:,} | {row.file_kib:,.0f} KiB | {row.start_ms:.1f} ms "
            f"| {p(row.put_ms, 50):.1f} / {p(row.put_ms, 99):.1f} ms "
            f"| {p(row.get_ms, 50):.2f} / {p(row.get_ms, 99):.2f} ms |"
        )
    lines += [
        "",
        "A change costs a rewrite of every subscribed channel's setup: cheap for a team's "
        "bot, growing with the count; reads answer from TinyDB's in-memory copy. A bot "
        "serving thousands of channels from chat belongs on a shared PostgreSQL store.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=50)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--no-docs", action="store_true",
                        help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = [asyncio.run(measure(int(size), args.ops)) for size in args.sizes.split(",")]
    command = ".venv/bin/python bench/channel_setups.py" + "".join(
        f" {a}" for a in sys.argv[1:] if a != "--no-docs")
    section = render(rows, args.ops, load_before, os.getloadavg()[0], command)
    print(section)
    if not args.no_docs:
        write_section("channel_setups", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
