"""The console adapter: the bot in a terminal (or a pipe), with no tokens.

It is the reference adapter. It reads lines from stdin and turns them into the same events
Slack and Discord produce — `/papers ...` commands, `/react N :pushpin:` and
`/unreact N :pushpin:` on message N — calls bot.service, and prints what comes back. Every
message it prints starts with its number in brackets (`[3] ...`); numbers keep counting
across runs (kept in the store), so a reaction always points at the message it names.
`/post` runs this channel's daily post now, with the same exactly-once rules as the
scheduler. The console user is one member of the single console team.
Not here: what any command does (bot.service) or how a reply reads (render.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from datetime import date
from typing import TextIO

from adapters.console import render
from bot.config import ChannelConfig
from bot.daily import channel_ref
from bot.errors import PaperboyError
from bot.events import CommandEvent, ReactionEvent
from bot.models import ChatRef, Digest, Pick
from bot.service import Service

log = logging.getLogger(__name__)

TEAM = "console"
COUNTER_KEY = "console:next_message"
HELP = """Paperboy in the terminal. Type:
  /papers help                 the /papers commands (search, save, list, export, …)
  /post                        post today's picks for this channel now (once a day)
  /react N :pushpin:           save the paper in message [N]; /unreact N :pushpin: unsaves
  /quit                        leave (Ctrl-D works too)"""

_REACTION = re.compile(r"^/(un)?react\s+\[?(\d+)\]?\s+(\S+)\s*$", re.IGNORECASE)


class ConsoleAdapter:
    """Serve one console channel on a text stream. Also the channel's `Publisher`."""

    def __init__(
        self,
        service: Service,
        channel: ChannelConfig,
        *,
        out: TextIO | None = None,
        user: str = "you",
    ) -> None:
        self.service = service
        self.channel = channel
        self.out = out or sys.stdout
        self.user = user
        self.where = channel_ref(channel, {"console": TEAM})
        self._next: int | None = None
        self._print_lock = asyncio.Lock()
        service.teams.setdefault("console", TEAM)

    # --- the conversation -----------------------------------------------------------------

    async def run(self, lines: asyncio.Queue[str | None]) -> None:
        """Answer lines until end of input (None) or /quit."""
        await self.say(HELP)
        while (line := await lines.get()) is not None:
            if not await self.handle_line(line.strip()):
                break

    async def handle_line(self, line: str) -> bool:
        """Handle one input line; False means the user asked to quit. An upstream or store
        failure is said in one line and the bot keeps running; a bug propagates."""
        try:
            return await self._handle(line)
        except PaperboyError as exc:
            log.warning("%r failed: %s", line[:40], exc)
            await self.say(f"Sorry, that failed: {' '.join(str(exc).split())[:300]}")
            return True

    async def _handle(self, line: str) -> bool:
        if not line:
            return True
        word = line.split()[0].lower()
        if word in ("/quit", "/exit"):
            return False
        if word == "/papers":
            event = CommandEvent(self.where, self.user, line, raw=line)
            await self.say(render.render_reply(await self.service.handle_command(event)))
        elif word in ("/react", "/unreact"):
            await self._react(line)
        elif word == "/post":
            await self.post_now()
        elif word in ("/help", "help", "?"):
            await self.say(HELP)
        else:
            await self.say("Not a command: type /papers help, or /help for the console.")
        return True

    async def post_now(self, day: date | None = None, *, force: bool = False) -> None:
        day = day or self.service.local_today(self.channel)
        outcome = await self.service.post_daily(self.channel, day, self, force=force)
        if outcome.status == "already":
            await self.say(f"Today's post for #{self.channel.name} is already out "
                           f"({day.isoformat()}); scroll up.")

    async def _react(self, line: str) -> None:
        match = _REACTION.match(line)
        if match is None:
            await self.say("Usage: /react N :pushpin: (N is a message number) — or /unreact")
            return
        undo, number, emoji = match.groups()
        where = ChatRef(self.where.platform, self.where.team, self.where.channel, number)
        event = ReactionEvent(where, self.user, emoji, added=not undo, raw=line)
        reply = await self.service.handle_reaction(event)
        if reply is None:
            await self.say(f"Nothing to do: message [{number}] is not a paper I posted, or "
                           f"{emoji} is not the save emoji (:{self.service.save_emoji}:).")
        else:
            await self.say(render.render_save(reply))

    # --- Publisher ------------------------------------------------------------------------

    async def post_header(self, channel: ChatRef, digest: Digest) -> str:
        return await self.say(render.digest_header(digest) + " · react :pushpin: to save")

    async def post_pick(self, channel: ChatRef, digest: Digest, pick: Pick) -> str:
        return await self.say(render.render_pick(pick))

    async def post_note(self, channel: ChatRef, text: str) -> str:
        return await self.say(text)

    # --- output ---------------------------------------------------------------------------

    async def say(self, text: str) -> str:
        """Print one numbered message; returns its number (the console's message id)."""
        async with self._print_lock:
            if self._next is None:
                self._next = int(await self.service.store.get_meta(COUNTER_KEY) or 1)
            number = self._next
            self._next += 1
            if not self.service.store.readonly:
                await self.service.store.set_meta(COUNTER_KEY, self._next)
            self.out.write(f"[{number}] {text}\n")
            self.out.flush()
            return str(number)


def stdin_lines(loop: asyncio.AbstractEventLoop, stream: TextIO | None = None) -> asyncio.Queue:
    """Lines of stdin as an asyncio queue, ending with None at EOF.

    A daemon thread does the blocking reads so that the event loop (and the scheduler on
    it) never waits on the keyboard, and Ctrl-C or EOF never hangs on a stuck read."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    source = stream or sys.stdin

    def pump() -> None:
        try:
            for line in source:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue
