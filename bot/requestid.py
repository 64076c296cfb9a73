"""A request id for every log line a `/papers` command, a reaction or a daily post causes.

One job: a context variable the service sets when an event comes in, which every coroutine
and thread task started from there inherits (asyncio copies the context into each task,
`asyncio.to_thread` into its thread), so a command's lines can be picked out of a busy log.
The logging set-up (paperboy/logs.py) reads it into each record. Standard library only.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

current: ContextVar[str | None] = ContextVar("paperboy_request_id", default=None)


def begin(prefix: str = "") -> str:
    """Give the rest of the current task a fresh id: an adapter runs each event in a task of
    its own, so its own lines after the service answered (rendering, the reply's delivery)
    carry the id too, and the next event's task starts without one."""
    rid = prefix + secrets.token_hex(4)
    current.set(rid)
    return rid


@contextmanager
def new_request(prefix: str = "") -> Iterator[str]:
    """Give what runs inside a fresh id (8 hex digits, after `prefix`); restore the outer
    one after, so a long-lived task (the console's input loop) does not keep the last id."""
    rid = prefix + secrets.token_hex(4)
    token = current.set(rid)
    try:
        yield rid
    finally:
        current.reset(token)


__all__ = ["begin", "current", "new_request"]
