"""Three `paperboy run` replicas on one PostgreSQL: 200 channels due the same minute, replicas
SIGKILLed at random mid-post, then 1,000 slash commands through a round-robin proxy.

The fleet (tests/fakes/fleet.py): a throwaway PostgreSQL (tests/fakes/postgres.py), the
Slack, Discord and Hugging Face fakes on 127.0.0.1, and three whole `paperboy run` processes
(Slack in HTTP mode, each on its own port; Discord through the fake gateway, one shard
each), each with its own config and search index and the same `[storage] url`. Half the
channels are Slack, half Discord, all due at the same UTC minute, live: each replica's
scheduler fires them.

Posts: when 20% and 50% of the messages are out, a replica chosen at random is SIGKILLed and
started again (an orchestrator restarting a container). Checked: every channel got the header
and each pick exactly once. Measured: claim latency (due minute → claim row, from the posts
table), the time until every channel had its post, posts and messages per second, and the
database's connections (pg_stat_activity, sampled every 250 ms: peak and at the end).

Commands: 1,000 signed `/papers` requests (help, list, settings in turn; 20 in flight)
through bench/_proxy.py, which hands each new connection to the next replica. Measured: the
HTTP acknowledgement time (p50, p99, max) and whether every reply reached its response_url.

Exit status 1 when a channel got a message twice or not at all, or a reply is missing.
Prints a markdown table and rewrites its own section of docs/benchmarks.md.
Run: .venv/bin/python bench/replicas.py [--channels 200] [--commands 1000] [--seed 13]
     [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

import httpx  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

from bench._proxy import RoundRobinProxy  # noqa: E402
from bench._report import machine, write_section  # noqa: E402
from bot.models import ChatRef  # noqa: E402
from bot.store.postgres import PostgresStore  # noqa: E402
from tests.fakes.fleet import SIGNING_SECRET, Fleet, claim_latencies, until, utc_minute  # noqa: E402
from tests.fakes.postgres import create_database, drop_database, throwaway_server  # noqa: E402
from tests.fakes.slack_api import TEAM  # noqa: E402

SECTION = "replicas"
LEASE_SECONDS = 10.0
COMMANDS = ("help", "list", "settings")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _sample_connections(fleet: Fleet, samples: list[int], stop: asyncio.Event) -> None:
    conn = await fleet.database.server.connect(fleet.database.name)
    try:
        while not stop.is_set():
            samples.append(int(await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                fleet.database.name)) - 1)  # less this sampler's own connection
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


async def _posts(fleet: Fleet, rng: random.Random) -> dict[str, object]:
    for replica in fleet.members:
        await fleet.start(replica)
    for replica in fleet.members:
        await fleet.wait_ready(replica)
    due_at = datetime.strptime(fleet.due, "%H:%M").replace(
        year=fleet.day.year, month=fleet.day.month, day=fleet.day.day, tzinfo=UTC)
    total = len(fleet.delivered()) * len(fleet.expected_keys())
    samples: list[int] = []
    stop = asyncio.Event()
    sampler = asyncio.ensure_future(_sample_connections(fleet, samples, stop))
    killed: list[str] = []
    for fraction, victim in zip((0.2, 0.5), rng.sample(fleet.members, 2), strict=True):
        await until(lambda f=fraction: fleet.messages() >= total * f, 600)
        fleet.kill(victim)
        killed.append(victim.name)
        await fleet.start(victim)
    complete = await until(lambda: fleet.messages() >= total, 900)
    done_at = datetime.now(UTC)
    await asyncio.sleep(LEASE_SECONDS * 2)  # room for a late duplicate to arrive
    stop.set()
    await sampler
    once = Counter(fleet.expected_keys())
    wrong = {c: dict(k) for c, k in fleet.delivered().items() if k != once}
    conn = await fleet.database.server.connect(fleet.database.name)
    try:
        rows = await conn.fetch("SELECT claimed_at FROM posts WHERE released_at IS NULL")
    finally:
        await conn.close()
    latencies = claim_latencies(rows, due_at)
    round_trips = await _claim_round_trips(fleet, 200)
    elapsed = (done_at - due_at).total_seconds()
    channels = len(fleet.delivered())
    return {
        "channels": channels, "complete": complete, "wrong": wrong, "killed": killed,
        "claim_p50": _pct(latencies, 0.5), "claim_p95": _pct(latencies, 0.95),
        "claim_max": latencies[-1] if latencies else float("nan"), "elapsed": elapsed,
        "posts_per_s": channels / elapsed, "messages_per_s": total / elapsed,
        "db_peak": max(samples, default=0), "db_end": samples[-1] if samples else 0,
        "claim_rt_p50": _pct(round_trips, 0.5), "claim_rt_p99": _pct(round_trips, 0.99),
    }


async def _claim_round_trips(fleet: Fleet, count: int) -> list[float]:
    """Milliseconds of `claim_post` itself (the unique-row insert), one channel after another,
    on the fleet's database while the replicas still run."""
    store = await PostgresStore.open(fleet.database.url, password=fleet.database.password)
    times: list[float] = []
    try:
        tomorrow = fleet.day + timedelta(days=1)
        for n in range(count):
            start = time.perf_counter()
            await store.claim_post(ChatRef("slack", TEAM, f"CBENCH{n:04d}"), tomorrow,
                                   "bench:1", datetime.now(UTC))
            times.append((time.perf_counter() - start) * 1000)
    finally:
        await store.close()
    return times


