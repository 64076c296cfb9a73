"""Commands that arrive while the bot is stopping get a clear one-line refusal; each command
and reaction runs under its own request id, which its log lines (and the adapter's after
it, in the same task) carry."""

from __future__ import annotations

import logging

import pytest

from bot import commands, requestid
from bot.events import CommandEvent, NoticeReply
from bot.service import STOPPING_NOTICE

from .conftest import CHANNEL, WHERE, Services


async def test_command_while_stopping_is_refused_in_one_line(services: Services) -> None:
    service = services.make(CHANNEL)
    service.poster.stopping.set()
    reply = await service.handle_command(CommandEvent(WHERE, "U0ANA", "list", raw="list"))
    assert reply == NoticeReply(STOPPING_NOTICE)


async def test_typed_command_while_stopping_is_refused_too(services: Services) -> None:
    service = services.make(CHANNEL)
    service.poster.stopping.set()
    event = CommandEvent(WHERE, "U0ANA", command=commands.build_export("csv"))
    assert await service.handle_command(event) == NoticeReply(STOPPING_NOTICE)


async def test_command_before_stopping_is_answered(services: Services) -> None:
    service = services.make(CHANNEL)
    reply = await service.handle_command(CommandEvent(WHERE, "U0ANA", "list", raw="list"))
    assert reply != NoticeReply(STOPPING_NOTICE)


async def test_each_command_logs_under_its_own_request_id(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    service = services.make(CHANNEL)
    seen: list[str | None] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.name == "bot.service":
                seen.append(requestid.current.get())

    recorder = Recorder(logging.DEBUG)
    logging.getLogger("bot.service").addHandler(recorder)
    caplog.set_level(logging.DEBUG, "bot.service")
    try:
        for _ in range(2):
            await service.handle_command(CommandEvent(WHERE, "U0ANA", "list", raw="list"))
    finally:
        logging.getLogger("bot.service").removeHandler(recorder)
    assert len(seen) == 2 and None not in seen and seen[0] != seen[1]
    # The rest of the event's task (the adapter's rendering and reply) keeps the id.
    assert requestid.current.get() == seen[1]


async def test_next_event_in_a_new_task_starts_with_no_id() -> None:
    assert requestid.current.get() is None
