"""Tell the admin about incidents: once when one opens, once when it clears.

An incident is something a person may need to act on, named by a key: a fetch failing after
its retries (`fetch:huggingface`), a channel paused because the platform refused the bot
(`paused:#papers`: not in the channel, a missing permission), a daily post skipped or caught
up late (`skipped:#papers`, `late:#papers`), the data directory nearly full (`disk:<path>`).
Opening an incident already open says nothing (a fetch retried every ten minutes is told
once); clearing one tells "resolved" once. Never more than one opening message per incident
an hour: an incident that opens again within the hour of its last message is kept quiet,
and told at its next repeat after the hour if it is still open then, so a flapping upstream
cannot flood the admin channel. A late catch-up is a notice: opened and closed in one message.

Open incidents are kept in the store's meta (`alerts:open`), so an incident that can only
clear after a restart (a paused channel stays paused until then) is still told when it does.
Every incident is also one log line (WARNING when it opens, INFO when it clears), so the log
says why even without an `[admin]` channel. Delivery goes through the admin channel's
`Publisher.post_notice`; a delivery that fails is logged with its text and never stops a post.
The clock is injected (tests move it by hand); disk space is read with `shutil.disk_usage`.
Does not: decide what an incident is worth (callers do) or retry anything.
Called by bot.running (around each daily post) and bot.schedule (skipped and late posts).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bot.config import AdminConfig, ChannelConfig, Config
from bot.errors import ChannelPaused, StoreError, UpstreamError
from bot.events import Identity, Publisher
from bot.models import ChatRef
from bot.store import Store

log = logging.getLogger(__name__)

# At most one opening message per incident in this long.
QUIET = timedelta(hours=1)
# Upstreams whose failure is a fetch failure (the chat platforms' are the channel's own).
FETCH_SOURCES = frozenset({"huggingface", "arxiv"})
# A post outcome that shows the channel and its fetch work again.
_HEALTHY = frozenset({"posted", "empty", "resumed"})

T = TypeVar("T")
META_KEY = "alerts:open"


@dataclass
class _Incident:
    text: str
    told: bool  # the admin was told it opened (and so will be told it cleared)


class AdminAlerts:
    """The incidents of one running bot and the admin channel that hears about them.

    Without an admin channel (`attach` never found one) incidents are only logged."""

    def __init__(
        self,
        admin: AdminConfig | None,
        *,
        data_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        quiet: timedelta = QUIET,
        store: Store | None = None,
    ) -> None:
        self.admin = admin
        self._store = store
        self._data_dir = data_dir
        self._clock = clock or (lambda: datetime.now(UTC))
        self._quiet = quiet
        self._where: ChatRef | None = None
        self._publisher: Publisher | None = None
        self._open: dict[str, _Incident] = {}
        self._last_told: dict[str, datetime] = {}  # key → when its last opening was told

    @classmethod
    def from_config(
        cls, config: Config, clock: Callable[[], datetime] | None = None,
        store: Store | None = None,
    ) -> AdminAlerts:
        return cls(config.admin, data_dir=config.storage.path, clock=clock, store=store)

    async def restore(self) -> None:
        """Read the incidents an earlier run left open (see the module docstring)."""
        if self._store is None or self.admin is None:
            return
        saved = await self._store.get_meta(META_KEY) or {}
        for key, (text, told, last) in saved.items():
            self._open[key] = _Incident(text, told)
            if last:
                self._last_told[key] = datetime.fromisoformat(last)

    # --- where the admin is -------------------------------------------------------------

    def attach(self, identity: Identity, publisher: Publisher) -> bool:
        """Use this connection when it serves the admin channel; True when it does."""
        if self.admin is None or self._where is not None:
            return False
        as_channel = ChannelConfig(name="admin", platform=self.admin.platform,
                                   id=self.admin.id, team=self.admin.team)
        where = identity.address(as_channel)
        if where is None:
            return False
        self._where, self._publisher = where, publisher
        return True

    def report_unattached(self) -> None:
        """One line when [admin] names a channel no connection serves."""
        if self.admin is not None and self._where is None:
            log.warning("[admin] %s channel %s: no %s connection serves it; incidents go to "
                        "the log only", self.admin.platform, self.admin.id, self.admin.platform)

    @property
    def open_incidents(self) -> dict[str, str]:
        """Key → what it is, for every incident open now."""
        return {key: incident.text for key, incident in self._open.items()}

    # --- the incidents the bot knows ----------------------------------------------------

    async def watch_post(self, channel: str, post: Awaitable[T]) -> T:
        """Await a daily post of `channel`, opening or clearing the incidents it shows."""
        label = _label(channel)
        try:
            outcome = await post
        except ChannelPaused as exc:
            await self.open(f"paused:{label}", f"{label} is paused: {exc}. Posts there "
                            "resume after the bot restarts once this is fixed.")
            raise
        except UpstreamError as exc:
            if exc.source in FETCH_SOURCES:
                await self.open(f"fetch:{exc.source}", f"fetching from {exc.source} fails "
                                f"after retries ({exc}); daily posts wait for it")
            raise
        except StoreError:
            await self.check_disk()
            raise
        if getattr(outcome, "status", None) in _HEALTHY:
            for key in [k for k in self._open if k.startswith("fetch:")]:
                await self.clear(key, f"fetching from {key.removeprefix('fetch:')} works again")
            await self.clear(f"paused:{label}", f"{label} takes posts again")
            await self.clear(f"skipped:{label}", f"{label} got its daily post again")
        await self.check_disk()
        return outcome

    async def post_skipped(self, channel: str, day: date, why: str) -> None:
        label = _label(channel)
        await self.open(f"skipped:{label}", f"{label}: the {day.isoformat()} post was "
                        f"skipped ({why})")

    async def post_late(self, channel: str, day: date, late: str) -> None:
        label = _label(channel)
        await self.notice(f"late:{label}", f"{label}: the {day.isoformat()} post is being "
                          f"caught up {late} late (the bot was not running at its time)")

    async def check_disk(self) -> None:
        """Open or clear the near-full incident of the data directory."""
        if self._data_dir is None or self.admin is None:
            return
        try:
            free = shutil.disk_usage(_existing(self._data_dir)).free
        except OSError as exc:
            log.warning("cannot read the free space of %s: %s", self._data_dir, exc)
            return
        key, floor = f"disk:{self._data_dir}", self.admin.min_free_mb * 1024 * 1024
        if free < floor:
            await self.open(key, f"the data directory {self._data_dir} is nearly full: "
                            f"{free // (1024 * 1024)} MB free (below {self.admin.min_free_mb} "
                            "MB); free some space, saves and posts stop when it is full")
        else:
            await self.clear(key, f"the data directory {self._data_dir} has room again")

    # --- the incident life cycle ----------------------------------------------------------

    async def open(self, key: str, text: str) -> None:
        """Open `key` (nothing when it is open and was told); tell the admin when allowed."""
        incident = self._open.get(key)
        if incident is not None and incident.told:
            return
        if incident is None:
            log.warning("incident: %s", text)
        tell = self._may_tell(key)
        self._open[key] = _Incident(text, told=tell)
        if tell:
            self._last_told[key] = self._clock()
        await self._save()
        if tell:
            await self._send(f"Paperboy needs attention: {text}")

    async def clear(self, key: str, text: str) -> None:
        """Close `key` if open; the admin hears it only if they heard it open."""
        incident = self._open.pop(key, None)
        if incident is None:
            return
        log.info("resolved: %s", text)
        await self._save()
        if incident.told:
            await self._send(f"Resolved: {text}")

    async def notice(self, key: str, text: str) -> None:
        """An incident that is over as it is told (a late catch-up): one message."""
        log.warning("incident: %s", text)
        if self._may_tell(key):
            self._last_told[key] = self._clock()
            await self._send(f"Note: {text}")

    def _may_tell(self, key: str) -> bool:
        last = self._last_told.get(key)
        return last is None or self._clock() - last >= self._quiet

    async def _save(self) -> None:
        if self._store is None or self.admin is None:
            return
        last = {key: when.isoformat() for key, when in self._last_told.items()}
        try:
            await self._store.set_meta(META_KEY, {
                key: [incident.text, incident.told, last.get(key)]
                for key, incident in self._open.items()})
        except StoreError as exc:
            # The store failing is itself an incident the caller reports; keep telling.
            log.warning("could not keep the open incidents in the store: %s", exc)

    async def _send(self, text: str) -> None:
        if self._publisher is None or self._where is None:
            return
        try:
            await self._publisher.post_notice(self._where, text)
        except Exception:
            # An alert must never stop the post it is about; the log keeps what was lost.
            log.exception("could not tell the admin channel: %s", text)


def _existing(path: Path) -> Path:
    """The nearest existing directory at or above `path` (the data dir may not exist yet)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _label(channel: str) -> str:
    return channel if channel.startswith("#") else f"#{channel}"


__all__ = ["FETCH_SOURCES", "QUIET", "AdminAlerts"]
