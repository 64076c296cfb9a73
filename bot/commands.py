"""Parse the text of a `/papers` command into one typed command.

Pure: no network, disk or clock, and no knowledge of any chat platform beyond the link syntax
users paste. Slack hands over the text after `/papers`, the console the whole line
(`/papers search diffusion`); both call `parse_command`. Discord receives its subcommand
options already split and calls the `build_*` functions, which apply the same checks. The
adapter then hands the command to `bot.service` and renders the reply.

Grammar (case-insensitive command words, any whitespace):

    /papers [help [command] | today | search <query> | save <id or link> |
             unsave <id or link> | list | export [bibtex|markdown|csv] | settings |
             settings <change> | subscribe [HH:MM] [timezone] [days] | unsubscribe] [--share]

(`settings <change>`, `subscribe` and their values: bot.channel_grammar.)

`--share` may end `today`, `search`, `list` and `export`: their reply is then posted to the
channel instead of only to the caller (an export as a file where the platform can). It is a
flag rather than a bare word so that a search for
"share" still works; the dashes that phone keyboards turn `--` into (— and –) count too.

Bad input raises a `UserInputError` (`UnknownCommand`, `InvalidPaperId`) whose message is one
line, safe to post, and whose `usage` is `USAGE`. What the message quotes from the input is
clipped to 40 characters, stripped of control characters and defused of mention syntax
(`<@U123>`, `<!channel>`, `@everyone`), so an error can never ping a channel.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot import channel_grammar
from bot.channel_grammar import (
    SETTINGS_SYNTAX,
    ChannelChange,
    Subscribe,
    Unsubscribe,
    parse_change,
    parse_subscribe,
)
from bot.errors import InvalidPaperId, UnknownCommand, UserInputError
from bot.export import EXPORT_FORMATS, ExportFormat
from bot.ids import parse_paper_ref

MAX_SEARCH_LIMIT = 20
ECHO_CHARS = 40
SHARE_FLAGS = frozenset({"--share", "—share", "–share"})


@dataclass(frozen=True)
class Help:
    """Show usage; `topic` is a command name for its line alone, None for everything."""

    topic: str | None = None


@dataclass(frozen=True)
class Today:
    """This channel's picks for today."""

    share: bool = False


@dataclass(frozen=True)
class Search:
    """Find papers. `limit` None lets the service choose how many to show."""

    query: str
    share: bool = False
    limit: int | None = None


@dataclass(frozen=True)
class Save:
    """Save a paper (canonical, version-less arXiv id) to the team list."""

    arxiv_id: str


@dataclass(frozen=True)
class Unsave:
    """Remove the caller's save of a paper (canonical, version-less arXiv id)."""

    arxiv_id: str


@dataclass(frozen=True)
class List:
    """Show the team list, newest first."""

    share: bool = False


@dataclass(frozen=True)
class Export:
    """Send the team list as a file in one format."""

    format: ExportFormat = "bibtex"
    share: bool = False


@dataclass(frozen=True)
class Settings:
    """Show this channel's schedule and filters, after applying `change` when given."""

    change: ChannelChange | None = None


Command = Help | Today | Search | Save | Unsave | List | Export | Settings | Subscribe | Unsubscribe

# One line per command, in the order a newcomer needs them; USAGE and help topics use it.
_SYNTAX: dict[str, tuple[str, str]] = {
    "help": ("help [command]", "this help"),
    "today": ("today", "today's picks for this channel"),
    "search": ("search <words>", "find papers; an arXiv id or link finds that paper"),
    "save": ("save <id or link>", "add a paper to the team list"),
    "unsave": ("unsave <id or link>", "remove your save"),
    "list": ("list", "the team list, newest first"),
    "export": ("export [bibtex|markdown|csv]", "the team list as a file"),
    "settings": ("settings [<setting> <value>]", "show or change this channel's daily post"),
    "subscribe": ("subscribe [HH:MM] [timezone] [days]", "post daily picks in this channel"),
    "unsubscribe": ("unsubscribe", "stop this channel's daily post"),
}
COMMAND_NAMES: tuple[str, ...] = tuple(_SYNTAX)
_SHAREABLE = ("today", "search", "list", "export")


