"""`paperboy run` with Slack's OAuth settings half done: exit status 2 and one line saying
what to set, never a secret's value."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from paperboy.cli import main
from tests.fakes.slack_oauth import CLIENT_ID


async def test_run_with_client_secret_but_no_client_id_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "a-secret-value")
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "data"}"\n')
    status = await asyncio.to_thread(main, ["run", "--config", str(path)])
    err = capsys.readouterr().err
    assert (status, "client_id" in err, "a-secret-value" in err) == (2, True, False)


async def test_run_with_client_id_but_no_database_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "a-secret-value")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "another-secret")
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "data"}"\n\n'
                    f'[slack]\nclient_id = "{CLIENT_ID}"\n')
    status = await asyncio.to_thread(main, ["run", "--config", str(path)])
    err = capsys.readouterr().err
    assert (status, "[storage] url" in err) == (2, True)
    assert "a-secret-value" not in err and "another-secret" not in err
