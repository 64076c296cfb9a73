"""A channel set up from chat in one of many workspaces, end to end: the app is installed
through the running bot (bot.running.serve, the real scheduler on a hand-moved clock), a
member of that workspace subscribes a channel no config.toml lists, and the daily post
lands there at its time — sent with that workspace's token; another workspace's admin
check and post use its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest_asyncio

from bot.running import serve
from bot.schedule import DailyScheduler
from tests.fakes.postgres import Database
from tests.fakes.slack_api import FakeSlack
from tests.service.conftest import PICKS, Services

from .conftest import LAB, OBS, USER, Deployment, Replica, make_replica

NINE = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
LAB_NEW, OBS_NEW = "C0LABNEW", "C0OBSNEW"


@pytest_asyncio.fixture
async def running(services: Services, pg_database: Database
                  ) -> AsyncIterator[tuple[Deployment, DailyScheduler]]:
    async with FakeSlack(users={USER: "Ana Lee"}) as fake:
        fake.oauth.add_workspace(LAB, "lab")
        fake.oauth.add_workspace(OBS, "obs")
        service = services.make(source_path=services.data_dir.parent / "config.toml")
        adapter = make_replica(service, fake, pg_database)
        started: asyncio.Future[DailyScheduler] = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(serve(service, [adapter], store=services.store,
                                           clock=services.clock,
                                           started=started.set_result))
        scheduler = await asyncio.wait_for(started, 10)
        await adapter.serving.wait()
        async with httpx.AsyncClient(timeout=10) as browser, \
                httpx.AsyncClient(timeout=10) as slack:
            yield Deployment([Replica(adapter, task)], fake, pg_database, browser, slack), \
                scheduler
        service.poster.stopping.set()
        await asyncio.wait_for(task, 10)


async def _subscribe(deployment: Deployment, team: str, channel: str) -> str:
    _, url = await deployment.command("subscribe 09:00 UTC", team=team, channel=channel)
    return str((await deployment.replied(url))["text"])


async def test_a_channel_subscribed_in_a_workspace_is_posted_with_its_token(
    running: tuple[Deployment, DailyScheduler], services: Services
) -> None:
    deployment, scheduler = running
    await deployment.install(LAB, start=0, finish=0)
    await _subscribe(deployment, LAB, LAB_NEW)
    services.clock.now = NINE  # type: ignore[attr-defined]
    await scheduler.run_due()
    posted = deployment.fake.posted(LAB_NEW)
    tokens = deployment.fake.oauth.tokens
    assert ([m["metadata"]["event_payload"]["key"] for m in posted],
            {tokens[deployment.fake.posted_with[m["ts"]]] for m in posted}) == (
        ["header", *PICKS], {LAB})


async def test_two_workspaces_subscribe_and_each_admin_check_uses_its_own_token(
    running: tuple[Deployment, DailyScheduler],
) -> None:
    deployment, _ = running
    await deployment.install(LAB, start=0, finish=0)
    await deployment.install(OBS, start=0, finish=0)
    tokens = deployment.fake.oauth.tokens
    teams_asked = []
    for team, channel in ((LAB, LAB_NEW), (OBS, OBS_NEW)):
        before = len(deployment.tokens_used("users.info"))
        await _subscribe(deployment, team, channel)
        teams_asked.append({tokens[t] for t in deployment.tokens_used("users.info")[before:]})
    assert teams_asked == [{LAB}, {OBS}]