@dataclass(frozen=True)
class CommandHelp:
    """One command as data, for any renderer: Slack text, Discord options, the terminal.

    `args` is the argument syntax after the name ("<words>", "[bibtex|markdown|csv]", "");
    `shareable` says the reply can be shown to the channel (`--share`, Discord's `share`)."""

    name: str
    args: str
    summary: str
    shareable: bool


HELP: tuple[CommandHelp, ...] = tuple(
    CommandHelp(name, syntax[len(name):].strip(), summary, name in _SHAREABLE)
    for name, (syntax, summary) in _SYNTAX.items()
)


def help_for(topic: str | None = None) -> tuple[CommandHelp, ...]:
    """Every command's help, or the one named `topic`."""
    return HELP if topic is None else tuple(h for h in HELP if h.name == topic)
_SYNTAX_WIDTH = max(len(syntax) for syntax, _ in _SYNTAX.values())


def _usage_line(name: str) -> str:
    syntax, description = _SYNTAX[name]
    return f"/papers {syntax.ljust(_SYNTAX_WIDTH)}  {description}"


USAGE = "\n".join(
    [
        *(_usage_line(name) for name in COMMAND_NAMES),
        "Add --share to today, search, list or export to show the reply to the channel.",
    ]
)

_FORMAT_ALIASES: dict[str, ExportFormat] = {"bib": "bibtex", "md": "markdown"}
# Slack wraps pasted links as <https://...> or <https://...|label>; the label may hold spaces.
_SLACK_LINK = re.compile(r"<(https?://[^\s|<>]+)(?:\|[^<>]*)?>")
_ECHO_DEFUSE = str.maketrans({"<": "‹", ">": "›", "@": "＠"})


def help_text(topic: str | None = None) -> str:
    """USAGE, or the usage line of one command (`help_text("search")`)."""
    if topic is None:
        return USAGE
    return _usage_line(topic)


def parse_command(text: str) -> Command:
    """The command in `text` (with or without the leading `/papers`). Empty text is Help."""
    words = _words(text)
    if words and words[0].lower() == "/papers":
        words = words[1:]
    if not words:
        return Help()
    name, args = words[0].lower(), words[1:]
    if name not in _SYNTAX:
        raise _unknown_command(words[0])
    args, share = _split_share(args)
    if share and name not in _SHAREABLE:
        raise _error(f"--share works with today, search, list and export, not with {name}")
    if name == "help":
        if len(args) > 1:
            raise _error("help takes one command name, e.g. /papers help search")
        return build_help(args[0] if args else None)
    if name == "search":
        return build_search(" ".join(args), share=share)
    if name == "save":
        return build_save(" ".join(args))
    if name == "unsave":
        return build_unsave(" ".join(args))
    if name == "export":
        if len(args) > 1:
            raise _error(f"export takes one format: {_format_choices()}")
        return build_export(args[0] if args else None, share=share)
    if name == "subscribe":
        return parse_subscribe(args, _error, _echo)
    if name == "settings" and args:
        return Settings(change=parse_change(args, _settings_error, _echo))
    if args:
        raise _error(f"{name} takes no arguments (got '{_echo(' '.join(args))}')")
    if name == "unsubscribe":
        return Unsubscribe()
    if name == "today":
        return Today(share=share)
    if name == "list":
        return List(share=share)
    return Settings()


def build_help(topic: str | None = None) -> Help:
    """Help for one command name (any case), or for everything when `topic` is empty."""
    if topic is None or not topic.strip():
        return Help()
    name = topic.strip().lower()
    if name not in _SYNTAX:
        raise _unknown_command(topic)
    return Help(topic=name)


def build_search(query: str, *, share: bool = False, limit: int | None = None) -> Search:
    """A Search with its query's whitespace normalised. What makes a query valid (some
    words, at most 500 characters, the filters) is the search grammar's one check,
    `bot.search.query.parse_query`, which the service applies before searching."""
    clean = " ".join(_words(query))
    if limit is not None and not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise _error(f"the number of results must be between 1 and {MAX_SEARCH_LIMIT}")
    return Search(query=clean, share=share, limit=limit)


