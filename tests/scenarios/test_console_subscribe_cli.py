"""Chat settings in the installed `paperboy run` (a child process in a terminal), kept across
runs: what one run changes with `/papers settings`, the next run shows and posts with.

config.toml lists the console's channel (six hours from now, every day: nothing posts during
the test), so the terminal's user overrides a file channel from chat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.scenarios import test_console_run as console_run
from tests.scenarios.test_console_run import Console

# The console scenario's fixtures: its config.toml and a starter of `paperboy run` children.
config, start = console_run.config, console_run.start


async def test_settings_changed_in_one_run_are_kept_by_the_next(
    start: Callable[[], Any],
) -> None:
    first: Console = await start()
    await first.reply("/papers settings keywords add diffusion, agents")
    assert await first.finish() == 0
    second: Console = await start()
    shown = await second.reply("/papers settings")
    assert "keywords: diffusion, agents" in shown and \
        "set from chat, over config.toml by you" in shown


async def test_unsubscribe_goes_back_to_the_file(start: Callable[[], Any]) -> None:
    bot: Console = await start()
    await bot.reply("/papers settings top 2")
    reply = await bot.reply("/papers unsubscribe")
    assert reply.startswith("Chat settings removed: this channel posts as config.toml says")


async def test_bad_timezone_is_one_line_with_a_suggestion(start: Callable[[], Any]) -> None:
    bot: Console = await start()
    reply = await bot.reply("/papers settings timezone europe/pariss")
    assert reply.splitlines()[0] == \
        "unknown timezone 'europe/pariss' (did you mean 'Europe/Paris'?)"
