"""The running bot's post targets: config.toml channels merged with channels set up from chat.

One job: keep the scheduler's channels equal to what the Store and config.toml say, at start
and after every change from chat, without a restart. At start, every setup from chat whose
platform and team a connected adapter serves becomes a target (over the config.toml channel
of the same address, when there is one: bot.channel_admin decides the merged settings); a
setup no connection serves is reported in one line and left for a bot that serves it. After
`/papers subscribe`, `settings <change>` or `unsubscribe` has stored the setup,
bot.channel_admin calls `changed(where)`, which adds, reschedules or removes that one
channel's job (an unsubscribed config.toml channel goes back to its file's settings).
Who posts is unchanged: the poster's claim per (channel, local date) keeps a rescheduled or
resubscribed channel to one post a day.
Called by bot.running; imports no adapter.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.channel_admin import ChannelAdmin
from bot.channel_setup import ChannelSetup
from bot.errors import StoreError
from bot.events import ChatAdapter, Identity, PostTarget
from bot.models import ChatRef
from bot.schedule import DailyScheduler

log = logging.getLogger(__name__)


class LiveChannels:
    """The post targets of one running bot, by channel name, kept in step with chat."""

    def __init__(self, admin: ChannelAdmin,
                 connections: Sequence[tuple[ChatAdapter, Identity]]) -> None:
        self._admin = admin
        self._connections = list(connections)
        self.by_name: dict[str, PostTarget] = {}
        self._scheduler: DailyScheduler | None = None
        self._applied: dict[ChatRef, ChannelSetup] = {}  # the setups this bot acts on

    async def merge(self, configured: Sequence[PostTarget]) -> list[PostTarget]:
        """The configured targets with chat settings applied, plus every channel set up
        from chat that a connection serves."""
        self.by_name = {}
        for target in configured:
            channel = (await self._admin.channel(target.where))[0] or target.channel
            self.by_name[channel.name] = PostTarget(channel, target.where, target.publisher)
        try:
            setups = await self._admin.setups()
        except StoreError as exc:  # the config.toml channels still post
            log.error("could not read the channels set up from chat: %s", exc)
            setups = []
        self._applied = {setup.channel: setup for setup in setups}
        unserved: list[str] = []
        for setup in setups:
            target = await self._target(setup.channel)
            if target is None:
                unserved.append(f"{setup.channel.platform}:{setup.channel.team}:"
                                f"{setup.channel.channel}")
            elif all(t.where != target.where for t in self.by_name.values()):
                self.by_name[target.channel.name] = target
        if unserved:
            log.warning("not posting to %d channels set up from chat (%s): no connection "
                        "here serves their team", len(unserved), ", ".join(unserved[:5]))
        return list(self.by_name.values())

    def attach(self, scheduler: DailyScheduler) -> None:
        """From now on, changes from chat reschedule `scheduler`."""
        self._scheduler = scheduler
        self._admin.on_change = self.changed

    async def changed(self, where: ChatRef) -> None:
        """Bring the channel at `where` in the scheduler in line with its stored settings."""
        where = where.channel_ref
        old = next((name for name, t in self.by_name.items() if t.where == where), None)
        target = await self._target(where)
        if old is not None and (target is None or target.channel.name != old):
            del self.by_name[old]
            if self._scheduler is not None:
                self._scheduler.remove_channel(old)
        if target is None:
            return
        self.by_name[target.channel.name] = target
        if self._scheduler is not None:
            self._scheduler.set_channel(target.channel, target.where)

    async def follow(self) -> int:
        """Apply what other processes changed from chat since the last look (replicas on a
        shared store: a channel subscribed through another replica is posted by this one
        too, should that one die; the post's claim keeps it to one). Returns how many
        channels changed."""
        current = {setup.channel: setup for setup in await self._admin.setups()}
        changed = [where for where in current.keys() | self._applied.keys()
                   if current.get(where) != self._applied.get(where)]
        self._applied = current
        for where in changed:
            await self.changed(where)
        return len(changed)

    async def _target(self, where: ChatRef) -> PostTarget | None:
        """`where` as a target with its merged settings, when it has a daily post and a
        connection here serves it."""
        channel = (await self._admin.channel(where))[0]
        if channel is None:
            return None
        for adapter, identity in self._connections:
            if identity.serves(where):
                return PostTarget(channel, where, adapter)
        return None


__all__ = ["LiveChannels"]
