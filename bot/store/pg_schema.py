"""The PostgreSQL store's schema: versioned migrations, applied once, under a lock.

One job: bring a database to the schema this Paperboy expects. `MIGRATIONS` is the ordered
list of (version, name, SQL); `schema_migrations` records which were applied. `upgrade` runs
the missing ones, each in its own transaction, while holding a connection-level advisory lock, so
any number of replicas starting at once apply each migration exactly once (the others wait,
then find nothing to do). A database whose schema is newer than this code is refused rather
than written by code that does not know its tables.

`LOCKS` names the two-key advisory locks taken here; the Discord shard owners and the Slack
token rotation (paperboy.shards, adapters.slack.installations) take one-key locks of their
own, a separate key space in PostgreSQL, so they never collide with these.
Called by bot.store.postgres at open and by `paperboy db upgrade`.
"""

from __future__ import annotations

import logging

import asyncpg

from bot.errors import StoreError

log = logging.getLogger(__name__)

# pg_advisory_lock(namespace, key): the namespace keeps Paperboy's locks apart from any other
# application sharing the database. Keys are stable: changing one breaks mixed versions.
LOCK_NAMESPACE = 0x50617065  # "Pape"
LOCKS = {
    "migrations": 1,
}

_V1 = """
CREATE TABLE papers (
    arxiv_id   text PRIMARY KEY,
    data       jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE summaries (
    arxiv_id   text NOT NULL,
    summarizer text NOT NULL,
    model_key  text NOT NULL,  -- '' for no model, else '=' || model: NULL cannot be a key
    data       jsonb NOT NULL,
    PRIMARY KEY (arxiv_id, summarizer, model_key)
);
CREATE TABLE teams (
    platform text NOT NULL,
    team     text NOT NULL,
    PRIMARY KEY (platform, team)
);
-- One row per claim of (platform, team, channel, local day). A released claim (--force)
-- keeps its row and items: they were posted, so the ledger still counts them.
CREATE TABLE posts (
    id          bigserial PRIMARY KEY,
    platform    text NOT NULL,
    team        text NOT NULL,
    channel     text NOT NULL,
    day         date NOT NULL,
    status      text NOT NULL CHECK (status IN ('claimed', 'posted', 'empty')),
    owner       text NOT NULL,
    claimed_at  timestamptz NOT NULL,
    lease_until timestamptz NOT NULL,
    released_at timestamptz
);
CREATE UNIQUE INDEX posts_one_open_claim ON posts (platform, team, channel, day)
    WHERE released_at IS NULL;
CREATE INDEX posts_open_leases ON posts (lease_until) WHERE status = 'claimed'
    AND released_at IS NULL;
CREATE TABLE post_items (
    id         bigserial,  -- order of first appearance within a post
    post_id    bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    key        text NOT NULL,
    arxiv_id   text,
    message_id text,
    platform   text NOT NULL,  -- the channel again, so the ledger is one index away
    team       text NOT NULL,
    channel    text NOT NULL,
    PRIMARY KEY (post_id, key)
);
CREATE INDEX post_items_ledger ON post_items (platform, team, channel);
CREATE INDEX post_items_message ON post_items (platform, team, channel, message_id)
    WHERE message_id IS NOT NULL;
CREATE TABLE saved (
    platform text NOT NULL,
    team     text NOT NULL,
    arxiv_id text NOT NULL,
    paper    jsonb NOT NULL,  -- the first saver's snapshot: the list never needs the cache
    PRIMARY KEY (platform, team, arxiv_id)
);
CREATE TABLE savers (
    platform text NOT NULL,
    team     text NOT NULL,
    arxiv_id text NOT NULL,
    user_id  text NOT NULL,
    saved_at timestamptz NOT NULL,
    saver    jsonb NOT NULL,  -- as written, so the saver's UTC offset round-trips
    position bigserial,
    PRIMARY KEY (platform, team, arxiv_id, user_id),
    FOREIGN KEY (platform, team, arxiv_id) REFERENCES saved ON DELETE CASCADE
);
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);
CREATE TABLE channel_setups (
    platform text NOT NULL,
    team     text NOT NULL,
    channel  text NOT NULL,
    setup    jsonb NOT NULL,
    PRIMARY KEY (platform, team, channel)
);
"""

# Every paper write takes a new number, so each replica can feed its own search index with
# the papers any replica fetched since it last looked (`papers_since`).
_V2 = """
CREATE SEQUENCE papers_change_seq;
ALTER TABLE papers ADD COLUMN seq bigint NOT NULL DEFAULT nextval('papers_change_seq');
CREATE INDEX papers_by_change ON papers (seq);
"""

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "papers, summaries, posts and their items, team lists, meta, channel setups", _V1),
    (2, "a change number on papers, for each replica's search index", _V2),
)
LATEST = MIGRATIONS[-1][0]

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


async def applied_versions(conn: asyncpg.Connection) -> list[int]:
    """The migrations recorded in the database, in order ([] for an empty database)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return []
    rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    return [row["version"] for row in rows]


async def upgrade(conn: asyncpg.Connection) -> list[tuple[int, str]]:
    """Apply every missing migration; return those applied now (none when up to date).

    Raises StoreError for a schema newer than this code."""
    await conn.execute("SELECT pg_advisory_lock($1, $2)", LOCK_NAMESPACE, LOCKS["migrations"])
    try:
        await conn.execute(_BOOKKEEPING)
        done = set(await applied_versions(conn))
        newer = sorted(v for v in done if v > LATEST)
        if newer:
            raise StoreError(
                f"the database's schema is at version {newer[-1]}, newer than this Paperboy "
                f"knows ({LATEST}): upgrade Paperboy before using it")
        applied: list[tuple[int, str]] = []
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                   version, name)
            log.info("database schema: applied migration %d (%s)", version, name)
            applied.append((version, name))
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_NAMESPACE,
                           LOCKS["migrations"])


__all__ = ["LATEST", "LOCKS", "LOCK_NAMESPACE", "MIGRATIONS", "applied_versions", "upgrade"]
