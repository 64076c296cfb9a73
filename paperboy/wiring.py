"""Wiring for the `paperboy` command: build the service and adapters, and settle which team
a command is about when no adapter is connected to say.

Part of the composition root (paperboy/cli.py calls it): the one place besides the adapters
that sees both the core and an adapter. The console and Discord adapters are imported only
when built.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import ChannelConfig, Config
from bot.errors import ConfigError, UserInputError
from bot.events import ChatAdapter
from bot.models import ChatRef
from bot.runtime import Runtime, database_password
from bot.search import Searcher, open_index
from bot.service import Service

if TYPE_CHECKING:
    from adapters.console.adapter import ConsoleAdapter
    from adapters.discord.adapter import Shards
    from adapters.slack.adapter import SlackAdapter
    from adapters.slack.installations import Installations
    from paperboy.shared_rate import SharedBucket

log = logging.getLogger("paperboy")

# Seconds a stop may take before the process exits regardless: under the 10 s a container
# runtime waits between SIGTERM and SIGKILL.
SHUTDOWN_LIMIT = 8.0
EXIT_STOPPED = 130

# Where the console kept its message counter before it had a history file.
LEGACY_COUNTER_KEY = "console:next_message"


@contextmanager
def stop_on_signals(
    service: Service, limit: float = SHUTDOWN_LIMIT
) -> Iterator[list[int]]:
    """Ctrl-C and SIGTERM ask the bot to stop between messages instead of killing it
    mid-message: the post in flight finishes its message and records it, commands are
    refused, connections close. A stop that takes longer than `limit` seconds (an upstream
    hanging) ends the process anyway, as a container's SIGKILL would: every durable write is
    atomic and a message of unknown fate is settled at the next start, so nothing is lost.
    Yields the signals received."""
    loop = asyncio.get_running_loop()
    signalled: list[int] = []
    deadline: list[asyncio.TimerHandle] = []

    def give_up() -> None:
        log.error("still stopping after %.0f s: exiting now; the next start settles what "
                  "was in flight", limit)
        logging.shutdown()
        os._exit(EXIT_STOPPED)

    def stop(signum: int) -> None:
        signalled.append(signum)
        log.warning("stopping (%s): finishing the message being sent",
                    signal.Signals(signum).name)
        service.poster.stopping.set()
        if not deadline:
            deadline.append(loop.call_later(limit, give_up))

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        yield signalled
    finally:
        # The deadline stays armed: closing the runtime after this block is part of the
        # stop it bounds. It dies with the event loop when the command returns in time.
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def open_searcher(rt: Runtime, *, index_optional: bool = False) -> Searcher:
    index = await open_index(rt.config.storage.path, rt.store, optional=index_optional)
    return Searcher(index, rt.store, rt.hf, rt.arxiv)


async def build_service(rt: Runtime, clock: Callable[[], datetime] | None = None) -> Service:
    """The service `paperboy run` uses: every part of the runtime, and the search index.
    `clock` is for benchmarks that move time; the bot uses the real one."""
    return Service(
        rt.config, store=rt.store, hf=rt.hf, arxiv=rt.arxiv, summarizer=rt.summarizer,
        searcher=await open_searcher(rt), clock=clock,
    )


async def console_adapter(
    rt: Runtime, service: Service, channel: ChannelConfig,
    lines: asyncio.Queue[str | None] | None, banner: bool = True,
) -> ConsoleAdapter:
    from adapters.console.adapter import ConsoleAdapter

    # Message numbers continue from before the terminal kept a history file.
    legacy = await rt.store.get_meta(LEGACY_COUNTER_KEY)
    return ConsoleAdapter(
        service, channel, history=rt.config.storage.path / "console" / "history.jsonl",
        lines=lines, first_number=int(legacy or 1), banner=banner,
    )


def slack_adapter(config: Config, service: Service, *, serves: bool = True) -> SlackAdapter:
    """The Slack adapter, its tokens from the environment (never from config); `serves`
    False when it only posts (`paperboy post`: the bot token alone). With
    `[slack] client_id`, the app installed in many workspaces: their tokens in the
    PostgreSQL of `[storage] url`, the client secret from the environment."""
    from adapters.slack.adapter import SlackAdapter

    if config.slack.client_id:
        return SlackAdapter(
            service, config.slack, bot_token=None,
            signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
            installations=slack_installations(config), serves=serves,
        )
    bot_token = os.environ.get("SLACK_BOT_TOKEN", "").strip()
    if not bot_token:
        raise ConfigError("not set: the Bot User OAuth Token (xoxb-…); or set [slack] "
                          "client_id to serve every workspace that installs the app",
                          key="SLACK_BOT_TOKEN")
    return SlackAdapter(
        service, config.slack, bot_token=bot_token,
        signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or None,
        app_token=os.environ.get("SLACK_APP_TOKEN") or None, serves=serves,
    )


def slack_installations(config: Config) -> Installations:
    """slack_sdk's installation and state stores on the team state's PostgreSQL."""
    from adapters.slack.installations import Installations, OAuthSecrets, open_engine

    if not config.storage.url:
        raise ConfigError("installs in many workspaces keep each one's tokens in PostgreSQL: "
                          "set [storage] url, or remove client_id to serve the one workspace "
                          "of SLACK_BOT_TOKEN", key="slack.client_id")
    secret = os.environ.get("SLACK_CLIENT_SECRET", "").strip()
    if not secret:
        raise ConfigError("not set: the app's Client Secret (Basic Information → App "
                          "Credentials), needed with [slack] client_id", key="SLACK_CLIENT_SECRET")
    engine = open_engine(config.storage.url, database_password(os.environ))
    return Installations(engine, OAuthSecrets(config.slack.client_id, secret))


def discord_adapter(service: Service, shards: Shards | None = None,
                    gate: Callable[[], Awaitable[None]] | None = None) -> ChatAdapter:
    """The Discord adapter, with the token from the environment (imported only here);
    `shards`: the gateway shards this process runs (paperboy/shards.py holds them);
    `gate`: the rate limit shared with other replicas."""
    from adapters.discord.adapter import DiscordAdapter

    return DiscordAdapter(service, discord_token(), shards=shards, gate=gate)


@asynccontextmanager
async def shared_discord_limit(config: Config) -> AsyncIterator[SharedBucket | None]:
    """Discord's global rate limit shared by every replica on `[storage] url`'s PostgreSQL
    (paperboy/shared_rate.py); None with TinyDB, where one process is alone with the
    token and discord.py's own pacing is enough."""
    if not config.storage.url:
        yield None
        return
    from paperboy.shared_rate import SharedBucket

    bucket = await SharedBucket.open(config.storage.url, database_password(os.environ),
                                     "discord:global")
    try:
        yield bucket
    finally:
        await bucket.close()


