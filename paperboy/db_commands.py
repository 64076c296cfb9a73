"""`paperboy db upgrade`, `db import` and `db export`: the PostgreSQL store's admin commands.

`db upgrade` applies the schema migrations the database lacks (a running bot also applies
them at start, under the same lock) and says which. `db import --from DATA_DIR` copies a
TinyDB bot's state into the database named by `[storage] url` and prints, per kind, how
many records it copied and how many were already there (bot.store.pg_import); `db export
--to DATA_DIR` is the way back (bot.store.pg_export). All need
`[storage] url`; the password comes from the environment (bot.runtime.database_password).
Called through paperboy.cli's handler table.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config
from bot.errors import ConfigError, StoreError
from bot.runtime import database_password, open_postgres

if TYPE_CHECKING:
    from bot.store.postgres import PostgresStore  # asyncpg only when a URL is configured


def _database_url(config: Config) -> str:
    if not config.storage.url:
        where = str(config.source_path) if config.source_path else "the built-in defaults"
        raise ConfigError(f"no database to use: set [storage] url in {where}",
                          key="storage.url")
    return config.storage.url


async def db_upgrade(config: Config) -> list[str]:
    """The lines `paperboy db upgrade` prints."""
    from bot.store import pg_schema
    from bot.store.postgres import describe_url, upgrade_schema

    url = _database_url(config)
    applied = await upgrade_schema(url, password=database_password(os.environ))
    where = describe_url(url)
    if not applied:
        return [f"{where}: schema up to date (version {pg_schema.LATEST})"]
    return [f"{where}: applied migration {v} ({name})" for v, name in applied]


async def db_import(config: Config, data_dir: Path) -> list[str]:
    """The lines `paperboy db import` prints."""
    from bot.store.pg_import import import_data_dir

    url = _database_url(config)
    data_dir = _existing_dir(data_dir)
    async with _postgres(url) as store:
        report = await import_data_dir(data_dir, store)
        return [f"from {data_dir} into {store.where}:", *report.lines()]


async def db_export(config: Config, data_dir: Path) -> list[str]:
    """The lines `paperboy db export` prints."""
    from bot.store.pg_export import export_to_data_dir

    url = _database_url(config)
    data_dir = _absolute(data_dir)
    async with _postgres(url) as store:
        report = await export_to_data_dir(store, data_dir)
        return [f"from {store.where} into {data_dir}:", *report.lines()]


@asynccontextmanager
async def _postgres(url: str) -> AsyncIterator[PostgresStore]:
    from bot.store.postgres import PostgresStore

    store = await open_postgres(url, os.environ)
    assert isinstance(store, PostgresStore)
    try:
        yield store
    finally:
        await store.close()


def _absolute(path: Path) -> Path:
    return path.absolute()  # messages name the directory unambiguously


def _existing_dir(path: Path) -> Path:
    if not path.is_dir():
        raise StoreError(f"{path}: no such data directory")
    return path.absolute()


def add_db_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                  upgrade: object, import_: object, export: object) -> None:
    """The `db` command group, for paperboy.parser."""
    db = sub.add_parser("db", parents=[common], help="PostgreSQL store tools")
    db_sub = db.add_subparsers(title="db commands", metavar="ACTION")
    up = db_sub.add_parser("upgrade", parents=[common],
                           help="apply the database schema migrations it lacks")
    up.set_defaults(handler=upgrade)
    imp = db_sub.add_parser(
        "import", parents=[common], help="copy a TinyDB data directory into the database",
        description="Copy lists, post ledger, channel setups, meta, papers and summaries "
        "from DATA_DIR (stop the bot using it first) into [storage] url. Safe to run again.")
    imp.add_argument("--from", dest="source", required=True, type=Path, metavar="DATA_DIR")
    imp.set_defaults(handler=import_)
    exp = db_sub.add_parser(
        "export", parents=[common], help="copy the database into a TinyDB data directory",
        description="Copy lists, post ledger, channel setups, meta, papers and summaries "
        "from [storage] url into DATA_DIR (created if missing; one that holds state is "
        "merged into, not wiped). Stop every replica first; then remove url and run one "
        "process on DATA_DIR. Safe to run again.")
    exp.add_argument("--to", dest="target", required=True, type=Path, metavar="DATA_DIR")
    exp.set_defaults(handler=export)