async def _commands(fleet: Fleet, count: int) -> dict[str, object]:
    proxy = RoundRobinProxy([("127.0.0.1", r.port) for r in fleet.members])
    await proxy.start()
    verifier = SignatureVerifier(SIGNING_SECRET)
    acks: list[float] = []
    statuses: Counter[int] = Counter()
    slots = asyncio.Semaphore(20)
    channels = fleet.slack_ids
    before = len(fleet.slack.responses)
    # One connection per request, so that the proxy spreads them over the replicas.
    async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0),
                                 timeout=30) as http:

        async def one(n: int) -> None:
            body = urlencode({
                "token": "unused", "team_id": TEAM, "team_domain": "bench",
                "channel_id": channels[n % len(channels)], "channel_name": "papers",
                "user_id": f"U{n % 50:04d}", "user_name": "bench", "command": "/papers",
                "text": COMMANDS[n % len(COMMANDS)], "api_app_id": "A0PAPERBOY",
                "response_url": fleet.slack.response_url(f"bench-{n}"), "trigger_id": "1.2.3",
            })
            stamp = str(int(time.time()))
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Slack-Request-Timestamp": stamp,
                       "X-Slack-Signature": verifier.generate_signature(timestamp=stamp,
                                                                        body=body)}
            async with slots:
                start = time.perf_counter()
                answer = await http.post(f"http://127.0.0.1:{proxy.port}/slack/events",
                                         content=body.encode(), headers=headers)
                acks.append((time.perf_counter() - start) * 1000)
                statuses[answer.status_code] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        wall = time.perf_counter() - started
    delivered = await until(lambda: len(fleet.slack.responses) - before >= count, 120)
    await proxy.stop()
    return {
        "count": count, "statuses": dict(statuses), "ack_p50": _pct(acks, 0.5),
        "ack_p99": _pct(acks, 0.99), "ack_max": max(acks), "wall": wall,
        "replies": len(fleet.slack.responses) - before, "delivered": delivered,
        "spread": [proxy.served[i] for i in range(len(fleet.members))],
    }


def _due(now: datetime) -> datetime:
    # The next whole minute at least 45 s away: time for three replicas to start.
    return utc_minute(now + timedelta(seconds=105))


async def _run(channels: int, commands: int, seed: int, root: Path,
               server: object) -> tuple[dict[str, object], dict[str, object]]:
    database = await create_database(server)  # type: ignore[arg-type]
    due = _due(datetime.now(UTC))
    try:
        async with Fleet(root, database, due.date(), due.strftime("%H:%M"),
                         slack_channels=channels // 2,
                         discord_channels=channels - channels // 2,
                         lease_seconds=LEASE_SECONDS) as fleet:
            posts = await _posts(fleet, random.Random(seed))
            load = await _commands(fleet, commands)
    finally:
        await drop_database(database)
    return posts, load


def _section(posts: dict[str, object], load: dict[str, object], load_avg: str,
             command: str) -> str:
    return "\n".join([
        "## Replicas on PostgreSQL (bench/replicas.py)", "",
        f"Machine: {machine()}; load average before the run: {load_avg}.",
        f"Command: `{command}`", "",
        "| measure | value |", "|---|---|",
        f"| channels due the same minute (half Slack, half Discord), 3 replicas | "
        f"{posts['channels']} |",
        f"| replicas SIGKILLed mid-post (then restarted) | {', '.join(posts['killed'])} |",  # type: ignore[arg-type]
        f"| channels with a message missing or twice | {len(posts['wrong'])} |",  # type: ignore[arg-type]
        f"| claim latency, due minute → claim row: p50 / p95 / max | "
        f"{posts['claim_p50']:.2f} s / {posts['claim_p95']:.2f} s / {posts['claim_max']:.2f} s |",
        f"| the claim itself (`claim_post` round trip, 200 in a row): p50 / p99 | "
        f"{posts['claim_rt_p50']:.1f} ms / {posts['claim_rt_p99']:.1f} ms |",
        f"| due minute → every channel posted | {posts['elapsed']:.1f} s |",
        f"| posts per second (messages per second) | {posts['posts_per_s']:.2f} "
        f"({posts['messages_per_s']:.1f}) |",
        f"| PostgreSQL connections (pg_stat_activity): peak / at the end | "
        f"{posts['db_peak']} / {posts['db_end']} |",
        f"| slash commands through the round-robin proxy (per replica) | {load['count']} "
        f"({' / '.join(str(n) for n in load['spread'])}) |",  # type: ignore[attr-defined]
        f"| HTTP status of the acknowledgements | {load['statuses']} |",
        f"| ack time p50 / p99 / max | {load['ack_p50']:.0f} ms / {load['ack_p99']:.0f} ms / "
        f"{load['ack_max']:.0f} ms |",
        f"| replies delivered to their response_url | {load['replies']} of {load['count']} |",
        "",
        "A Slack post paces itself at one message per second per channel (Slack's limit), "
        "and each replica posts four channels at a time (bot.posting.CONCURRENT_POSTS), so "
        "the time to post every channel is bound by pacing, not by the database. Claim "
        "latency includes fetching and ranking the day's papers, which a channel does "
        "before it claims, and the wait for one of its replica's four posting slots: most "
        "of it is queueing behind Slack's pacing; the claim itself is the `claim_post` row.",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="paperboy-replicas-") as tmp, \
            throwaway_server() as server:
        posts, load = asyncio.run(_run(args.channels, args.commands, args.seed, Path(tmp),
                                       server))
    command = " ".join(["python bench/replicas.py", *sys.argv[1:]])
    section = _section(posts, load, load_avg, ".venv/bin/" + command)
    print(section)
    if not args.no_docs:
        write_section(SECTION, section)
    ok = posts["complete"] and not posts["wrong"] and load["delivered"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
