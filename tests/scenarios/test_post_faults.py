"""kill -9 at every durable write of a daily post, then a restart: every pick exactly once.

The kill points come from bench/post_faults.py (one uninterrupted post under strace lists
every rename and link it makes; each is then made the point where the kernel kills
`paperboy post`, and `paperboy post` is run again). Across both runs the header and each of
the five picks must be shown exactly once, and the restart must finish the day. Ctrl-C and
SIGTERM mid-post are below: they finish the message in flight, record it and exit 130.
Skips with a one-line reason where strace is missing or not permitted (.ci/run installs it).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bench.post_faults import PICKS, KillPoint, kill_at_every_write
from tests.conftest import HF_SAMPLE
from tests.fakes.hf_server import FakeHuggingFace, load_items
from tests.scenarios.conftest import (
    CHILD_TIMEOUT,
    DAY,
    PAPERBOY,
    child_environment,
    config_text,
    run_paperboy,
)

ARXIV_LINK = re.compile(r"arXiv https://arxiv\.org/abs/(\S+)")
NUMBERED = re.compile(rb"^\[\d+\] ")
CHANNEL = '\n[[channels]]\nname = "console"\nplatform = "console"\n'


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    done = subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True,
                          check=False)
    return done.returncode == 0


needs_strace = pytest.mark.skipif(
    not _strace_works(), reason="strace is missing or may not trace here (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def kill_points(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[KillPoint]]:
    async def run() -> list[KillPoint]:
        async with FakeHuggingFace(batches={DAY: load_items(HF_SAMPLE)}) as hf:
            return await kill_at_every_write(hf.base_url, tmp_path_factory.mktemp("faults"))

    yield asyncio.run(run())


def _label(point: KillPoint) -> str:
    return f"{point.call} #{point.n} ({point.path})"


@needs_strace
def test_the_post_is_killed_at_each_of_its_ledger_writes(
    kill_points: list[KillPoint],
) -> None:
    # The ledger's month file: the claim, then one confirmation per message.
    ledger = {p.nth_on_path for p in kill_points
              if p.killed and p.path.startswith("posts/") and p.path.endswith(".json")}
    assert ledger == set(range(1, 1 + PICKS + 1 + 1))


@needs_strace
def test_after_any_kill_and_a_restart_every_pick_is_shown_exactly_once(
    kill_points: list[KillPoint],
) -> None:
    assert [_label(p) for p in kill_points if not p.exactly_once] == []


@needs_strace
def test_after_any_kill_the_restart_succeeds(kill_points: list[KillPoint]) -> None:
    assert [(_label(p), p.restart_error) for p in kill_points if p.restart_status != 0] == []


# --- Ctrl-C and SIGTERM mid-post ------------------------------------------------------------
# Each store write is slowed by 0.3 s (strace's delay injection: a slow disk), so the signal
# sent after the k-th message lands while the post is still going.


async def _interrupt_after(k: int, signum: int, config: Path, cwd: Path) -> tuple[str, int]:
    process = await asyncio.create_subprocess_exec(
        "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename",
        "-e", "inject=rename:delay_exit=300000",
        str(PAPERBOY), "--config", str(config), "post", "--channel", "console", "--date", DAY,
        cwd=cwd, env=child_environment(), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    out, seen = b"", 0
    while seen < k:
        line = await asyncio.wait_for(process.stdout.readline(), CHILD_TIMEOUT)
        if not line:
            break
        out += line
        seen += bool(NUMBERED.match(line))
    # The signal goes to paperboy itself, not to strace, as a terminal's Ctrl-C would.
    [bot] = psutil.Process(process.pid).children()
    bot.send_signal(signum)
    out += await asyncio.wait_for(process.stdout.read(), CHILD_TIMEOUT)
    return out.decode("utf-8"), await process.wait()  # strace exits with paperboy's status


@pytest.fixture(
    scope="module",
    params=[(signal.SIGINT, 2), (signal.SIGTERM, 4)],
    ids=["ctrl-c-after-2-messages", "sigterm-after-4-messages"],
)
def interrupted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int, str]]:
    signum, k = request.param
    tmp = tmp_path_factory.mktemp("interrupted")

    async def run() -> tuple[str, int, str]:
        async with FakeHuggingFace(batches={DAY: load_items(HF_SAMPLE)}) as hf:
            config = tmp / "config.toml"
            config.write_text(config_text(hf_url=hf.base_url, data_dir=tmp / "data",
                                          channels=CHANNEL), "utf-8")
            first, status = await _interrupt_after(k, signum, config, tmp)
            again = await run_paperboy("--config", str(config), "post", "--channel",
                                       "console", "--date", DAY, cwd=tmp)
            return first, status, again.stdout

    yield asyncio.run(run())


@needs_strace
def test_an_interrupted_post_exits_130(interrupted: tuple[str, int, str]) -> None:
    assert interrupted[1] == 130


@needs_strace
def test_an_interrupted_post_stops_before_its_last_pick(
    interrupted: tuple[str, int, str],
) -> None:
    assert len(ARXIV_LINK.findall(interrupted[0])) < PICKS


@needs_strace
def test_an_interrupted_post_and_its_rerun_show_every_pick_exactly_once(
    interrupted: tuple[str, int, str],
) -> None:
    first, _, again = interrupted
    shown = Counter(ARXIV_LINK.findall(first + again))
    assert sorted(shown.values()) == [1] * PICKS
