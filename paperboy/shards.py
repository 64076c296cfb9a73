"""Which process runs which Discord gateway shards: one owner per shard, enforced.

Discord sends a guild's events to exactly one gateway connection, the one IDENTIFYed for
its shard; two processes on the same shard would both answer every command there. With
PostgreSQL (`[storage] url`) each shard a process runs is held by a session-level advisory
lock on one dedicated connection, for as long as the process serves: a second process
asking for a held shard is refused with `ShardTaken` (exit status 2) naming the shard. An
unsharded process (`shard_count = 0`) runs the whole gateway, so on a shared database it
holds it as shard 0 of 1: a second unsharded replica is refused too. Every process also
holds a shared lock naming its shard count, and is refused when another live process runs
a different count — two layouts would put one guild on two connections, or on none. The
locks live and die with that connection, so a process that is killed frees its shards at
once (PostgreSQL ends its session) and a replacement can take them. With TinyDB there is no
shared database — and the store's one-writer lock already allows a single process — so
that one process must run every shard.

Not here: the gateway itself (adapters/discord), command sync (`paperboy discord sync`,
which stays a single explicit admin step), the posting claims (the store). Called by
paperboy/cli.py.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from bot.config import Config, DiscordConfig
from bot.errors import ConfigError, StoreError
from bot.runtime import database_password

if TYPE_CHECKING:
    from adapters.discord.adapter import Shards

log = logging.getLogger(__name__)


class ShardTaken(ConfigError):
    """Another process runs a shard this one was asked to run."""


def plan(settings: DiscordConfig, *, shared_database: bool) -> Shards | None:
    """This process's shards from `[discord] shard_count` / `shard_ids` (all of them when
    `shard_ids` is empty); None when sharding is off. Without a shared database one
    process must run them all."""
    if settings.shard_count == 0:
        return None
    # Imported here: discord.py loads only for a process that runs Discord.
    from adapters.discord.adapter import Shards

    every = tuple(range(settings.shard_count))
    ids = settings.shard_ids or every
    if not shared_database and ids != every:
        raise ConfigError(
            "running only some shards needs a database the other processes share: set "
            "[storage] url to PostgreSQL, or remove shard_ids (this process runs them all)",
            key="discord.shard_ids")
    return Shards(settings.shard_count, ids)


# The two-key advisory lock space naming each live process's shard count: (LAYOUT, count).
# A fixed positive int4, so pg_locks shows it as the lock's classid.
LAYOUT = 0x50425944
_OTHER_COUNTS = """
    SELECT DISTINCT objid::bigint FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1
      AND objid::bigint <> $2
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


@asynccontextmanager
async def hold_shards(url: str, password: str | None, shards: Shards, *,
                      unsharded: bool = False) -> AsyncIterator[None]:
    """Hold `shards` for the duration of the block, or raise ShardTaken at once.
    `unsharded`: this process runs the whole gateway without sharding (held as shard 0
    of 1), which changes only how a refusal reads."""
    import asyncpg  # the `postgres` extra: needed only with [storage] url

    try:
        conn = await asyncpg.connect(url, password=password or None, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise StoreError(f"cannot reach PostgreSQL to claim Discord shards "
                         f"({type(exc).__name__})") from None
    try:
        # Taken before looking, so two processes starting at once with different counts
        # each see the other and both stop, rather than both going on.
        await conn.execute("SELECT pg_advisory_lock_shared($1, $2)", LAYOUT, shards.count)
        others = sorted(row[0] for row in await conn.fetch(_OTHER_COUNTS, LAYOUT, shards.count))
        if others:
            theirs = ", ".join("0 or 1" if n == 1 else str(n) for n in others)
            raise ShardTaken(
                f"another process on this database runs Discord with shard_count = {theirs}; "
                "every process must use the same shard_count",
                key="discord.shard_count")
        for shard in shards.ids:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", shard_key(shard)):
                raise ShardTaken(
                    "the Discord gateway is run by another process on this database; with "
                    "several replicas set [discord] shard_count and give each its own "
                    "shard_ids (the others post over REST), or run Discord in one only"
                    if unsharded else
                    f"Discord shard {shard} of {shards.count} is run by another process; "
                    "give this one other shard_ids, or stop that one first",
                    key="discord.shard_count" if unsharded else "discord.shard_ids")
        log.info("Discord: this process owns shards %s of %d", list(shards.ids), shards.count)
        yield
    finally:
        # Closing the session releases every lock it holds, taken or half-taken.
        await conn.close()


@asynccontextmanager
async def own_shards(config: Config, env: Mapping[str, str], *, discord: bool
                     ) -> AsyncIterator[Shards | None]:
    """This process's shards per `config`, held for the block when a database is shared;
    None (and nothing held) when `discord` is False: this process runs no gateway."""
    if not discord:
        yield None
        return
    shards = plan(config.discord, shared_database=bool(config.storage.url))
    if not config.storage.url:
        yield shards
        return
    from adapters.discord.adapter import Shards

    # Unsharded, the one connection carries every guild: held as shard 0 of 1.
    held = shards or Shards(1, (0,))
    async with hold_shards(config.storage.url, database_password(env), held,
                           unsharded=shards is None):
        yield shards


def shard_key(shard: int) -> int:
    """The advisory lock key of a shard: a stable signed 64-bit number."""
    digest = hashlib.sha256(f"paperboy:discord-shard:{shard}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


__all__ = ["ShardTaken", "hold_shards", "own_shards", "plan", "shard_key"]
