"""A full day of the bot with every secret set: no token, signing secret or key appears in
any log line (JSON, DEBUG, every library included), any file under the data directory, or
anything the bot sent to a chat platform.

The bot runs as `paperboy run` wires it — the runtime, the service, the Slack adapter (HTTP
mode, real slack-bolt, against the fake Web API), the Discord adapter (real discord.py
against the fake REST and gateway), the console adapter, health and status — through
`bot.running.serve`, with the scheduler on a clock the test moves from 00:00 to 23:55 UTC.
Hugging Face's summaries are removed from the batch so that every TL;DR goes through the
fake LLM with the API key. During the day people use Slack, Discord and the terminal.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import load_config
from bot.health import HealthMonitor
from bot.running import serve
from bot.runtime import open_runtime
from bot.schedule import DailyScheduler
from paperboy.logs import setup_logging
from paperboy.wiring import build_service, console_adapter, discord_adapter, slack_adapter
from tests.fakes.clock import FakeClock
from tests.fakes.discord_api import FakeDiscord, Guild, command_payload
from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.llm_server import FakeOpenAI
from tests.fakes.ports import free_port
from tests.fakes.slack_api import FakeSlack
from tests.scenarios.conftest import config_text
from tests.slack.conftest import SignedSlack

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1111-2222-SECRETslackBotValue",
    "SLACK_APP_TOKEN": "xapp-1-A0-SECRETslackAppValue",
    "SLACK_SIGNING_SECRET": "SECRETslackSigningValue0123",
    "DISCORD_TOKEN": "SECRETdiscordTokenValue.Gx1234.abcdefghij",
    "OPENAI_API_KEY": "sk-SECRETopenaiKeyValue0123456789",
    "HF_TOKEN": "hf_SECREThuggingfaceTokenValue",
}
DAY = "2026-06-12"  # a Friday
CHANNELS = """
[[channels]]
name = "slack-papers"
platform = "slack"
id = "C0PAPERS"
time = "09:00"

[[channels]]
name = "discord-papers"
platform = "discord"
id = "100"
time = "10:00"

[[channels]]
name = "console"
platform = "console"
time = "11:00"
"""


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Where the bot's logs go while the test runs; the root logger is restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def without_hf_summaries(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = copy.deepcopy(items)
    for item in items:
        item["paper"].pop("ai_summary", None)
    return items


async def test_a_full_day_leaks_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_stream: io.StringIO,
    sample_items: list[dict[str, Any]], capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "data"
    clock = FakeClock(datetime(2026, 6, 12, 0, 0, tzinfo=UTC))
    guild = Guild(10, {100: "papers"}, _everything())
    async with (
        FakeHuggingFace(batches={DAY: without_hf_summaries(sample_items)}) as hf,
        FakeOpenAI(api_key=SECRETS["OPENAI_API_KEY"]) as llm,
        FakeSlack() as slack,
        FakeDiscord([guild], token=SECRETS["DISCORD_TOKEN"], clock=clock) as discord_fake,
    ):
        discord_fake.patch(monkeypatch)
        slack_port = free_port()
        config_path = tmp_path / "config.toml"
        config_path.write_text(config_text(
            hf_url=hf.base_url, data_dir=data, llm_url=llm.v1, channels=CHANNELS,
            extra=f'\n[slack]\nmode = "http"\nport = {slack_port}\n'
                  f"api_url = {json.dumps(slack.api_url)}\n"), "utf-8")
        setup_logging(logging.DEBUG, "json", stream=log_stream)
        config = load_config(config_path)
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        ready: asyncio.Future[DailyScheduler] = asyncio.get_running_loop().create_future()
        async with open_runtime(config) as rt:
            service = await build_service(rt, clock=clock)
            [console] = [c for c in config.channels if c.platform == "console"]
            adapters = [slack_adapter(config, service), discord_adapter(service),
                        await console_adapter(rt, service, console, lines=lines)]
            running = asyncio.ensure_future(serve(
                service, adapters, store=rt.store, clock=clock,
                health=HealthMonitor(config.storage.path), started=ready.set_result))
            scheduler = await asyncio.wait_for(ready, 30)
            async with httpx.AsyncClient(timeout=10) as http:
                signed = SignedSlack(f"http://127.0.0.1:{slack_port}/slack/events", slack, http,
                                     secret=SECRETS["SLACK_SIGNING_SECRET"])
                await _walk(scheduler, clock, until=clock.now.replace(hour=12))
                # The day's use: Slack, Discord and the terminal.
                papers = [m for m in slack.posted("C0PAPERS")
                          if m["metadata"]["event_payload"]["key"] != "header"]
                assert (await signed.command("search attention")).status_code == 200
                await signed.reaction(papers[0]["ts"])
                await signed.command("list")
                payload = command_payload(10, 100, "list")
                await discord_fake.dispatch("INTERACTION_CREATE", payload)
                answered = discord_fake.interactions[payload["token"]]
                await discord_fake.until(lambda: bool(answered.followups))
                for line in ("/papers list", "/react 2 :pushpin:", "/papers export bibtex"):
                    await lines.put(line)
                await asyncio.sleep(0.5)
                await _walk(scheduler, clock, until=clock.now.replace(hour=23, minute=55))
            service.poster.stopping.set()  # as SIGTERM does
            await asyncio.wait_for(running, 30)

    # The day happened: each platform got its post, and the LLM wrote the TL;DRs.
    assert len(slack.posted("C0PAPERS")) == 6 and len(discord_fake.messages[100]) == 6
    assert llm.completions >= 5
    printed = capsys.readouterr().out
    assert "Daily papers" in printed

    logged = log_stream.getvalue()
    assert len(logged.splitlines()) > 100  # DEBUG from every library, as one JSON each
    sent = json.dumps([slack.history, slack.responses, slack.ephemerals,
                       discord_fake.messages, [i.followups for i in
                                               discord_fake.interactions.values()]],
                      default=str)
    files = {path: path.read_bytes() for path in data.rglob("*") if path.is_file()}
    assert files, "the bot wrote its data"
    leaks = [
        (name, where)
        for name, value in SECRETS.items()
        for where, text in [("log", logged), ("chat", sent), ("terminal", printed)]
        if value in text
    ] + [
        (name, str(path))
        for name, value in SECRETS.items()
        for path, content in files.items()
        if value.encode() in content
    ]
    assert leaks == []


async def _walk(scheduler: DailyScheduler, clock: FakeClock, until: datetime) -> None:
    while clock.now < until:
        clock.now = min(clock.now + timedelta(minutes=15), until)
        await scheduler.run_due()
        await asyncio.sleep(0)


def _everything() -> int:
    from adapters.discord.adapter import invite_permissions

    return invite_permissions().value


