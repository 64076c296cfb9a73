"""Simulate 30 days of 20 channels on Slack, Discord and the console; check exactly once.

Thirty consecutive days of the offline corpus (../shared/data: the window with the most
featured weekdays), served as raw Daily Papers batches by the fake Hugging Face in
tests/fakes. The bot is wired as `paperboy run` wires it (bot.runtime.open_runtime: TinyDB
store and search index; paperboy.wiring.build_service; the real Slack adapter against the
fake Web API, the real discord.py client against the fake Discord, the console adapter
writing to a discarded stream with its history file; bot.running's connect_all and
scheduler with the admin alerts), on a clock this script moves in 30-minute steps through
the month, running what is due at each step as the scheduler's timer would.
Channels: 10 Slack, 9 Discord, 1 console, at 08:00–10:30 in six time zones, Monday to
Friday.

Checked afterwards, per channel: every posting day has a finished post in the ledger; each
message reached the platform exactly once (Slack's metadata, Discord's nonce, the console's
history file name day and item), and the platform holds exactly the messages the ledger
recorded; no paper went to a channel twice. Measured: the wall time of the month, the data
directory's size and file count after it, and the latency of 200 saves by 📌 (the store's
write path through the service) on the month's posts.
Prints a markdown table with the machine and load average, and rewrites its own section of
docs/benchmarks.md. Exit status 1 on a duplicate or missing post, 2 when the corpus is absent.
Run: .venv/bin/python bench/month.py [--days 30] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

import discord  # noqa: E402
import yarl  # noqa: E402
from discord.gateway import DiscordWebSocket  # noqa: E402

from adapters.discord.adapter import DiscordAdapter, invite_permissions  # noqa: E402
from adapters.slack.adapter import Pacer, SlackAdapter  # noqa: E402
from bench._report import machine, write_section  # noqa: E402
from bench.digest import CORPUS, item_from_record  # noqa: E402
from bot.alerts import AdminAlerts  # noqa: E402
from bot.config import (  # noqa: E402
    ArxivConfig,
    ChannelConfig,
    Config,
    HuggingFaceConfig,
    SlackConfig,
    StorageConfig,
)
from bot.events import ChatAdapter, ReactionEvent, SaveReply  # noqa: E402
from bot.models import ChatRef  # noqa: E402
from bot.running import connect_all, schedule_posts  # noqa: E402
from bot.runtime import open_runtime  # noqa: E402
from paperboy.wiring import build_service, console_adapter  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402
from tests.fakes.discord_api import TOKEN, FakeDiscord, Guild  # noqa: E402
from tests.fakes.hf_server import FakeHuggingFace  # noqa: E402
from tests.fakes.slack_api import TEAM, FakeSlack  # noqa: E402

SECTION = "month"
GUILD = 10
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Europe/London",
         "America/Los_Angeles")
TIMES = ("08:00", "08:30", "09:00", "09:30", "10:00", "10:30")
STEP = timedelta(minutes=30)
SAVES = 200


@dataclass
class Month:
    first: date
    days: int
    channels: int
    posts: int = 0
    messages: int = 0
    problems: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    data_bytes: int = 0
    data_files: int = 0
    save_ms: list[float] = field(default_factory=list)
    load_average: str = ""


def corpus_window(days: int) -> tuple[date, dict[str, list[dict[str, Any]]]]:
    """The `days`-long window (starting on a Monday) with the most featured weekdays, as
    raw batches by date."""
    if not CORPUS.is_file():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        sys.exit(2)
    by_day: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    with CORPUS.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                by_day[record["daily_date"]].append(record)
    featured = sorted(date.fromisoformat(d) for d in by_day)
    mondays = [d for d in featured if d.weekday() == 0]

    def score(start: date) -> int:
        return sum((start + timedelta(n)).isoformat() in by_day for n in range(days))

    first = max(mondays, key=lambda d: (score(d), d))
    batches = {}
    for n in range(days):
        day = (first + timedelta(n)).isoformat()
        records = sorted(by_day.get(day, []), key=lambda r: (-r.get("upvotes", 0), r["arxiv_id"]))
        batches[day] = [item_from_record(r) for r in records]
    return first, batches


def channels() -> list[ChannelConfig]:
    made = []
    for n in range(20):
        platform = "slack" if n < 10 else "discord" if n < 19 else "console"
        ident = f"C0MONTH{n:02d}" if platform == "slack" else str(1000 + n) \
            if platform == "discord" else "console"
        made.append(ChannelConfig(
            name=f"{platform}-{n}", platform=platform, id=ident,  # type: ignore[arg-type]
            team=TEAM if platform == "slack" else None,
            time=TIMES[n % len(TIMES)], timezone=ZONES[n % len(ZONES)],
            keywords=(("language", "vision", "agents", "diffusion")[n % 4],),
        ))
    return made


async def simulate(days: int) -> Month:
    first, batches = corpus_window(days)
    configured = channels()
    month = Month(first, days, len(configured))
    guild = Guild(GUILD, {int(c.id): c.name for c in configured if c.platform == "discord"},
                  invite_permissions().value)
    # Midnight UTC before the first day; the month's last posts are done by its end.
    clock = FakeClock(datetime.combine(first, datetime.min.time(), UTC) - STEP)
    with tempfile.TemporaryDirectory(prefix="paperboy-month-") as tmp:
        data = Path(tmp) / "data"
        async with FakeHuggingFace(batches=batches) as hf, FakeSlack() as slack, \
                FakeDiscord([guild], clock=clock) as discord_fake:
            discord.http.Route.BASE = f"{discord_fake.base_url}/api/v10"
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
                discord_fake.base_url.replace("http", "ws", 1) + "/gw")
            config = Config(
                storage=StorageConfig(data),
                huggingface=HuggingFaceConfig(base_url=hf.base_url, timeout=10),
                arxiv=ArxivConfig(base_url=hf.base_url, rss_url=hf.base_url),
                slack=SlackConfig(mode="http", port=0, api_url=slack.api_url),
                channels=tuple(configured),
            )
            async with open_runtime(config) as rt:
                service = await build_service(rt, clock)
                console = next(c for c in configured if c.platform == "console")
                adapters: list[ChatAdapter] = [
                    SlackAdapter(service, config.slack, bot_token="xoxb-month",
                                 pacer=Pacer(0)),
                    DiscordAdapter(service, TOKEN, guild_ready_timeout=0.3),
                ]
                console_out = await console_adapter(rt, service, console, lines=None,
                                                    banner=False)
                console_out._out = io.StringIO()  # the terminal's text is not measured
                adapters.append(console_out)
                alerts = AdminAlerts.from_config(config, clock, rt.store)
                targets = await connect_all(service, adapters, alerts)
                scheduler = schedule_posts(service, targets, alerts, store=rt.store,
                                           clock=clock)
                started = time.perf_counter()
                await scheduler.start()
                end = clock.now + timedelta(days=days) + STEP
                while clock.now < end:
                    clock.now += STEP
                    await scheduler.run_due()
                month.wall_s = time.perf_counter() - started
                await scheduler.shutdown()
                await _check(month, configured, targets, rt.store, slack, discord_fake, data)
                month.save_ms = await _saves(service, slack, configured)
                for adapter in adapters:
                    await adapter.close()
                await service.close()
            files = [p for p in data.rglob("*") if p.is_file()]
            month.data_files = len(files)
            month.data_bytes = sum(p.stat().st_size for p in files)
    load = os.getloadavg()
    month.load_average = f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    return month


async def _check(month: Month, configured: list[ChannelConfig], targets: list[Any],
                 store: Any, slack: FakeSlack, discord_fake: FakeDiscord, data: Path) -> None:
    by_name = {t.channel.name: t for t in targets}
    console_lines = [json.loads(line) for line in
                     (data / "console" / "history.jsonl").read_text("utf-8").splitlines()]
    for channel in configured:
        target = by_name.get(channel.name)
        if target is None:
            month.problems.append(f"{channel.name}: not served")
            continue
        if channel.platform == "slack":
            sent = Counter((m["metadata"]["event_payload"]["day"],
                            m["metadata"]["event_payload"]["key"])
                           for m in slack.posted(channel.id))
        elif channel.platform == "discord":
            sent = Counter(m["nonce"] for m in discord_fake.messages[int(channel.id)])
        else:
            sent = Counter((e["day"], e["key"]) for e in console_lines if "key" in e)
        twice = [key for key, n in sent.items() if n > 1]
        if twice:
            month.problems.append(f"{channel.name}: sent twice: {twice[:3]}")
        recorded, papers = 0, Counter[str]()
        for n in range(month.days):
            day = month.first + timedelta(n)
            if day.weekday() >= 5:
                continue
            record = await store.get_post(target.where, day)
            if record is None or record.status not in ("posted", "empty"):
                month.problems.append(f"{channel.name}: no finished post for {day}")
                continue
            month.posts += 1
            recorded += sum(item.message_id is not None for item in record.items)
            papers.update(item.arxiv_id for item in record.items if item.arxiv_id)
        if recorded != sum(sent.values()):
            month.problems.append(f"{channel.name}: ledger has {recorded} messages, the "
                                  f"platform {sum(sent.values())}")
        if any(n > 1 for n in papers.values()):
            month.problems.append(f"{channel.name}: a paper posted twice")
        month.messages += sum(sent.values())


async def _saves(service: Any, slack: FakeSlack, configured: list[ChannelConfig]) -> list[float]:
    """200 📌 by different people on the month's Slack paper messages, each timed."""
    papers = [(c.id, m["ts"]) for c in configured if c.platform == "slack"
              for m in slack.posted(c.id) if m["metadata"]["event_payload"]["key"] != "header"]
    times = []
    for n in range(SAVES):
        channel, ts = papers[(n * 7) % len(papers)]
        event = ReactionEvent(ChatRef("slack", TEAM, channel, ts), f"U0SAVER{n:03d}",
                              "pushpin", added=True)
        started = time.perf_counter()
        reply = await service.handle_reaction(event, bot_user="U0BOT")
        times.append((time.perf_counter() - started) * 1000)
        if not isinstance(reply, SaveReply) or not reply.changed:
            raise RuntimeError(f"save {n} did not save: {reply}")
    return times


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def render(m: Month, command: str) -> str:
    verdict = "none" if not m.problems else "; ".join(m.problems[:5])
    return "\n".join([
        "## A simulated month: 20 channels on Slack, Discord and the console "
        "(`bench/month.py`)",
        "",
        f"Machine: {machine()}; load average (1/5/15 min): {m.load_average} (shared "
        f"machine). Command: `{command}`.",
        "",
        f"{m.days} days from {m.first} (corpus batches as the fake Hugging Face's), "
        f"{m.channels} channels (10 Slack, 9 Discord, 1 console; six time zones, Mon–Fri), "
        "wired as `paperboy run` wires them against local fakes of each platform, the "
        "scheduler's clock moved in 30-minute steps.",
        "",
        "| figure | measured |",
        "|---|---|",
        f"| daily posts finished | {m.posts:,} ({m.messages:,} messages) |",
        f"| duplicate or missing posts | {verdict} → "
        f"{'met' if not m.problems else 'MISSED'} |",
        f"| wall time of the month | {m.wall_s:.1f} s |",
        f"| data directory after it | {m.data_bytes / 2**20:.1f} MB in {m.data_files} files |",
        f"| save by 📌 after it, {SAVES} saves: p50 / p99 / max | {_pct(m.save_ms, 0.5):.1f} / "
        f"{_pct(m.save_ms, 0.99):.1f} / {max(m.save_ms):.1f} ms |",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    month = asyncio.run(simulate(args.days))
    command = ".venv/bin/python bench/month.py" + \
        (f" --days {args.days}" if args.days != 30 else "")
    section = render(month, command)
    print(section)
    if not args.no_docs:
        write_section(SECTION, section)
    return 1 if month.problems else 0


if __name__ == "__main__":
    sys.exit(main())
