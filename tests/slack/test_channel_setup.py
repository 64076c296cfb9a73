"""Channels set up from Slack, end to end: signed `/papers` requests through the real
AsyncApp of the running bot (bot.running.serve), the real scheduler on a hand-moved clock,
posts landing in the fake Slack's channel history.

The clock starts at Fri 12 Jun 2026 08:00 UTC; the fake Hugging Face serves that day's
batch. #C0NEW is a channel config.toml does not list; whether the caller is an admin comes
from `users.info` on the fake Web API (`profiles`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest_asyncio

from bot.models import ChatRef
from bot.running import serve
from bot.schedule import DailyScheduler
from bot.service import Service
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.service.conftest import PICKS, Services

from .conftest import USER, SignedSlack, command_payload, make_adapter

NEW = "C0NEW"
WHERE = ChatRef("slack", TEAM, NEW)
NINE = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
MONDAY_NINE = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
OTHER = "U0BO"  # a member who did not subscribe


@dataclass
class Bot:
    """The whole bot serving Slack in HTTP mode, and Slack's side of it."""

    service: Service
    slack: SignedSlack
    fake: FakeSlack
    scheduler: DailyScheduler
    task: asyncio.Future[None]

    async def command(self, text: str, *, user: str = USER, channel: str = NEW) -> str:
        """`/papers <text>` as Slack sends it; the text of the reply at response_url."""
        before = len(self.fake.responses)
        answer = await self.slack.command(text, user=user, channel=channel)
        assert answer.status_code == 200
        await self.fake.wait_until(lambda: len(self.fake.responses) > before)
        return self.fake.responses[before]["text"]

    async def at(self, now: datetime) -> None:
        """Move the clock to `now` and run whatever the scheduler has due then."""
        self.service.clock.now = now  # type: ignore[attr-defined]
        await self.scheduler.run_due()

    async def stop(self) -> None:
        self.service.poster.stopping.set()
        await asyncio.wait_for(self.task, 10)
        assert self.slack.http is not None
        await self.slack.http.aclose()


async def start_bot(services: Services, fake: FakeSlack) -> Bot:
    service = services.make(source_path=services.data_dir.parent / "config.toml")
    adapter = make_adapter(service, fake)
    started: asyncio.Future[DailyScheduler] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(serve(service, [adapter], store=services.store,
                                       clock=services.clock, started=started.set_result))
    scheduler = await asyncio.wait_for(started, 10)
    await adapter.serving.wait()
    url = f"http://127.0.0.1:{adapter.port}{adapter.settings.path}"
    slack = SignedSlack(url, fake, httpx.AsyncClient(timeout=10))
    return Bot(service, slack, fake, scheduler, task)


@pytest_asyncio.fixture
async def bot(services: Services, fake_slack: FakeSlack) -> AsyncIterator[Bot]:
    running = await start_bot(services, fake_slack)
    yield running
    if not running.task.done():
        await running.stop()


def keys_posted(fake: FakeSlack, channel: str = NEW) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in fake.posted(channel)]


# --- subscribe, post, unsubscribe ---------------------------------------------------------


async def test_subscribed_channel_gets_its_post_at_its_time(bot: Bot) -> None:
    await bot.command("subscribe 09:00 UTC")
    await bot.at(NINE)
    assert keys_posted(bot.fake) == ["header", *PICKS]


async def test_nothing_is_posted_before_the_subscribed_time(bot: Bot) -> None:
    await bot.command("subscribe 09:00 UTC")
    await bot.at(datetime(2026, 6, 12, 8, 59, tzinfo=UTC))
    assert keys_posted(bot.fake) == []


async def test_unsubscribed_channel_gets_no_more_posts(bot: Bot, services: Services) -> None:
    await bot.command("subscribe 09:00 UTC")
    await bot.at(NINE)
    await bot.command("unsubscribe")
    await bot.at(MONDAY_NINE)
    assert (len(keys_posted(bot.fake)), await services.store.get_post(WHERE, date(2026, 6, 15))
            ) == (1 + len(PICKS), None)


async def test_still_subscribed_channel_posts_on_monday(bot: Bot, services: Services) -> None:
    # The control for the test above: without unsubscribe, Monday's post is claimed.
    await bot.command("subscribe 09:00 UTC")
    await bot.at(NINE)
    await bot.at(MONDAY_NINE)
    assert await services.store.get_post(WHERE, date(2026, 6, 15)) is not None


async def test_time_change_reschedules_without_a_restart(bot: Bot) -> None:
    await bot.command("subscribe 10:00 UTC")
    await bot.command("settings time 09:00")
    await bot.at(NINE)
    assert keys_posted(bot.fake) == ["header", *PICKS]


