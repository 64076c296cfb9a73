"""The schema of config.toml: its defaults, the example file that documents every option,
and the names bot.config exports."""

from __future__ import annotations

import re
import types
from dataclasses import fields, replace
from pathlib import Path

import pytest

import bot.config
from bot.config import SECTIONS, ChannelConfig, Config, load_config
from tests.config.conftest import EXAMPLE, channel_of, load_text, write

# --- defaults -------------------------------------------------------------------------------


def test_no_file_gives_a_single_default_console_channel() -> None:
    assert load_config(None, {}).channels == (ChannelConfig(),)


def test_no_file_has_no_source_path() -> None:
    assert load_config(None, {}).source_path is None


def test_no_file_leaves_the_llm_step_off() -> None:
    assert load_config(None, {}).summaries.llm_enabled is False


def test_default_channel_posts_weekdays_at_nine_utc() -> None:
    channel = load_config(None, {}).channels[0]
    assert (channel.time, channel.timezone, channel.days) == (
        "09:00",
        "UTC",
        ("mon", "tue", "wed", "thu", "fri"),
    )


def test_file_without_channels_gets_the_default_console_channel(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[summaries]\nconcurrency = 2\n")
    assert config.channels == (ChannelConfig(),)


def test_empty_channel_array_gets_the_default_console_channel(tmp_path: Path) -> None:
    assert load_text(tmp_path, "channels = []\n").channels == (ChannelConfig(),)


def test_loaded_config_remembers_its_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert load_config(path, {}).source_path == path


def test_missing_options_take_the_documented_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, "")
    assert replace(config, storage=Config().storage, source_path=None) == Config()


def test_channel_name_defaults_to_its_id(tmp_path: Path) -> None:
    channel = channel_of(tmp_path, 'platform = "slack"\nid = "C0123456789"\n')
    assert channel.name == "C0123456789"


# --- the example file -----------------------------------------------------------------------


def test_example_config_loads_its_three_channels() -> None:
    config = load_config(EXAMPLE, {})
    assert [c.platform for c in config.channels] == ["slack", "discord", "console"]


def test_example_slack_channel_follows_computation_and_language() -> None:
    slack = load_config(EXAMPLE, {}).channels[0]
    assert slack.categories == ("cs.CL",)


def test_example_keeps_the_llm_step_off_until_configured() -> None:
    assert load_config(EXAMPLE, {}).summaries.llm_enabled is False


def _example_sections() -> dict[str, str]:
    """Each table header of the example mapped to the text under it (all blocks joined)."""
    sections: dict[str, str] = {}
    current = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\[\[?([\w.]+)\]\]?", line)
        if header:
            current = header[1]
            sections.setdefault(current, "")
        elif current:
            sections[current] += line + "\n"
    return sections


@pytest.mark.parametrize(
    ("section", "option"),
    [(section, f.name) for section, shape in SECTIONS.items() for f in fields(shape)],
)
def test_example_config_mentions_every_option(section: str, option: str) -> None:
    text = _example_sections().get(section, "")
    assert re.search(rf"^#?\s*{option}\s*=", text, re.MULTILINE), f"[{section}] {option}"


def test_example_config_shows_an_ollama_endpoint() -> None:
    assert 'base_url = "http://localhost:11434/v1"' in EXAMPLE.read_text(encoding="utf-8")


# --- the package surface --------------------------------------------------------------------


def test_every_name_bot_config_lists_exists() -> None:
    assert [name for name in bot.config.__all__ if not hasattr(bot.config, name)] == []


def test_bot_config_lists_every_public_name_it_holds() -> None:
    public = {
        name for name, value in vars(bot.config).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name != "annotations"  # `from __future__ import annotations`
    }
    assert public == set(bot.config.__all__)
