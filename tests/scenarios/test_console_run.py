"""`paperboy run` in a terminal, end to end: the installed command as a child process.

Someone trying Paperboy without tokens posts the day's picks (`paperboy post`), starts the
bot (`paperboy run`) and talks to it through stdin: reacts 📌 to a numbered message, lists
and exports the team list, searches, types nonsense, quits with Ctrl-D or Ctrl-C. Other
`paperboy` commands run beside it. The fake Hugging Face runs in the test's event loop; the
config file is what keeps the child off the internet.

Replies are read without sleeping: after each line the test sends "." (not a command), and
everything printed before the bot's "Not a command" answer is the reply to that line.
The channel's daily time is set six hours from now, so neither the scheduler nor its
catch-up ever posts during a test, whatever the wall clock says.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
import pytest_asyncio

from bot.commands import USAGE
from bot.store.tinydb import TinyDBStore
from tests.fakes.hf_server import FakeHuggingFace
from tests.scenarios.conftest import (
    CHILD_TIMEOUT,
    DAY,
    PAPERBOY,
    Run,
    RunPaperboy,
    child_environment,
)

MINIMAX = "2606.13392"  # "MiniMax Sparse Attention"
GRIDS = "2606.12303"  # "From 2D Grids to 1D Tokens: ..."
NUMBERED = re.compile(r"^\[(\d+)\] ")
ARXIV_LINK = re.compile(r"arXiv https://arxiv\.org/abs/(\S+)")
SENTINEL = "."
SENTINEL_REPLY = "Not a command"


def console_channel(now: datetime | None = None) -> str:
    """A console channel posting every day six hours from `now` (UTC)."""
    at = ((now or datetime.now(UTC)) + timedelta(hours=6)).strftime("%H:%M")
    return (
        "\n[[channels]]\n"
        'name = "console"\n'
        'platform = "console"\n'
        f'time = "{at}"\n'
        'timezone = "UTC"\n'
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
    )


@dataclass(frozen=True)
class Message:
    """One numbered message the console printed (None: a line printed without a number)."""

    number: int | None
    text: str


def parse_messages(lines: list[str]) -> list[Message]:
    """Group printed lines into messages: a "[n] " line starts one, others continue it."""
    messages: list[Message] = []
    for line in lines:
        match = NUMBERED.match(line)
        if match:
            messages.append(Message(int(match[1]), line[match.end():]))
        elif messages and messages[-1].number is not None:
            last = messages.pop()
            messages.append(Message(last.number, f"{last.text}\n{line}"))
        else:
            messages.append(Message(None, line))
    return messages


def message_of(output: str, arxiv_id: str) -> int:
    """The number of the message that carried `arxiv_id` in a post's output."""
    for message in parse_messages(output.splitlines()):
        if arxiv_id in ARXIV_LINK.findall(message.text):
            assert message.number is not None
            return message.number
    raise AssertionError(f"{arxiv_id} was not posted:\n{output}")


class Console:
    """A running `paperboy run` child: send lines, read what it prints."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []  # everything read from stdout, in order
        self.stderr = ""

    @classmethod
    async def start(cls, *args: str, cwd: Path) -> Console:
        process = await asyncio.create_subprocess_exec(
            str(PAPERBOY), *args, "run",
            cwd=cwd,
            env=child_environment(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def messages(self) -> list[Message]:
        return parse_messages(self.lines)

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()

    async def ask(self, line: str | None) -> list[Message]:
        """Send `line` (None: nothing, e.g. to read the greeting) and return its reply."""
        if line is not None:
            await self.send(line)
        await self.send(SENTINEL)
        start = len(self.lines)
        while True:
            printed = await self._read_line()
            match = NUMBERED.match(printed)
            if match and printed[match.end():].startswith(SENTINEL_REPLY):
                break
        return parse_messages(self.lines[start:-1])

    async def reply(self, line: str) -> str:
        """The text of the one message answering `line`."""
        [message] = await self.ask(line)
        return message.text

    async def wait_ready(self) -> list[Message]:
        """Read the greeting: once it is printed the store is open and the lock held."""
        return await self.ask(None)

    async def finish(self) -> int:
        """Close stdin (Ctrl-D), read everything left and return the exit status."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        return await self.wait()

    async def interrupt(self) -> int:
        """Ctrl-C: SIGINT, then read everything left and return the exit status."""
        self.process.send_signal(signal.SIGINT)
        return await self.wait()

    async def wait(self) -> int:
        assert self.process.stdout is not None and self.process.stderr is not None
        out, err = await asyncio.wait_for(
            asyncio.gather(self.process.stdout.read(), self.process.stderr.read()),
            CHILD_TIMEOUT,
        )
        self.lines += out.decode("utf-8").splitlines()
        self.stderr += err.decode("utf-8")
        return await asyncio.wait_for(self.process.wait(), CHILD_TIMEOUT)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def _read_line(self) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), CHILD_TIMEOUT)
        if not raw:
            raise AssertionError(f"paperboy run ended early; printed:\n{self.transcript}")
        line = raw.decode("utf-8").rstrip("\n")
        self.lines.append(line)
        return line

    @property
    def transcript(self) -> str:
        return "\n".join(self.lines)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def config(write_config: Callable[..., Path], hf: FakeHuggingFace) -> Path:
    return write_config(hf.base_url, channels=console_channel())


