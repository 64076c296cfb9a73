"""Time Discord's defer under load: Paperboy's bot next to a bare discord.py bot, same run.

Both bots are real discord.py clients logged in to the fake Discord in tests/fakes/
discord_api.py (REST and gateway on 127.0.0.1), one at a time. The bare bot has the same
`papers` command group (adapters/discord/commands.py) and only defers and follows up with
"ok". Paperboy's bot is the real `DiscordAdapter` over the real Service (TinyDB store in a
temporary directory, in-memory search index, Hugging Face faked with the 2026-06-12 sample),
so its followups do real work — today's picks, searches, the list — on the same event loop
as its defers. Each round sends each bot a warm-up burst, then 50 interactions at once
(a mix of today, search, list, settings and help), as the gateway sends them.

Measured the same way for both: from the fake writing an INTERACTION_CREATE frame to the
bot's defer (its interaction callback) reaching the fake. Reported: p50 / p99 / max over
all rounds for each bot, the ratio of the p99s (target ≤ 1.5), and how many defers and
followups arrived (target: every one; a burst whose answers stop coming is reported as
"N of M" after two minutes, not a crash). Prints a markdown table with the date, the machine
and the 1-minute load average before and after, and rewrites its own section of
docs/benchmarks.md. Exit status 1 when a target is missed.
Run: .venv/bin/python bench/discord_defer.py [--rounds 3] [--burst 50] [--no-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

import discord  # noqa: E402
import yarl  # noqa: E402
from discord import app_commands  # noqa: E402
from discord.gateway import DiscordWebSocket  # noqa: E402

from adapters.discord.adapter import DiscordAdapter, intents, invite_permissions  # noqa: E402
from adapters.discord.commands import Build, papers_group  # noqa: E402
from bench._report import machine, write_section  # noqa: E402
from bot.config import ChannelConfig, Config  # noqa: E402
from bot.search import PaperIndex, Searcher  # noqa: E402
from bot.service import Service  # noqa: E402
from bot.sources.http import make_client  # noqa: E402
from bot.sources.huggingface import HuggingFaceClient  # noqa: E402
from bot.store.tinydb import TinyDBStore  # noqa: E402
from bot.summarize import Summarizer  # noqa: E402
from tests.fakes.discord_api import TOKEN, FakeDiscord, Guild, command_payload  # noqa: E402
from tests.fakes.hf_server import FakeHuggingFace, load_items  # noqa: E402

SECTION = "discord_defer"
GUILD, CHANNEL = 10, 100
WARM_UP = 10
PATIENCE = 120.0  # seconds a burst may take before what has not arrived counts as missing
TARGET_RATIO = 1.5
SAMPLE = PROJECT / "tests" / "fixtures" / "hf_daily_papers_2026-06-12_sample.json"
# (subcommand, options): what a busy server's members type.
MIX: list[tuple[str, dict[str, object]]] = [
    ("today", {}), ("search", {"query": "attention"}), ("list", {}),
    ("search", {"query": "2606.13392"}), ("settings", {}), ("help", {}),
]


@dataclass(frozen=True)
class Burst:
    """Defer latencies (seconds) of one burst's deferred interactions, and how many of the
    `sent` were followed up."""

    latencies: list[float]
    followed: int
    sent: int


class BareBot(discord.Client):
    """The baseline: the same command group, whose handler only defers and says "ok"."""

    def __init__(self) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(),
                         guild_ready_timeout=0.3)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(papers_group(self._answer))

    async def _answer(self, interaction: discord.Interaction, share: bool,
                      build: Build) -> None:
        await interaction.response.defer(ephemeral=not share, thinking=True)
        await interaction.followup.send("ok", ephemeral=not share)


async def burst(fake: FakeDiscord, size: int, within: float = PATIENCE) -> Burst:
    """Send `size` interactions back to back; wait for every followup, at most `within`
    seconds: what has not arrived by then is counted as missing."""
    sent: dict[str, float] = {}
    for n in range(size):
        name, options = MIX[n % len(MIX)]
        payload = command_payload(GUILD, CHANNEL, name, user_id=300 + n, **options)
        sent[payload["token"]] = time.perf_counter()
        await fake.dispatch("INTERACTION_CREATE", payload)

    def all_followed() -> bool:
        return all(fake.interactions[t].followed_at is not None for t in sent)

    with contextlib.suppress(TimeoutError):  # the table reports the shortfall
        await fake.until(all_followed, within=within)
    answered = {t: fake.interactions[t] for t in sent}
    return Burst([a.deferred_at - sent[t] for t, a in answered.items()
                  if a.deferred_at is not None],
                 sum(a.followed_at is not None for a in answered.values()), size)


async def measure(fake: FakeDiscord, connect: Callable[[], Awaitable[None]],
                  close: Callable[[], Awaitable[None]], size: int) -> Burst:
    await connect()
    try:
        await burst(fake, WARM_UP)
        return await burst(fake, size)
    finally:
        await close()


async def run(rounds: int, size: int) -> dict[str, list[Burst]]:
    guild = Guild(GUILD, {CHANNEL: "papers"}, invite_permissions().value)
    results: dict[str, list[Burst]] = {"bare discord.py": [], "Paperboy": []}
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord([guild]) as fake, \
                FakeHuggingFace(batches={"2026-06-12": load_items(SAMPLE)}) as hf, \
                make_client(timeout=10) as http:
            discord.http.Route.BASE = f"{fake.base_url}/api/v10"
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
                fake.base_url.replace("http", "ws", 1) + "/gw")
            store = await TinyDBStore.open(Path(tmp) / "data")
            hf_client = HuggingFaceClient(http, base_url=hf.base_url)
            channel = ChannelConfig(name="papers", platform="discord", id=str(CHANNEL))
            service = Service(Config(channels=(channel,)), store=store, hf=hf_client,
                              summarizer=Summarizer(store),
                              searcher=Searcher(PaperIndex.in_memory(), store, hf_client, None))
            try:
                for _ in range(rounds):
                    bare = BareBot()
                    results["bare discord.py"].append(await measure(
                        fake, lambda b=bare: _start(b), bare.close, size))
                    adapter = DiscordAdapter(service, TOKEN, guild_ready_timeout=0.3)
                    results["Paperboy"].append(await measure(
                        fake, lambda a=adapter: _connect(a), adapter.close, size))
            finally:
                await store.close()
    return results


_gateways: list[asyncio.Future[None]] = []  # the bare bots' gateway tasks, kept alive


async def _start(client: discord.Client) -> None:
    await client.login(TOKEN)
    _gateways.append(asyncio.ensure_future(client.connect()))
    await client.wait_until_ready()


async def _connect(adapter: DiscordAdapter) -> None:
    await adapter.connect()


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 \
        else max(values)


def table(results: dict[str, list[Burst]], size: int) -> tuple[str, bool]:
    rows = ["| bot | p50 defer | p99 defer | max | defers | followups delivered |",
            "|---|---:|---:|---:|---:|---:|"]
    p99: dict[str, float] = {}
    delivered = True
    for name, bursts in results.items():
        latencies = [x for b in bursts for x in b.latencies]
        followed = sum(b.followed for b in bursts)
        sent = sum(b.sent for b in bursts)
        delivered &= followed == sent == size * len(bursts) == len(latencies)
        if latencies:
            p99[name] = _percentile(latencies, 99) if len(latencies) > 1 else latencies[0]
            p50 = statistics.median(latencies)
            timing = (f"{p50 * 1000:.1f} ms | {p99[name] * 1000:.1f} ms | "
                      f"{max(latencies) * 1000:.1f} ms")
        else:
            timing = "— | — | —"
        rows.append(f"| {name} | {timing} | {len(latencies)} of {sent} | "
                    f"{followed} of {sent} |")
    ratio = (p99["Paperboy"] / p99["bare discord.py"]
             if len(p99) == 2 and p99["bare discord.py"] > 0 else None)
    ok = ratio is not None and ratio <= TARGET_RATIO and delivered
    rows.append("")
    shown = "n/a (defers missing)" if ratio is None else f"{ratio:.2f}"
    rows.append(f"p99 ratio Paperboy / bare: **{shown}** (target ≤ {TARGET_RATIO}); "
                f"every defer and followup delivered: **{'yes' if delivered else 'no'}** — "
                f"{'met' if ok else 'MISSED'}.")
    return "\n".join(rows), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    results = asyncio.run(run(args.rounds, args.burst))
    load_after = os.getloadavg()[0]
    figures, ok = table(results, args.burst)
    command = f".venv/bin/python bench/discord_defer.py --rounds {args.rounds} " \
              f"--burst {args.burst}"
    section = (
        "## Discord: time to defer under 50 concurrent interactions\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; 1-minute load "
        f"average {load_before:.2f} before, {load_after:.2f} after (a shared machine: other "
        f"work competes). Command: `{command}`.\n\n"
        f"Each of {args.rounds} rounds: a warm-up burst of {WARM_UP}, then {args.burst} "
        "interactions written to the gateway back to back (today, search, list, settings, "
        "help), for a bare discord.py bot that only defers and says \"ok\", then for "
        "Paperboy's adapter over the real Service. Latency: from the fake gateway writing "
        "the INTERACTION_CREATE frame to the defer callback reaching the fake REST server "
        "(both on 127.0.0.1, the same process). The bare bot follows up the moment it has "
        "deferred, so its followups compete with the burst's later defers; Paperboy's wait "
        "on the service, so its defers go out first — which is why it can be the faster of "
        "the two at deferring.\n\n" + figures
    )
    print(section)
    if not args.no_docs:
        write_section(SECTION, section)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