def discord_token() -> str:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise ConfigError("not set: the bot token from the Discord Developer Portal "
                          "(Bot → Reset Token)", key="DISCORD_TOKEN")
    return token


async def team_for(rt: Runtime, given: str | None, *, required: bool) -> tuple[str, str]:
    """The team a command is about: `--team PLATFORM:TEAM`, else the one team this bot
    serves. With several, the user must choose; `required` False lets a search without
    `in:saved` go on with the first."""
    if given is not None:
        platform, _, team = given.partition(":")
        if not team or platform not in ("console", "slack", "discord"):
            raise UserInputError(
                "--team is PLATFORM:TEAM, e.g. slack:T0123, discord:9876 or console:console"
            )
        return platform, team
    teams = await served_teams(rt)
    if len(teams) > 1 and required:
        named = ", ".join(f"{p}:{t}" for p, t in teams)
        raise UserInputError(f"this bot serves several teams ({named}); choose one with --team")
    return teams[0] if teams else ("console", "console")


async def served_teams(rt: Runtime) -> list[tuple[str, str]]:
    known = await rt.store.known_teams()
    teams: set[tuple[str, str]] = set()
    for channel in rt.config.channels:
        where = address(channel, known)
        if where is not None:
            teams.add((where.platform, where.team))
    return sorted(teams)


def address(channel: ChannelConfig, known: Sequence[tuple[str, str]]) -> ChatRef | None:
    """Where a configured channel lives when no adapter is connected to say: its own
    `team`, the console's one team, or the one team the store knows on its platform."""
    if channel.team is not None:
        return ChatRef(channel.platform, channel.team, channel.id)
    if channel.platform == "console":
        return ChatRef("console", "console", channel.id)
    teams = [team for platform, team in known if platform == channel.platform]
    return ChatRef(channel.platform, teams[0], channel.id) if len(teams) == 1 else None