@pytest_asyncio.fixture
async def posted(paperboy: RunPaperboy, config: Path) -> Run:
    """The day's post, made by `paperboy post` before the bot runs."""
    run = await paperboy("--config", str(config), "post", "--channel", "console",
                         "--date", DAY)
    assert run.returncode == 0, run.stderr
    return run


Start = Callable[[], Any]


@pytest_asyncio.fixture
async def start(tmp_path: Path, config: Path) -> AsyncIterator[Callable[[], Any]]:
    """Start `paperboy run` and wait for its greeting; every child is stopped at the end."""
    started: list[Console] = []

    async def _start() -> Console:
        console = await Console.start("--config", str(config), cwd=tmp_path)
        started.append(console)
        await console.wait_ready()
        return console

    yield _start
    for console in started:
        await console.stop()


@pytest_asyncio.fixture
async def bot(posted: Run, start: Callable[[], Any]) -> Console:
    """`paperboy run` after the day's post."""
    console: Console = await start()
    return console


# --- numbering ------------------------------------------------------------------------------


async def test_every_message_the_bot_prints_is_numbered(bot: Console) -> None:
    await bot.ask("/papers help")
    await bot.ask("/papers frobnicate")
    await bot.finish()
    assert [m for m in bot.messages if m.number is None] == []


async def test_message_numbers_count_up_by_one(bot: Console) -> None:
    await bot.ask("/papers list")
    await bot.finish()
    numbers = [m.number for m in bot.messages]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # type: ignore[operator]


async def test_run_numbers_continue_after_the_post(posted: Run, bot: Console) -> None:
    await bot.finish()
    last_posted = parse_messages(posted.stdout.splitlines())[-1].number
    assert bot.messages[0].number == last_posted + 1  # type: ignore[operator]


async def test_numbers_keep_increasing_across_two_runs(
    bot: Console, start: Callable[[], Any]
) -> None:
    await bot.ask("/papers list")
    await bot.finish()
    second: Console = await start()
    await second.finish()
    assert second.messages[0].number == bot.messages[-1].number + 1  # type: ignore[operator]


# --- save by reaction -----------------------------------------------------------------------


async def test_react_pushpin_saves_the_paper(posted: Run, bot: Console) -> None:
    number = message_of(posted.stdout, MINIMAX)
    reply = await bot.reply(f"/react {number} :pushpin:")
    assert reply == "Saved 'MiniMax Sparse Attention' to the team list"


async def test_papers_list_shows_the_paper_saved_by_reaction(posted: Run, bot: Console) -> None:
    await bot.ask(f"/react {message_of(posted.stdout, MINIMAX)} :pushpin:")
    listing = await bot.reply("/papers list")
    assert f"1. MiniMax Sparse Attention [{MINIMAX}]\n   saved by you" in listing


async def test_unreact_pushpin_unsaves_the_paper(posted: Run, bot: Console) -> None:
    number = message_of(posted.stdout, MINIMAX)
    await bot.ask(f"/react {number} :pushpin:")
    await bot.ask(f"/unreact {number} :pushpin:")
    listing = await bot.reply("/papers list")
    assert listing.startswith("Your team's reading list is empty")


async def test_react_on_the_header_saves_nothing(posted: Run, bot: Console) -> None:
    header = parse_messages(posted.stdout.splitlines())[0].number
    reply = await bot.reply(f"/react {header} :pushpin:")
    assert reply == "Nothing to do: that message is not a paper I posted."


async def test_export_bibtex_output_parses(posted: Run, bot: Console) -> None:
    for arxiv_id in (MINIMAX, GRIDS):
        await bot.ask(f"/react {message_of(posted.stdout, arxiv_id)} :pushpin:")
    _title, bibtex = (await bot.reply("/papers export bibtex")).split("\n", 1)
    library = bibtexparser.parse_string(bibtex)
    assert sorted(e["eprint"] for e in library.entries) == sorted([MINIMAX, GRIDS])


# --- search and bad input -------------------------------------------------------------------


async def test_papers_search_finds_a_posted_paper(bot: Console) -> None:
    reply = await bot.reply("/papers search sparse attention")
    assert f"1. MiniMax Sparse Attention  [{MINIMAX}," in reply


async def test_unknown_subcommand_prints_one_line_then_the_usage(bot: Console) -> None:
    reply = await bot.reply("/papers frobnicate")
    assert reply == f"unknown command 'frobnicate'\n{USAGE}"


async def test_unknown_subcommand_prints_no_traceback(bot: Console) -> None:
    await bot.ask("/papers frobnicate")
    await bot.finish()
    assert "Traceback" not in bot.transcript + bot.stderr


# --- /post inside the bot -------------------------------------------------------------------


