"""kill -9 at random durable writes of 50 daily posts (10 Slack channels × 5 days), then
restarts: every channel shows each day's header and picks exactly once, nothing missing.

Reproduce: .venv/bin/python -m pytest -q tests/faults/test_kill_random_posts.py
(the kill points come from random.Random(SEED); change SEED to explore other points).

Each day the bot process (tests/faults/_scheduled_child.py: `paperboy run`'s wiring with the
real Slack adapter, the scheduler's catch-up posting all ten channels at 09:05) is started
under strace, which makes the kernel kill it (SIGKILL) at its n-th rename — the store's
atomic writes put files in place by rename — for up to two random n; then it is started
again without strace, as a restart. The fake Slack lives in this test process, so what
reached the channels survives every kill, as on the real platform; the bot has to settle
an interrupted message with `conversations.history` rather than send it again.
Skips with a one-line reason where strace is missing or not permitted (.ci/run installs it).
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HF_SAMPLE
from tests.fakes.hf_server import FakeHuggingFace, load_items
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.scenarios.conftest import CHILD_TIMEOUT, child_environment, config_text

SEED = 20261204
PROJECT = Path(__file__).resolve().parents[2]
DAYS = [date(2026, 6, 8) + timedelta(days=n) for n in range(5)]  # Monday to Friday
CHANNELS = [f"C0KILL{n:02d}" for n in range(10)]
# A day's catch-up makes ~100 renames (10 channels × 7 ledger writes, caches, the index).
MAX_KILL_AT = 110
PICKS = 5


@dataclass
class Outcome:
    kills: list[tuple[date, int, int]] = field(default_factory=list)  # (day, n, exit status)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    restarts_failed: list[str] = field(default_factory=list)


def _batch(day: date, number: int) -> list[dict[str, Any]]:
    """The sample's five papers under new ids for `day`, so each day brings new picks."""
    items = copy.deepcopy(load_items(HF_SAMPLE))
    for item in items:
        old = item["paper"]["id"]
        item["paper"]["id"] = f"{old[:5]}{number}{old[-4:]}"
        item["paper"]["title"] = item["title"] = f"{item['title']} ({day:%a})"
    return items


def _channels() -> str:
    return "".join(
        f'\n[[channels]]\nname = "k{n}"\nplatform = "slack"\nid = "{channel}"\n'
        f'team = "{TEAM}"\ntime = "09:00"\n' for n, channel in enumerate(CHANNELS))


async def _child(config: Path, day: date, kill_at: int | None) -> tuple[int, str]:
    strace = [] if kill_at is None else [
        "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename",
        "-e", f"inject=rename:signal=SIGKILL:when={kill_at}"]
    process = await asyncio.create_subprocess_exec(
        *strace, sys.executable, "-m", "tests.faults._scheduled_child", str(config),
        f"{day.isoformat()}T09:05:00+00:00",
        cwd=PROJECT, env=child_environment({"SLACK_BOT_TOKEN": "xoxb-kill-test"}),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT)
    return process.returncode or 0, err.decode("utf-8", "replace")


async def _run(workdir: Path) -> Outcome:
    chosen = random.Random(SEED)
    batches = {d.isoformat(): _batch(d, n + 1) for n, d in enumerate(DAYS)}
    outcome = Outcome()
    async with FakeHuggingFace(batches=batches) as hf, FakeSlack() as slack:
        config = workdir / "config.toml"
        config.write_text(config_text(
            hf_url=hf.base_url, data_dir=workdir / "data", channels=_channels(),
            extra=f'\n[slack]\napi_url = "{slack.api_url}"\n'), "utf-8")
        for day in DAYS:
            for _ in range(chosen.randint(1, 2)):
                kill_at = chosen.randint(1, MAX_KILL_AT)
                status, _ = await _child(config, day, kill_at)
                outcome.kills.append((day, kill_at, status))
            status, err = await _child(config, day, None)
            if status != 0:
                outcome.restarts_failed.append(f"{day}: exit {status}: {err[-500:]}")
        outcome.history = {c: slack.posted(c) for c in CHANNELS}
    return outcome


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    if shutil.which("strace") is None:
        pytest.skip("strace is absent: cannot kill the bot at a durable write")
    probe = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "true"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here (ptrace not permitted?): {probe.stderr.strip()}")
    yield asyncio.run(_run(tmp_path_factory.mktemp("killed")))


def _sent(outcome: Outcome, channel: str) -> Counter[tuple[str, str]]:
    return Counter((m["metadata"]["event_payload"]["day"], m["metadata"]["event_payload"]["key"])
                   for m in outcome.history[channel])


def test_the_bot_was_really_killed_every_day(outcome: Outcome) -> None:
    killed_on = {day for day, _, status in outcome.kills if status in (-9, 137)}
    assert killed_on == set(DAYS)


def test_every_restart_finishes_cleanly(outcome: Outcome) -> None:
    assert outcome.restarts_failed == []


def test_no_message_reaches_a_channel_twice(outcome: Outcome) -> None:
    assert {c: [k for k, n in _sent(outcome, c).items() if n > 1] for c in CHANNELS} == \
        {c: [] for c in CHANNELS}


def test_every_channel_has_every_days_header_and_picks(outcome: Outcome) -> None:
    per_day = {c: Counter(day for day, _ in _sent(outcome, c)) for c in CHANNELS}
    assert per_day == {c: Counter({d.isoformat(): 1 + PICKS for d in DAYS}) for c in CHANNELS}


def test_no_paper_is_posted_twice_to_a_channel_across_days(outcome: Outcome) -> None:
    papers = {c: Counter(key for _, key in _sent(outcome, c) if key != "header")
              for c in CHANNELS}
    assert [c for c, seen in papers.items() if set(seen.values()) != {1}] == []


def test_the_history_is_real_json_metadata(outcome: Outcome) -> None:
    # Guards the assertions above against reading an empty or malformed history.
    assert json.dumps(outcome.history[CHANNELS[0]][0]["metadata"]["event_payload"])