def build_save(ref: str) -> Save:
    """Save the paper named by an arXiv id or an arXiv / Hugging Face / alphaxiv link."""
    return Save(arxiv_id=_paper_id("save", ref))


def build_unsave(ref: str) -> Unsave:
    """Unsave the paper named by an arXiv id or link."""
    return Unsave(arxiv_id=_paper_id("unsave", ref))


def build_export(fmt: str | None = None, *, share: bool = False) -> Export:
    """Export in `fmt` (any case; `bib` and `md` also work); BibTeX when not given."""
    if fmt is None or not fmt.strip():
        return Export(share=share)
    name = fmt.strip().lower()
    name = _FORMAT_ALIASES.get(name, name)
    for known in EXPORT_FORMATS:
        if name == known:
            return Export(format=known, share=share)
    raise _error(f"unknown export format '{_echo(fmt)}'; choose {_format_choices()}")


def _paper_id(command: str, ref: str) -> str:
    words = _words(ref)
    if not words:
        raise InvalidPaperId(
            f"{command} needs an arXiv id or link, e.g. /papers {command} 2406.12345", USAGE
        )
    if len(words) > 1:
        raise _error(f"{command} takes one arXiv id or link, not {len(words)}")
    try:
        return parse_paper_ref(words[0])
    except InvalidPaperId:
        # bot.ids quotes the input as is; this message must be safe to post in a channel.
        raise InvalidPaperId(
            f"'{_echo(words[0])}' is not an arXiv id or paper link "
            "(try 2406.12345 or https://arxiv.org/abs/2406.12345)",
            USAGE,
        ) from None


def _words(text: str) -> list[str]:
    # Control characters become spaces so that a pasted tab or NUL cannot glue or hide words.
    visible = "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)
    return _SLACK_LINK.sub(r"\1", visible).split()


def _split_share(args: list[str]) -> tuple[list[str], bool]:
    # Every trailing flag goes: "--share --share" must not leak one into a search query.
    share = False
    while args and args[-1].lower() in SHARE_FLAGS:
        args, share = args[:-1], True
    return args, share


def _unknown_command(word: str) -> UnknownCommand:
    message = f"unknown command '{_echo(word)}'"
    close = difflib.get_close_matches(word.lower(), COMMAND_NAMES, n=1, cutoff=0.6)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    return UnknownCommand(message, USAGE)


def _error(message: str) -> UserInputError:
    return UserInputError(message, USAGE)


def _settings_error(message: str) -> UserInputError:
    # The settings grammar is too long for USAGE: its own line goes with the error.
    return UserInputError(message, SETTINGS_SYNTAX)


def build_subscribe(time: str | None = None, timezone: str | None = None,
                    days: str | None = None) -> Subscribe:
    """Subscribe from typed options (Discord), checked as the text grammar does."""
    return channel_grammar.build_subscribe(time, timezone, days, _error, _echo)


def build_settings(**options: Any) -> Settings:
    """Settings from typed options (Discord): show them when none is given, else change
    every option given (keywords_add, exclude_remove, top, time, timezone, days…)."""
    given = {k: v for k, v in options.items() if v is not None and v is not False}
    if not given:
        return Settings()
    return Settings(change=channel_grammar.build_change(_settings_error, _echo, **given))


def _format_choices() -> str:
    return ", ".join(EXPORT_FORMATS[:-1]) + " or " + EXPORT_FORMATS[-1]


def _echo(text: str, limit: int = ECHO_CHARS) -> str:
    """At most `limit` characters of user input, one line, unable to mention anyone."""
    # Category C covers control, format (bidi overrides, zero-width) and unassigned characters.
    visible = "".join(char for char in text if not unicodedata.category(char).startswith("C"))
    one_line = " ".join(visible.split()).translate(_ECHO_DEFUSE)
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
