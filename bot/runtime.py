"""Wire configuration into live parts: the HTTP client, store, sources and summariser.

One place builds them so that the CLI commands and the running bot share the same set-up
and the same clean-up. Reads the LLM key from the environment variable the config names
(never from the file). Does not decide what to do with the parts — bot.cli and
bot.service do.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from bot.config import Config
from bot.config.schema import ENV_DATABASE_PASSWORD
from bot.errors import StoreError, StoreLocked
from bot.sources.arxiv import ArxivClient
from bot.sources.http import make_client
from bot.sources.huggingface import HuggingFaceClient
from bot.store import DataDirReadOnly, Store
from bot.store.tinydb import TinyDBStore
from bot.summarize import Summarizer

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    http: httpx.AsyncClient
    store: Store
    hf: HuggingFaceClient
    arxiv: ArxivClient
    summarizer: Summarizer


@asynccontextmanager
async def open_runtime(
    config: Config,
    *,
    env: Mapping[str, str] | None = None,
    readonly_if_locked: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Runtime]:
    """Open everything `config` describes; close it all on exit.

    With `readonly_if_locked` (the commands that only read), a data directory held by a
    running bot or not writable is opened read-only (the caller then skips cache writes)
    instead of failing, and one that does not exist is created only if a cache is written.
    Writers get StoreLocked or DataDirReadOnly, one line naming the directory.
    """
    env = os.environ if env is None else env
    if config.storage.url:
        store = await open_postgres(config.storage.url, env,
                                    lease=timedelta(seconds=config.storage.lease_seconds))
    else:
        store = await _open_store(config.storage.path, readonly_if_locked=readonly_if_locked)
    timeout = max(config.huggingface.timeout, config.arxiv.timeout)
    http = make_client(timeout=timeout, transport=transport)
    try:
        summaries = config.summaries
        api_key = env.get(summaries.api_key_env) if summaries.llm_enabled else None
        runtime = Runtime(
            config=config,
            http=http,
            store=store,
            hf=HuggingFaceClient(http, base_url=config.huggingface.base_url,
                                  timeout=config.huggingface.timeout),
            arxiv=ArxivClient(
                http, base_url=config.arxiv.base_url, rss_url=config.arxiv.rss_url,
                timeout=config.arxiv.timeout,
            ),
            summarizer=Summarizer(
                store,
                llm=summaries if summaries.llm_enabled else None,
                http=http,
                api_key=api_key,
            ),
        )
        yield runtime
    finally:
        await http.aclose()
        await store.close()


async def open_postgres(url: str, env: Mapping[str, str], *, upgrade: bool = True,
                        lease: timedelta | None = None) -> Store:
    """The shared PostgreSQL store; the password only from the environment. Imported here,
    not at the top: asyncpg is the `postgres` extra, needed only by those who use it."""
    try:
        from bot.store.postgres import PostgresStore
    except ImportError as exc:
        raise StoreError("[storage] url needs the PostgreSQL driver: "
                         "pip install 'paperboy[postgres]'") from exc
    return await PostgresStore.open(url, password=database_password(env), upgrade=upgrade,
                                    **({"lease": lease} if lease is not None else {}))


def database_password(env: Mapping[str, str]) -> str | None:
    """The PostgreSQL password: $PAPERBOY_DATABASE_PASSWORD, else libpq's $PGPASSWORD."""
    return env.get(ENV_DATABASE_PASSWORD) or env.get("PGPASSWORD") or None


async def _open_store(data_dir: Path, *, readonly_if_locked: bool) -> Store:
    try:
        # A reader must not leave a directory (or a lock file) behind where there was none,
        # unless it writes a cache there (digest keeps its summaries).
        return await TinyDBStore.open(data_dir, create_on_write=readonly_if_locked)
    except (StoreLocked, DataDirReadOnly) as exc:
        if not readonly_if_locked:
            raise
        log.info("%s; reading it without writing caches", exc)
    return await TinyDBStore.open(data_dir, readonly=True)
