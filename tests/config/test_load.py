"""Finding and reading config.toml: which file, `$PAPERBOY_DATA`, and files that are not
UTF-8 TOML (each one ConfigError naming the file and, for syntax, the line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import find_config_path, load_config
from bot.errors import ConfigError
from tests.config.conftest import error_of, load_text, write

# --- finding the file -----------------------------------------------------------------------


def test_explicit_path_wins_over_environment_and_working_directory(tmp_path: Path) -> None:
    explicit = write(tmp_path, "", "explicit.toml")
    named = write(tmp_path, "", "named.toml")
    write(tmp_path, "")
    found = find_config_path(explicit, {"PAPERBOY_CONFIG": str(named)}, tmp_path)
    assert found == explicit


def test_environment_path_wins_over_working_directory(tmp_path: Path) -> None:
    named = write(tmp_path, "", "named.toml")
    write(tmp_path, "")
    assert find_config_path(None, {"PAPERBOY_CONFIG": str(named)}, tmp_path) == named


def test_config_toml_in_working_directory_is_found(tmp_path: Path) -> None:
    local = write(tmp_path, "")
    assert find_config_path(None, {}, tmp_path) == local


def test_no_file_anywhere_means_built_in_defaults(tmp_path: Path) -> None:
    assert find_config_path(None, {}, tmp_path) is None


def test_blank_environment_path_is_ignored(tmp_path: Path) -> None:
    assert find_config_path(None, {"PAPERBOY_CONFIG": "  "}, tmp_path) is None


def test_relative_explicit_path_is_taken_against_working_directory(tmp_path: Path) -> None:
    write(tmp_path, "", "mine.toml")
    assert find_config_path(Path("mine.toml"), {}, tmp_path) == tmp_path / "mine.toml"


def test_missing_explicit_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config_path(Path("nope.toml"), {}, tmp_path)
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: no such file (given with --config)"


def test_missing_environment_file_is_an_error_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config_path(None, {"PAPERBOY_CONFIG": str(tmp_path / "gone.toml")}, tmp_path)
    assert str(info.value) == f"{tmp_path / 'gone.toml'}: no such file (named by $PAPERBOY_CONFIG)"


def test_explicit_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        find_config_path(tmp_path, {}, tmp_path)


def test_missing_file_passed_to_load_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml", {})


# --- storage and the environment ------------------------------------------------------------


def test_relative_storage_path_is_beside_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    (tmp_path / "etc").mkdir()
    path = write(tmp_path / "etc", '[storage]\npath = "state/paperboy"\n')
    assert load_config(path, {}).storage.path == tmp_path / "etc" / "state" / "paperboy"


def test_default_storage_path_is_beside_the_config_file(tmp_path: Path) -> None:
    assert load_text(tmp_path, "").storage.path == tmp_path / "data"


def test_absolute_storage_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "var" / "paperboy"
    config = load_text(tmp_path, f'[storage]\npath = "{target}"\n')
    assert config.storage.path == target


def test_storage_path_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_text(tmp_path, '[storage]\npath = "~/paperboy"\n')
    assert config.storage.path == tmp_path / "home" / "paperboy"


def test_paperboy_data_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[storage]\npath = "from-file"\n')
    config = load_config(path, {"PAPERBOY_DATA": str(tmp_path / "from-env")})
    assert config.storage.path == tmp_path / "from-env"


def test_paperboy_data_applies_without_a_file(tmp_path: Path) -> None:
    config = load_config(None, {"PAPERBOY_DATA": str(tmp_path / "d")})
    assert config.storage.path == tmp_path / "d"


def test_relative_paperboy_data_is_taken_against_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None, {"PAPERBOY_DATA": "d"}).storage.path == tmp_path / "d"


def test_blank_paperboy_data_is_ignored(tmp_path: Path) -> None:
    assert (
        load_text(tmp_path, "").storage.path
        == load_config(tmp_path / "config.toml", {"PAPERBOY_DATA": ""}).storage.path
    )


def test_environment_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBOY_DATA", str(tmp_path / "d"))
    assert load_config(None).storage.path == tmp_path / "d"


# --- reading the file -----------------------------------------------------------------------


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf[summaries]\nconcurrency = 2\n")
    assert load_config(path, {}).summaries.concurrency == 2


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[summaries]\nmodel = "x"\nconcurrency =\n')
    assert message == "line 3, column 14: invalid TOML: Invalid value"


def test_unquoted_time_syntax_error_suggests_quotes(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[[channels]]\ntime = 09:00\n")
    assert message.endswith('(write the time in quotes: time = "09:00")')


def test_duplicate_toml_key_is_a_syntax_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[summaries]\nconcurrency = 1\n\n[summaries]\n")
    assert message.startswith("line 4, column ")


def test_file_that_is_not_utf8_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[storage]\npath = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, {})
