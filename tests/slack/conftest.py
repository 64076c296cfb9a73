"""Setup for the Slack tests: the real adapter and AsyncApp against a fake Slack.

Every test gets the real Service on a real TinyDB store (tests/service/conftest.py's
`services`, the 2026-06-12 sample batch on a fake Hugging Face), a `FakeSlack` Web API, and
a `SlackAdapter` in HTTP mode listening on a free loopback port with its pacing off. Slack's
side is `SignedSlack`: it builds the payloads Slack sends (slash command, Events API,
block_actions), signs them with `SignatureVerifier` exactly as Slack does, and POSTs them to
the adapter. Replies are asserted where they land: the fake's `responses`, `ephemerals` and
channel `history`. Socket Mode tests take `socket_adapter` (connected to the fake's WebSocket)
and send slash commands as `command_payload(...)` envelopes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest_asyncio
from slack_sdk.signature import SignatureVerifier

from adapters.slack.adapter import Pacer, SlackAdapter
from bot.alerts import AdminAlerts
from bot.config import AdminConfig, ChannelConfig, SlackConfig
from bot.events import Identity
from bot.running import connect_all, schedule_posts
from bot.schedule import DEFAULT_GRACE, DailyScheduler
from bot.service import Service
from tests.fakes.slack_api import FakeSlack
from tests.service import conftest as service_setup
from tests.service.conftest import CHANNEL, Services

# The service tests' fixtures, by name: a real Service over TinyDB and a fake Hugging Face.
clock = service_setup.clock
hf_client = service_setup.hf_client
hf_fake = service_setup.hf_fake
services = service_setup.services

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
USER = "U0ANA"
USERS = {USER: "Ana Lee", "U0BO": "Bo Chen"}


@dataclass
class SignedSlack:
    """Slack's side of HTTP mode: signed requests to the adapter's endpoint."""

    url: str
    fake: FakeSlack
    http: httpx.AsyncClient | None = None  # None: only builds payloads (Socket Mode)
    secret: str = SECRET
    responses_made: int = 0

    async def send(self, body: str, content_type: str, *, timestamp: float | None = None,
                   secret: str | None = None, signed: bool = True,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        stamp = str(int(timestamp if timestamp is not None else time.time()))
        sent = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                **(headers or {})}
        if signed:
            verifier = SignatureVerifier(secret or self.secret)
            sent["X-Slack-Signature"] = verifier.generate_signature(timestamp=stamp, body=body)
        assert self.http is not None, "this SignedSlack only builds payloads"
        return await self.http.post(self.url, content=body.encode(), headers=sent)

    def command_body(self, text: str, *, user: str = USER, channel: str = CHANNEL.id) -> str:
        self.responses_made += 1
        return urlencode({
            "token": "unused", "team_id": CHANNEL.team, "team_domain": "paperboy-test",
            "channel_id": channel, "channel_name": "papers", "user_id": user,
            "user_name": "ana", "command": "/papers", "text": text,
            "api_app_id": "A0PAPERBOY", "response_url": self.fake.response_url(
                f"r{self.responses_made}"),
            "trigger_id": "1.2.3",
        })

    async def command(self, text: str, **kwargs: Any) -> httpx.Response:
        return await self.send(self.command_body(text, **kwargs),
                               "application/x-www-form-urlencoded")

    def reaction_body(self, ts: str, *, reaction: str = "pushpin", user: str = USER,
                      added: bool = True, channel: str = CHANNEL.id,
                      event_id: str = "Ev01", item_type: str = "message") -> str:
        item = {"type": item_type, "channel": channel, "ts": ts}
        if item_type == "file":
            item = {"type": "file", "file": "F0FILE"}
        return json.dumps({
            "token": "unused", "team_id": CHANNEL.team, "api_app_id": "A0PAPERBOY",
            "type": "event_callback", "event_id": event_id, "event_time": 1781251300,
            "authorizations": [{"team_id": CHANNEL.team, "user_id": "U0BOT", "is_bot": True}],
            "event": {"type": "reaction_added" if added else "reaction_removed",
                      "user": user, "reaction": reaction, "item": item,
                      "item_user": "U0BOT", "event_ts": "1781251300.000100"},
        })

    async def reaction(self, ts: str, *, headers: dict[str, str] | None = None,
                       **kwargs: Any) -> httpx.Response:
        return await self.send(self.reaction_body(ts, **kwargs), "application/json",
                               headers=headers)

    async def press(self, action_id: str, value: str, ts: str, *, user: str = USER,
                    channel: str = CHANNEL.id) -> httpx.Response:
        self.responses_made += 1
        payload = {
            "type": "block_actions", "team": {"id": CHANNEL.team, "domain": "paperboy-test"},
            "user": {"id": user, "username": "ana", "team_id": CHANNEL.team},
            "api_app_id": "A0PAPERBOY", "token": "unused", "trigger_id": "1.2.3",
            "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                          "is_ephemeral": False},
            "channel": {"id": channel, "name": "papers"},
            "response_url": self.fake.response_url(f"r{self.responses_made}"),
            "actions": [{"action_id": action_id, "block_id": "b1", "value": value,
                         "type": "button", "action_ts": "1781251300.1"}],
        }
        return await self.send(urlencode({"payload": json.dumps(payload)}),
                               "application/x-www-form-urlencoded")


@dataclass
class Running:
    adapter: SlackAdapter
    identity: Identity
    slack: SignedSlack
    fake: FakeSlack
    task: asyncio.Future[None]

    async def stop(self) -> None:
        await self.adapter.close()
        await self.task
        if self.slack.http is not None:
            await self.slack.http.aclose()


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=USERS) as fake:
        yield fake


@pytest_asyncio.fixture
async def socket_adapter(
    services: Services, fake_slack: FakeSlack
) -> AsyncIterator[SlackAdapter]:
    """The adapter in Socket Mode, connected to the fake's WebSocket and running."""
    config = SlackConfig(mode="socket", api_url=fake_slack.api_url)
    adapter = SlackAdapter(services.make(), config, bot_token="xoxb-test-token",
                           app_token="xapp-test-token", pacer=Pacer(0))
    await adapter.connect()
    task = asyncio.ensure_future(adapter.run())
    await fake_slack.wait_until(lambda: fake_slack.sockets_open == 1)
    yield adapter
    await adapter.close()
    await task


