"""A short-lived, per-process cache in front of slack_sdk's installation store.

Why: slack-bolt authorizes every request before any listener may ack it, and each
authorization reads the workspace's installation twice (the latest bot install, then the
caller's own) — four to six PostgreSQL round trips per ack, queued behind a small pool. Under
load that put the ack past Slack's three seconds (bench/slack_workspaces.py). A workspace's
installation changes only on install, rotation (every few hours) and uninstall, so a copy a
few seconds old answers almost every request.

What invalidates an entry:
- this process's own writes: a save (install, rotation) or a delete (`app_uninstalled`,
  `tokens_revoked`, `paperboy slack forget`) drops every entry of that workspace at once;
- the TTL (`CACHE_SECONDS`): changes made on another replica are seen within it. Until
  then a request from a workspace uninstalled elsewhere is still acked here, but every Web
  API call the bot makes reads the installation fresh (Installations.installed), so no
  call goes out with a deleted token; a token rotated elsewhere stays valid at Slack until
  its own expiry, hours later;
- rotation reads the store itself under its lock (SerialisedRotator), never this cache.
Misses (no installation) are not kept: a workspace just installed on another replica is
served at once.

Entries are copied on the way out: slack-bolt edits the installation it is given.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import (
    AsyncInstallationStore,
)

CACHE_SECONDS = 5.0  # how stale another replica's uninstall or rotation may look here
CACHE_ENTRIES = 10_000  # a few per workspace: its bot install and each caller's

Workspace = tuple[str | None, str | None]  # (enterprise id, team id)


class CachedInstallationStore(AsyncInstallationStore):
    """`store`'s reads kept for `seconds`; its writes pass through and invalidate."""

    def __init__(self, store: AsyncInstallationStore, *, seconds: float = CACHE_SECONDS,
                 entries: int = CACHE_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.seconds = seconds
        self.entries = entries
        self._clock = clock
        self._kept: dict[tuple[Any, ...], tuple[float, Any]] = {}
        # Bumped by every write of a workspace: a read that began before the write keeps
        # nothing (it may carry the row the write replaced).
        self._writes: dict[Workspace, int] = {}
        self.hits = 0
        self.misses = 0

    @property
    def logger(self) -> Any:
        return self.store.logger

    def forget(self, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop every entry of one workspace (its bot install and its users')."""
        workspace = (enterprise_id, team_id)
        self._writes[workspace] = self._writes.get(workspace, 0) + 1
        for key in [k for k in self._kept if k[1:3] == workspace]:
            del self._kept[key]

    async def _read(self, key: tuple[Any, ...], read: Any) -> Any:
        now = self._clock()
        kept = self._kept.get(key)
        if kept is not None and kept[0] > now:
            self.hits += 1
            return copy.copy(kept[1])
        self.misses += 1
        workspace: Workspace = (key[1], key[2])
        writes = self._writes.get(workspace, 0)
        value = await read()
        if value is None or self._writes.get(workspace, 0) != writes:
            self._kept.pop(key, None)
            return None
        self._kept[key] = (now + self.seconds, value)
        while len(self._kept) > self.entries:
            del self._kept[next(iter(self._kept))]
        return copy.copy(value)

    async def async_find_installation(self, *, enterprise_id: str | None,
                                      team_id: str | None, user_id: str | None = None,
                                      is_enterprise_install: bool | None = False
                                      ) -> Installation | None:
        key = ("installation", enterprise_id, team_id, user_id, bool(is_enterprise_install))
        return await self._read(key, lambda: self.store.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
            is_enterprise_install=is_enterprise_install))

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        key = ("bot", enterprise_id, team_id, None, bool(is_enterprise_install))
        return await self._read(key, lambda: self.store.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install))

    async def async_save(self, installation: Installation) -> None:
        self.forget(installation.enterprise_id, installation.team_id)
        await self.store.async_save(installation)
        self.forget(installation.enterprise_id, installation.team_id)

    async def async_save_bot(self, bot: Bot) -> None:
        self.forget(bot.enterprise_id, bot.team_id)
        await self.store.async_save_bot(bot)
        self.forget(bot.enterprise_id, bot.team_id)

    async def async_delete_bot(self, *, enterprise_id: str | None,
                               team_id: str | None) -> None:
        self.forget(enterprise_id, team_id)
        await self.store.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self.forget(enterprise_id, team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None,
                                        team_id: str | None,
                                        user_id: str | None = None) -> None:
        self.forget(enterprise_id, team_id)
        await self.store.async_delete_installation(enterprise_id=enterprise_id,
                                                   team_id=team_id, user_id=user_id)
        self.forget(enterprise_id, team_id)

    async def async_delete_all(self, *, enterprise_id: str | None,
                               team_id: str | None) -> None:
        self.forget(enterprise_id, team_id)
        await self.store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self.forget(enterprise_id, team_id)


__all__ = ["CACHE_SECONDS", "CachedInstallationStore"]
