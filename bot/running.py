"""Run the bot: connect every chat adapter, then schedule the daily posts, serve, stop in order.

Start: every configured adapter connects and says who it is (an `Identity`); only then are
the configured channels matched to the connections that serve them, and only then does the
scheduler start (its catch-up included), so a post is always filed under the team its
platform named — an adapter that takes long to connect delays the catch-up, it never
changes where the post is recorded. A configured channel that no connection serves is
reported in one line and not posted.
Stop (end of input, Ctrl-C, SIGTERM): posts stop between messages (the one in flight is
finished and recorded), the scheduler stops, each adapter closes, then the service (which
commits what is queued for the search index).
Imports no adapter: the `paperboy` command builds them and hands them in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from bot.chat_channels import LiveChannels
from bot.config import ChannelConfig
from bot.events import ChatAdapter, Identity, PostTarget
from bot.replicas import DEFAULT_EVERY, ReplicaDuties
from bot.schedule import DEFAULT_GRACE, DailyScheduler
from bot.service import Service
from bot.store import SharedStore, Store

log = logging.getLogger(__name__)


async def connect_all(
    service: Service, adapters: Sequence[ChatAdapter],
    identified: list[tuple[ChatAdapter, Identity]] | None = None,
) -> list[PostTarget]:
    """Connect every adapter; return the configured channels they serve, as post targets.
    `identified`, when given, receives each adapter with the identity it connected as."""
    identities = await asyncio.gather(*(adapter.connect() for adapter in adapters))
    if identified is not None:
        identified.extend(zip(adapters, identities, strict=True))
    targets: list[PostTarget] = []
    for adapter, identity in zip(adapters, identities, strict=True):
        served = identity.targets(service.config.channels, adapter)
        log.info("connected to %s as team %s (%d configured channels)",
                 identity.platform, identity.team, len(served))
        targets += served
    names = {target.channel.name for target in targets}
    unserved = [c for c in service.config.channels if c.name not in names]
    if unserved:
        log.warning("not posting to %s: no %s connection serves them",
                    ", ".join(f"#{c.name}" for c in unserved),
                    " or ".join(sorted({_describe(c) for c in unserved})))
    return targets


async def serve(
    service: Service,
    adapters: Sequence[ChatAdapter],
    *,
    store: Store,
    clock: Callable[[], datetime] | None = None,
    grace: timedelta = DEFAULT_GRACE,
    started: Callable[[DailyScheduler], object] | None = None,
    replica_every: timedelta = DEFAULT_EVERY,
) -> None:
    """Run the bot until the first adapter stops serving (e.g. the console's input ends) or
    a stop is requested (`service.poster.stopping`, set on Ctrl-C / SIGTERM). `started`
    is handed the scheduler once it runs (tests move its clock)."""
    identified: list[tuple[ChatAdapter, Identity]] = []
    configured = await connect_all(service, adapters, identified)
    # Channels set up from chat join the configured ones, and follow changes from chat.
    live = LiveChannels(service.channels, identified)
    targets = await live.merge(configured)
    by_name = live.by_name

    async def post(channel: ChannelConfig, day: date) -> object:
        target = by_name.get(channel.name)
        if target is None:  # unsubscribed from chat while its post was due
            log.info("#%s: no longer subscribed; not posting %s", channel.name, day)
            return None
        return await service.poster.post(target, day)

    scheduler = DailyScheduler(
        [target.channel for target in targets], post, store=store, clock=clock, grace=grace,
        addresses={name: target.where for name, target in by_name.items()},
    )
    live.attach(scheduler)
    warming = asyncio.ensure_future(service.warm_up(targets))
    runs = [asyncio.ensure_future(adapter.run()) for adapter in adapters]
    if isinstance(store, SharedStore):
        # Replicas share the store: finish the posts of replicas that died, follow the
        # papers the others fetched (bot.replicas). A bug there stops the bot, loudly.
        duties = ReplicaDuties(store, service.poster, lambda: live.by_name.values(),
                               index=service.index_papers)
        # Rounds several times per lease, so a dead replica's post waits about one lease.
        every = min(replica_every, store.lease / 4)
        runs.append(asyncio.ensure_future(duties.run(service.poster.stopping, every)))
    stop = asyncio.ensure_future(service.poster.stopping.wait())
    try:
        await scheduler.start()
        if started is not None:
            started(scheduler)
        done, _ = await asyncio.wait([*runs, stop], return_when=asyncio.FIRST_COMPLETED)
        for finished in done:
            finished.result()  # an adapter that failed says why
    finally:
        service.poster.stopping.set()
        for task in (*runs, stop, warming):
            task.cancel()
        await asyncio.gather(*runs, stop, warming, return_exceptions=True)
        await scheduler.shutdown()
        for adapter in adapters:
            await adapter.close()
        await service.close()


def _describe(channel: ChannelConfig) -> str:
    return f"{channel.platform} team {channel.team}" if channel.team else channel.platform


__all__ = ["connect_all", "serve"]
