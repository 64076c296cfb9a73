"""The Store on PostgreSQL: team state shared by any number of Paperboy processes.

Chosen by `[storage] url = "postgresql://user@host/db"`; the password comes from the
environment only (bot.runtime reads it). Same contract as the memory and TinyDB stores
(tests/store/test_contract.py runs against all three), with one difference the protocol
names: `exclusive` is False, because other replicas write too.

Exactly once across replicas: a daily post is claimed by inserting its row, unique per
(platform, team, channel, local day) among open claims, so exactly one process wins. The
claim carries a lease (`lease_until`) that every write of the post renews; a process that
dies mid-post stops renewing it, and `take_over_post` hands the post to another process only
when the lease ran out (or its owner is known dead) and the claimant is still the one the
taker saw — a compare-and-set, so two replicas never both resume it. `expired_claims` lists
the posts waiting for such a takeover.

Every method is one statement or one short transaction on a pooled connection (asyncpg:
measured ~1.5-5x faster than psycopg 3 for save+list round trips here). Driver errors become
StoreError naming the server, never the password. Schema: bot.store.pg_schema, applied at
open. Called through the Store protocol by bot.service, bot.posting, bot.schedule.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bot.channel_setup import ChannelSetup, setup_from_dict, setup_key, setup_to_dict
from bot.errors import StoreError
from bot.models import ChatRef, Paper, SavedPaper, Saver, Summary
from bot.store import ListChange, PostItem, PostRecord, PostStatus, pg_schema
from bot.store import _codec as codec

# How long a claim stays its owner's without a write. A post writes after every message,
# so only a process that died (or hangs) lets it run out; then another replica takes over.
DEFAULT_LEASE = timedelta(minutes=2)
# How old a paper write must be before `papers_since` hands it out (see there).
DEFAULT_SETTLE = timedelta(seconds=2)

_POST = "platform = $1 AND team = $2 AND channel = $3 AND day = $4 AND released_at IS NULL"


class PostgresStore:
    """Paperboy's state in one PostgreSQL database. Create with `await PostgresStore.open()`."""

    readonly = False
    exclusive = False  # other replicas write too: only stale claims are taken over

    def __init__(self, pool: asyncpg.Pool, where: str, lease: timedelta,
                 settle: timedelta = DEFAULT_SETTLE) -> None:
        self._pool = pool
        self.where = where  # "host:port/db", for messages: never the password
        self.lease = lease
        self.settle = settle
        self._closed = False

    @classmethod
    async def open(
        cls, url: str, *, password: str | None, lease: timedelta = DEFAULT_LEASE,
        upgrade: bool = True, max_connections: int = 10, settle: timedelta = DEFAULT_SETTLE,
    ) -> PostgresStore:
        """Connect (a pool of up to `max_connections`) and, with `upgrade`, apply pending
        migrations. Raises StoreError when the server cannot be reached or refuses."""
        where = describe_url(url)
        with _translated(where):
            pool = await asyncpg.create_pool(
                url, password=password or None, min_size=1, max_size=max_connections,
                init=_init_connection, timeout=10, command_timeout=60,
                server_settings={"application_name": f"paperboy {socket.gethostname()}"
                                                     f":{os.getpid()}"},
            )
        store = cls(pool, where, lease, settle)
        try:
            async with store._conn() as conn:
                if upgrade:
                    await pg_schema.upgrade(conn)
                elif await pg_schema.applied_versions(conn) != [
                        v for v, _, _ in pg_schema.MIGRATIONS]:
                    raise StoreError(f"the database at {where} needs `paperboy db upgrade`")
        except BaseException:
            await pool.close()
            raise
        return store

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._pool.close()

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        with _translated(self.where):
            async with self._pool.acquire() as conn:
                yield conn

    # --- papers (cache) -------------------------------------------------------------
    async def put_papers(self, papers: Iterable[Paper]) -> None:
        latest = {p.arxiv_id: p for p in papers}  # one row may be written once per statement
        if not latest:
            return
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO papers (arxiv_id, data) SELECT * FROM unnest($1::text[], "
                "$2::text[]::jsonb[]) ON CONFLICT (arxiv_id) DO UPDATE SET data = "
                "EXCLUDED.data, updated_at = now(), seq = nextval('papers_change_seq') "
                "WHERE papers.data IS DISTINCT FROM EXCLUDED.data",
                list(latest), [json.dumps(codec.paper_to_dict(p)) for p in latest.values()])

    async def get_papers(self, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
        async with self._conn() as conn:
            rows = await conn.fetch("SELECT data FROM papers WHERE arxiv_id = ANY($1::text[])",
                                    list(arxiv_ids))
        papers = (codec.paper_from_dict(row["data"]) for row in rows)
        return {paper.arxiv_id: paper for paper in papers}

    async def all_papers(self) -> list[Paper]:
        return [paper async for chunk in self.iter_papers() for paper in chunk]

    async def iter_papers(self, batch: int = 1000) -> AsyncIterator[list[Paper]]:
        # Keyset pages: no connection is held between pages, so a caller may write meanwhile.
        after = ""
        while True:
            async with self._conn() as conn:
                rows = await conn.fetch(
                    'SELECT arxiv_id, data FROM papers WHERE arxiv_id COLLATE "C" > $1 '
                    'ORDER BY arxiv_id COLLATE "C" LIMIT $2', after, max(1, batch))
            if not rows:
                return
            after = rows[-1]["arxiv_id"]
            yield [codec.paper_from_dict(row["data"]) for row in rows]

    async def papers_since(self, after: int, limit: int = 1000) -> tuple[list[Paper], int]:
        """Papers written (by any process) after change number `after`, oldest change first,
        at most `limit`; and the change number to pass next time."""
        async with self._conn() as conn:
            # Only writes older than `settle`: a write still committing may hold a lower
            # number than one already visible, and must not be stepped over.
            rows = await conn.fetch("SELECT seq, data FROM papers WHERE seq > $1 AND "
                                    "updated_at <= now() - $3::interval ORDER BY seq LIMIT $2",
                                    after, max(1, limit), self.settle)
        last = rows[-1]["seq"] if rows else after
        return [codec.paper_from_dict(row["data"]) for row in rows], int(last)

    # --- summaries (cache) ----------------------------------------------------------
    async def get_summaries(
        self, arxiv_ids: Iterable[str], summarizer: str, model: str | None
    ) -> dict[str, Summary]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT arxiv_id, data FROM summaries WHERE arxiv_id = ANY($1::text[]) "
                "AND summarizer = $2 AND model_key = $3",
                list(arxiv_ids), summarizer, _model_key(model))
        return {row["arxiv_id"]: codec.summary_from_dict(row["data"]) for row in rows}

    async def put_summary(self, arxiv_id: str, summarizer: str, summary: Summary) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO summaries VALUES ($1, $2, $3, $4) ON CONFLICT "
                "(arxiv_id, summarizer, model_key) DO UPDATE SET data = EXCLUDED.data",
                arxiv_id, summarizer, _model_key(summary.model), codec.summary_to_dict(summary))

    async def all_summaries(self) -> list[tuple[str, str, Summary]]:
        """Every cached summary: (arXiv id, summarizer, summary) (`paperboy db export`)."""
        async with self._conn() as conn:
            rows = await conn.fetch("SELECT arxiv_id, summarizer, data FROM summaries")
        return [(r["arxiv_id"], r["summarizer"], codec.summary_from_dict(r["data"])) for r in rows]

    # --- daily posts (team state) ---------------------------------------------------
    async def claim_post(
        self, channel: ChatRef, day: date, owner: str, now: datetime,
        items: Sequence[PostItem] = (),
    ) -> PostRecord | None:
        async with self._conn() as conn, conn.transaction():
            post_id = await conn.fetchval(
                "INSERT INTO posts (platform, team, channel, day, status, owner, claimed_at, "
                "lease_until) VALUES ($1, $2, $3, $4, 'claimed', $5, $6, now() + $7) "
                "ON CONFLICT (platform, team, channel, day) WHERE released_at IS NULL "
                "DO NOTHING RETURNING id", *_channel(channel), day, owner, now, self.lease)
            if post_id is None:
                return None
            await _upsert_items(conn, post_id, channel, items)
            await conn.execute("INSERT INTO teams VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               channel.platform, channel.team)
        return PostRecord(ChatRef(*_channel(channel)), day, "claimed", owner, now, tuple(items))

    async def get_post(self, channel: ChatRef, day: date) -> PostRecord | None:
        async with self._conn() as conn:
            row = await conn.fetchrow(
                "SELECT p.status, p.owner, p.claimed_at, coalesce(json_agg(json_build_array("
                "i.key, i.arxiv_id, i.message_id) ORDER BY i.id) FILTER (WHERE i.key IS NOT "
                "NULL), '[]') AS items FROM posts p LEFT JOIN post_items i ON i.post_id = p.id "
                f"WHERE p.{_POST.replace(' AND ', ' AND p.')} GROUP BY p.id",
                *_channel(channel), day)
        if row is None:
            return None
        items = tuple(PostItem(k, a, m) for k, a, m in row["items"])
        return PostRecord(ChatRef(*_channel(channel)), day, row["status"], row["owner"],
                          row["claimed_at"], items)

    async def record_items(
        self, channel: ChatRef, day: date, items: Sequence[PostItem],
        status: PostStatus | None = None,
    ) -> None:
        async with self._conn() as conn, conn.transaction():
            post_id = await self._renew(conn, channel, day, status)
            await _upsert_items(conn, post_id, channel, items)

    async def finish_post(self, channel: ChatRef, day: date, status: PostStatus) -> None:
        async with self._conn() as conn:
            await self._renew(conn, channel, day, status)

    async def drop_item(self, channel: ChatRef, day: date, key: str) -> None:
        async with self._conn() as conn, conn.transaction():
            post_id = await self._renew(conn, channel, day, None)
            await conn.execute("DELETE FROM post_items WHERE post_id = $1 AND key = $2",
                               post_id, key)

    async def release_post(self, channel: ChatRef, day: date) -> None:
        async with self._conn() as conn:
            await conn.execute(f"UPDATE posts SET released_at = now() WHERE {_POST}",
                               *_channel(channel), day)

    async def posted_ids(self, channel: ChatRef) -> frozenset[str]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT DISTINCT arxiv_id FROM post_items WHERE platform = $1 AND team = $2 "
                "AND channel = $3 AND arxiv_id IS NOT NULL", *_channel(channel))
        return frozenset(row["arxiv_id"] for row in rows)

    async def paper_for_message(self, message: ChatRef) -> str | None:
        if message.message is None:
            return None
        async with self._conn() as conn:
            return await conn.fetchval(  # type: ignore[no-any-return]
                "SELECT arxiv_id FROM post_items WHERE platform = $1 AND team = $2 AND "
                "channel = $3 AND message_id = $4 LIMIT 1", *_channel(message), message.message)

    async def take_over_post(
        self, channel: ChatRef, day: date, owner: str, previous_owner: str, *,
        owner_gone: bool = False,
    ) -> PostRecord | None:
        """Make `owner` the claimant of the open post `previous_owner` still holds, when its
        lease ran out (or `owner_gone`: the caller knows that process is dead). None when
        the lease is alive or another process took the post first."""
        async with self._conn() as conn:
            taken = await conn.fetchval(
                f"UPDATE posts SET owner = $5, lease_until = now() + $6 WHERE {_POST} "
                "AND status = 'claimed' AND owner = $7 AND (lease_until < now() OR $8) "
                "RETURNING id", *_channel(channel), day, owner, self.lease, previous_owner,
                owner_gone)
        return await self.get_post(channel, day) if taken is not None else None

    async def expired_claims(self, within: timedelta = timedelta(hours=1)
                             ) -> list[tuple[ChatRef, date]]:
        """Open posts whose owner stopped renewing the lease less than `within` ago: each
        waits for a takeover. Older ones are left alone, as a single bot's catch-up leaves a
        day missed by more than its grace: a late post is worse than none. (Measured on the
        database's clock, as the lease is.)"""
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT platform, team, channel, day FROM posts WHERE status = 'claimed' AND "
                "released_at IS NULL AND lease_until < now() AND "
                "lease_until > now() - $1::interval ORDER BY lease_until", within)
        return [(ChatRef(r["platform"], r["team"], r["channel"]), r["day"]) for r in rows]

    async def import_post(self, record: PostRecord, *, released: bool = False) -> bool:
        """Write a post record another store kept (`paperboy db import`), its status, owner
        and items as they were. False when it is already here, so an import can run again."""
        async with self._conn() as conn, conn.transaction():
            values = (*_channel(record.channel), record.day, record.status, record.owner,
                      record.claimed_at)
            if released:
                keys = sorted(f"{i.key}|{i.message_id or ''}" for i in record.items)
                if await conn.fetchval(
                        "SELECT true FROM posts p WHERE platform = $1 AND team = $2 AND channel "
                        "= $3 AND day = $4 AND released_at IS NOT NULL AND (SELECT "
                        "coalesce(array_agg(key || '|' || coalesce(message_id, '') ORDER BY "
                        "key || '|' || coalesce(message_id, '') COLLATE \"C\"), '{}') FROM "
                        "post_items WHERE post_id = p.id) = $5::text[] LIMIT 1",
                        *values[:4], sorted(keys, key=lambda k: k.encode())):
                    return False
                post_id = await conn.fetchval(
                    "INSERT INTO posts (platform, team, channel, day, status, owner, "
                    "claimed_at, lease_until, released_at) VALUES ($1, $2, $3, $4, $5, $6, "
                    "$7, now(), now()) RETURNING id", *values)
            else:
                post_id = await conn.fetchval(
                    "INSERT INTO posts (platform, team, channel, day, status, owner, "
                    "claimed_at, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7, now()) "
                    "ON CONFLICT (platform, team, channel, day) WHERE released_at IS NULL "
                    "DO NOTHING RETURNING id", *values)
                if post_id is None:
                    return False
            await _upsert_items(conn, post_id, record.channel, record.items)
            await conn.execute("INSERT INTO teams VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               record.channel.platform, record.channel.team)
        return True

    async def all_posts(self) -> list[tuple[PostRecord, bool]]:
        """Every post record, open and released (True), in claiming order (`db export`)."""
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT p.*, p.released_at IS NOT NULL AS released, coalesce(json_agg("
                "json_build_array(i.key, i.arxiv_id, i.message_id) ORDER BY i.id) FILTER (WHERE "
                "i.key IS NOT NULL), '[]') AS items FROM posts p LEFT JOIN post_items i ON "
                "i.post_id = p.id GROUP BY p.id ORDER BY p.id")
        return [(PostRecord(ChatRef(r["platform"], r["team"], r["channel"]), r["day"],
                            r["status"], r["owner"], r["claimed_at"],
                            tuple(PostItem(*item) for item in r["items"])), r["released"])
                for r in rows]

    async def _renew(self, conn: asyncpg.Connection, channel: ChatRef, day: date,
                     status: PostStatus | None) -> int:
        """Renew the open claim's lease (and set its status); its id, or StoreError."""
        post_id = await conn.fetchval(
            f"UPDATE posts SET lease_until = now() + $5, status = coalesce($6, status) "
            f"WHERE {_POST} RETURNING id", *_channel(channel), day, self.lease, status)
        if post_id is None:
            where = "/".join(_channel(channel))
            raise StoreError(f"no claim for {where} on {day}: claim_post first")
        return int(post_id)

    # --- team reading list (team state) ---------------------------------------------
    async def save(self, platform: str, team: str, paper: Paper, saver: Saver) -> ListChange:
        async with self._conn() as conn, conn.transaction():
            await conn.execute("INSERT INTO teams VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               platform, team)
            # The first save's snapshot stays; the row lock orders this save against an
            # unsave removing the entry at the same moment.
            snapshot = await conn.fetchval(
                "INSERT INTO saved VALUES ($1, $2, $3, $4) ON CONFLICT (platform, team, "
                "arxiv_id) DO UPDATE SET paper = saved.paper RETURNING paper",
                platform, team, paper.arxiv_id, codec.paper_to_dict(paper))
            added = await conn.fetchval(
                "INSERT INTO savers (platform, team, arxiv_id, user_id, saved_at, saver) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
                platform, team, paper.arxiv_id, saver.user, saver.saved_at,
                codec.saver_to_dict(saver))
            count = await _count_savers(conn, platform, team, paper.arxiv_id)
        return ListChange(codec.paper_from_dict(snapshot), bool(added), count)

    async def unsave(self, platform: str, team: str, arxiv_id: str, user: str) -> ListChange:
        async with self._conn() as conn, conn.transaction():
            snapshot = await conn.fetchval(
                "SELECT paper FROM saved WHERE platform = $1 AND team = $2 AND arxiv_id = $3 "
                "FOR UPDATE", platform, team, arxiv_id)
            if snapshot is None:
                return ListChange(None, False, 0)
            removed = await conn.fetchval(
                "DELETE FROM savers WHERE platform = $1 AND team = $2 AND arxiv_id = $3 AND "
                "user_id = $4 RETURNING true", platform, team, arxiv_id, user)
            count = await _count_savers(conn, platform, team, arxiv_id)
            if count == 0:
                await conn.execute("DELETE FROM saved WHERE platform = $1 AND team = $2 AND "
                                   "arxiv_id = $3", platform, team, arxiv_id)
        return ListChange(codec.paper_from_dict(snapshot), bool(removed), count)

    async def saved_papers(
        self, platform: str, team: str, *, limit: int | None = None
    ) -> list[SavedPaper]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT s.paper, json_agg(v.saver ORDER BY v.position) AS savers "
                "FROM saved s JOIN savers v USING (platform, team, arxiv_id) "
                "WHERE s.platform = $1 AND s.team = $2 GROUP BY s.arxiv_id, s.paper "
                'ORDER BY max(v.saved_at) DESC, s.arxiv_id COLLATE "C" DESC LIMIT $3',
                platform, team, limit)
        return [SavedPaper(codec.paper_from_dict(row["paper"]),
                           tuple(codec.saver_from_dict(s) for s in row["savers"]))
                for row in rows]

    async def count_saved(self, platform: str, team: str) -> int:
        async with self._conn() as conn:
            return int(await conn.fetchval(
                "SELECT count(*) FROM saved WHERE platform = $1 AND team = $2", platform, team))

    async def known_teams(self) -> list[tuple[str, str]]:
        async with self._conn() as conn:
            rows = await conn.fetch("SELECT platform, team FROM teams")
        return sorted((row["platform"], row["team"]) for row in rows)

    # --- small state ----------------------------------------------------------------
    async def get_meta(self, key: str) -> Any:
        async with self._conn() as conn:
            return await conn.fetchval("SELECT value FROM meta WHERE key = $1", key)

    async def set_meta(self, key: str, value: Any) -> None:
        if value is None:
            async with self._conn() as conn:
                await conn.execute("DELETE FROM meta WHERE key = $1", key)
            return
        text = json.dumps(value)  # TypeError for a value that is not JSON, before any write
        async with self._conn() as conn:
            await conn.execute("INSERT INTO meta VALUES ($1, $2::text::jsonb) ON CONFLICT (key) "
                               "DO UPDATE SET value = EXCLUDED.value", key, text)

    async def all_meta(self) -> dict[str, Any]:
        """Every meta value by key (`paperboy db export`)."""
        async with self._conn() as conn:
            return {r["key"]: r["value"] for r in await conn.fetch("SELECT * FROM meta")}

    # --- channels set up from chat (team state) -------------------------------------
    async def get_channel_setup(self, channel: ChatRef) -> ChannelSetup | None:
        async with self._conn() as conn:
            data = await conn.fetchval(
                "SELECT setup FROM channel_setups WHERE platform = $1 AND team = $2 AND "
                "channel = $3", *setup_key(channel))
        return setup_from_dict(data) if data is not None else None

    async def put_channel_setup(self, setup: ChannelSetup) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "INSERT INTO channel_setups VALUES ($1, $2, $3, $4) ON CONFLICT (platform, "
                "team, channel) DO UPDATE SET setup = EXCLUDED.setup",
                *setup_key(setup.channel), setup_to_dict(setup))

    async def delete_channel_setup(self, channel: ChatRef) -> bool:
        async with self._conn() as conn:
            gone = await conn.fetchval(
                "DELETE FROM channel_setups WHERE platform = $1 AND team = $2 AND channel = $3 "
                "RETURNING true", *setup_key(channel))
        return bool(gone)

    async def channel_setups(self) -> list[ChannelSetup]:
        async with self._conn() as conn:
            rows = await conn.fetch("SELECT setup FROM channel_setups")
        setups = [setup_from_dict(row["setup"]) for row in rows]
        return sorted(setups, key=lambda s: setup_key(s.channel))


async def upgrade_schema(url: str, *, password: str | None) -> list[tuple[int, str]]:
    """Apply the migrations `url`'s database lacks (`paperboy db upgrade`); those applied."""
    where = describe_url(url)
    with _translated(where):
        conn = await asyncpg.connect(url, password=password or None, timeout=10)
        try:
            return await pg_schema.upgrade(conn)
        finally:
            await conn.close()


def describe_url(url: str) -> str:
    """`host:port/database` of a connection URL: what messages name (never a password)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname or 'localhost'}{port}{parts.path or '/'}"


async def _init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns in and out as Python values.
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads,
                                  schema="pg_catalog")


@contextmanager
def _translated(where: str) -> Iterator[None]:
    """Driver and network failures as StoreError naming the server (asyncpg's messages
    never carry the password)."""
    try:
        yield
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StoreError(f"PostgreSQL at {where}: {exc}") from exc
    except (OSError, TimeoutError) as exc:
        raise StoreError(f"PostgreSQL at {where} cannot be reached: {exc}") from exc


async def _upsert_items(conn: asyncpg.Connection, post_id: int, channel: ChatRef,
                        items: Sequence[PostItem]) -> None:
    if not items:
        return
    latest = {item.key: item for item in items}
    await conn.execute(
        "INSERT INTO post_items (post_id, key, arxiv_id, message_id, platform, team, channel) "
        "SELECT $1, k, a, m, $5, $6, $7 FROM unnest($2::text[], $3::text[], $4::text[]) "
        "WITH ORDINALITY AS u(k, a, m, n) ORDER BY n ON CONFLICT (post_id, key) DO UPDATE "
        "SET arxiv_id = EXCLUDED.arxiv_id, message_id = EXCLUDED.message_id",
        post_id, list(latest), [i.arxiv_id for i in latest.values()],
        [i.message_id for i in latest.values()], *_channel(channel))


async def _count_savers(conn: asyncpg.Connection, platform: str, team: str,
                        arxiv_id: str) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM savers WHERE platform = $1 AND team = $2 AND arxiv_id = $3",
        platform, team, arxiv_id))


def _channel(channel: ChatRef) -> tuple[str, str, str]:
    return (channel.platform, channel.team, channel.channel)


def _model_key(model: str | None) -> str:
    return "" if model is None else "=" + model


__all__ = ["DEFAULT_LEASE", "PostgresStore", "describe_url", "upgrade_schema"]
