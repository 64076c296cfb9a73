"""Time Slack's acknowledgement of `/papers search` in HTTP mode, next to a bare Bolt app.

Slack wants an HTTP 200 within 3 seconds of sending a slash command; the adapter acks
before doing any work, so its ack time should stay close to that of a Bolt app that does
nothing but ack and respond. Both apps run in one child process (one event loop, as a bot
has) on 127.0.0.1 with the same signing secret; this process plays Slack and the internet:
the fake Slack Web API (tests/fakes/slack_api.py, which also catches the `response_url`
replies), the fake Hugging Face (tests/fakes/hf_server.py) answering the remote half of
each search, and the load. Paperboy is the real Service with a search index of the
2026-06-12 sample batch.

Each round: a warm-up burst of 10 signed requests to each app, then 50 concurrent signed
`/papers search <words>` requests to one app, then to the other (the order alternates by
round); each burst waits for all its replies before the next starts. Reported per app:
p50 and p99 of the time from sending a request to its HTTP 200, over all rounds, and
whether every reply reached its response_url. Goal: Paperboy's p99 ≤ 1.5 × the bare
app's. Prints a markdown table and rewrites its own section of docs/benchmarks.md (between
`<!-- bench:slack_ack -->` markers). Exit status 1 when the goal is missed or a reply is
lost.
Run: .venv/bin/python bench/slack_ack.py [--rounds 5] [--concurrency 50] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

import httpx  # noqa: E402
from aiohttp import web  # noqa: E402
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: E402
from slack_bolt.async_app import AsyncApp  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402

from adapters.slack.adapter import Pacer, SlackAdapter  # noqa: E402
from bench._report import machine, write_section  # noqa: E402
from bot.config import ChannelConfig, Config, SlackConfig  # noqa: E402
from bot.search import PaperIndex, Searcher  # noqa: E402
from bot.service import Service  # noqa: E402
from bot.sources.http import make_client  # noqa: E402
from bot.sources.huggingface import HuggingFaceClient  # noqa: E402
from bot.store.tinydb import TinyDBStore  # noqa: E402
from bot.summarize import Summarizer  # noqa: E402
from tests.conftest import HF_SAMPLE  # noqa: E402
from tests.fakes.hf_server import FakeHuggingFace, load_items  # noqa: E402
from tests.fakes.slack_api import TEAM, FakeSlack  # noqa: E402

SECTION = "slack_ack"
SECRET = "bench-signing-secret"
DAY = "2026-06-12"
CHANNEL = ChannelConfig(name="papers", platform="slack", id="C0PAPERS", team=TEAM)
QUERIES = ("diffusion", "language model", "retrieval", "agents", "video generation")
WARM_UP = 10
GOAL = 1.5


@dataclass
class Target:
    name: str
    url: str
    times: list[float]


class Load:
    """Signed `/papers search` requests, as Slack sends them, each with its own
    response_url on the fake Slack."""

    def __init__(self, fake: FakeSlack, http: httpx.AsyncClient) -> None:
        self.fake = fake
        self.http = http
        self.sent = 0
        self._verifier = SignatureVerifier(SECRET)

    async def one(self, url: str, text: str) -> float:
        self.sent += 1
        body = urlencode({
            "team_id": TEAM, "channel_id": CHANNEL.id, "user_id": "U0BENCH",
            "command": "/papers", "text": text, "api_app_id": "A0PAPERBOY",
            "response_url": self.fake.response_url(f"r{self.sent}"), "trigger_id": "1.2.3",
        })
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": self._verifier.generate_signature(
                       timestamp=stamp, body=body)}
        start = time.perf_counter()
        answer = await self.http.post(url, content=body.encode(), headers=headers)
        elapsed = time.perf_counter() - start
        if answer.status_code != 200:
            raise RuntimeError(f"{url} answered {answer.status_code}")
        return elapsed

    async def burst(self, url: str, n: int) -> list[float]:
        return list(await asyncio.gather(
            *(self.one(url, f"search {QUERIES[i % len(QUERIES)]}") for i in range(n))))


@asynccontextmanager
async def serve(handle: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[str]:
    """An aiohttp server on a free loopback port; yields its URL."""
    server = web.Application()
    server.add_routes([web.post("/slack/events", handle)])
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    finally:
        await runner.cleanup()


def bare_app(api_url: str) -> AsyncApp:
    """A Bolt app that only acks and responds: the floor any adapter is measured against."""
    app = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=api_url),
                   signing_secret=SECRET)

    @app.command("/papers")
    async def papers(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="ok")

    return app


async def _paperboy(store: TinyDBStore, hf: HuggingFaceClient, fake: _Api) -> SlackAdapter:
    index = PaperIndex.in_memory()
    searcher = Searcher(index, store, hf, None)
    await searcher.index_papers(await hf.daily(date.fromisoformat(DAY)))
    service = Service(Config(channels=(CHANNEL,)), store=store, hf=hf,
                      summarizer=Summarizer(store), searcher=searcher)
    settings = SlackConfig(mode="http", port=0, api_url=fake.api_url)
    adapter = SlackAdapter(service, settings, bot_token="xoxb-bench", signing_secret=SECRET,
                           host="127.0.0.1", pacer=Pacer(0))
    await adapter.connect()
    return adapter


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def serve_apps(api_url: str, hf_url: str) -> None:
    """The child: both apps on free ports, printed as "PORTS <paperboy> <bare>", served
    until stdin closes."""
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="paperboy-slack-ack-") as tmp:
        async with make_client(timeout=10) as http_out:
            store = await TinyDBStore.open(Path(tmp))
            fake_api = _Api(api_url)
            try:
                hf = HuggingFaceClient(http_out, base_url=hf_url)
                adapter = await _paperboy(store, hf, fake_api)
                task = asyncio.ensure_future(adapter.run())
                await adapter.serving.wait()
                bare = bare_app(api_url)

                async def handle_bare(request: web.Request) -> web.Response:
                    return await to_aiohttp_response(
                        await bare.async_dispatch(await to_bolt_request(request)))

                async with serve(handle_bare) as bare_url:
                    port = bare_url.split(":")[2].split("/")[0]
                    print(f"PORTS {adapter.port} {port}", flush=True)
                    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes
                await adapter.close()
                await task
            finally:
                await store.close()


@dataclass
class _Api:
    """What `_paperboy` needs of the fake Slack: its API root."""

    api_url: str


async def measure(rounds: int, concurrency: int) -> tuple[list[Target], bool]:
    async with (FakeHuggingFace(batches={DAY: load_items(HF_SAMPLE)}) as hf_fake,
                FakeSlack() as fake,
                httpx.AsyncClient(timeout=30,
                                  limits=httpx.Limits(max_connections=200)) as http_in):
        child = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", fake.api_url, hf_fake.base_url,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert child.stdin is not None and child.stdout is not None
        try:
            line = (await asyncio.wait_for(child.stdout.readline(), 120)).decode()
            if not line.startswith("PORTS "):
                raise RuntimeError("the apps did not start")
            ours_port, bare_port = line.split()[1:]
            ours = Target("Paperboy", f"http://127.0.0.1:{ours_port}/slack/events", [])
            floor = Target("bare Bolt app", f"http://127.0.0.1:{bare_port}/slack/events", [])
            load = Load(fake, http_in)

            async def burst(target: Target, n: int) -> list[float]:
                times = await load.burst(target.url, n)
                # Every reply in before the next burst: no work left over to slow it.
                await asyncio.wait_for(
                    fake.wait_until(lambda: len(fake.responses) == load.sent), 120)
                return times

            for round_ in range(rounds):
                for target in (ours, floor):
                    await burst(target, WARM_UP)
                order = (ours, floor) if round_ % 2 == 0 else (floor, ours)
                for target in order:
                    target.times += await burst(target, concurrency)
            delivered = len(fake.responses) == load.sent
        finally:
            child.stdin.close()
            await asyncio.wait_for(child.wait(), 60)
    return [ours, floor], delivered


def report(targets: list[Target], delivered: bool, rounds: int, concurrency: int,
           load: tuple[float, float]) -> str:
    ours, floor = targets
    ratio = _percentile(ours.times, 0.99) / _percentile(floor.times, 0.99)
    lines = [
        "## Slack: time to acknowledge `/papers search` (`bench/slack_ack.py`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}; 1-minute load average "
        f"{load[0]:.1f} before, {load[1]:.1f} after. Command: "
        f"`.venv/bin/python bench/slack_ack.py --rounds {rounds} --concurrency {concurrency}`.",
        "",
        f"HTTP mode, {concurrency} concurrent signed `/papers search` requests per round "
        f"after a warm-up burst of {WARM_UP}, {rounds} rounds; both apps in one child "
        "process and event loop on 127.0.0.1, the load, fake Web API and fake Hugging Face "
        "in another; time from sending a request to its HTTP 200, each burst's replies all "
        "delivered before the next. Slack's deadline is 3,000 ms.",
        "",
        "| app | requests | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for target in targets:
        lines.append(f"| {target.name} | {len(target.times)} | "
                     f"{_percentile(target.times, 0.5) * 1000:.1f} | "
                     f"{_percentile(target.times, 0.99) * 1000:.1f} |")
    verdict = "met" if ratio <= GOAL else "MISSED"
    lines += [
        "",
        f"p99 ratio Paperboy / bare: **{ratio:.2f}** (goal ≤ {GOAL}: {verdict}). Every "
        f"reply delivered to its response_url: **{'yes' if delivered else 'NO'}**.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--serve", nargs=2, metavar=("API_URL", "HF_URL"),
                        help=argparse.SUPPRESS)  # the child that runs both apps
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_apps(*args.serve))
        return 0
    load_before = os.getloadavg()[0]
    targets, delivered = asyncio.run(measure(args.rounds, args.concurrency))
    text = report(targets, delivered, args.rounds, args.concurrency,
                  (load_before, os.getloadavg()[0]))
    print(text)
    if not args.no_docs:
        write_section(SECTION, text)
    ours, floor = targets
    ratio = _percentile(ours.times, 0.99) / _percentile(floor.times, 0.99)
    return 0 if delivered and ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
