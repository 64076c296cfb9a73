"""Helpers for the config.toml specification: write a file, load it, read the error.

Every error test checks the whole message after the file name, because the key path and
the wording are what an admin reads to fix the file.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.config import ChannelConfig, Config, load_config
from bot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SLACK_TOKEN = "xoxb-1111-2222-abcdefSECRETvalue"


def write(directory: Path, text: str, name: str = "config.toml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_text(directory: Path, text: str) -> Config:
    return load_config(write(directory, text), {})


def error_of(directory: Path, text: str) -> str:
    """The ConfigError message for `text`, without the leading "<file>: "."""
    path = write(directory, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    return str(info.value).removeprefix(f"{path}: ")


def channel_of(directory: Path, body: str) -> ChannelConfig:
    return load_text(directory, "[[channels]]\n" + textwrap.dedent(body)).channels[0]


def channel_error(directory: Path, body: str) -> str:
    return error_of(directory, "[[channels]]\n" + textwrap.dedent(body))
