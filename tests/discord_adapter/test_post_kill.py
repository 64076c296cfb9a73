"""kill -9 at every durable write of a Discord daily post: each message reaches the channel once.

`paperboy post` runs as a child process against the fake Discord (REST and gateway, in this
test's loop) and the fake Hugging Face. A dry run under strace lists the durable writes a
6-message post makes (renames that put a file in place, links that keep a last good copy).
Each run starts from a data directory whose search index already exists (made once by
`paperboy index rebuild`), so the kill points are the post's own writes, not the index's
creation at first start. Then, for each, a fresh copy of that data directory and an empty
channel: the child is killed by strace's
fault injection as it makes that call, and `paperboy post` runs again, as a restart would.
The channel must then hold the header and every pick exactly once. The fake records nonces
without enforcing them, so this holds by the adapter reading the channel back
(`find_posted`), not by Discord's few-minute nonce window.

Needs strace and ptrace (CI installs strace); skips with a reason otherwise.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.discord_adapter.conftest import CHANNEL_ID, PICKS
from tests.fakes.discord_api import TOKEN, FakeDiscord
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.kill_points import unproven_kills
from tests.scenarios.conftest import CHILD_TIMEOUT, child_environment, config_text

DURABLE = ("rename", "renameat", "renameat2", "link", "linkat")
_CALL = re.compile(r"^\d+\s+(?P<call>\w+)\(")
# The real command with discord.py pointed at the fake (as the in-process tests do), and
# discord.py's wait for guilds shortened: the fake sends them all at once.
LAUNCHER = """
import os, sys, yarl, discord.http
from discord.gateway import DiscordWebSocket
base = os.environ["FAKE_DISCORD_URL"]
discord.http.Route.BASE = base + "/api/v10"
DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/gw")
from adapters.discord.adapter import DiscordAdapter
DiscordAdapter.__init__.__kwdefaults__["guild_ready_timeout"] = 0.3
from paperboy.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "true"],
                           capture_output=True, check=False)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _strace_works(),
                                reason="needs strace with ptrace allowed (apt-get install strace)")


async def _child(*argv: str, fake: FakeDiscord, cwd: Path) -> int:
    env = child_environment({"DISCORD_TOKEN": TOKEN, "FAKE_DISCORD_URL": fake.base_url,
                             # .pyc writes are renames too: they would shift the count.
                             "PYTHONDONTWRITEBYTECODE": "1"})
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        return await asyncio.wait_for(process.wait(), CHILD_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _post(config: Path) -> tuple[str, ...]:
    return (sys.executable, "-c", LAUNCHER, "--config", str(config), "post",
            "--channel", "papers", "--date", "2026-06-12")


def _config(hf: FakeHuggingFace, workdir: Path, template: Path | None = None) -> Path:
    workdir.mkdir(parents=True)
    if template is not None:
        shutil.copytree(template, workdir / "data")
    path = workdir / "config.toml"
    channel = f'[[channels]]\nname = "papers"\nplatform = "discord"\nid = "{CHANNEL_ID}"\n'
    path.write_text(config_text(hf_url=hf.base_url, data_dir=workdir / "data",
                                channels=channel), encoding="utf-8")
    return path


def _verdict(fake: FakeDiscord, restart_status: int) -> str:
    messages = fake.messages[CHANNEL_ID]
    headers = sum(m["content"].startswith("**Daily papers") for m in messages)
    picks = Counter(e["footer"]["text"].split()[1] for m in messages for e in m["embeds"])
    if (headers, sorted(picks), set(picks.values()), restart_status) == \
            (1, sorted(PICKS), {1}, 0):
        return "exactly once"
    return f"{headers} headers, picks {dict(picks)}, restart exit {restart_status}"


@pytest.mark.timeout(900)  # two child processes per kill point, a dozen kill points
async def test_kill_at_any_durable_write_posts_each_message_exactly_once(
    fake_discord: FakeDiscord, tmp_path: Path, sample_items: list[dict[str, object]],
    project_root: Path,
) -> None:
    async with FakeHuggingFace(batches={"2026-06-12": sample_items}) as hf:
        first_start = _config(hf, tmp_path / "template")
        await _child(sys.executable, "-c", LAUNCHER, "--config", str(first_start), "index",
                     "rebuild", fake=fake_discord, cwd=project_root)
        template = first_start.parent / "data"
        dry = _config(hf, tmp_path / "dry", template)
        trace = tmp_path / "trace.txt"
        await _child("strace", "-f", "-qq", "-e", f"trace={','.join(DURABLE)}",
                     "-o", str(trace), *_post(dry), fake=fake_discord, cwd=project_root)
        seen: Counter[str] = Counter()
        points = []
        for line in trace.read_text("utf-8").splitlines():
            if (match := _CALL.match(line)) is not None:
                seen[match["call"]] += 1
                points.append((match["call"], seen[match["call"]]))
        assert points, "the dry run made no durable write: there is nothing to kill at"
        verdicts = {}
        died = {}
        for call, n in points:
            fake_discord.messages.clear()
            config = _config(hf, tmp_path / f"{call}-{n}", template)
            died[call, n] = await _child(
                "strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={call}",
                "-e", f"inject={call}:signal=SIGKILL:when={n}", *_post(config),
                fake=fake_discord, cwd=project_root)
            restart = await _child(*_post(config), fake=fake_discord, cwd=project_root)
            verdicts[f"{call} #{n}"] = _verdict(fake_discord, restart)
    assert unproven_kills(died) == []
    assert {v for v in verdicts.values()} == {"exactly once"}, verdicts


@pytest.fixture
def project_root() -> Path:
    # The child imports `adapters` and `paperboy` from the project, as the installed
    # command does.
    return Path(__file__).resolve().parents[2]
