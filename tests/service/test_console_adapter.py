"""The console adapter in process: its history, numbering, prompt, wrapping and `/more`.

The real Service on a real TinyDB store and the fake Hugging Face server (tests/service
fixtures); the adapter writes to a StringIO (or one that says it is a terminal) and keeps
its history in tmp_path. Whole runs of `paperboy run` are in tests/scenarios.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.console.adapter import PROMPT, ConsoleAdapter
from bot.alerts import AdminAlerts
from bot.config import AdminConfig, ChannelConfig
from bot.events import Identity, Outgoing
from bot.models import ChatRef
from tests.fakes.hf_server import FakeHuggingFace

from .conftest import DAY, Services

CONSOLE = ChannelConfig()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


Make = Callable[..., ConsoleAdapter]


@pytest_asyncio.fixture
async def console(services: Services, tmp_path: Path) -> AsyncIterator[Make]:
    """Builds console adapters on one history file; closes them all at the end."""
    made: list[ConsoleAdapter] = []

    def make(out: io.StringIO | None = None, **options: object) -> ConsoleAdapter:
        adapter = ConsoleAdapter(
            services.make(CONSOLE), CONSOLE, history=tmp_path / "history.jsonl",
            out=out or io.StringIO(), **options,  # type: ignore[arg-type]
        )
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.close()


async def test_connect_says_it_is_the_console_team(
    console: Make, services: Services, tmp_path: Path) -> None:
    assert await console().connect() == Identity("console", "console")


async def test_connect_prints_the_banner_first(
    console: Make, services: Services, tmp_path: Path) -> None:
    out = io.StringIO()
    await console(out).connect()
    assert out.getvalue().startswith("[1] Paperboy in the terminal.")


async def test_message_numbers_continue_across_runs(
    console: Make, services: Services, tmp_path: Path) -> None:
    first = console()
    await first.connect()
    await first.say("one")
    await first.close()
    second = console(banner=False)
    await second.connect()
    assert await second.say("two") == "3"


async def test_a_torn_last_history_line_is_skipped(
    console: Make, services: Services, tmp_path: Path) -> None:
    (tmp_path / "history.jsonl").write_text('{"n": "1"}\n{"n": "2"}\n{"n": "3', "utf-8")
    adapter = console(banner=False)
    await adapter.connect()
    assert await adapter.say("next") == "3"


async def test_numbers_continue_from_the_counter_of_before_the_history(
    console: Make, services: Services, tmp_path: Path
) -> None:
    adapter = console(banner=False, first_number=41)
    await adapter.connect()
    assert await adapter.say("hello") == "41"


async def test_a_printed_post_message_is_found_after_a_restart(
    console: Make, services: Services, tmp_path: Path
) -> None:
    first = console(banner=False)
    await first.connect()
    out = Outgoing(ChatRef("console", "console", "console"), DAY, "2606.13392")
    number = await first.post_note(out, "a paper")
    await first.close()
    second = console(banner=False)
    await second.connect()
    assert await second.find_posted(out, since=services.clock()) == number


async def test_a_message_never_printed_is_not_found(
    console: Make, services: Services, tmp_path: Path) -> None:
    adapter = console(banner=False)
    await adapter.connect()
    out = Outgoing(ChatRef("console", "console", "console"), DAY, "header")
    assert await adapter.find_posted(out, since=services.clock()) is None


async def test_history_lines_are_json(
    console: Make, services: Services, tmp_path: Path) -> None:
    adapter = console(banner=False)
    await adapter.connect()
    await adapter.say("hi")
    await adapter.close()
    lines = (tmp_path / "history.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [{"n": "1"}]


async def test_a_terminal_gets_a_prompt(
    console: Make, services: Services, tmp_path: Path) -> None:
    out = Terminal()
    adapter = console(out, banner=False)
    await adapter.connect()
    adapter._prompt()
    assert out.getvalue() == PROMPT


async def test_a_pipe_gets_no_prompt(
    console: Make, services: Services, tmp_path: Path) -> None:
    out = io.StringIO()
    adapter = console(out, banner=False)
    await adapter.connect()
    adapter._prompt()
    assert out.getvalue() == ""


async def test_a_terminal_wraps_long_lines_without_breaking_a_url(
    console: Make, services: Services, tmp_path: Path
) -> None:
    out = Terminal()
    adapter = console(out, banner=False)
    await adapter.connect()
    url = "https://huggingface.co/papers/" + "x" * 120
    await adapter.say("word " * 30 + url)
    assert url in out.getvalue().splitlines()[-1]


async def test_more_on_a_message_that_is_no_paper_says_so(
    console: Make, services: Services, tmp_path: Path
) -> None:
    out = io.StringIO()
    adapter = console(out, banner=False)
    await adapter.connect()
    await adapter.say("hello")
    await adapter.handle_line("/more 1")
    said = out.getvalue().splitlines()[-1]
    assert said == "[2] Nothing to do: that message is not a paper I posted."


async def test_react_on_a_message_that_does_not_exist_says_so(
    console: Make, services: Services, tmp_path: Path
) -> None:
    out = io.StringIO()
    adapter = console(out, banner=False)
    await adapter.connect()
    await adapter.handle_line("/react 99 :pushpin:")
    assert out.getvalue() == "[1] There is no message [99].\n"


async def test_console_says_an_upstream_failure_and_keeps_running(
    console: Make, services: Services, tmp_path: Path, hf_fake: FakeHuggingFace
) -> None:
    out = io.StringIO()
    adapter = console(out, banner=False)
    await adapter.connect()
    hf_fake.fail_next("*", status=400, times=20)
    keep_going = await adapter.handle_line("/post")
    assert (keep_going, "Sorry, that failed: huggingface" in out.getvalue()) == (True, True)


@pytest.mark.parametrize("line", ["/quit", "/exit"])
async def test_quit_ends_the_conversation(
    console: Make, services: Services, tmp_path: Path, line: str
) -> None:
    adapter = console(banner=False)
    assert await adapter.handle_line(line) is False


async def test_a_full_disk_under_the_history_does_not_stop_the_console(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # /dev/full answers every write with ENOSPC, as a full disk does.
    out = io.StringIO()
    adapter = ConsoleAdapter(services.make(CONSOLE), CONSOLE, history=Path("/dev/full"),
                             out=out, banner=False)
    await adapter.connect()
    try:
        numbers = [await adapter.say("one"), await adapter.say("two")]
    finally:
        await adapter.close()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert (numbers, out.getvalue(), len(warned)) == (["1", "2"], "[1] one\n[2] two\n", 1)


async def test_an_admin_alert_in_the_terminal_is_one_numbered_line(
    console: Make, services: Services, tmp_path: Path) -> None:
    out = io.StringIO()
    adapter = console(out, banner=False)
    alerts = AdminAlerts(AdminConfig(), clock=services.clock)
    assert alerts.attach(await adapter.connect(), adapter)
    await alerts.open("paused:#papers", "#papers is paused")
    assert out.getvalue() == "[1] Paperboy needs attention: #papers is paused\n"


# --- a damaged history: numbers are never handed out twice ----------------------------------

DAMAGE = {
    "emptied": lambda text: b"",
    "truncated": lambda text: text[: len(text) // 3],
    "garbage": lambda text: b"\x00\xffnot json at all\n" * 3,
}


async def _post_and_damage(console: Make, history: Path, damage: str) -> str:
    """A post printed as [1]-[6], then the history file damaged; what the post printed."""
    out = io.StringIO()
    first = console(out, banner=False)
    await first.connect()
    await first.handle_line("/post")
    await first.close()
    _damage(history, damage)
    return out.getvalue()


def _damage(history: Path, damage: str) -> None:
    history.write_bytes(DAMAGE[damage](history.read_bytes()))


@pytest.mark.parametrize("damage", DAMAGE)
async def test_a_damaged_history_does_not_restart_numbering(
    damage: str, console: Make, services: Services, tmp_path: Path
) -> None:
    posted = await _post_and_damage(console, tmp_path / "history.jsonl", damage)
    last = max(int(line[1:].split("]")[0]) for line in posted.splitlines()
               if line.startswith("["))
    adapter = console(banner=False)
    await adapter.connect()
    assert await adapter.say("next") == str(last + 1)


@pytest.mark.parametrize("damage", DAMAGE)
async def test_a_damaged_history_is_named_in_one_warning(
    damage: str, console: Make, services: Services, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    history = tmp_path / "history.jsonl"
    await _post_and_damage(console, history, damage)
    caplog.set_level(logging.WARNING, logger="adapters.console.history")
    await console(banner=False).connect()
    [warning] = [r.getMessage() for r in caplog.records if r.name.startswith("adapters.console")]
    assert str(history) in warning and "\n" not in warning


async def test_react_after_the_history_was_emptied_saves_the_paper_that_number_showed(
    console: Make, services: Services, tmp_path: Path
) -> None:
    posted = await _post_and_damage(console, tmp_path / "history.jsonl", "emptied")
    [third] = [line for line in posted.splitlines() if line.startswith("[3] ")]
    title = third.removeprefix("[3] 2. ")
    out = io.StringIO()
    adapter = console(out, banner=False)
    await adapter.connect()
    await adapter.handle_line("/help")  # takes a new number, never [3] again
    await adapter.handle_line("/react 3 :pushpin:")
    assert out.getvalue().splitlines()[-1] == f"[9] Saved '{title}' to the team list"


async def test_react_after_the_history_was_emptied_to_a_message_no_paper_says_so(
    console: Make, services: Services, tmp_path: Path
) -> None:
    await _post_and_damage(console, tmp_path / "history.jsonl", "emptied")
    out = io.StringIO()
    adapter = console(out, banner=False)
    await adapter.connect()
    await adapter.handle_line("/react 7 :pushpin:")  # [7] was the post's closing line
    assert out.getvalue() == "[8] Nothing to do: that message is not a paper I posted.\n"
