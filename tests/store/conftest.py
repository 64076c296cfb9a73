"""Fixtures the store tests share: a data directory path under tmp_path (not created: the
store makes it on open) and `writer`, the TinyDB store open on it, closed after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.tinydb import TinyDBStore


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def writer(data_dir: Path) -> AsyncIterator[TinyDBStore]:
    store = await TinyDBStore.open(data_dir)
    yield store
    await store.close()
