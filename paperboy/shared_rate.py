"""A token bucket every replica shares, kept in PostgreSQL: Discord's global rate limit
across processes.

discord.py paces each process by itself (its per-route buckets and its global lock), but
Discord counts the global limit — 50 requests a second — per bot token, over every process
that uses it: three replicas each posting at discord.py's pace could send three times too
much. Before each message or reaction it sends, the Discord adapter asks this bucket for a
slot; one statement reserves it atomically (refill by the time elapsed, take one token,
possibly going into debt) and says how long to wait until the slot comes. A reservation
is never given back, so waiting requests line up in order, across processes.

What it does not cover, said plainly: requests discord.py makes on its own (the gateway's
REST fetches at start, `find_posted` reading history after a crash) and interaction
responses (Discord does not count those against the global limit). `DEFAULT_RATE` leaves
room for them below Discord's 50.

The bucket's clock is the database's (`clock_timestamp()`), the same for every replica;
a test passes its own. Called by paperboy/cli.py for `paperboy run` with `[storage] url`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

DEFAULT_RATE = 40.0  # requests a second, shared by all replicas (Discord allows 50)
DEFAULT_BURST = 40.0

# One-key advisory lock (its own key space, apart from the store's two-key locks).
_TABLE_LOCK = int.from_bytes(hashlib.sha256(b"paperboy:rate-buckets-table").digest()[:8], "big",
                             signed=True)
_CREATE = """
CREATE TABLE IF NOT EXISTS paperboy_rate_buckets (
    name text PRIMARY KEY,
    tokens double precision NOT NULL,
    at double precision NOT NULL  -- seconds since the epoch of the last reservation
)"""
# Refill by the time since the last reservation (at most `burst`), take one token. A
# negative balance is a queue: -tokens / rate is how long this reservation waits.
_NOW = "COALESCE($4::float8, EXTRACT(EPOCH FROM clock_timestamp())::float8)"
_TAKE = f"""
INSERT INTO paperboy_rate_buckets AS b (name, tokens, at)
VALUES ($1, $2::float8 - 1, {_NOW})
ON CONFLICT (name) DO UPDATE SET
    tokens = LEAST($2::float8, b.tokens + GREATEST(0, {_NOW} - b.at) * $3::float8) - 1,
    at = GREATEST(b.at, {_NOW})
RETURNING tokens"""


class SharedBucket:
    """`rate` requests a second with bursts of `burst`, for every process using `name`."""

    def __init__(self, pool: asyncpg.Pool, name: str, *, rate: float = DEFAULT_RATE,
                 burst: float = DEFAULT_BURST, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self._pool = pool
        self.name = name
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep

    @classmethod
    async def open(cls, url: str, password: str | None, name: str, **options: Any
                   ) -> SharedBucket:
        import asyncpg  # the `postgres` extra: needed only with [storage] url

        pool = await asyncpg.create_pool(url, password=password or None, min_size=1,
                                         max_size=2)
        async with pool.acquire() as conn, conn.transaction():
            # Replicas starting together would race CREATE TABLE IF NOT EXISTS (PostgreSQL
            # then fails one with a duplicate pg_type row): one at a time.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _TABLE_LOCK)
            await conn.execute(_CREATE)
        return cls(pool, name, **options)

    async def reserve(self) -> float:
        """Take the next slot; returns the seconds until it comes (0: now)."""
        now = self._clock() if self._clock is not None else None
        async with self._pool.acquire() as conn:
            tokens = await conn.fetchval(_TAKE, self.name, self.burst, self.rate, now)
        return max(0.0, -float(tokens) / self.rate)

    async def __call__(self) -> None:
        """Wait for a slot: what the adapter awaits before each request it sends."""
        wait = await self.reserve()
        if wait > 0:
            await self._sleep(wait)

    async def close(self) -> None:
        await self._pool.close()


__all__ = ["DEFAULT_BURST", "DEFAULT_RATE", "SharedBucket"]
