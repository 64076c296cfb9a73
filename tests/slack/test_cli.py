"""`paperboy post` and `paperboy run` with Slack tokens, as a child process against fakes.

The installed command runs with a config whose Hugging Face and Slack Web API are local
fakes (`[slack] api_url`) and tokens only in its environment.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx

from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.ports import free_port
from tests.fakes.slack_api import FakeSlack
from tests.scenarios.conftest import (
    CHILD_TIMEOUT,
    DAY,
    PAPERBOY,
    Run,
    child_environment,
    config_text,
    run_paperboy,
)
from tests.service.conftest import PICKS

from .conftest import SECRET, SignedSlack

BOT_TOKEN = "xoxb-2026061200-0123456789-slackCliSecretValue"
APP_TOKEN = "xapp-1-A0PAPERBOY-2026061200-slackCliAppSecretValue"
CHANNEL = '\n[[channels]]\nname = "papers"\nplatform = "slack"\nid = "C0PAPERS"\n'


async def _paperboy(tmp_path: Path, hf_fake: FakeHuggingFace, slack: FakeSlack, *args: str,
                    token: str = BOT_TOKEN, env: dict[str, str] | None = None,
                    channels: str = CHANNEL) -> Run:
    extra = f"\n[slack]\napi_url = {json.dumps(slack.api_url)}\n"
    (tmp_path / "config.toml").write_text(config_text(
        hf_url=hf_fake.base_url, data_dir=tmp_path / "data", channels=channels, extra=extra))
    return await run_paperboy(*args, cwd=tmp_path, env={"SLACK_BOT_TOKEN": token, **(env or {})})


async def test_post_sends_the_days_picks_to_the_slack_channel(
    tmp_path: Path, hf_fake: FakeHuggingFace, fake_slack: FakeSlack
) -> None:
    await _paperboy(tmp_path, hf_fake, fake_slack, "post", "--channel", "papers", "--date", DAY)
    keys = fake_slack.posted_keys("C0PAPERS")
    assert keys == ["header", *PICKS]


async def test_post_twice_sends_nothing_the_second_time(
    tmp_path: Path, hf_fake: FakeHuggingFace, fake_slack: FakeSlack
) -> None:
    await _paperboy(tmp_path, hf_fake, fake_slack, "post", "--channel", "papers", "--date", DAY)
    await _paperboy(tmp_path, hf_fake, fake_slack, "post", "--channel", "papers", "--date", DAY)
    assert len(fake_slack.posted("C0PAPERS")) == 1 + len(PICKS)


async def test_invalid_token_exits_2(
    tmp_path: Path, hf_fake: FakeHuggingFace, fake_slack: FakeSlack
) -> None:
    fake_slack.bad_tokens.add(BOT_TOKEN)
    done = await _paperboy(tmp_path, hf_fake, fake_slack, "post", "--channel", "papers")
    assert done.returncode == 2


async def test_invalid_token_is_one_line_without_the_token(
    tmp_path: Path, hf_fake: FakeHuggingFace, fake_slack: FakeSlack
) -> None:
    fake_slack.bad_tokens.add(BOT_TOKEN)
    done = await _paperboy(tmp_path, hf_fake, fake_slack, "post", "--channel", "papers")
    assert done.stderr.splitlines() == [
        "paperboy: Slack refused SLACK_BOT_TOKEN (invalid_auth): set the app's Bot User "
        "OAuth Token (xoxb-…)"
    ]


async def test_run_with_an_invalid_token_exits_2(
    tmp_path: Path, hf_fake: FakeHuggingFace, fake_slack: FakeSlack
) -> None:
    fake_slack.bad_tokens.add(BOT_TOKEN)
    done = await _paperboy(tmp_path, hf_fake, fake_slack, "run")
    assert done.returncode == 2


async def test_run_with_a_refused_app_token_is_one_line_and_exit_2(
    tmp_path: Path, hf_fake: FakeHuggingFace, fake_slack: FakeSlack
) -> None:
    # Due every day since midnight: the catch-up would post if it started before the check.
    due = CHANNEL + 'time = "00:00"\ndays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
    fake_slack.bad_tokens.add(APP_TOKEN)
    done = await _paperboy(tmp_path, hf_fake, fake_slack, "run", env={"SLACK_APP_TOKEN": APP_TOKEN},
                           channels=due)
    assert (done.returncode, done.stderr.splitlines()) == (2, [
        "paperboy: Slack refused SLACK_APP_TOKEN (invalid_auth): set the app-level token "
        "(xapp-…) with the connections:write scope"])
    assert [c.path for c in fake_slack.calls].count("/api/apps.connections.open") == 1
    assert fake_slack.posted("C0PAPERS") == []


async def test_run_serves_signed_commands_over_http_until_sigterm(
    tmp_path: Path, hf_fake: FakeHuggingFace, fake_slack: FakeSlack
) -> None:
    port = free_port()
    extra = (f'\n[slack]\nmode = "http"\nport = {port}\n'
             f"api_url = {json.dumps(fake_slack.api_url)}\n")
    (tmp_path / "config.toml").write_text(config_text(
        hf_url=hf_fake.base_url, data_dir=tmp_path / "data", channels=CHANNEL, extra=extra))
    process = await asyncio.create_subprocess_exec(
        str(PAPERBOY), "-v", "run", cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env=child_environment({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET}))
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            slack = SignedSlack(f"http://127.0.0.1:{port}/slack/events", fake_slack, http)
            await _until_listening(process)
            await slack.command("help")
            await fake_slack.wait_until(lambda: len(fake_slack.responses) == 1)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), CHILD_TIMEOUT)
    assert process.returncode == 130


async def _until_listening(process: asyncio.subprocess.Process) -> None:
    """Wait for the bot's "listening" log line (`-v` logs it at INFO)."""
    assert process.stderr is not None
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), CHILD_TIMEOUT)
        if not line:
            raise AssertionError("paperboy run exited before listening")
        if b"listening on port" in line:
            return


