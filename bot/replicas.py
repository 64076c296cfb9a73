"""What a replica does besides what a single bot does, when the store is shared (PostgreSQL).

One job, a loop every `every` seconds while the bot runs:
- finish the daily posts whose owner died mid-post: the store lists open claims whose lease
  ran out (`SharedStore.expired_claims`), and for each one this replica serves, the poster
  takes it over (a compare-and-set: one replica wins) and settles it — messages of unknown
  fate are looked up on the platform before anything is sent again;
- keep this replica's own search index up to date with the papers any replica fetched
  (`SharedStore.papers_since`): the index is a per-process cache; the paper table is shared.
A failure of one round is logged and the next round tries again: a database blip must not
stop the bot. Does not: schedule posts (bot.schedule) or decide picks.
Started by bot.running.serve when the store is a SharedStore.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from bot.errors import PaperboyError
from bot.events import PostTarget
from bot.models import ChatRef, Paper
from bot.posting import DailyPoster
from bot.schedule import DEFAULT_GRACE
from bot.store import SharedStore

log = logging.getLogger(__name__)

DEFAULT_EVERY = timedelta(seconds=15)
IndexFn = Callable[[list[Paper]], Awaitable[object]]


class ReplicaDuties:
    """The loop's state: how to list the targets this replica serves, its paper cursor."""

    def __init__(
        self, store: SharedStore, poster: DailyPoster,
        targets: Callable[[], Iterable[PostTarget]], *, index: IndexFn | None = None,
        follow: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        """`follow`, when given, is awaited first in each round: it brings this replica's
        schedule in line with the channels set up from chat through the others."""
        self._store = store
        self._poster = poster
        # Asked each round: channels subscribed or unsubscribed from chat come and go.
        self._targets = targets
        self._index = index
        self._follow = follow
        self.cursor = 0  # papers' change number: 0 offers every paper once at start

    async def run(self, stopping: asyncio.Event, every: timedelta = DEFAULT_EVERY) -> None:
        """Rounds until `stopping` is set."""
        while not stopping.is_set():
            try:
                await self.round()
            except PaperboyError as exc:
                log.warning("replica duties: %s; trying again in %ss", exc,
                            int(every.total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every.total_seconds())

    async def round(self) -> tuple[int, int]:
        """One round; returns (posts taken over and finished, papers offered to the index)."""
        finished = 0
        if self._follow is not None:
            await self._follow()
        expired = await self._store.expired_claims(DEFAULT_GRACE)
        served: dict[ChatRef, PostTarget] = {t.where: t for t in self._targets()} \
            if expired else {}
        for where, day in expired:
            target = served.get(where)
            if target is None:
                continue  # a channel another replica's connections serve
            outcome = await self._poster.post(target, day)
            if outcome.status in ("resumed", "posted", "empty"):
                log.warning("#%s: finished the %s post of a replica that stopped mid-post "
                            "(%d sent now, %d found already sent)", target.channel.name, day,
                            outcome.sent, outcome.found)
                finished += 1
        offered = 0
        if self._index is not None:
            while True:
                papers, self.cursor = await self._store.papers_since(self.cursor)
                if not papers:
                    break
                await self._index(papers)
                offered += len(papers)
        return finished, offered


__all__ = ["DEFAULT_EVERY", "ReplicaDuties"]
