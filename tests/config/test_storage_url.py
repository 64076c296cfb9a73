"""`[storage] url` puts team state on PostgreSQL; its password never comes from the file."""

from __future__ import annotations

from pathlib import Path

from bot.config import describe_config

from .conftest import error_of, load_text


def test_a_postgresql_url_is_taken(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[storage]\nurl = "postgresql://paperboy@db:5432/papers"\n')
    assert config.storage.url == "postgresql://paperboy@db:5432/papers"


def test_without_a_url_team_state_stays_in_the_data_directory(tmp_path: Path) -> None:
    assert load_text(tmp_path, "[storage]\npath = 'data'\n").storage.url == ""


def test_a_password_in_the_url_is_refused_with_where_it_belongs(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[storage]\nurl = "postgresql://paperboy:hunter2@db/papers"\n')
    assert "PAPERBOY_DATABASE_PASSWORD" in message


def test_the_refusal_does_not_repeat_the_password(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[storage]\nurl = "postgresql://paperboy:hunter2@db/papers"\n')
    assert "hunter2" not in message


def test_a_password_in_the_query_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[storage]\nurl = "postgresql://paperboy@db/p?password=x2"\n')
    assert "PAPERBOY_DATABASE_PASSWORD" in message


def test_a_url_of_another_database_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[storage]\nurl = "mysql://paperboy@db/papers"\n')
    assert message.startswith("storage.url: expected a PostgreSQL URL")


def test_config_check_says_whether_the_database_password_is_set(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[storage]\nurl = "postgresql://paperboy@db/papers"\n')
    text = describe_config(config, {"PAPERBOY_DATABASE_PASSWORD": "hunter2"})
    assert "#   PAPERBOY_DATABASE_PASSWORD: set (••••)" in text.splitlines()


def test_config_check_never_shows_the_database_password(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[storage]\nurl = "postgresql://paperboy@db/papers"\n')
    assert "hunter2" not in describe_config(config, {"PAPERBOY_DATABASE_PASSWORD": "hunter2"})
