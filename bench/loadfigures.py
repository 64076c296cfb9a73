"""Load figures of the running bot: idle memory, cold start, and 1,000 searches in a minute.

The bot runs in a child process wired as `paperboy run` wires it (bot.runtime.open_runtime,
the TinyDB store, paperboy.wiring's build_service, slack_adapter and discord_adapter with
their tokens from the environment, bot.running's connect_all and scheduler), its data
directory holding the whole offline corpus (../shared/data, ~8,000 papers) in the paper
cache and the search index. This process plays the platforms: the fake Slack Web API and
fake Discord REST + gateway (tests/fakes), the fake Hugging Face, and the load.

Measured:
- cold start: from spawning the child to "ready" (both adapters connected, the scheduler
  started, Slack's HTTP endpoint listening). Includes the interpreter and imports, and
  Discord's READY and the GUILD_CREATE of every guild it announced (the fake sends the one
  guild at once; the adapter does not wait out discord.py's guild_ready_timeout). Target ≤ 3 s.
- idle RSS of the child, IDLE_SECONDS after ready with nothing happening. Target ≤ 150 MB.
- 1,000 signed `/papers search <words>` requests through Slack's HTTP endpoint in one
  minute, sent open-loop (one every 60 ms, whatever the answers), the ack time of each
  (request sent → HTTP 200) and whether every reply reached its response_url. Target: ack
  p99 ≤ 100 ms, every reply delivered. RSS after the load is reported too, and the same
  load on a Bolt app that only acks and responds (bench/slack_ack.py's floor), started
  afterwards in the bot's process and loop: what the machine itself allows.
Prints a markdown table (with `uptime`'s load average: the machine is shared) and rewrites
its own section of docs/benchmarks.md. Exit status 1 when a target is missed, 2 when the
corpus is absent.
Run: .venv/bin/python bench/loadfigures.py [--searches 1000] [--seconds 60] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

import psutil  # noqa: E402

from bench._report import machine, write_section  # noqa: E402

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeSlack

# The bot's child process imports only what `paperboy run` would (the fakes, pytest and
# the load's client stay in this process), so its start and memory are the bot's own.
SECTION = "loadfigures"
TEAM = "T0PAPERS"  # the fake Slack's workspace (tests/fakes/slack_api.py)
SECRET = "bench-signing-secret"
SLACK_CHANNEL, GUILD, DISCORD_CHANNEL = "C0PAPERS", 10, 100
QUERIES = ("diffusion", "language model", "retrieval augmented", "agents", "video generation",
           "reinforcement learning", "speech", "3d reconstruction", "benchmark", "reasoning")
IDLE_SECONDS = 5.0
TARGET_RSS_MB, TARGET_START_S, TARGET_ACK_MS = 150.0, 3.0, 100.0


# --- the child: the bot ------------------------------------------------------------------


async def serve_bot(
    data: Path, hf_url: str, slack_api: str, discord_url: str, spawned: float
) -> None:
    """Run the bot until stdin closes; print "READY <slack port> <phases>" once it is
    ready, the phases being seconds since the parent spawned it (`spawned`, a time.time()
    reading: the same wall clock in both processes) at which each step ended."""
    began = spawned
    phases: list[str] = []

    def phase(name: str) -> None:
        phases.append(f"{name}={time.time() - began:.2f}")

    phase("python+bench-imports")
    import discord
    import yarl
    from discord.gateway import DiscordWebSocket

    from bot.alerts import AdminAlerts
    from bot.config import (
        ArxivConfig,
        ChannelConfig,
        Config,
        HuggingFaceConfig,
        SlackConfig,
        StorageConfig,
    )
    from bot.running import connect_all, schedule_posts
    from bot.runtime import open_runtime
    from paperboy.wiring import build_service, discord_adapter, slack_adapter

    phase("bot-imports")

    # The only change from production: discord.py's REST root and gateway are the fake's.
    discord.http.Route.BASE = f"{discord_url}/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(discord_url.replace("http", "ws", 1) + "/gw")
    config = Config(
        storage=StorageConfig(data),
        huggingface=HuggingFaceConfig(base_url=hf_url, timeout=10),
        arxiv=ArxivConfig(base_url=hf_url, rss_url=hf_url),
        slack=SlackConfig(mode="http", port=0, api_url=slack_api),
        channels=(ChannelConfig(name="papers", platform="slack", id=SLACK_CHANNEL, team=TEAM),
                  ChannelConfig(name="dpapers", platform="discord", id=str(DISCORD_CHANNEL))),
    )
    async with open_runtime(config) as rt:
        service = await build_service(rt)
        phase("runtime+index-open")
        slack = slack_adapter(config, service)
        adapters = [slack, discord_adapter(service)]
        alerts = AdminAlerts.from_config(config, store=rt.store)
        targets = await connect_all(service, adapters, alerts)
        phase("slack+discord-connected")
        scheduler = schedule_posts(service, targets, alerts, store=rt.store)
        await scheduler.start()
        runs = [asyncio.ensure_future(adapter.run()) for adapter in adapters]
        await slack.serving.wait()
        phase("ready")
        print(f"READY {slack.port} {' '.join(phases)}", flush=True)
        await _serve_baseline(slack_api)  # until stdin closes
        await scheduler.shutdown()
        for adapter in adapters:
            await adapter.close()
        await asyncio.gather(*runs, return_exceptions=True)
        await service.close()


async def _serve_baseline(slack_api: str) -> None:
    """Read stdin until it closes; on a "bare" line, start a Bolt app that only acks and
    responds (bench/slack_ack.py's floor) in this process and loop, and print its port."""
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            if line.strip() != "bare":
                continue
            from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

            from bench import slack_ack

            app = slack_ack.bare_app(slack_api)

            async def handle(request: Any, app: Any = app) -> Any:
                return await to_aiohttp_response(
                    await app.async_dispatch(await to_bolt_request(request)))

            url = await stack.enter_async_context(slack_ack.serve(handle))
            print(f"BARE {url.split(':')[2].split('/')[0]}", flush=True)


# --- this process: the platforms and the load -----------------------------------------------


@dataclass
class Figures:
    papers: int
    start_s: float
    phases: str
    idle_rss_mb: float
    acks_ms: list[float]
    delivered: int
    searches: int
    seconds: float
    loaded_rss_mb: float
    load_average: str
    bare_acks_ms: list[float]  # the same load on a Bolt app that only acks, same process


async def build_data(data: Path) -> int:
    """The corpus in the paper cache and the search index: a bot that has run for years."""
    from bot.search import open_index, rebuild_index
    from bot.store.tinydb import TinyDBStore

    await asyncio.to_thread(_seed, data)
    store = await TinyDBStore.open(data)
    try:
        return await rebuild_index(await open_index(data, store), store)
    finally:
        await store.close()


def _seed(data: Path) -> None:
    from bench._corpus import load_corpus
    from bench._seed import seed_cache

    data.mkdir(parents=True)
    seed_cache(data, load_corpus())


def _signed(fake: FakeSlack, n: int, text: str) -> tuple[bytes, dict[str, str]]:
    """A slash command as Slack sends it, signed with bench/slack_ack.py's secret (the
    bare app's as well)."""
    from slack_sdk.signature import SignatureVerifier

    body = urlencode({
        "team_id": TEAM, "channel_id": SLACK_CHANNEL, "user_id": f"U0LOAD{n % 50:02d}",
        "command": "/papers", "text": text, "api_app_id": "A0PAPERBOY",
        "response_url": fake.response_url(f"r{n}"), "trigger_id": "1.2.3",
    })
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


async def _search_load(
    url: str, fake: FakeSlack, searches: int, seconds: float, first: int = 0
) -> list[float]:
    """Open loop: request n leaves at n × (seconds / searches), answered or not. `first`
    numbers the response_urls apart from an earlier load's."""
    import httpx

    interval = seconds / searches
    acks: list[float] = []
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as http:
        async def one(n: int, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            body, headers = _signed(fake, first + n, f"search {QUERIES[n % len(QUERIES)]}")
            sent = time.perf_counter()
            answer = await http.post(url, content=body, headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"search {n} answered {answer.status_code}")
            acks.append((time.perf_counter() - sent) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(one(n, start + n * interval) for n in range(searches)))
    return acks


async def measure(searches: int, seconds: float) -> Figures:
    from adapters.discord.adapter import invite_permissions
    from tests.fakes.discord_api import TOKEN, FakeDiscord, Guild
    from tests.fakes.hf_server import FakeHuggingFace
    from tests.fakes.slack_api import FakeSlack

    with tempfile.TemporaryDirectory(prefix="paperboy-load-") as tmp:
        data = Path(tmp) / "data"
        papers = await build_data(data)
        guild = Guild(GUILD, {DISCORD_CHANNEL: "papers"}, invite_permissions().value)
        async with FakeHuggingFace() as hf, FakeSlack() as slack, \
                FakeDiscord([guild]) as discord_fake:
            env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-load", "SLACK_SIGNING_SECRET": SECRET,
                   "DISCORD_TOKEN": TOKEN}
            spawned, wall = time.perf_counter(), time.time()
            child = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--serve", str(data), hf.base_url, slack.api_url,
                discord_fake.base_url, str(wall), env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            assert child.stdin is not None and child.stdout is not None
            try:
                line = (await asyncio.wait_for(child.stdout.readline(), 120)).decode()
                start_s = time.perf_counter() - spawned
                if not line.startswith("READY "):
                    raise RuntimeError("the bot did not start")
                port, phases = line.split()[1], " ".join(line.split()[2:])
                await asyncio.sleep(IDLE_SECONDS)  # idle: nothing to do but stay connected
                bot = psutil.Process(child.pid)
                idle_rss = bot.memory_info().rss / 2**20
                url = f"http://127.0.0.1:{port}/slack/events"
                acks = await _search_load(url, slack, searches, seconds)
                await asyncio.wait_for(
                    slack.wait_until(lambda: len(slack.responses) >= searches), 120)
                delivered = len(slack.responses)
                loaded_rss = bot.memory_info().rss / 2**20
                child.stdin.write(b"bare\n")
                await child.stdin.drain()
                bare_port = (await asyncio.wait_for(child.stdout.readline(), 60)).split()[1]
                bare_url = f"http://127.0.0.1:{bare_port.decode()}/slack/events"
                bare_acks = await _search_load(bare_url, slack, searches, seconds, searches)
                await asyncio.wait_for(
                    slack.wait_until(lambda: len(slack.responses) >= 2 * searches), 120)
            finally:
                child.stdin.close()
                await asyncio.wait_for(child.wait(), 60)
    load = os.getloadavg()
    return Figures(papers, start_s, phases, idle_rss, acks, delivered, searches, seconds,
                   loaded_rss, f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", bare_acks)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def verdicts(f: Figures) -> dict[str, bool]:
    return {
        "rss": f.idle_rss_mb <= TARGET_RSS_MB,
        "start": f.start_s <= TARGET_START_S,
        "ack": _pct(f.acks_ms, 0.99) <= TARGET_ACK_MS,
        "delivered": f.delivered == f.searches,
    }


def render(f: Figures, command: str) -> str:
    ok = verdicts(f)

    def mark(key: str) -> str:
        return "met" if ok[key] else "MISSED"

    return "\n".join([
        "## The running bot: idle memory, cold start, searches under load "
        "(`bench/loadfigures.py`)",
        "",
        f"Machine: {machine()}; load average while measuring (1/5/15 min): {f.load_average} "
        f"(shared machine). Command: `{command}`.",
        "",
        "The bot in a child process wired as `paperboy run` wires it, Slack (HTTP mode) and "
        "Discord connected to local fakes of their APIs, the data directory holding "
        f"{f.papers:,} papers of the offline corpus in its paper cache and search index.",
        "",
        "| figure | measured | target | |",
        "|---|---|---|---|",
        f"| cold start: spawn → both adapters connected, scheduler started, Slack listening "
        f"| {f.start_s:.2f} s | ≤ {TARGET_START_S:.0f} s | {mark('start')} |",
        f"| idle RSS, {IDLE_SECONDS:.0f} s after ready | {f.idle_rss_mb:.0f} MB "
        f"| ≤ {TARGET_RSS_MB:.0f} MB | {mark('rss')} |",
        f"| `/papers search` ack p50 / p99, {f.searches:,} signed requests open-loop over "
        f"{f.seconds:.0f} s | {_pct(f.acks_ms, 0.5):.1f} / {_pct(f.acks_ms, 0.99):.1f} ms "
        f"(max {max(f.acks_ms):.1f}) | p99 ≤ {TARGET_ACK_MS:.0f} ms | {mark('ack')} |",
        f"| replies delivered to their response_url | {f.delivered:,} of {f.searches:,} "
        f"| all | {mark('delivered')} |",
        f"| RSS after the searches | {f.loaded_rss_mb:.0f} MB | — | |",
        f"| the same load on a bare Bolt app in the same process (floor): ack p50 / p99 "
        f"| {_pct(f.bare_acks_ms, 0.5):.1f} / {_pct(f.bare_acks_ms, 0.99):.1f} ms | — | |",
        "",
        "Cold start includes the interpreter, the imports, and Discord's READY with the "
        "arrival of every guild it announced (the adapter does not wait out discord.py's "
        "`guild_ready_timeout`, 2 s after the last guild). "
        f"Where the time went (seconds since the spawn at which each step ended): {f.phases}.",
    ])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        asyncio.run(serve_bot(Path(sys.argv[2]), *sys.argv[3:6], float(sys.argv[6])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    if shutil.which("uptime") is None:
        print("note: uptime is absent; the load average comes from os.getloadavg()")
    figures = asyncio.run(measure(args.searches, args.seconds))
    command = ".venv/bin/python bench/loadfigures.py"
    if (args.searches, args.seconds) != (1000, 60.0):
        command += f" --searches {args.searches} --seconds {args.seconds:g}"
    section = render(figures, command)
    print(section)
    if not args.no_docs:
        write_section(SECTION, section)
    return 0 if all(verdicts(figures).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
