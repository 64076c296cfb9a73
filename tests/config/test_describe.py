"""`paperboy config check`: the settings in effect as loadable TOML, secrets masked, and the
adapters `paperboy run` would start."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import describe_config, load_config, platforms_from_env
from bot.errors import ConfigError
from tests.config.conftest import EXAMPLE, SLACK_TOKEN, load_text, write

# --- describe_config and platforms ----------------------------------------------------------

_ALL_SECRETS = {
    "OPENAI_API_KEY": "sk-live-openai-0123456789",
    "SLACK_BOT_TOKEN": SLACK_TOKEN,
    "SLACK_APP_TOKEN": "xapp-1-A0-0123-appsecretvalue",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "DISCORD_TOKEN": "MTA4.discord-secret.value-xyz",
}


@pytest.mark.parametrize("name", sorted(_ALL_SECRETS))
def test_description_never_shows_a_secret_value(name: str) -> None:
    text = describe_config(load_config(EXAMPLE, {}), _ALL_SECRETS)
    assert _ALL_SECRETS[name] not in text


@pytest.mark.parametrize("name", sorted(_ALL_SECRETS))
def test_description_never_shows_the_start_of_a_secret(name: str) -> None:
    text = describe_config(load_config(EXAMPLE, {}), _ALL_SECRETS)
    assert _ALL_SECRETS[name][:6] not in text


@pytest.mark.parametrize("name", sorted(_ALL_SECRETS))
def test_description_says_which_secrets_are_set(name: str) -> None:
    text = describe_config(load_config(None, {}), {name: _ALL_SECRETS[name]})
    assert any(line.startswith(f"#   {name}: set (••••)") for line in text.splitlines())


@pytest.mark.parametrize("name", sorted(_ALL_SECRETS))
def test_description_says_which_secrets_are_not_set(name: str) -> None:
    text = describe_config(load_config(None, {}), {})
    assert any(line.startswith(f"#   {name}: not set") for line in text.splitlines())


def test_description_checks_the_key_variable_the_config_names(tmp_path: Path) -> None:
    config = load_text(
        tmp_path,
        '[summaries]\nbase_url = "https://llm.lan/v1"\nmodel = "m"\napi_key_env = "GROQ_API_KEY"\n',
    )
    text = describe_config(config, {"GROQ_API_KEY": "gsk_0123456789"})
    assert "#   GROQ_API_KEY: set (••••)" in text.splitlines()


def test_blank_secret_counts_as_not_set() -> None:
    text = describe_config(load_config(None, {}), {"DISCORD_TOKEN": "  "})
    assert "#   DISCORD_TOKEN: not set" in text.splitlines()


def test_description_names_the_source_file() -> None:
    text = describe_config(load_config(EXAMPLE, {}), {})
    assert text.splitlines()[0] == f"# Paperboy settings in effect — from {EXAMPLE}"


def test_description_says_built_in_defaults_without_a_file() -> None:
    text = describe_config(load_config(None, {}), {})
    assert "built-in defaults" in text.splitlines()[0]


def test_description_shows_the_backfill_pause_in_effect(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[sources.huggingface]\nbackfill_pause = 0.5\n")
    assert "backfill_pause = 0.5" in describe_config(config, {}).splitlines()


def test_description_names_the_adapters_run_would_start() -> None:
    text = describe_config(load_config(None, {}), {"SLACK_BOT_TOKEN": SLACK_TOKEN})
    assert "# paperboy run starts: slack" in text.splitlines()


def test_description_warns_when_slack_cannot_receive_events() -> None:
    text = describe_config(load_config(None, {}), {"SLACK_BOT_TOKEN": SLACK_TOKEN})
    assert any("needs SLACK_APP_TOKEN" in line for line in text.splitlines())


def test_description_warns_about_channels_whose_platform_does_not_start() -> None:
    text = describe_config(load_config(EXAMPLE, {}), {})
    assert "#   channel 'nlp-papers' (slack) gets no posts: not started" in text.splitlines()


def test_description_is_toml_that_loads_to_the_same_config(tmp_path: Path) -> None:
    original = load_config(EXAMPLE, {})
    copy = write(tmp_path, describe_config(original, _ALL_SECRETS), "effective.toml")
    assert replace(load_config(copy, {}), source_path=None) == replace(original, source_path=None)


def test_description_parses_as_toml() -> None:
    text = describe_config(load_config(EXAMPLE, {}), _ALL_SECRETS)
    assert len(tomllib.loads(text)["channels"]) == 3


@pytest.mark.parametrize(
    ("env", "platforms"),
    [
        ({}, ("console",)),
        ({"SLACK_BOT_TOKEN": "x"}, ("slack",)),
        ({"DISCORD_TOKEN": "x"}, ("discord",)),
        ({"SLACK_BOT_TOKEN": "x", "DISCORD_TOKEN": "y"}, ("slack", "discord")),
        ({"SLACK_APP_TOKEN": "x"}, ("console",)),
        ({"SLACK_BOT_TOKEN": ""}, ("console",)),
    ],
)
def test_platforms_follow_the_tokens_in_the_environment(
    env: dict[str, str], platforms: tuple[str, ...]
) -> None:
    assert platforms_from_env(env) == platforms


@pytest.mark.parametrize("url", ["http://[::1", "http://localhost:99999/v1"])
def test_malformed_url_is_one_config_error_naming_the_key(tmp_path: Path, url: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[summaries]\nbase_url = "{url}"\nmodel = "m"\n')
    with pytest.raises(ConfigError, match=r"summaries\.base_url"):
        load_config(path, {})
