"""`paperboy run` as a child process with `[slack] client_id`: an admin installs the app
through the running bot, then a slash command from that workspace is answered, and
SIGTERM stops it. Slack's Web API and consent page are the fake; tokens in PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.ports import free_port
from tests.fakes.postgres import Database
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_oauth import CLIENT_ID, CLIENT_SECRET
from tests.scenarios.conftest import CHILD_TIMEOUT, PAPERBOY, child_environment, config_text

from .conftest import LAB, SECRET


async def test_run_installs_a_workspace_and_answers_its_commands(
    tmp_path: Path, hf_fake: FakeHuggingFace, pg_database: Database
) -> None:
    port = free_port()
    async with FakeSlack() as fake:
        fake.oauth.add_workspace(LAB, "lab")
        fake.oauth.installing = LAB
        fake.oauth.redirect_uri = f"http://127.0.0.1:{port}/slack/oauth_redirect"
        extra = (f'\n[slack]\nmode = "http"\nport = {port}\nclient_id = "{CLIENT_ID}"\n'
                 f"api_url = {json.dumps(fake.api_url)}\n")
        config = config_text(hf_url=hf_fake.base_url, data_dir=tmp_path / "data", extra=extra)
        config = config.replace("[storage]\n", f"[storage]\nurl = {json.dumps(pg_database.url)}\n")
        (tmp_path / "config.toml").write_text(config)
        process = await asyncio.create_subprocess_exec(
            str(PAPERBOY), "-v", "run", cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            env=child_environment({"SLACK_CLIENT_SECRET": CLIENT_SECRET,
                                   "SLACK_SIGNING_SECRET": SECRET,
                                   "PAPERBOY_DATABASE_PASSWORD": pg_database.password}))
        try:
            logged = await _until_listening(process)
            async with httpx.AsyncClient(timeout=10) as browser:
                install = await browser.get(f"http://127.0.0.1:{port}/slack/install")
                # Slack's consent page, played by the fake at the same path and query.
                consent = urlsplit(install.headers["Location"])
                allowed = await browser.get(f"{fake.base_url}{consent.path}?{consent.query}")
                cookie = install.headers["Set-Cookie"].split(";")[0]
                done = await browser.get(allowed.headers["Location"],
                                         headers={"Cookie": cookie})
            assert done.status_code == 200
            await _signed_help(port, fake)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), CHILD_TIMEOUT)
        assert process.stderr is not None
        logged += await process.stderr.read()
        secrets = [CLIENT_SECRET, SECRET, pg_database.password, *fake.oauth.issued]
    assert process.returncode == 130
    assert [s for s in secrets if s.encode() in logged] == []


async def _signed_help(port: int, fake: FakeSlack) -> None:
    body = urlencode({"team_id": LAB, "channel_id": "C0LAB", "user_id": "U0ANA",
                      "command": "/papers", "text": "help", "api_app_id": "A0PAPERBOY",
                      "response_url": fake.response_url("help"), "trigger_id": "1.2.3"})
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    async with httpx.AsyncClient(timeout=10) as slack:
        await slack.post(f"http://127.0.0.1:{port}/slack/events", content=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded",
                                  "X-Slack-Request-Timestamp": stamp,
                                  "X-Slack-Signature": signature})
    await asyncio.wait_for(fake.wait_until(lambda: bool(fake.responses)), CHILD_TIMEOUT)
    assert "/papers help" in fake.responses[0]["text"]


async def _until_listening(process: asyncio.subprocess.Process) -> bytes:
    """The log until the bot's "listening" line (`-v` logs it at INFO)."""
    assert process.stderr is not None
    logged = b""
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), CHILD_TIMEOUT)
        logged += line
        if not line:
            raise AssertionError("paperboy run exited before listening")
        if b"listening on port" in line:
            return logged


