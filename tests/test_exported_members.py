"""`bot/__init__.py` exports exactly what it lists, sorted, and imports no chat SDK."""

from __future__ import annotations

import subprocess
import sys

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
