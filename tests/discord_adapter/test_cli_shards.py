"""`paperboy run` with `[discord] shard_count` / `shard_ids`: a process asking for a shard
that another process runs is refused before it opens the gateway, with exit status 2 and a
line naming the shard."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.discord.adapter import Shards
from paperboy.cli import main
from paperboy.shards import hold_shards
from tests.fakes.discord_api import TOKEN, FakeDiscord
from tests.fakes.postgres import Database


def _config(tmp_path: Path, database: Database, shard_ids: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "data"}"\nurl = "{database.url}"\n\n'
                      f"[discord]\nshard_count = 2\nshard_ids = {shard_ids}\n")
    return config


async def test_run_refuses_a_shard_another_process_runs(
    tmp_path: Path, pg_database: Database, fake_discord: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("PAPERBOY_DATABASE_PASSWORD", pg_database.password)
    config = _config(tmp_path, pg_database, "[0]")
    async with hold_shards(pg_database.url, pg_database.password, Shards(2, (0,))):
        status = await asyncio.to_thread(main, ["run", "--config", str(config)])
    assert (status, fake_discord.identifies) == (2, [])
    assert "shard 0 of 2 is run by another process" in capsys.readouterr().err


async def test_run_refuses_a_second_unsharded_gateway_on_one_database(
    tmp_path: Path, pg_database: Database, fake_discord: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("PAPERBOY_DATABASE_PASSWORD", pg_database.password)
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "data"}"\nurl = "{pg_database.url}"\n')
    async with hold_shards(pg_database.url, pg_database.password, Shards(1, (0,)),
                           unsharded=True):
        status = await asyncio.to_thread(main, ["run", "--config", str(config)])
    assert (status, fake_discord.identifies) == (2, [])
    assert "Discord gateway is run by another process" in capsys.readouterr().err


async def test_run_with_tinydb_refuses_to_run_only_some_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "data"}"\n\n'
                      "[discord]\nshard_count = 2\nshard_ids = [1]\n")
    status = await asyncio.to_thread(main, ["run", "--config", str(config)])
    assert status == 2
    assert "needs a database the other processes share" in capsys.readouterr().err
