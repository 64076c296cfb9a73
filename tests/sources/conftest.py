"""Setup for the source tests: a real client and the fake upstreams."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.sources.http import make_client
from tests.fakes.arxiv_server import arxiv_server  # noqa: F401  (a fixture)
from tests.fakes.hf_server import hf_server  # noqa: F401  (a fixture)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(timeout=5.0) as client:
        yield client
