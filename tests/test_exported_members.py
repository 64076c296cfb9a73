"""`bot/__init__.py` exports exactly what it lists, sorted, and imports no chat SDK."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bot


def test_all_is_sorted() -> None:
    assert list(bot.__all__) == sorted(bot.__all__)


def test_every_listed_name_exists() -> None:
    missing = [name for name in bot.__all__ if not hasattr(bot, name)]
    assert missing == []


def test_every_public_name_is_listed() -> None:
    public = {
        name for name, value in vars(bot).items()
        if not name.startswith("_") and not isinstance(value, type(sys))
    }
    assert public == set(bot.__all__)


def test_core_imports_no_chat_sdk() -> None:
    # The core must run without Slack or Discord installed: import every bot module in a
    # fresh interpreter and list the chat SDKs that got loaded.
    code = (
        "import pkgutil, importlib, sys, bot\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in "
        "('slack_bolt', 'slack_sdk', 'discord')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_line_loads_no_chat_sdk_for_a_command_that_needs_none(
        tmp_path: Path) -> None:
    # The command line wires every platform, but imports one only when it is started:
    # `paperboy list` on a console bot loads neither Slack's nor Discord's SDK or adapter.
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "data"}"\n', encoding="utf-8")
    code = (
        "import sys\n"
        "from paperboy.cli import main\n"
        f"status = main(['list', '--config', {str(config)!r}])\n"
        "print(status, sorted(n for n in sys.modules if n.split('.')[0] in "
        "('slack_bolt', 'slack_sdk', 'discord') or n.startswith(('adapters.slack', "
        "'adapters.discord'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={k: v for k, v in os.environ.items()
                                          if not k.startswith(("SLACK_", "DISCORD_"))})
    assert out.stdout.strip().splitlines()[-1] == "0 []"
