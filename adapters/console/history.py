"""The terminal's history: the console's stand-in for a chat platform's message store.

One JSON line per printed message in `history.jsonl` — its number and, for a daily-post
message, the channel, day and item key — appended as the message is printed (flushed, not
fsynced: it must survive the process being killed, which the page cache ensures). Message
numbers continue from it across runs, and it answers "was this message of a post printed?"
after a crash. A line torn by a crash mid-write is skipped. Used by adapters/console/adapter.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import TextIO

from bot.events import Outgoing

log = logging.getLogger(__name__)

_Key = tuple[str, str, str]  # (channel, day, item key)


class History:
    """Numbers and remembers what the console printed. `first_number` continues a counter
    kept before the history file existed."""

    def __init__(self, path: Path, first_number: int = 1) -> None:
        self._path = path
        self._first = first_number
        self._next = first_number
        self._numbers: set[str] = set()
        self._posted: dict[_Key, str] = {}
        self._file: TextIO | None = None
        self._failing = False

    def open(self) -> None:
        if self._path.is_file():
            with self._path.open(encoding="utf-8") as lines:
                for line in lines:
                    self._load(line)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self._path.open("a", encoding="utf-8")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def note(self, out: Outgoing | None = None) -> str:
        """Take the next number and note the message under it, before it is printed: a
        process killed between the two then never prints it twice after a restart (it may
        leave one unprinted, the lesser harm)."""
        number = str(self._next)
        self._next += 1
        entry: dict[str, str] = {"n": number}
        if out is not None:
            entry.update(channel=out.channel.channel, day=out.day.isoformat(), key=out.key)
            self._posted[_key(out)] = number
        self._numbers.add(number)
        try:
            if self._file is None and self._failing:
                self._file = self._path.open("a", encoding="utf-8")
            if self._file is not None:
                self._file.write(json.dumps(entry) + "\n")
                self._file.flush()
        except OSError as exc:
            self._unwritable(exc)
            return number
        if self._failing:
            log.warning("the terminal history %s is written again", self._path)
            self._failing = False
        return number

    def _unwritable(self, exc: OSError) -> None:
        # A full disk must not stop the bot: the message is still printed and numbered; only
        # a restart could then repeat numbers. Said once; each next message tries again.
        if not self._failing:
            log.warning("cannot write the terminal history %s (%s); message numbers may "
                        "repeat after a restart", self._path, exc.strerror or exc)
        self._failing = True
        if self._file is not None:
            with contextlib.suppress(OSError):  # a buffer the full disk refused is dropped
                self._file.close()
        self._file = None

    def posted(self, out: Outgoing) -> str | None:
        """The number of the daily-post message `out`, if it was printed."""
        return self._posted.get(_key(out))

    def exists(self, number: str) -> bool:
        # Numbers below the first this history knows were printed before it existed.
        return number in self._numbers or int(number) < self._first

    def _load(self, line: str) -> None:
        try:
            entry = json.loads(line)
            number = int(entry["n"])
        except (ValueError, KeyError, TypeError):
            return  # a line torn by a crash mid-write: the rest still counts
        self._numbers.add(str(number))
        self._next = max(self._next, number + 1)
        if "key" in entry:
            self._posted[(entry["channel"], entry["day"], entry["key"])] = str(number)


def _key(out: Outgoing) -> _Key:
    return (out.channel.channel, out.day.isoformat(), out.key)