def command_payload(fake: FakeSlack, text: str) -> dict[str, str]:
    """A slash command's form fields, as a Socket Mode envelope carries them."""
    body = SignedSlack("", fake, None).command_body(text)  # type: ignore[arg-type]
    return dict(parse_qsl(body))


def make_adapter(service: Service, fake: FakeSlack, **settings: Any) -> SlackAdapter:
    config = SlackConfig(**{"mode": "http", "port": 0, "api_url": fake.api_url, **settings})
    return SlackAdapter(service, config, bot_token="xoxb-test-token", signing_secret=SECRET,
                        host="127.0.0.1", pacer=Pacer(0))


async def start(service: Service, fake: FakeSlack) -> Running:
    """Connect an HTTP-mode adapter and serve until `stop()`."""
    adapter = make_adapter(service, fake)
    identity = await adapter.connect()
    task = asyncio.ensure_future(adapter.run())
    await adapter.serving.wait()
    url = f"http://127.0.0.1:{adapter.port}{adapter.settings.path}"
    slack = SignedSlack(url, fake, httpx.AsyncClient(timeout=10))
    return Running(adapter, identity, slack, fake, task)


@pytest_asyncio.fixture
async def running(services: Services, fake_slack: FakeSlack) -> AsyncIterator[Running]:
    """The adapter connected and serving HTTP mode for the configured channel."""
    started = await start(services.make(), fake_slack)
    yield started
    await started.stop()


@dataclass
class ScheduledBot:
    """The bot as `paperboy run` assembles it for Slack (bot.running: connect, the [admin]
    channel found, the scheduler of every post watched for incidents), with the test's
    clock: `at(when)` moves it and runs what is due, as the scheduler's timer would."""

    adapter: SlackAdapter
    fake: FakeSlack
    clock: Any
    alerts: AdminAlerts
    scheduler: DailyScheduler
    task: asyncio.Future[None]

    async def at(self, when: datetime) -> None:
        self.clock.now = when
        await self.scheduler.run_due()

    def said(self, channel: str) -> list[str]:
        """The text of every message in a channel, oldest first."""
        return [m["text"] for m in self.fake.posted(channel)]

    async def stop(self) -> None:
        await self.scheduler.shutdown()
        await self.adapter.close()
        await self.task


async def start_scheduled(
    services: Services, fake: FakeSlack, *channels: ChannelConfig,
    admin: AdminConfig | None, grace: timedelta = DEFAULT_GRACE, **service_options: Any,
) -> ScheduledBot:
    """Connect, find the admin channel, start the scheduler (its catch-up included).
    `service_options` go to `Services.make` (an arXiv client, a searcher)."""
    service = services.make(*channels, admin=admin, **service_options)
    adapter = make_adapter(service, fake)
    alerts = AdminAlerts.from_config(service.config, services.clock, services.store)
    await alerts.restore()
    targets = await connect_all(service, [adapter], alerts)
    task = asyncio.ensure_future(adapter.run())
    await adapter.serving.wait()
    scheduler = schedule_posts(service, targets, alerts, store=services.store,
                               clock=services.clock, grace=grace)
    await scheduler.start()
    return ScheduledBot(adapter, fake, services.clock, alerts, scheduler, task)
