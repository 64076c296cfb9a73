"""`paperboy list` and `search in:saved` without `--team`: the one team this bot serves.

In process via `paperboy.cli.main`, on a real TinyDB data directory whose team lists are
written through the store first. No upstream is asked: `list` reads the store only.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.models import Paper, Saver
from bot.search.index import PaperIndex
from bot.store.tinydb import TinyDBStore
from paperboy.cli import main

SLACK_CHANNEL = '[[channels]]\nname = "papers"\nplatform = "slack"\nid = "C0123456789"\n'


pytestmark = pytest.mark.usefixtures("cli_workdir")


def _config(tmp_path: Path, channels: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "data"}"\n\n{channels}', "utf-8")
    return str(path)


def _save(tmp_path: Path, platform: str, team: str, arxiv_id: str) -> None:
    """Save a paper to a team's list, and index it as the bot does every paper it sees."""
    paper = Paper(arxiv_id, f"Paper {arxiv_id}", "We study things.", ("Ana Lee",))

    async def save() -> None:
        store = await TinyDBStore.open(tmp_path / "data")
        try:
            await store.save(platform, team, paper, Saver("U1", datetime.now(UTC)))
        finally:
            await store.close()

    asyncio.run(save())
    index = PaperIndex.open(tmp_path / "data" / "index")
    index.add([paper])
    index.release()


def _listed(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main([*argv, "list", "--format", "json"]) == 0
    return [row["id"] for row in json.loads(capsys.readouterr().out)]


def test_list_shows_the_slack_team_this_bot_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, "slack", "T1", "2606.00001")
    config = _config(tmp_path, SLACK_CHANNEL)
    assert _listed(capsys, "--config", config) == ["2606.00001"]


def test_list_with_several_teams_names_them_and_asks_for_team(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, "slack", "T1", "2606.00001")
    config = _config(tmp_path, SLACK_CHANNEL + '\n[[channels]]\nname = "console"\n')
    assert main(["--config", config, "list"]) == 2
    assert capsys.readouterr().err == (
        "paperboy: this bot serves several teams (console:console, slack:T1); "
        "choose one with --team\n"
    )


def test_list_json_gives_each_saved_paper_its_tldr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, "slack", "T1", "2606.00001")
    config = _config(tmp_path, SLACK_CHANNEL)
    assert main(["--config", config, "list", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["summary"] == "We study things."


def test_search_in_saved_reads_the_one_team_this_bot_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, "slack", "T1", "2606.00001")
    _save(tmp_path, "console", "console", "2606.00002")  # a list this bot does not serve
    config = _config(tmp_path, SLACK_CHANNEL)
    assert main(["--config", config, "search", "--json", "in:saved", "things"]) == 0
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == ["2606.00001"]


def test_search_in_saved_with_several_teams_asks_for_team(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _save(tmp_path, "slack", "T1", "2606.00001")
    config = _config(tmp_path, SLACK_CHANNEL + '\n[[channels]]\nname = "console"\n')
    assert main(["--config", config, "search", "in:saved", "things"]) == 2
    assert "choose one with --team" in capsys.readouterr().err
