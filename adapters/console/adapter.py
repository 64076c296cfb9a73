"""The console adapter: the bot in a terminal (or a pipe), with no tokens.

The reference adapter, and the smallest. It implements the seam (`bot.events.ChatAdapter`):
`connect` prints the banner and says who it is (the one console team); `run` turns input
lines into the events Slack and Discord produce — `/papers ...` commands, `/react N :pushpin:`
and `/unreact N :pushpin:` on message N, `/more N` for a paper's abstract in its thread —
and prints the replies the service returns; as `Publisher` it prints the daily post.
Every message it prints starts with its number (`[3] ...`).

Its "platform" is the terminal, whose history (history.py) numbers the messages across runs
and answers whether a message of unknown fate was printed. Not here: what any command does
(bot.service) or how a reply reads (render.py).
"""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from adapters.console import render
from adapters.console.history import History
from adapters.console.stdin import stdin_lines
from bot.config import ChannelConfig
from bot.events import (
    CallerInfo,
    CommandEvent,
    DetailsReply,
    Identity,
    Outgoing,
    ReactionEvent,
    Reply,
)
from bot.models import ChatRef, Digest, Pick
from bot.service import Service

TEAM = "console"
PROMPT = "> "
# "/react 3 :pushpin:", "/unreact [3] 📌", "/more 3"
_ON_MESSAGE = re.compile(
    r"^/(?P<action>react|unreact|more)\s+\[?(?P<n>\d+)\]?(?:\s+(?P<emoji>\S+))?\s*$", re.I
)


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
        self._history = History(history, first_number)
        self._lines = lines
        self._out = out or sys.stdout
        self._terminal = self._out.isatty()
        self._banner = banner
        self._print_lock = asyncio.Lock()

    # --- the seam -------------------------------------------------------------------------

    async def connect(self) -> Identity:
        self._history.open()
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
        self._history.close()

    async def handle_line(self, line: str) -> bool:
        """Handle one input line; False means the user asked to quit."""
        word = line.split()[0].lower() if line else ""
        on_message = _ON_MESSAGE.match(line)
        if word in ("/quit", "/exit"):
            return False
        if word == "/papers":
            event = CommandEvent(self.where, self.user, line, raw=line, caller=_console_user)
            await self.show(await self.service.handle_command(event))
        elif word == "/post":
            target = self.identity.targets([self.channel], self)[0]
            await self.show(await self.service.post_now(target))
        elif on_message is not None and not self._history.exists(on_message["n"]):
            await self.say(render.no_such_message(on_message["n"]))
        elif on_message is not None and on_message["action"] == "more":
            await self.show(await self.service.details(self._message(on_message["n"])))
        elif on_message is not None and on_message["emoji"]:
            event = ReactionEvent(self._message(on_message["n"]), self.user,
                                  on_message["emoji"], added=on_message["action"] == "react")
            await self.show(await self.service.handle_reaction(event, bot_user=None))
        elif word in ("/help", "help", "?", "/react", "/unreact", "/more"):
            await self.say(render.CONSOLE_HELP)
        elif word:
            await self.say(render.NOT_A_COMMAND)
        return True

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
        return self._history.posted(out)

    async def post_in_thread(self, reply: DetailsReply) -> str:
        return await self.say(render.render_details(reply))

    # --- output ---------------------------------------------------------------------------

    async def show(self, reply: Reply) -> None:
        await self.say(render.render_reply(reply))

    async def say(self, text: str, out: Outgoing | None = None) -> str:
        """Print one numbered message (noted in the history first); returns its number."""
        async with self._print_lock:
            number = self._history.note(out)
            body = render.wrap(text) if self._terminal else text
            self._out.write(f"[{number}] {body}\n")
            self._out.flush()
            return number

    def _prompt(self) -> None:
        if self._terminal:
            self._out.write(PROMPT)
            self._out.flush()


async def _console_user() -> CallerInfo:
    # Whoever types in the terminal runs the bot: they manage its one channel.
    return CallerInfo(may_manage=True)
