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
Health (bot.health): the monitor hears of each connection, the schedule, each fetch and the
stop, and keeps its heartbeat and status file going while the bot serves.
Imports no adapter: the `paperboy` command builds them and hands them in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from bot import requestid
from bot.alerts import AdminAlerts
from bot.chat_channels import LiveChannels
from bot.config import ChannelConfig
from bot.events import ChatAdapter, Identity, PostTarget
from bot.health import HealthMonitor
from bot.replicas import DEFAULT_EVERY, ReplicaDuties
from bot.schedule import DEFAULT_GRACE, DailyScheduler
from bot.service import Service
from bot.store import SharedStore, Store

log = logging.getLogger(__name__)


async def connect_all(
    service: Service,
    adapters: Sequence[ChatAdapter],
    alerts: AdminAlerts | None = None,
    health: HealthMonitor | None = None,
    *,
    identified: list[tuple[ChatAdapter, Identity]] | None = None,
) -> list[PostTarget]:
    """Connect every adapter; return the configured channels they serve, as post targets.
    `alerts` learns which connection serves the [admin] channel, `health` each connection;
    `identified`, when given, receives each adapter with the identity it connected as."""
    identities = await asyncio.gather(*(adapter.connect() for adapter in adapters))
    if identified is not None:
        identified.extend(zip(adapters, identities, strict=True))
    targets: list[PostTarget] = []
    for adapter, identity in zip(adapters, identities, strict=True):
        if alerts is not None:
            alerts.attach(identity, adapter)
        if health is not None:
            health.connected(adapter, identity)
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
    health: HealthMonitor | None = None,
    started: Callable[[DailyScheduler], object] | None = None,
    replica_every: timedelta = DEFAULT_EVERY,
) -> None:
    """Run the bot until the first adapter stops serving (e.g. the console's input ends) or
    a stop is requested (`service.poster.stopping`, set on Ctrl-C / SIGTERM). `health`, when
    given, is kept told what /healthz and `paperboy status` report; `started` is handed the
    scheduler once it runs (a test or benchmark that moves `clock` calls its `run_due`)."""
    health = health or HealthMonitor(None)
    beating = asyncio.ensure_future(health.run())
    service.candidates.fetch_listeners.append(health.fetched)
    try:
        await _serve(service, adapters, store=store, clock=clock, grace=grace, health=health,
                     started=started, replica_every=replica_every)
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)
        await health.close()


async def _serve(
    service: Service,
    adapters: Sequence[ChatAdapter],
    *,
    store: Store,
    clock: Callable[[], datetime] | None,
    grace: timedelta,
    health: HealthMonitor,
    started: Callable[[DailyScheduler], object] | None,
    replica_every: timedelta,
) -> None:
    alerts = AdminAlerts.from_config(service.config, clock, store)
    await alerts.restore()
    identified: list[tuple[ChatAdapter, Identity]] = []
    configured = await connect_all(service, adapters, alerts, health, identified=identified)
    alerts.report_unattached()
    # Channels set up from chat join the configured ones, and follow changes from chat.
    live = LiveChannels(service.channels, identified)
    targets = await live.merge(configured)
    scheduler = schedule_posts(service, targets, alerts, store=store, clock=clock, grace=grace,
                               lookup=lambda name: live.by_name.get(name))
    live.attach(scheduler)
    warming = asyncio.ensure_future(service.warm_up(targets))
    runs = [asyncio.ensure_future(adapter.run()) for adapter in adapters]
    for adapter, run in zip(adapters, runs, strict=True):
        run.add_done_callback(lambda _, adapter=adapter: health.stopped_serving(adapter))
    if isinstance(store, SharedStore):
        # Replicas share the store: finish the posts of replicas that died, follow the
        # papers the others fetched (bot.replicas). A bug there stops the bot, loudly.
        duties = ReplicaDuties(store, service.poster, lambda: live.by_name.values(),
                               index=service.index_papers, follow=live.follow)
        # Rounds several times per lease, so a dead replica's post waits about one lease.
        every = min(replica_every, store.lease / 4)
        runs.append(asyncio.ensure_future(duties.run(service.poster.stopping, every)))
    stop = asyncio.ensure_future(service.poster.stopping.wait())
    health.watch_schedule(scheduler.next_runs)
    try:
        await scheduler.start()
        if started is not None:
            started(scheduler)
        done, _ = await asyncio.wait([*runs, stop], return_when=asyncio.FIRST_COMPLETED)
        for finished in done:
            finished.result()  # an adapter that failed says why
    finally:
        service.poster.stopping.set()
        health.stop()
        for task in (*runs, stop, warming):
            task.cancel()
        await asyncio.gather(*runs, stop, warming, return_exceptions=True)
        await scheduler.shutdown()
        for adapter in adapters:
            await adapter.close()
        await service.close()


def schedule_posts(
    service: Service,
    targets: Sequence[PostTarget],
    alerts: AdminAlerts,
    *,
    store: Store,
    clock: Callable[[], datetime] | None = None,
    grace: timedelta = DEFAULT_GRACE,
    lookup: Callable[[str], PostTarget | None] | None = None,
) -> DailyScheduler:
    """The scheduler of the targets' daily posts (not started), each post watched for the
    incidents the admin hears about. `lookup` finds a channel's current target by name
    (default: among `targets`); channels set up from chat come and go through it."""
    by_name = {target.channel.name: target for target in targets}
    find = lookup or by_name.get

    async def post(channel: ChannelConfig, day: date) -> object:
        target = find(channel.name)
        if target is None:  # unsubscribed from chat while its post was due
            log.info("#%s: no longer subscribed; not posting %s", channel.name, day)
            return None
        with requestid.new_request("post-"):
            return await alerts.watch_post(channel.name, service.poster.post(target, day))

    async def prefetch(channels: Sequence[ChannelConfig], day: date) -> object:
        found = [find(c.name) for c in channels]
        return await service.prefetch_summaries([t for t in found if t is not None], day)

    return DailyScheduler(
        [target.channel for target in targets], post, store=store, clock=clock, grace=grace,
        addresses={name: target.where for name, target in by_name.items()}, alerts=alerts,
        prefetch=prefetch,
        prefetch_ahead=timedelta(minutes=service.config.summaries.prefetch_minutes),
    )


def _describe(channel: ChannelConfig) -> str:
    return f"{channel.platform} team {channel.team}" if channel.team else channel.platform


__all__ = ["connect_all", "schedule_posts", "serve"]
