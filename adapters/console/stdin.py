"""Lines of standard input as an asyncio queue, for the console adapter.

A daemon thread does the blocking reads so that the event loop (and the scheduler on it)
never waits on the keyboard, and Ctrl-C or end of input never hangs on a stuck read. Works
the same for a terminal and a pipe.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import TextIO


def stdin_lines(loop: asyncio.AbstractEventLoop, stream: TextIO | None = None) -> asyncio.Queue:
    """Lines of stdin (or `stream`) as an asyncio queue, ending with None at EOF."""
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
