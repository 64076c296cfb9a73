"""SIGTERM and Ctrl-C while `paperboy run` sends the daily posts of several Slack channels.

The installed command runs as a child process against the fake Hugging Face and the fake
Slack Web API (HTTP mode). Four channels are due a few minutes ago, so the start-up
catch-up posts them all at once (two channels at a time, one message a second per channel);
each chat.postMessage takes 0.8 s to land, so the signal is sent while a message is in
flight. The bot must finish that message, exit 130 within 10 s, and the next start must
send exactly what is missing: every channel ends with its header and picks, once each.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.ports import free_port
from tests.fakes.slack_api import FakeSlack
from tests.scenarios.conftest import CHILD_TIMEOUT, PAPERBOY, child_environment, config_text
from tests.service.conftest import PICKS

CHANNELS = ("C0STOPA", "C0STOPB", "C0STOPC", "C0STOPD")
BOT_TOKEN = "xoxb-2026061200-0123456789-stopTestValue"
SIGNING_SECRET = "stop-test-signing-secret"
EXPECTED = ["header", *PICKS]
POST = "/api/chat.postMessage"


@pytest_asyncio.fixture
async def upstreams(
    sample_items: list[dict[str, Any]],
) -> AsyncIterator[tuple[FakeHuggingFace, FakeSlack]]:
    now = datetime.now(UTC)
    # Today's batch, and yesterday's for a test started just after midnight UTC.
    days = {(now - timedelta(minutes=m)).date().isoformat(): sample_items for m in (0, 10)}
    async with FakeHuggingFace(batches=days) as hf, FakeSlack() as slack:
        slack.post_delay = 0.8
        yield hf, slack


def write_config(tmp_path: Path, hf: FakeHuggingFace, slack: FakeSlack) -> Path:
    due = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%H:%M")
    channels = "".join(
        f'\n[[channels]]\nname = "{c.lower()}"\nplatform = "slack"\nid = "{c}"\n'
        f'time = "{due}"\ntimezone = "UTC"\n'
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
        for c in CHANNELS
    )
    extra = (f'\n[slack]\nmode = "http"\nport = {free_port()}\n'
             f"api_url = {json.dumps(slack.api_url)}\n")
    path = tmp_path / "config.toml"
    path.write_text(config_text(hf_url=hf.base_url, data_dir=tmp_path / "data",
                                channels=channels, extra=extra), "utf-8")
    return path


async def start(tmp_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(PAPERBOY), "-v", "--config", str(tmp_path / "config.toml"), "run", cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=child_environment({"SLACK_BOT_TOKEN": BOT_TOKEN,
                               "SLACK_SIGNING_SECRET": SIGNING_SECRET}),
    )


def keys(slack: FakeSlack, channel: str) -> list[str]:
    return slack.posted_keys(channel)


def landed(slack: FakeSlack) -> int:
    return sum(len(slack.posted(c)) for c in CHANNELS)


async def stop_mid_message(
    process: asyncio.subprocess.Process, slack: FakeSlack, signum: int, after: int
) -> tuple[int, float, str]:
    """Once `after` messages landed and another is in flight, send `signum`; return the
    exit status, the seconds the stop took and what the bot logged."""
    await asyncio.wait_for(slack.wait_until(
        lambda: landed(slack) >= after and slack.requests[POST] > landed(slack)
    ), CHILD_TIMEOUT)
    sent_at = time.monotonic()
    process.send_signal(signum)
    assert process.stderr is not None
    err = await asyncio.wait_for(process.stderr.read(), CHILD_TIMEOUT)
    code = await asyncio.wait_for(process.wait(), CHILD_TIMEOUT)
    return code, time.monotonic() - sent_at, err.decode()


async def run_to_completion(tmp_path: Path, slack: FakeSlack) -> None:
    process = await start(tmp_path)
    try:
        await asyncio.wait_for(slack.wait_until(
            lambda: landed(slack) >= len(CHANNELS) * len(EXPECTED)), CHILD_TIMEOUT)
        await asyncio.sleep(1.0)  # anything sent twice would land now
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), CHILD_TIMEOUT)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
async def test_stop_mid_fan_out_then_restart_posts_everything_exactly_once(
    tmp_path: Path, upstreams: tuple[FakeHuggingFace, FakeSlack], signum: int
) -> None:
    hf, slack = upstreams
    write_config(tmp_path, hf, slack)
    process = await start(tmp_path)
    try:
        code, took, log = await stop_mid_message(process, slack, signum, after=3)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    in_flight_finished = slack.requests[POST] == landed(slack)
    first_run = landed(slack)
    assert (code, took < 10, in_flight_finished) == (130, True, True), log
    assert 3 < first_run < len(CHANNELS) * len(EXPECTED), "the signal came mid-fan-out"
    assert "Traceback" not in log

    await run_to_completion(tmp_path, slack)
    assert {c: keys(slack, c) for c in CHANNELS} == {c: EXPECTED for c in CHANNELS}


async def test_stop_takes_at_most_ten_seconds_when_a_message_hangs(
    tmp_path: Path, upstreams: tuple[FakeHuggingFace, FakeSlack]
) -> None:
    hf, slack = upstreams
    write_config(tmp_path, hf, slack)
    slack.post_delay = 60.0  # Slack accepts the message and never answers in time
    process = await start(tmp_path)
    try:
        # wait_until wakes when a message lands; none does here, so poll the request count.
        deadline = time.monotonic() + CHILD_TIMEOUT
        while slack.requests[POST] < 1:
            assert time.monotonic() < deadline, "no message was ever sent"
            await asyncio.sleep(0.1)
        sent_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.stderr is not None
        log = (await asyncio.wait_for(process.stderr.read(), CHILD_TIMEOUT)).decode()
        code = await asyncio.wait_for(process.wait(), CHILD_TIMEOUT)
        took = time.monotonic() - sent_at
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert (code, took < 10) == (130, True), log
    assert "exiting now" in log
