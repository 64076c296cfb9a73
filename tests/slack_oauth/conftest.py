"""Setup for one Slack app installed in many workspaces: two replicas, one PostgreSQL.

`deployment` runs two real `SlackAdapter`s in HTTP mode with `installations` (slack-bolt's
OAuth flow, slack_sdk's SQLAlchemy stores) — each with its own engine on the test's fresh
PostgreSQL database (tests/fakes/postgres.py), both on one real Service over TinyDB, both
against one `FakeSlack` that knows two workspaces (LAB and OBS) and plays Slack's consent
page and `oauth.v2.access` (tests/fakes/slack_oauth.py). Requests go to whichever replica
the test names, as a load balancer would send them: nothing but the database joins them.

`Deployment.install(team, start=0, finish=1)` walks the install as a browser does:
GET /slack/install on one replica, follow Slack's consent redirect, land on
/slack/oauth_redirect on the other, with the state cookie the browser keeps.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest_asyncio
from slack_sdk.signature import SignatureVerifier

from adapters.slack.adapter import Pacer, SlackAdapter
from adapters.slack.installations import (
    INSTALL_PATH,
    REDIRECT_PATH,
    Installations,
    OAuthSecrets,
    open_engine,
)
from bot.config import ChannelConfig, SlackConfig
from bot.service import Service
from tests.fakes.postgres import Database
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_oauth import CLIENT_ID, CLIENT_SECRET
from tests.service import conftest as service_setup
from tests.service.conftest import Services

clock = service_setup.clock
hf_client = service_setup.hf_client
hf_fake = service_setup.hf_fake
services = service_setup.services

SECRET = "5e1f0c3a9b7d4e2f8a6c1b3d5e7f9a0b"
LAB, OBS = "T0LAB", "T0OBS"
LAB_CHANNEL = ChannelConfig(name="lab-papers", platform="slack", id="C0LABPAPERS", team=LAB)
OBS_CHANNEL = ChannelConfig(name="obs-papers", platform="slack", id="C0OBSPAPERS", team=OBS)
USER = "U0ANA"


@dataclass
class Replica:
    adapter: SlackAdapter
    task: asyncio.Future[None]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}"


@dataclass
class Deployment:
    replicas: list[Replica]
    fake: FakeSlack
    database: Database
    browser: httpx.AsyncClient  # the admin's browser
    slack: httpx.AsyncClient  # Slack's side: signed requests
    responses: int = field(default=0)

    async def install(self, team: str, *, start: int = 0, finish: int = 1) -> httpx.Response:
        """An admin of `team` installs the app: the install page on replica `start`,
        Slack's consent, the redirect served by replica `finish`."""
        self.fake.oauth.installing = team
        self.fake.oauth.redirect_uri = self.replicas[finish].url + REDIRECT_PATH
        install = await self.browser.get(self.replicas[start].url + INSTALL_PATH)
        assert install.status_code == 302, install.text
        consent = await self.browser.get(install.headers["Location"])
        assert consent.status_code == 302, consent.text
        # The state cookie is `Secure`: a browser sends it because the public URL is https
        # (TLS ends at the load balancer); httpx over plain http would not, so it is passed
        # on by hand, exactly as set.
        cookie = install.headers["Set-Cookie"].split(";")[0]
        return await self.browser.get(consent.headers["Location"], headers={"Cookie": cookie})

    async def signed(self, replica: int, body: str, content_type: str) -> httpx.Response:
        stamp = str(int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
        return await self.slack.post(
            self.replicas[replica].url + "/slack/events", content=body.encode(),
            headers={"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                     "X-Slack-Signature": signature})

    async def command(self, text: str, *, team: str, channel: str, replica: int = 0
                      ) -> tuple[httpx.Response, str]:
        """A signed `/papers <text>` from `team`; returns the answer and the response_url
        where the reply lands."""
        self.responses += 1
        response_url = self.fake.response_url(f"{team}-{self.responses}")
        body = urlencode({
            "token": "unused", "team_id": team, "team_domain": team.lower(),
            "channel_id": channel, "channel_name": "papers", "user_id": USER,
            "user_name": "ana", "command": "/papers", "text": text,
            "api_app_id": "A0PAPERBOY", "response_url": response_url, "trigger_id": "1.2.3",
        })
        return await self.signed(replica, body, "application/x-www-form-urlencoded"), \
            response_url

    async def event(self, team: str, event: dict[str, Any], *, replica: int = 0,
                    event_id: str = "Ev01") -> httpx.Response:
        body = json.dumps({
            "token": "unused", "team_id": team, "api_app_id": "A0PAPERBOY",
            "type": "event_callback", "event_id": event_id, "event_time": int(time.time()),
            "event": {"event_ts": f"{time.time():.6f}", **event},
        })
        return await self.signed(replica, body, "application/json")

    async def uninstall(self, team: str, *, replica: int = 0,
                        event: dict[str, Any] | None = None) -> None:
        """Slack tells `replica` the app left `team` (`app_uninstalled`, or `event`);
        returns once that replica has deleted the tokens (events are handled after
        their ack)."""
        await self.event(team, event or {"type": "app_uninstalled"}, replica=replica)
        await asyncio.wait_for(self.replicas[replica].adapter.wait_forgotten(team), 10)

    async def replied(self, response_url: str) -> dict[str, Any]:
        """The reply that reached `response_url` (waits for it, bounded by the timeout)."""
        def arrived() -> bool:
            return any(r["url"] == response_url for r in self.fake.responses)
        await asyncio.wait_for(self.fake.wait_until(arrived), 10)
        return next(r for r in self.fake.responses if r["url"] == response_url)

    async def rows(self, query: str) -> list[asyncpg.Record]:
        conn = await self.database.server.connect(self.database.name)
        try:
            return list(await conn.fetch(query))
        finally:
            await conn.close()

    def tokens_used(self, method: str) -> list[str]:
        """The bearer tokens of the calls to Web API `method`, in order."""
        return [call.headers.get("Authorization", "").removeprefix("Bearer ")
                for call in self.fake.calls if call.path == f"/api/{method}"]


def make_replica(service: Service, fake: FakeSlack, database: Database, *,
                 pool_size: int = 5) -> SlackAdapter:
    engine = open_engine(database.url, database.password, pool_size=pool_size)
    installations = Installations(engine, OAuthSecrets(CLIENT_ID, CLIENT_SECRET))
    config = SlackConfig(mode="http", port=0, api_url=fake.api_url)
    return SlackAdapter(service, config, bot_token=None, signing_secret=SECRET,
                        host="127.0.0.1", pacer=Pacer(0), installations=installations,
                        authorization_url=f"{fake.base_url}/oauth/v2/authorize")


@pytest_asyncio.fixture
async def deployment(services: Services, pg_database: Database
                     ) -> AsyncIterator[Deployment]:
    async with FakeSlack(users={USER: "Ana Lee"}) as fake:
        fake.oauth.add_workspace(LAB, "lab")
        fake.oauth.add_workspace(OBS, "obs")
        replicas = []
        for _ in range(2):
            adapter = make_replica(services.make(LAB_CHANNEL, OBS_CHANNEL), fake, pg_database)
            await adapter.connect()
            task = asyncio.ensure_future(adapter.run())
            await adapter.serving.wait()
            replicas.append(Replica(adapter, task))
        async with httpx.AsyncClient(timeout=10) as browser, \
                httpx.AsyncClient(timeout=10) as slack:
            yield Deployment(replicas, fake, pg_database, browser, slack)
        for replica in replicas:
            await replica.adapter.close()
            await replica.task
