"""`paperboy db upgrade` and `paperboy db import --from DATA_DIR` against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.store import pg_schema
from bot.store.tinydb import TinyDBStore
from paperboy.cli import main
from tests.fakes.postgres import Database
from tests.store._factories import paper, saver


@pytest.fixture
def config(tmp_path: Path, pg_database_sync: Database, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "local"\nurl = "{pg_database_sync.url}"\n')
    monkeypatch.setenv("PAPERBOY_DATABASE_PASSWORD", pg_database_sync.password)
    return path


def test_upgrade_names_the_migrations_it_applied(config: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert "applied migration 1 (" in capsys.readouterr().out


def test_upgrade_again_says_the_schema_is_up_to_date(
    config: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    main(["db", "upgrade", "--config", str(config)])
    capsys.readouterr()
    main(["db", "upgrade", "--config", str(config)])
    assert f"schema up to date (version {pg_schema.LATEST})" in capsys.readouterr().out


def test_import_prints_what_it_moved(tmp_path: Path, config: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    async def fill() -> None:
        store = await TinyDBStore.open(tmp_path / "old")
        await store.save("slack", "T1", paper(), saver("U1"))
        await store.close()

    asyncio.run(fill())
    assert main(["db", "import", "--from", str(tmp_path / "old"), "--config", str(config)]) == 0
    assert "list saves: 1 imported, 0 already there" in capsys.readouterr().out.splitlines()


def test_without_a_database_url_db_commands_are_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[storage]\npath = "data"\n')
    assert main(["db", "upgrade", "--config", str(path)]) == 2
    assert "set [storage] url" in capsys.readouterr().err


def test_a_wrong_password_fails_in_one_line_without_it(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PAPERBOY_DATABASE_PASSWORD", "wrong-5e1c")
    assert main(["db", "upgrade", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert (err.count("\n"), "wrong-5e1c" in err) == (1, False)
