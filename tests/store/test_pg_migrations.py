"""The PostgreSQL schema is versioned: migrations run once, under a lock, and a newer schema
than the code knows is refused. The password comes from the environment only."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import StoreError
from bot.runtime import open_postgres
from bot.store import pg_schema
from bot.store.postgres import PostgresStore
from tests.fakes.postgres import Database


async def _versions(database: Database) -> list[int]:
    conn = await database.server.connect(database.name)
    try:
        return await pg_schema.applied_versions(conn)
    finally:
        await conn.close()


async def test_opening_an_empty_database_applies_every_migration(pg_database: Database) -> None:
    store = await PostgresStore.open(pg_database.url, password=pg_database.password)
    await store.close()
    assert await _versions(pg_database) == [v for v, _, _ in pg_schema.MIGRATIONS]


async def test_replicas_starting_together_apply_each_migration_once(
    pg_database: Database,
) -> None:
    stores = await asyncio.gather(*(
        PostgresStore.open(pg_database.url, password=pg_database.password) for _ in range(5)))
    for store in stores:
        await store.close()
    assert await _versions(pg_database) == [v for v, _, _ in pg_schema.MIGRATIONS]


async def test_a_second_upgrade_applies_nothing(pg_database: Database) -> None:
    conn = await pg_database.server.connect(pg_database.name)
    try:
        await pg_schema.upgrade(conn)
        assert await pg_schema.upgrade(conn) == []
    finally:
        await conn.close()


async def test_a_schema_newer_than_the_code_is_refused(pg_database: Database) -> None:
    conn = await pg_database.server.connect(pg_database.name)
    try:
        await pg_schema.upgrade(conn)
        await conn.execute("INSERT INTO schema_migrations VALUES ($1, 'from the future')",
                           pg_schema.LATEST + 1)
    finally:
        await conn.close()
    with pytest.raises(StoreError, match="newer than this Paperboy"):
        await PostgresStore.open(pg_database.url, password=pg_database.password)


async def test_without_upgrade_an_empty_database_is_refused(pg_database: Database) -> None:
    with pytest.raises(StoreError, match="paperboy db upgrade"):
        await PostgresStore.open(pg_database.url, password=pg_database.password, upgrade=False)


async def test_the_password_comes_from_the_environment(pg_database: Database) -> None:
    store = await open_postgres(pg_database.url,
                                {"PAPERBOY_DATABASE_PASSWORD": pg_database.password})
    try:
        assert await store.count_saved("slack", "T1") == 0
    finally:
        await store.close()


async def test_a_wrong_password_is_a_store_error(pg_database: Database) -> None:
    with pytest.raises(StoreError, match=r"PostgreSQL at 127\.0\.0\.1"):
        await open_postgres(pg_database.url, {"PAPERBOY_DATABASE_PASSWORD": "not-it-7f3"})


async def test_the_store_error_never_carries_the_password(pg_database: Database) -> None:
    with pytest.raises(StoreError) as info:
        await open_postgres(pg_database.url, {"PAPERBOY_DATABASE_PASSWORD": "not-it-7f3"})
    assert "not-it-7f3" not in str(info.value)


async def test_an_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(StoreError, match=r"^PostgreSQL at 127\.0\.0\.1:1/paperboy cannot"):
        await open_postgres("postgresql://paperboy@127.0.0.1:1/paperboy", {})
