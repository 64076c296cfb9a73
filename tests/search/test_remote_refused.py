"""Hugging Face search inside the interactive budget: a remote that refuses is asked once,
so the answer comes from the local index at local speed; a dropped connection is retried.

Real sockets on loopback: a port nobody listens on (the kernel refuses), and a server that
accepts and hangs up without answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
import stamina

from bot.errors import UpstreamError
from bot.search.index import PaperIndex
from bot.search.searcher import Searcher
from bot.sources.http import DEFAULT_RETRY
from bot.sources.huggingface import HuggingFaceClient
from bot.store.memory import MemoryStore
from tests.search.conftest import SPECULATIVE


@pytest.fixture(autouse=True)
def _policy_attempts() -> Iterator[None]:
    # No real backoff waits, but each policy's own attempt bound holds (cap=True).
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


@pytest_asyncio.fixture
async def hanging_up_url() -> AsyncIterator[str]:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_refused_search_is_asked_once(refused_url: str, http: httpx.AsyncClient) -> None:
    hf = HuggingFaceClient(http, base_url=refused_url)
    with pytest.raises(UpstreamError):
        await hf.search("speculative decoding")
    assert hf.requests == 1


async def test_search_on_a_dropped_connection_is_retried_once(
    hanging_up_url: str, http: httpx.AsyncClient
) -> None:
    hf = HuggingFaceClient(http, base_url=hanging_up_url)
    with pytest.raises(UpstreamError):
        await hf.search("speculative decoding")
    assert hf.requests == 2


async def test_daily_papers_still_retry_a_refused_connection(
    refused_url: str, http: httpx.AsyncClient
) -> None:
    hf = HuggingFaceClient(http, base_url=refused_url)
    with pytest.raises(UpstreamError):
        await hf.window(month="2024-01")
    assert hf.requests == DEFAULT_RETRY.attempts


async def test_search_with_a_refusing_remote_answers_from_the_local_index(
    refused_url: str, http: httpx.AsyncClient
) -> None:
    index = PaperIndex.in_memory()
    index.add([SPECULATIVE])
    searcher = Searcher(index, MemoryStore(), HuggingFaceClient(http, base_url=refused_url),
                        None)
    results = await searcher.search("speculative")
    assert [hit.paper.arxiv_id for hit in results.hits] == [SPECULATIVE.arxiv_id]


async def test_a_refusing_remote_is_reported_as_failed_not_slow(
    refused_url: str, http: httpx.AsyncClient
) -> None:
    searcher = Searcher(PaperIndex.in_memory(), MemoryStore(),
                        HuggingFaceClient(http, base_url=refused_url), None)
    results = await searcher.search("speculative")
    assert results.remote_status == "error"
