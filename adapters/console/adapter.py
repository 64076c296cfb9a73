"""The console adapter: the bot in a terminal (or a pipe), with no tokens.

The reference adapter, and the smallest. It implements the seam (`bot.events.ChatAdapter`):
`connect` prints the banner and says who it is (the one console team); `run` turns input
lines into the events Slack and Discord produce — `/papers ...` commands, `/react N :pushpin:`
and `/unreact N :pushpin:` on message N, `/more N` for a paper's abstract in its thread —
and prints the replies the service returns; as `Publisher` it prints the daily post.
Every message it prints starts with its number (`[3] ...`).

Its "platform" is the terminal, whose history is `history.jsonl`: one line per printed
message (number, and for daily-post messages the channel, day and item key). That file is
what the console answers from when asked whether a message of unknown fate was printed, and
where message numbers continue across runs — a line appended as each message is printed,
never a store write. Not here: what any command does (bot.service) or how a reply reads (render.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TextIO

from adapters.console import render
from bot.config import ChannelConfig
from bot.events import (
    CommandEvent,
    DetailsReply,
    Identity,
    Ignored,
    Outgoing,
    ReactionEvent,
    Reply,
)
from bot.models import ChatRef, Digest, Pick
from bot.service import Service

log = logging.getLogger(__name__)

TEAM = "console"
PROMPT = "> "
_REACTION = re.compile(r"^/(un)?react\s+\[?(\d+)\]?\s+(\S+)\s*$", re.IGNORECASE)
_MORE = re.compile(r"^/more\s+\[?(\d+)\]?\s*$", re.IGNORECASE)


class ConsoleAdapter:
    """Serve one console channel on text streams. Also the channel's `Publisher`."""

    platform = "console"

    def __init__(
        self,
        service: Service,
        channel: ChannelConfig,
        *,
        history: Path,
        lines: asyncio.Queue[str | None] | None = None,
        out: TextIO | None = None,
        user: str = "you",
        first_number: int = 1,
        banner: bool = True,
    ) -> None:
        self.service = service
        self.channel = channel
        self.identity = Identity("console", channel.team or TEAM)
        self.where = ChatRef("console", self.identity.team, channel.id)
        self.user = user
        self._history_path = history
        self._lines = lines
        self._out = out or sys.stdout
        self._terminal = self._out.isatty()
        self._first_number = first_number
        self._banner = banner
        self._printed: dict[tuple[str, str, str], str] = {}  # (channel, day, key) → number
        self._numbers: set[str] = set()
        self._next = first_number
        self._history: TextIO | None = None
        self._print_lock = asyncio.Lock()

    # --- the seam -------------------------------------------------------------------------

    async def connect(self) -> Identity:
        self._load_history()
        self._history_path.parent.mkdir(parents=True, exist_ok=True)
        self._history = self._history_path.open("a", encoding="utf-8")
        if self._banner:
            # Before anything else is printed, catch-up posts included.
            await self.say(render.CONSOLE_HELP)
        return self.identity

    async def run(self) -> None:
        """Answer lines until end of input (None) or /quit."""
        if self._lines is None:
            self._lines = stdin_lines(asyncio.get_running_loop())
        self._prompt()
        while (line := await self._lines.get()) is not None:
            if not await self.handle_line(line.strip()):
                break
            self._prompt()

    async def close(self) -> None:
        if self._history is not None:
            self._history.close()
            self._history = None

    async def handle_line(self, line: str) -> bool:
        """Handle one input line; False means the user asked to quit."""
        word = line.split()[0].lower() if line else ""
        if word in ("/quit", "/exit"):
            return False
        if word == "/papers":
            event = CommandEvent(self.where, self.user, line, raw=line)
            await self.show(await self.service.handle_command(event))
        elif word in ("/react", "/unreact"):
            await self._react(line)
        elif word == "/more":
            await self._more(line)
        elif word == "/post":
            target = self.identity.targets([self.channel], self)[0]
            await self.show(await self.service.post_now(target))
        elif word in ("/help", "help", "?"):
            await self.say(render.CONSOLE_HELP)
        elif word:
            await self.say("Not a command: type /papers help, or /help for the console.")
        return True

    async def _react(self, line: str) -> None:
        match = _REACTION.match(line)
        if match is None:
            await self.say("Usage: /react N :pushpin: (N is a message number) — or /unreact")
            return
        undo, number, emoji = match.groups()
        if not self._exists(number):
            await self.say(f"There is no message [{number}].")
            return
        event = ReactionEvent(self._message(number), self.user, emoji, added=not undo,
                              raw=line)
        await self.show(await self.service.handle_reaction(event, bot_user=None))

    async def _more(self, line: str) -> None:
        match = _MORE.match(line)
        if match is None or not self._exists(match.group(1)):
            await self.say("Usage: /more N (N is the number of a paper message)")
            return
        reply = await self.service.details(self._message(match.group(1)))
        if isinstance(reply, DetailsReply):
            await self.post_in_thread(reply)
        else:
            await self.show(reply)

    def _exists(self, number: str) -> bool:
        # Numbers below the first one this history knows were printed before it existed.
        return number in self._numbers or int(number) < self._first_number

    def _message(self, number: str) -> ChatRef:
        return ChatRef(self.where.platform, self.where.team, self.where.channel, number)

    # --- Publisher ------------------------------------------------------------------------

    async def post_header(self, out: Outgoing, digest: Digest) -> str:
        return await self.say(render.digest_header(digest) + " · react :pushpin: to save", out)

    async def post_pick(self, out: Outgoing, digest: Digest, pick: Pick) -> str:
        return await self.say(render.render_pick(pick), out)

    async def post_note(self, out: Outgoing, text: str) -> str:
        return await self.say(text, out)

    async def find_posted(self, out: Outgoing, since: datetime) -> str | None:
        # The terminal's history is on this machine: whatever was printed is in it.
        return self._printed.get(_key(out))

    async def post_in_thread(self, reply: DetailsReply) -> str:
        return await self.say(render.render_details(reply))

    # --- output ---------------------------------------------------------------------------

    async def show(self, reply: Reply) -> None:
        if isinstance(reply, Ignored):
            await self.say(f"Nothing to do: {reply.why}.")
        else:
            await self.say(render.render_reply(reply))

    async def say(self, text: str, out: Outgoing | None = None) -> str:
        """Print one numbered message and note it in the history; returns its number."""
        async with self._print_lock:
            number = str(self._next)
            self._next += 1
            body = render.wrap(text) if self._terminal else text
            # Noted before it is printed: a process killed between the two then never prints
            # a message twice after a restart (it may leave one unprinted: the lesser harm).
            self._remember(number, out)
            self._out.write(f"[{number}] {body}\n")
            self._out.flush()
            return number

    def _prompt(self) -> None:
        if self._terminal:
            self._out.write(PROMPT)
            self._out.flush()

    def _remember(self, number: str, out: Outgoing | None) -> None:
        entry: dict[str, str] = {"n": number}
        if out is not None:
            entry.update(channel=out.channel.channel, day=out.day.isoformat(), key=out.key)
            self._printed[_key(out)] = number
        self._numbers.add(number)
        if self._history is not None:
            # Flushed, not fsynced: the history must survive the process being killed, which
            # the OS page cache ensures; a power cut may cost the last lines.
            self._history.write(json.dumps(entry) + "\n")
            self._history.flush()

    def _load_history(self) -> None:
        if not self._history_path.exists():
            return
        last = self._first_number - 1
        with self._history_path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    entry = json.loads(line)
                    number = str(int(entry["n"]))
                except (ValueError, KeyError, TypeError):
                    continue  # a line torn by a crash mid-write: the rest still counts
                self._numbers.add(number)
                last = max(last, int(number))
                if "key" in entry:
                    self._printed[(entry["channel"], entry["day"], entry["key"])] = number
        self._next = last + 1


def _key(out: Outgoing) -> tuple[str, str, str]:
    return (out.channel.channel, out.day.isoformat(), out.key)


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
