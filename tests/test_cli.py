"""The `paperboy` command's argument handling and exit status, in process via `paperboy.cli.main`.

Only what needs no upstream: usage errors (exit 2, one line), `config check` (exit 0, secrets
masked) and a bad config (exit 2). What needs Hugging Face runs the installed command
against a fake in tests/scenarios/test_digest_cli.py. Each test runs in an empty temporary
directory, so no ./config.toml of the developer's is read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paperboy.cli import main

TOKEN = "xoxb-2026061200-0123456789-scenarioSecretValue"


pytestmark = pytest.mark.usefixtures("cli_workdir")


def _write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- usage errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-13-01", "12/06/2026", "tomorrow"])
def test_bad_date_is_a_usage_error(text: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["digest", "--date", text])
    assert exit_.value.code == 2


def test_bad_date_error_quotes_the_value_and_the_expected_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["digest", "--date", "2026-13-01"])
    assert "'2026-13-01' is not a date like 2026-05-12" in capsys.readouterr().err


@pytest.mark.parametrize("top", ["0", "-3"])
def test_top_below_1_exits_2(top: str) -> None:
    assert main(["digest", "--date", "2026-06-12", "--top", top]) == 2


def test_top_0_error_is_one_line_naming_the_bound(capsys: pytest.CaptureFixture[str]) -> None:
    main(["digest", "--date", "2026-06-12", "--top", "0"])
    assert capsys.readouterr().err == "paperboy: --top must be 1 or more\n"


def test_top_that_is_not_a_number_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["digest", "--top", "five"])
    assert exit_.value.code == 2


def test_unknown_channel_exits_2() -> None:
    assert main(["digest", "--date", "2026-06-12", "--channel", "nope"]) == 2


def test_no_command_exits_2() -> None:
    assert main([]) == 2


def test_no_command_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    main([])
    assert capsys.readouterr().out.startswith("usage: paperboy")


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    assert main(["--config", str(tmp_path / "absent.toml"), "config", "check"]) == 2


# --- config check ---------------------------------------------------------------------------


def test_config_check_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    assert main(["config", "check"]) == 0


def test_config_check_says_the_slack_token_is_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    main(["config", "check"])
    assert "#   SLACK_BOT_TOKEN: set (••••)" in capsys.readouterr().out.splitlines()


def test_config_check_never_prints_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    main(["--debug", "config", "check"])
    captured = capsys.readouterr()
    assert "xoxb-2026" not in captured.out + captured.err


def test_config_check_ends_with_config_ok(capsys: pytest.CaptureFixture[str]) -> None:
    main(["config", "check"])
    assert capsys.readouterr().out.splitlines()[-1] == "config OK"


def test_config_check_reads_the_file_given_with_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, '[[channels]]\nname = "reading-group"\n')
    main(["--config", str(config), "config", "check"])
    assert 'name = "reading-group"' in capsys.readouterr().out.splitlines()


def test_config_with_an_unknown_key_exits_2(tmp_path: Path) -> None:
    config = _write_config(tmp_path, '[storage]\npath = "data"\nsize = 3\n')
    assert main(["--config", str(config), "config", "check"]) == 2


def test_config_with_an_unknown_key_is_one_line_naming_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, '[storage]\npath = "data"\nsize = 3\n')
    main(["--config", str(config), "config", "check"])
    assert capsys.readouterr().err.splitlines() == [
        f"paperboy: {config}: storage.size: unknown key 'size' "
        "(known keys: path, url, lease_seconds)"
    ]


def test_bad_config_makes_digest_exit_2_too(tmp_path: Path) -> None:
    _write_config(tmp_path, '[sources.huggingface]\nbase_ulr = "http://127.0.0.1:9"\n')
    assert main(["digest", "--date", "2026-06-12"]) == 2
