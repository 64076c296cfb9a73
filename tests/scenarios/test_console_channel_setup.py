"""Setting the console's channel up from the terminal, end to end: lines typed into the
running bot (bot.running.serve with the real ConsoleAdapter), the real scheduler on a
hand-moved clock, the daily post printed at the subscribed time and never after unsubscribe.

config.toml here lists only a Slack channel, so the console's channel has no daily post
until someone types `/papers subscribe`; the console's user manages its channel. The clock
starts at Fri 12 Jun 2026 08:00 UTC; the fake Hugging Face serves that day's batch.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest_asyncio

from adapters.console.adapter import ConsoleAdapter
from bot.config import ChannelConfig
from bot.models import ChatRef
from bot.running import serve
from bot.schedule import DailyScheduler
from bot.service import Service
from tests.service import conftest as service_setup
from tests.service.conftest import PICKS, Services

clock, hf_client, hf_fake, services = (service_setup.clock, service_setup.hf_client,
                                       service_setup.hf_fake, service_setup.services)

WHERE = ChatRef("console", "console", "console")
NINE = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
MONDAY_NINE = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


class Screen(io.StringIO):
    """The terminal: what the bot printed, and a way to wait for more of it."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        self.changed.set()
        return written

    async def until(self, predicate: Callable[[str], bool]) -> None:
        while not predicate(self.getvalue()):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


@dataclass
class Terminal:
    service: Service
    screen: Screen
    lines: asyncio.Queue[str | None]
    scheduler: DailyScheduler

    async def type(self, line: str) -> str:
        """Type a line; what the bot printed in answer."""
        before = self.screen.getvalue()
        await self.lines.put(line)
        await self.screen.until(lambda text: len(text) > len(before))
        return self.screen.getvalue()[len(before):]

    async def type_until(self, line: str, marker: str) -> str:
        """Type a line; everything printed until `marker` appears."""
        before = self.screen.getvalue()
        await self.lines.put(line)
        await self.screen.until(lambda text: marker in text[len(before):])
        return self.screen.getvalue()[len(before):]

    async def at(self, now: datetime) -> str:
        """Move the clock, run what is due; what was printed meanwhile."""
        before = self.screen.getvalue()
        self.service.clock.now = now  # type: ignore[attr-defined]
        await self.scheduler.run_due()
        return self.screen.getvalue()[len(before):]


@pytest_asyncio.fixture
async def terminal(services: Services, tmp_path: Path) -> AsyncIterator[Terminal]:
    service = services.make()  # config.toml: one Slack channel, nothing for the console
    screen, lines = Screen(), asyncio.Queue[str | None]()
    adapter = ConsoleAdapter(service, ChannelConfig(), history=tmp_path / "history.jsonl",
                             lines=lines, out=screen, banner=False)
    started: asyncio.Future[DailyScheduler] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(serve(service, [adapter], store=services.store,
                                       clock=services.clock, started=started.set_result))
    yield Terminal(service, screen, lines, await asyncio.wait_for(started, 10))
    await lines.put(None)  # end of input stops the bot
    await asyncio.wait_for(task, 10)


async def test_subscribed_console_gets_its_post_at_its_time(terminal: Terminal) -> None:
    await terminal.type("/papers subscribe 09:00 UTC")
    printed = await terminal.at(NINE)
    messages = re.findall(r"^\[\d+\] (.*)", printed, re.MULTILINE)
    assert len(messages) == 1 + len(PICKS) and messages[0].startswith("Daily papers")


async def test_console_without_a_subscription_prints_nothing_at_nine(terminal: Terminal) -> None:
    assert await terminal.at(NINE) == ""


async def test_unsubscribed_console_gets_nothing_on_monday(
    terminal: Terminal, services: Services,
) -> None:
    await terminal.type("/papers subscribe 09:00 UTC")
    await terminal.at(NINE)
    await terminal.type("/papers unsubscribe")
    printed = await terminal.at(MONDAY_NINE)
    assert (printed, await services.store.get_post(WHERE, date(2026, 6, 15))) == ("", None)


async def test_still_subscribed_console_posts_on_monday(
    terminal: Terminal, services: Services,
) -> None:
    # The control for the test above: Hugging Face has no Monday batch, so the day is
    # claimed and settled as empty.
    await terminal.type("/papers subscribe 09:00 UTC")
    await terminal.at(NINE)
    await terminal.at(MONDAY_NINE)
    assert await services.store.get_post(WHERE, date(2026, 6, 15)) is not None


async def test_console_user_changes_settings_and_sees_them(terminal: Terminal) -> None:
    await terminal.type("/papers subscribe")
    printed = await terminal.type("/papers settings keywords add diffusion, agents")
    assert "Keywords now: diffusion, agents." in printed and \
        "set up from chat by you; admins and you may change it" in printed


async def test_changed_time_is_where_the_post_goes(terminal: Terminal) -> None:
    await terminal.type("/papers subscribe 11:00 UTC")
    await terminal.type("/papers settings time 09:00")
    assert "Daily papers" in await terminal.at(NINE)


async def test_bad_top_is_answered_in_one_line(terminal: Terminal) -> None:
    await terminal.type("/papers subscribe")
    printed = await terminal.type("/papers settings top 50")
    assert "top must be a whole number from 1 to 20 (got '50')" in printed


async def test_post_by_hand_uses_the_chat_settings(terminal: Terminal) -> None:
    await terminal.type("/papers subscribe 11:00 UTC")
    await terminal.type("/papers settings top 1")
    printed = await terminal.type_until("/post", "Posted")
    messages = re.findall(r"^\[\d+\] (.*)", printed, re.MULTILINE)
    assert [m.split(" ")[0] for m in messages] == ["Daily", "1.", "Posted"]
