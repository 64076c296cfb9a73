"""The adapter seam: the bot connects every adapter, learns its team, and only then posts.

`SlowChatAdapter` is a chat adapter as Slack's or Discord's will be — it implements
`bot.events.ChatAdapter` and says its team only when its platform answers — driven through
the real `bot.running.serve`, the real scheduler (hand-moved clock) and a real TinyDB store.
The story: the bot starts before 09:00, the platform answers at 09:40 (after the post time,
within the grace hour), and the day's post must still go out, filed under the team the
platform named, and a 📌 on it must save the paper to that team's list.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from bot.config import ChannelConfig
from bot.events import (
    Identity,
    ReactionEvent,
    Reply,
    SaveReply,
)
from bot.models import ChatRef
from bot.running import connect_all, serve
from bot.service import Service

from .conftest import DAY, PICKS, RecordingPublisher, Services

REAL_TEAM = "T0REAL"
# No `team` in the config: the adapter's own, which it learns only at connect.
SLACK = ChannelConfig(name="papers", platform="slack", id="C0PAPERS", time="09:00")
NINE_FORTY = datetime(2026, 6, 12, 9, 40, tzinfo=UTC)


class SlowChatAdapter(RecordingPublisher):
    """A chat adapter whose platform answers `connect` only when the test says so; its
    `run` turns queued reactions into service calls, as a platform's events would."""

    platform = "slack"

    def __init__(self, service: Service) -> None:
        super().__init__()
        self.service = service
        self.identity = Identity("slack", REAL_TEAM, bot_user="U0BOT")
        self.platform_answers = asyncio.Event()
        self.events: asyncio.Queue[ReactionEvent | None] = asyncio.Queue()
        self.replies: list[Reply] = []
        self.closed = False
        self.posted_all = asyncio.Event()  # the header and every pick are out

    def _send(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        message_id = super()._send(*args, **kwargs)
        if len(self.sent) == 1 + len(PICKS):
            self.posted_all.set()
        return message_id

    async def connect(self) -> Identity:
        await self.platform_answers.wait()
        return self.identity

    async def run(self) -> None:
        while (event := await self.events.get()) is not None:
            self.replies.append(
                await self.service.handle_reaction(event, bot_user=self.identity.bot_user)
            )

    async def close(self) -> None:
        self.closed = True


@dataclass
class Running:
    adapter: SlowChatAdapter
    bot: asyncio.Task[None]

    async def stop(self) -> None:
        await self.adapter.events.put(None)
        await asyncio.wait_for(self.bot, 30)


@pytest_asyncio.fixture
async def late(services: Services) -> AsyncIterator[Running]:
    """The bot started at 08:00; its platform answered at 09:40; the catch-up has run."""
    service = services.make(SLACK)
    adapter = SlowChatAdapter(service)
    bot = asyncio.ensure_future(serve(service, [adapter], store=services.store,
                                      clock=services.clock))
    services.clock.now = NINE_FORTY
    adapter.platform_answers.set()
    running = Running(adapter, bot)
    await asyncio.wait_for(adapter.posted_all.wait(), 30)  # the catch-up, on the bot's task
    yield running
    if not bot.done():
        await running.stop()


async def test_adapter_that_connects_late_still_gets_the_days_post(late: Running) -> None:
    assert [s.key for s in late.adapter.sent] == ["header", *PICKS]


async def test_late_post_is_filed_under_the_team_the_platform_named(
    late: Running, services: Services
) -> None:
    record = await services.store.get_post(ChatRef("slack", REAL_TEAM, SLACK.id), DAY)
    assert record is not None and record.status == "posted"


async def test_nothing_is_filed_under_a_guessed_team(
    late: Running, services: Services
) -> None:
    assert await services.store.known_teams() == [("slack", REAL_TEAM)]


async def test_pushpin_on_the_late_post_saves_to_the_real_teams_list(
    late: Running, services: Services
) -> None:
    message = late.adapter.message_of(PICKS[0])
    await late.adapter.events.put(ReactionEvent(message.ref, "U0ANA", "pushpin", added=True))
    await late.stop()
    assert [e.paper.arxiv_id for e in await services.store.saved_papers("slack", REAL_TEAM)] \
        == [PICKS[0]]


async def test_pushpin_on_the_late_post_gets_a_save_reply(late: Running) -> None:
    message = late.adapter.message_of(PICKS[0])
    await late.adapter.events.put(ReactionEvent(message.ref, "U0ANA", "pushpin", added=True))
    await late.stop()
    assert isinstance(late.adapter.replies[0], SaveReply)


async def test_adapters_are_closed_when_the_bot_stops(late: Running) -> None:
    await late.stop()
    assert late.adapter.closed


async def test_channel_no_connection_serves_is_reported_in_one_line(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    discord = ChannelConfig(name="dc", platform="discord", id="42")
    service = services.make(SLACK, discord)
    adapter = SlowChatAdapter(service)
    adapter.platform_answers.set()
    await connect_all(service, [adapter])
    said = [r.getMessage() for r in caplog.records if r.name == "bot.running"]
    assert said == ["not posting to #dc: no discord connection serves them"]


async def test_channel_of_another_team_is_not_served_by_this_connection(
    services: Services,
) -> None:
    elsewhere = ChannelConfig(name="x", platform="slack", id="C0X", team="T0OTHER")
    service = services.make(SLACK, elsewhere)
    adapter = SlowChatAdapter(service)
    adapter.platform_answers.set()
    targets = await connect_all(service, [adapter])
    assert [t.channel.name for t in targets] == ["papers"]


def test_a_channel_id_is_matched_within_the_team_the_channel_names(services: Services) -> None:
    pinned = ChannelConfig(name="lab", platform="slack", id="C0SAME", team="T0LAB")
    service = services.make(pinned)
    found = (service.channel_for(ChatRef("slack", "T0LAB", "C0SAME")),
             service.channel_for(ChatRef("slack", "T0OBS", "C0SAME")))
    assert found == (pinned, None)
