"""`paperboy slack forget TEAM`: an admin deletes one workspace's tokens; its team list
stays unless `--list` is given."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.models import Paper, Saver
from bot.store.postgres import PostgresStore
from paperboy.cli import main
from tests.fakes.slack_oauth import CLIENT_ID

from .conftest import LAB, OBS, Deployment

INSTALLED = "SELECT DISTINCT team_id FROM slack_installations ORDER BY team_id"
PAPER = Paper("2606.01234", "A paper", "Its abstract.", ("Ana Lee",))


@pytest.fixture
def config(tmp_path: Path, deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPERBOY_DATABASE_PASSWORD", deployment.database.password)
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "data"}"\nurl = "{deployment.database.url}"'
                    f'\n\n[slack]\nclient_id = "{CLIENT_ID}"\n')
    return path


async def _forget(config: Path, *args: str) -> int:
    return await asyncio.to_thread(main, ["slack", "forget", *args, "--config", str(config)])


async def _save_in_each_workspace(deployment: Deployment) -> PostgresStore:
    store = await PostgresStore.open(deployment.database.url,
                                     password=deployment.database.password)
    for team in (LAB, OBS):
        await store.save("slack", team, PAPER, Saver("U0ANA", datetime.now(UTC)))
    return store


async def test_forget_deletes_only_that_workspace_tokens(
    deployment: Deployment, config: Path
) -> None:
    await deployment.install(LAB)
    await deployment.install(OBS)
    assert await _forget(config, LAB) == 0
    assert [r["team_id"] for r in await deployment.rows(INSTALLED)] == [OBS]


async def test_forget_keeps_the_team_list_and_says_so(
    deployment: Deployment, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await deployment.install(LAB)
    store = await _save_in_each_workspace(deployment)
    await _forget(config, LAB)
    kept = await store.saved_papers("slack", LAB)
    await store.close()
    assert (len(kept), capsys.readouterr().out.splitlines()) == (1, [
        f"slack:{LAB}: tokens deleted",
        f"slack:{LAB}: team list kept (add --list to delete it too)"])


async def test_forget_with_list_deletes_that_workspace_list_only(
    deployment: Deployment, config: Path
) -> None:
    await deployment.install(LAB)
    store = await _save_in_each_workspace(deployment)
    await _forget(config, LAB, "--list")
    lists = [len(await store.saved_papers("slack", team)) for team in (LAB, OBS)]
    await store.close()
    assert lists == [0, 1]


async def test_forget_without_client_id_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "data"}"\n')
    assert await _forget(path, LAB) == 2
    assert "client_id" in capsys.readouterr().err

