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

import httpx

from bot.config import Config
from bot.errors import StoreLocked
from bot.sources.arxiv import ArxivClient
from bot.sources.http import make_client
from bot.sources.huggingface import HuggingFaceClient
from bot.store import Store
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

    With `readonly_if_locked`, a data directory held by a running bot is opened read-only
    (the caller then skips cache writes) instead of failing.
    """
    env = os.environ if env is None else env
    data_dir = config.storage.path
    try:
        store: Store = await TinyDBStore.open(data_dir)
    except StoreLocked as exc:
        if not readonly_if_locked:
            raise
        log.info("%s; reading it without writing caches", exc)
        store = await TinyDBStore.open(data_dir, readonly=True)
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