def serve_around_today(hf: FakeHuggingFace, items: list[dict[str, Any]]) -> set[str]:
    """Serve `items` as yesterday's, today's and tomorrow's batch (UTC, by this process's
    clock), so that whatever day the child's own clock says, even across midnight, it finds
    them. Returns the three days as YYYY-MM-DD."""
    today = datetime.now(UTC).date()
    days = {today + timedelta(days=offset) for offset in (-1, 0, 1)}
    for day in days:
        hf.add_batch(day, items)
    return {day.isoformat() for day in days}


async def test_slash_post_posts_todays_picks(
    hf: FakeHuggingFace, sample_items: list[dict[str, Any]], start: Callable[[], Any]
) -> None:
    serve_around_today(hf, sample_items)
    console: Console = await start()
    posted = await console.ask("/post")
    assert [ARXIV_LINK.findall(m.text) for m in posted[1:-1]] == [
        [MINIMAX], [GRIDS], ["2606.12575"], ["2606.09446"], ["2606.00467"]
    ]


async def test_slash_post_ends_with_a_one_line_confirmation(
    hf: FakeHuggingFace, sample_items: list[dict[str, Any]], start: Callable[[], Any]
) -> None:
    serve_around_today(hf, sample_items)
    console: Console = await start()
    posted = await console.ask("/post")
    assert re.fullmatch(r"Posted #console's picks for \S+\.", posted[-1].text)


async def test_second_slash_post_says_it_is_already_out(
    hf: FakeHuggingFace, sample_items: list[dict[str, Any]], start: Callable[[], Any]
) -> None:
    days = serve_around_today(hf, sample_items)
    console: Console = await start()
    await console.ask("/post")
    reply = await console.reply("/post")
    said = re.fullmatch(
        r"Today's post for #console is already out \((\S+)\); scroll up\.", reply
    )
    assert said is not None and said[1] in days, reply


# --- leaving --------------------------------------------------------------------------------


async def test_end_of_input_exits_zero(bot: Console) -> None:
    assert await bot.finish() == 0


async def test_slash_quit_exits_zero(bot: Console) -> None:
    await bot.send("/quit")
    assert await bot.wait() == 0


async def test_ctrl_c_exits_cleanly(bot: Console) -> None:
    assert await bot.interrupt() in (0, 130)


async def test_ctrl_c_prints_no_traceback(bot: Console) -> None:
    await bot.interrupt()
    assert "Traceback" not in bot.transcript + bot.stderr


async def test_ctrl_c_leaves_the_store_readable(
    posted: Run, bot: Console, data_dir: Path
) -> None:
    await bot.ask(f"/react {message_of(posted.stdout, MINIMAX)} :pushpin:")
    await bot.interrupt()
    store = await TinyDBStore.open(data_dir)  # writable: the lock was released, too
    try:
        saved = await store.saved_papers("console", "console")
    finally:
        await store.close()
    assert [e.paper.arxiv_id for e in saved] == [MINIMAX]


# --- other commands beside a running bot ----------------------------------------------------


async def test_second_run_is_refused_while_one_runs(
    bot: Console, tmp_path: Path, config: Path
) -> None:
    second = await Console.start("--config", str(config), cwd=tmp_path)
    assert await second.finish() != 0


async def test_second_run_refusal_names_the_running_process(
    bot: Console, tmp_path: Path, config: Path
) -> None:
    second = await Console.start("--config", str(config), cwd=tmp_path)
    await second.finish()
    assert "in use" in second.stderr and f"pid {bot.pid}" in second.stderr


async def test_second_run_refusal_prints_no_traceback(
    bot: Console, tmp_path: Path, config: Path
) -> None:
    second = await Console.start("--config", str(config), cwd=tmp_path)
    await second.finish()
    assert "Traceback" not in second.stderr


async def test_list_beside_a_running_bot_exits_zero(
    bot: Console, paperboy: RunPaperboy, config: Path
) -> None:
    run = await paperboy("--config", str(config), "list")
    assert run.returncode == 0


async def test_list_beside_a_running_bot_shows_its_saves(
    posted: Run, bot: Console, paperboy: RunPaperboy, config: Path
) -> None:
    await bot.ask(f"/react {message_of(posted.stdout, MINIMAX)} :pushpin:")
    run = await paperboy("--config", str(config), "list")
    assert "MiniMax Sparse Attention" in run.stdout


async def test_digest_beside_a_running_bot_exits_zero(
    bot: Console, paperboy: RunPaperboy, config: Path
) -> None:
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    assert run.returncode == 0


async def test_digest_beside_a_running_bot_prints_the_days_picks(
    bot: Console, paperboy: RunPaperboy, config: Path
) -> None:
    run = await paperboy("--config", str(config), "digest", "--date", DAY)
    assert run.stdout.startswith(f"Daily papers — {date.fromisoformat(DAY):%a %d %b %Y}")


async def test_bot_keeps_answering_after_a_reader_came_and_went(
    bot: Console, paperboy: RunPaperboy, config: Path
) -> None:
    await paperboy("--config", str(config), "list")
    listing = await bot.reply("/papers list")
    assert listing.startswith("Your team's reading list is empty")
