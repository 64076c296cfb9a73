"""One worker thread for the store's file I/O, with a priority lane for what a person waits on.

The TinyDB store runs every call on one thread: that serialises them (a claim is atomic,
the in-memory indexes need no lock) and keeps the event loop free. During the morning
fan-out that thread is busy with post-ledger writes (N+1 per post, a few channels in
flight), and a 📌 save or a `/papers list` queued behind them waited for each one. Here
calls come in two lanes: an urgent call runs as soon as the call in progress ends; the
rest run in the order they came, when no urgent call waits. Still one call at a time.

Built on a one-thread ThreadPoolExecutor, which already joins its thread at interpreter
exit so that queued writes finish: each submission queues one "run the next call" task,
and that task picks the call when it runs, urgent lane first. As many tasks as calls, so
every call runs exactly once.
Used by bot.store.tinydb only.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_Call = tuple[Callable[[], Any], "Future[Any]"]


class Lanes:
    """Runs calls on one thread, one at a time, urgent ones first."""

    def __init__(self, thread_name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)
        self._urgent: deque[_Call] = deque()
        self._queued: deque[_Call] = deque()
        self._lock = threading.Lock()

    def submit(self, function: Callable[[], T], *, urgent: bool = False) -> Future[T]:
        """Queue `function`; its future is cancelled only if it was cancelled before it ran."""
        future: Future[T] = Future()
        with self._lock:
            (self._urgent if urgent else self._queued).append((function, future))
        self._executor.submit(self._run_next)
        return future

    def shutdown(self) -> None:
        """Stop taking calls; those already queued still run."""
        self._executor.shutdown(wait=False)

    def _run_next(self) -> None:
        with self._lock:
            function, future = (self._urgent or self._queued).popleft()
        if not future.set_running_or_notify_cancel():
            return  # the caller gave up waiting before it started
        try:
            result = function()
        except BaseException as exc:  # handed to the caller, as an executor does
            future.set_exception(exc)
        else:
            future.set_result(result)
