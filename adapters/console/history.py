"""The terminal's history: the console's stand-in for a chat platform's message store.

One JSON line per printed message in `history.jsonl` — its number and, for a daily-post
message, the channel, day and item key — appended as the message is printed (flushed, not
fsynced: it must survive the process being killed, which the page cache ensures). Message
numbers continue from it across runs, and it answers "was this message of a post printed?"
after a crash. A line torn by a crash mid-write is skipped. Used by adapters/console/adapter.

Beside it, `history.jsonl.next` holds the next number, overwritten in place as each message
is noted (a plain write, no fsync or rename, like the history line). A history emptied,
truncated or garbled by hand or by a disk then cannot restart numbering below what was handed
out: [3] always means the message first printed as [3], whose paper the post ledger still
knows, and a number reused would silently point a reaction at the wrong paper.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
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
        self._mark_path = path.with_name(path.name + ".next")
        self._mark: int | None = None  # descriptor of the high-water mark file
        self._failing = False

    def open(self) -> None:
        unreadable = 0
        if self._path.is_file():
            lines = self._path.read_bytes().decode("utf-8", "replace").splitlines()
            for position, line in enumerate(lines, 1):
                if not self._load(line) and position < len(lines):
                    unreadable += 1  # not a torn last line: the file was damaged
        self._resume(unreadable)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self._path.open("a", encoding="utf-8")
        if self._path.is_file():  # not a device or pipe standing in for the history
            try:
                self._mark = os.open(self._mark_path, os.O_WRONLY | os.O_CREAT, 0o644)
            except OSError as exc:
                self._unwritable(exc)
        self._write_mark()

    def _resume(self, unreadable: int) -> None:
        mark = _read_mark(self._mark_path)
        if mark is not None and mark > self._next:
            # Numbers up to the mark were handed out: none is given again, and each still
            # reaches the service, which knows from the post ledger which paper it showed.
            log.warning(
                "the terminal history %s lost messages up to [%d] (emptied or damaged): "
                "numbering continues at [%d]", self._path, mark - 1, mark,
            )
            self._next = mark
            self._first = max(self._first, mark)
        elif unreadable:
            log.warning("the terminal history %s has %d unreadable line(s); they are skipped",
                        self._path, unreadable)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._mark is not None:
            os.close(self._mark)
            self._mark = None

    def _write_mark(self) -> None:
        if self._mark is None:
            return
        # Numbers only grow, so the new text always covers the old: no truncate needed.
        try:
            os.pwrite(self._mark, f"{self._next}\n".encode("ascii"), 0)
        except OSError as exc:
            self._unwritable(exc)

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
            if self._mark is not None:
                os.pwrite(self._mark, f"{self._next}\n".encode("ascii"), 0)
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

    def _load(self, line: str) -> bool:
        try:
            entry = json.loads(line)
            number = int(entry["n"])
            key = (entry["channel"], entry["day"], entry["key"]) if "key" in entry else None
        except (ValueError, KeyError, TypeError):
            return False  # a line torn by a crash mid-write, or garbage: the rest counts
        self._numbers.add(str(number))
        self._next = max(self._next, number + 1)
        if key is not None:
            self._posted[key] = str(number)
        return True


def _read_mark(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None  # none yet (a history older than the mark), or unreadable: history only


def _key(out: Outgoing) -> _Key:
    return (out.channel.channel, out.day.isoformat(), out.key)
