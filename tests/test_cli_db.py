"""`paperboy db upgrade`, `db import --from DATA_DIR` and `db export --to DATA_DIR` against a
real PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import pg_schema
from bot.store.tinydb import TinyDBStore
from paperboy.cli import main
from tests.fakes.postgres import Database
from tests.store._factories import paper, saver

HOLDER = Path(__file__).parent / "store" / "_holder.py"


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


def test_export_prints_what_it_copied_and_copies_nothing_twice(
    tmp_path: Path, config: Path, pg_database_sync: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def fill() -> None:
        store = await TinyDBStore.open(tmp_path / "old")
        await store.save("slack", "T1", paper(), saver("U1"))
        await store.set_meta("backfill", {"n": 1})
        await store.close()

    asyncio.run(fill())
    main(["db", "import", "--from", str(tmp_path / "old"), "--config", str(config)])
    capsys.readouterr()
    where = pg_database_sync.url.split("@", 1)[1]
    back = tmp_path / "back"
    assert main(["db", "export", "--to", str(back), "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"from {where} into {back}:", "created the data directory",
        "list saves: 1 exported, 0 already there", "meta values: 1 exported, 0 already there"]
    assert main(["db", "export", "--to", str(back), "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "list saves: 0 exported, 1 already there", "meta values: 0 exported, 1 already there"]


def test_export_into_a_directory_a_bot_writes_fails_in_one_line_naming_it(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data"
    with subprocess.Popen([sys.executable, str(HOLDER), str(data), "hold"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as bot:
        try:
            assert bot.stdout is not None
            pid = int(bot.stdout.readline().split()[1])  # "ready <pid>": it holds the lock
            assert main(["db", "export", "--to", str(data), "--config", str(config)]) == 1
        finally:
            bot.kill()
    err = capsys.readouterr().err
    assert (err.count("\n"), f"in use by paperboy (pid {pid}: _holder.py" in err) == (1, True)


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
