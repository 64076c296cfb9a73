"""The installed `paperboy` with a broken search index: it heals instead of refusing.

Before, a crash while the index was first created left a directory that every command
refused ("data/index is not empty and is not a Paperboy search index"). Now `search` and
`index rebuild` move it aside and rebuild it from the paper cache. Hugging Face refuses
connections here (nothing listens on its port), so the answer is the local index's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.search import INDEX_DIR
from bot.store.tinydb import TinyDBStore
from tests.scenarios.conftest import Run, config_text, run_paperboy
from tests.search.conftest import DIT, SMALL_SET, broken_copies


@pytest.fixture
async def broken_data_dir(tmp_path: Path, refused_url: str) -> Path:
    """A data directory whose paper cache holds SMALL_SET and whose index is garbage."""
    data_dir = tmp_path / "data"
    store = await TinyDBStore.open(data_dir)
    try:
        await store.put_papers(SMALL_SET)
    finally:
        await store.close()
    _break_index(data_dir / INDEX_DIR)
    (tmp_path / "config.toml").write_text(
        config_text(hf_url=refused_url, data_dir=data_dir), "utf-8"
    )
    return data_dir


def _break_index(index_dir: Path) -> None:
    index_dir.mkdir()
    (index_dir / "meta.json").write_text('{"segments": [trunc')
    (index_dir / ".managed.json").write_bytes(b"")


async def paperboy(tmp_path: Path, *args: str) -> Run:
    return await run_paperboy("--config", str(tmp_path / "config.toml"), *args, cwd=tmp_path)


async def test_search_with_a_broken_index_answers_from_the_rebuilt_one(
    tmp_path: Path, broken_data_dir: Path
) -> None:
    run = await paperboy(tmp_path, "search", "diffusion", "--json")
    assert [row["id"] for row in run.json()][:1] == [DIT.arxiv_id]


async def test_search_with_a_broken_index_says_hugging_face_failed(
    tmp_path: Path, broken_data_dir: Path
) -> None:
    run = await paperboy(tmp_path, "search", "diffusion", "--json")
    assert "local results only" in run.stderr


async def test_index_rebuild_with_a_broken_index_succeeds(
    tmp_path: Path, broken_data_dir: Path
) -> None:
    run = await paperboy(tmp_path, "index", "rebuild")
    assert run.stdout.strip() == f"search index rebuilt: {len(SMALL_SET)} papers"


async def test_the_broken_index_is_kept_beside_the_new_one(
    tmp_path: Path, broken_data_dir: Path
) -> None:
    await paperboy(tmp_path, "index", "rebuild")
    assert len(broken_copies(broken_data_dir)) == 1
