"""A fleet of real `paperboy run` replicas on one PostgreSQL, against the Slack, Discord and
Hugging Face fakes: the scale test (tests/scenarios/test_replica_fleet.py) and its
benchmark (bench/replicas.py) share it.

Each replica is a whole process (`python -m tests.fakes.replica_main run`, i.e. the real
`paperboy run`) with its own config file: the shared `[storage] url`, its own data directory
(its search index), Slack in HTTP mode on its own port, Discord through the fake gateway
(one shard of as many as there are replicas each, posting to the guild over REST when its
shard is another's).
Every channel, Slack and Discord, posts at the same minute (`due`): either a minute still
ahead (the live scheduler fires it in every replica) or one just passed (each replica's
catch-up at start fires it). `kill()` SIGKILLs a replica, `start()` starts one again, as
an orchestrator restarts a dead container.

`delivered()` reads the fakes: per channel, how many times each message of the day (the
header and each pick, named by the Slack message metadata or the Discord nonce) arrived —
exactly once each is the promise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from adapters.discord.adapter import invite_permissions, nonce_for
from bot.events import Outgoing
from bot.models import ChatRef
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord, Guild
from tests.fakes.hf_server import FakeHuggingFace, load_items
from tests.fakes.ports import free_port
from tests.fakes.postgres import Database
from tests.fakes.slack_api import TEAM, FakeSlack

PROJECT = Path(__file__).resolve().parents[2]
SAMPLE = PROJECT / "tests" / "fixtures" / "hf_daily_papers_2026-06-12_sample.json"
SIGNING_SECRET = "fleet-signing-secret"
GUILD = 910000000000000001
PICKS = 5  # the sample batch has five papers; the default profile picks all of them
# A row of the posts table: (platform, team, channel, local day).
OpenClaim = tuple[str, str, str, date]


@dataclass
class Replica:
    name: str
    config: Path
    port: int  # Slack HTTP mode
    log: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0


@dataclass
class Fleet:
    """See the module docstring. Use `async with Fleet(...)`."""

    root: Path
    database: Database
    day: date
    due: str  # "HH:MM", UTC
    slack_channels: int = 100
    discord_channels: int = 100
    replicas: int = 3
    lease_seconds: float = 5.0
    hf: FakeHuggingFace = field(init=False)
    slack: FakeSlack = field(init=False)
    discord: FakeDiscord = field(init=False)
    members: list[Replica] = field(init=False, default_factory=list)

    @property
    def slack_ids(self) -> list[str]:
        return [f"C{i:05d}" for i in range(self.slack_channels)]

    @property
    def discord_ids(self) -> list[int]:
        return [920000000000000000 + i for i in range(self.discord_channels)]

    async def __aenter__(self) -> Fleet:
        self.hf = FakeHuggingFace(batches={self.day: load_items(SAMPLE)})
        self.slack = FakeSlack()
        channels = {cid: f"papers-{n}" for n, cid in enumerate(self.discord_ids)}
        self.discord = FakeDiscord([Guild(GUILD, channels, invite_permissions().value)])
        for fake in (self.hf, self.slack, self.discord):
            await fake.start()
        for n in range(self.replicas):
            replica = Replica(f"replica-{n}", self.root / f"replica-{n}.toml", free_port(),
                              self.root / f"replica-{n}.log")
            replica.config.write_text(self._config(n, replica.port), encoding="utf-8")
            self.members.append(replica)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for replica in self.members:
            await self.stop(replica)
        for fake in (self.hf, self.slack, self.discord):
            await fake.stop()

    # --- processes ----------------------------------------------------------------------
    async def start(self, replica: Replica) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PAPERBOY_", "SLACK_", "DISCORD_", "OPENAI_"))}
        env.update(SLACK_BOT_TOKEN="xoxb-fleet", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                   DISCORD_TOKEN=DISCORD_TOKEN, FAKE_DISCORD_URL=self.discord.base_url,
                   PAPERBOY_DATABASE_PASSWORD=self.database.password,
                   PYTHONPATH=str(PROJECT))
        replica.starts += 1
        log = replica.log.open("ab")
        try:
            replica.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.fakes.replica_main", "run", "-v",
                "--config", str(replica.config), cwd=str(self.root), env=env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        finally:
            log.close()

    async def wait_ready(self, replica: Replica, within: float = 60.0) -> None:
        """Until the replica's Slack HTTP endpoint accepts connections."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            assert replica.process is not None
            if replica.process.returncode is not None:
                raise RuntimeError(f"{replica.name} exited:\n{self.log_tail(replica)}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", replica.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise RuntimeError(f"{replica.name} did not start:\n{self.log_tail(replica)}")

    def kill(self, replica: Replica) -> None:
        """SIGKILL: no clean-up of any kind, as a machine or container dying."""
        assert replica.process is not None
        os.kill(replica.process.pid, signal.SIGKILL)

    def owner(self, replica: Replica) -> str:
        """The name the replica's claims carry in the posts table (bot.posting's owner)."""
        assert replica.process is not None
        return f"{socket.gethostname()}:{replica.process.pid}"

    async def kill_mid_post(self, replica: Replica, within: float = 120.0) -> list[OpenClaim]:
        """SIGKILL `replica` at a moment it provably holds open claims, and return them.

        The replica is frozen (SIGSTOP) before the claims table is read, so it writes
        nothing more; its backends are then waited on until none runs a statement (one it
        sent just before the freeze still commits), and the table is read twice a moment
        apart to be sure it settled. A frozen process still exists, so no survivor takes
        its posts over meanwhile (bot.posting asks whether the owner is alive). Holding no
        open claim, it is thawed and tried again shortly after."""
        assert replica.process is not None
        pid, owner = replica.process.pid, self.owner(replica)
        conn = await self.database.server.connect(self.database.name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        try:
            while loop.time() < deadline:
                os.kill(pid, signal.SIGSTOP)
                for _ in range(1000):  # a statement runs in milliseconds; 10 s at most
                    if not await conn.fetchval(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                            "$1 AND state = 'active'", f"paperboy {owner}"):
                        break
                    await asyncio.sleep(0.01)
                held = await self._open_claims(conn, owner)
                await asyncio.sleep(0.2)
                if held and held == await self._open_claims(conn, owner):
                    os.kill(pid, signal.SIGKILL)
                    await replica.process.wait()
                    return held
                os.kill(pid, signal.SIGCONT)
                await asyncio.sleep(0.05)
        finally:
            await conn.close()
        raise AssertionError(f"{replica.name} never held an open claim within {within}s")

    async def posts(self) -> list[Any]:
        """Every open row of the posts table (the ledger the replicas share)."""
        conn = await self.database.server.connect(self.database.name)
        try:
            return list(await conn.fetch(
                "SELECT platform, team, channel, day, status, owner FROM posts "
                "WHERE released_at IS NULL"))
        finally:
            await conn.close()

    @staticmethod
    async def _open_claims(conn: Any, owner: str) -> list[OpenClaim]:
        rows = await conn.fetch(
            "SELECT platform, team, channel, day FROM posts WHERE status = 'claimed' AND "
            "released_at IS NULL AND owner = $1 ORDER BY platform, channel", owner)
        return [(r["platform"], r["team"], r["channel"], r["day"]) for r in rows]

    async def stop(self, replica: Replica) -> None:
        process = replica.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()

    def log_tail(self, replica: Replica, chars: int | None = 3000) -> str:
        """The end of the replica's log (all of it with `chars` None)."""
        text = replica.log.read_text(errors="replace") if replica.log.exists() else ""
        return text if chars is None else text[-chars:]

    # --- what arrived -------------------------------------------------------------------
    def expected_keys(self) -> list[str]:
        items = load_items(SAMPLE)
        return ["header", *sorted(item["paper"]["id"] for item in items)]

    def delivered(self) -> dict[str, Counter[str]]:
        """Channel → how many times each message key arrived."""
        seen: dict[str, Counter[str]] = {}
        for cid in self.slack_ids:
            keys = Counter((m.get("metadata") or {}).get("event_payload", {}).get("key", "?")
                           for m in self.slack.posted(cid))
            seen[f"slack:{cid}"] = keys
        nonces = {self._nonce(cid, key): key for cid in self.discord_ids
                  for key in self.expected_keys()}
        for cid in self.discord_ids:
            seen[f"discord:{cid}"] = Counter(nonces.get(m.get("nonce") or "", "?")
                                             for m in self.discord.messages[cid])
        return seen

    def messages(self) -> int:
        return sum(len(self.slack.posted(c)) for c in self.slack_ids) + sum(
            len(self.discord.messages[c]) for c in self.discord_ids)

    def _nonce(self, channel: int, key: str) -> str:
        return nonce_for(Outgoing(ChatRef("discord", str(GUILD), str(channel)), self.day, key))

    # --- configuration ------------------------------------------------------------------
    def _config(self, n: int, port: int) -> str:
        lines = [
            "[storage]", f'path = "{self.root / f"data-{n}"}"', f'url = "{self.database.url}"',
            f"lease_seconds = {self.lease_seconds}", "",
            "[sources.huggingface]", f'base_url = "{self.hf.base_url}"', "",
            # No arXiv categories: never asked; pointed at a closed local port all the same.
            "[sources.arxiv]", 'base_url = "http://127.0.0.1:9"', 'rss_url = "http://127.0.0.1:9"',
            "",
            "[slack]", 'mode = "http"', f"port = {port}", f'api_url = "{self.slack.api_url}"',
            "",
            # One gateway shard each (one owner per shard is enforced on a shared database);
            # a replica posts to the guild on another's shard over REST.
            "[discord]", f"shard_count = {self.replicas}", f"shard_ids = [{n}]", "",
        ]
        days = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
        for cid in self.slack_ids:
            lines += ["[[channels]]", f'name = "s-{cid}"', 'platform = "slack"', f'id = "{cid}"',
                      f'team = "{TEAM}"', f'time = "{self.due}"', 'timezone = "UTC"',
                      f"days = {days}", ""]
        for cid in self.discord_ids:
            lines += ["[[channels]]", f'name = "d-{cid}"', 'platform = "discord"',
                      f'id = "{cid}"', f'team = "{GUILD}"', f'time = "{self.due}"',
                      'timezone = "UTC"', f"days = {days}", ""]
        return "\n".join(lines)


async def until(condition: Callable[[], bool], within: float) -> bool:
    """Poll `condition` every 50 ms (it reads fakes in this loop and in other processes'
    effects) until it holds or `within` seconds pass; whether it held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if condition():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.05)


def claim_latencies(rows: list[Any], due_at: datetime) -> list[float]:
    """Seconds from the due instant to each claim (rows of posts.claimed_at)."""
    return sorted((row["claimed_at"] - due_at).total_seconds() for row in rows)


def utc_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


__all__ = ["Fleet", "OpenClaim", "Replica", "claim_latencies", "until", "utc_minute"]