async def test_top_change_applies_to_the_next_post(bot: Bot) -> None:
    await bot.command("subscribe 09:00 UTC")
    await bot.command("settings top 2")
    await bot.at(NINE)
    assert keys_posted(bot.fake) == ["header", *PICKS[:2]]


async def test_default_timezone_is_the_callers_slack_timezone(bot: Bot) -> None:
    bot.fake.profiles[USER] = {"tz": "Asia/Tokyo"}
    reply = await bot.command("subscribe")
    assert reply.startswith("Subscribed: daily picks here at 09:00 Asia/Tokyo, mon–fri.")


async def test_subscription_survives_a_restart(services: Services, fake_slack: FakeSlack) -> None:
    first = await start_bot(services, fake_slack)
    await first.command("subscribe 09:00 UTC")
    await first.stop()
    again = await start_bot(services, fake_slack)
    try:
        await again.at(NINE)
        assert keys_posted(fake_slack) == ["header", *PICKS]
    finally:
        await again.stop()


# --- who may change a channel -------------------------------------------------------------


async def test_member_who_did_not_subscribe_is_refused_in_one_line(bot: Bot) -> None:
    await bot.command("subscribe 09:00 UTC")
    reply = await bot.command("settings top 2", user=OTHER)
    assert reply == ("Only workspace admins or the member who subscribed this channel "
                     "(see /papers settings) may change its daily post.")


async def test_refused_unsubscribe_leaves_the_post(bot: Bot) -> None:
    await bot.command("subscribe 09:00 UTC")
    await bot.command("unsubscribe", user=OTHER)
    await bot.at(NINE)
    assert keys_posted(bot.fake) == ["header", *PICKS]


async def test_workspace_admin_may_change_it(bot: Bot) -> None:
    await bot.command("subscribe 09:00 UTC")
    bot.fake.profiles[OTHER] = {"is_admin": True}
    await bot.command("settings top 1", user=OTHER)
    await bot.at(NINE)
    assert keys_posted(bot.fake) == ["header", PICKS[0]]


async def test_workspace_owner_may_change_it(bot: Bot) -> None:
    await bot.command("subscribe 09:00 UTC")
    bot.fake.profiles[OTHER] = {"is_owner": True}
    reply = await bot.command("unsubscribe", user=OTHER)
    assert reply.startswith("Unsubscribed")


async def test_admin_check_asks_users_info_only_for_changes(bot: Bot) -> None:
    await bot.command("settings")
    assert bot.fake.requests["/api/users.info"] == 0


# --- what the settings say ------------------------------------------------------------------


async def test_settings_name_the_subscriber_by_display_name(bot: Bot) -> None:
    await bot.command("subscribe 08:30 Europe/Paris")
    reply = await bot.command("settings")
    assert "set up from chat by Ana Lee; admins and Ana Lee may change it" in reply


async def test_bad_time_gets_one_line_and_the_settings_grammar(bot: Bot) -> None:
    await bot.command("subscribe 09:00 UTC")
    reply = await bot.command("settings time 25:00")
    assert reply.splitlines()[0] == "'25:00' is not a time; use 24-hour HH:MM, e.g. 08:30 or 17:45"


async def test_config_channel_settings_say_they_come_from_config(bot: Bot) -> None:
    reply = await bot.command("settings", channel="C0PAPERS")
    assert "settings from config.toml; admins may override it from chat" in reply


# --- Socket Mode: the same commands over the socket ------------------------------------------


async def _over_socket(fake: FakeSlack, text: str, user: str) -> str:
    payload = command_payload(fake, text)
    payload["user_id"] = user
    before = len(fake.responses)
    await fake.send_envelope("slash_commands", payload, f"env-{before}",
                             accepts_response_payload=True)
    await fake.wait_until(lambda: len(fake.responses) > before)
    return fake.responses[before]["text"]


async def test_socket_mode_admin_overrides_a_config_channel(
    socket_adapter: object, fake_slack: FakeSlack, services: Services,
) -> None:
    fake_slack.profiles[OTHER] = {"is_admin": True}
    await _over_socket(fake_slack, "settings top 2", OTHER)
    setup = await services.store.get_channel_setup(ChatRef("slack", TEAM, "C0PAPERS"))
    assert setup is not None and setup.top_n == 2


async def test_socket_mode_member_is_refused_for_a_config_channel(
    socket_adapter: object, fake_slack: FakeSlack, services: Services,
) -> None:
    reply = await _over_socket(fake_slack, "settings top 2", OTHER)
    assert reply.startswith("Only workspace admins may change this channel's daily post")
