"""The grammar of setting a channel up from chat: `subscribe`, `settings <change>`, `unsubscribe`.

Pure: no network, disk or clock. bot.commands hands over the words after the command name
(Slack and the console type text); the Discord adapter passes its typed options to
`build_subscribe` / `build_change` directly. Either way every value is checked here, once,
and bad input raises a `UserInputError` whose message is one line, safe to post (user text
is quoted through bot.commands' echo, clipped and unable to mention anyone):

    subscribe [HH:MM] [timezone] [days]        in any order, each at most once
    settings keywords add|remove <words>       also: keywords clear
    settings exclude add|remove <words>        also: exclude clear
    settings top <1-20>
    settings time HH:MM [timezone]
    settings timezone <timezone>
    settings days <days>

Days: `mon-fri`, `mon,wed,fri`, `mon wed fri`, `weekdays`, `weekends`, `daily` (ranges may
wrap: `fri-mon`). Words: comma-separated phrases (`diffusion, video generation`), else each
word (`diffusion video`), with "quoted phrases" kept whole. Who may change a channel, and what
a change does, is bot.channel_admin's job.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.config import WEEKDAYS
from bot.errors import UserInputError

MAX_TOP = 20
MAX_WORDS = 30  # keywords (or excludes) a channel may have
MAX_WORD_CHARS = 60

SUBSCRIBE_SYNTAX = "subscribe [HH:MM] [timezone] [days]"
SETTINGS_SYNTAX = (
    "settings keywords|exclude add|remove <words> · settings top <1-20> · "
    "settings time HH:MM [timezone] · settings timezone <zone> · settings days mon-fri"
)

WordList = Literal["keywords", "exclude"]
_TIME = re.compile(r"^(\d{1,2})[:h.](\d{2})$", re.ASCII | re.IGNORECASE)
_DAY_ALIASES: dict[str, tuple[str, ...]] = {
    "weekdays": WEEKDAYS[:5], "weekday": WEEKDAYS[:5], "workdays": WEEKDAYS[:5],
    "weekends": WEEKDAYS[5:], "weekend": WEEKDAYS[5:],
    "daily": WEEKDAYS, "everyday": WEEKDAYS, "all": WEEKDAYS,
}
_LONG_DAYS = {
    "monday": "mon", "tuesday": "tue", "tues": "tue", "wednesday": "wed", "thursday": "thu",
    "thur": "thu", "thurs": "thu", "friday": "fri", "saturday": "sat", "sunday": "sun",
}
# Keywords are matched as plain phrases and shown on every platform: nothing that is markup
# (<@U1>, <!channel>, @everyone, *bold*, `code`) or a control character gets in.
_WORD_OK = re.compile(r"^[\w][\w .,'’&+#/:()-]*$")


@dataclass(frozen=True)
class Subscribe:
    """Start this channel's daily post; None values take the defaults (09:00, the default
    timezone, Mon–Fri)."""

    time: str | None = None
    timezone: str | None = None
    days: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Unsubscribe:
    """Stop this channel's daily post set up from chat."""


@dataclass(frozen=True)
class ChannelChange:
    """What to change in a channel's setup; None / empty means "leave as is". The text
    grammar sets one thing at a time, Discord's options may set several at once."""

    time: str | None = None
    timezone: str | None = None
    days: tuple[str, ...] | None = None
    top_n: int | None = None
    keywords_add: tuple[str, ...] = ()
    keywords_remove: tuple[str, ...] = ()
    keywords_clear: bool = False
    exclude_add: tuple[str, ...] = ()
    exclude_remove: tuple[str, ...] = ()
    exclude_clear: bool = False

    @property
    def empty(self) -> bool:
        return self == ChannelChange()


# An error with the usage attached: set by bot.commands (it owns USAGE and the echo).
Refuse = Callable[[str], UserInputError]
Echo = Callable[[str], str]


def parse_subscribe(args: Sequence[str], refuse: Refuse, echo: Echo) -> Subscribe:
    """`subscribe` with its words: a time, a timezone and days, in any order."""
    time = zone = None
    days: tuple[str, ...] | None = None
    day_words: list[str] = []
    for word in args:
        if _TIME.match(word) or word.isdigit():
            if time is not None:
                raise refuse(f"subscribe takes one time, got '{echo(time)}' and '{echo(word)}'")
            time = check_time(word, refuse, echo)
        elif _looks_like_days(word):
            day_words.append(word)
        else:
            if zone is not None:
                raise refuse(f"'{echo(word)}' is neither a time (HH:MM), a timezone nor days "
                             f"(mon-fri); the timezone is already '{echo(zone)}'")
            zone = check_timezone(word, refuse, echo)
    if day_words:
        days = check_days(" ".join(day_words), refuse, echo)
    return Subscribe(time=time, timezone=zone, days=days)


def parse_change(args: Sequence[str], refuse: Refuse, echo: Echo) -> ChannelChange:
    """One change from `settings <what> …` (`args` starts at <what>)."""
    what, rest = args[0].lower(), list(args[1:])
    if what in ("keywords", "keyword", "exclude", "excludes"):
        field: WordList = "keywords" if what.startswith("keyword") else "exclude"
        return _word_change(field, rest, refuse, echo)
    if what == "top":
        if len(rest) != 1:
            raise refuse(f"settings top takes one number from 1 to {MAX_TOP}, e.g. top 5")
        return ChannelChange(top_n=check_top(rest[0], refuse, echo))
    if what == "time":
        if not 1 <= len(rest) <= 2:
            raise refuse("settings time takes HH:MM and optionally a timezone, "
                         "e.g. time 08:30 Europe/Paris")
        zone = check_timezone(rest[1], refuse, echo) if len(rest) == 2 else None
        return ChannelChange(time=check_time(rest[0], refuse, echo), timezone=zone)
    if what in ("timezone", "tz", "zone"):
        if len(rest) != 1:
            raise refuse("settings timezone takes one IANA name, e.g. timezone Europe/Paris")
        return ChannelChange(timezone=check_timezone(rest[0], refuse, echo))
    if what in ("days", "day"):
        if not rest:
            raise refuse("settings days needs days, e.g. days mon-fri or days mon,wed,fri")
        return ChannelChange(days=check_days(" ".join(rest), refuse, echo))
    message = f"unknown setting '{echo(args[0])}'"
    close = difflib.get_close_matches(what, ["keywords", "exclude", "top", "time", "timezone",
                                             "days"], n=1, cutoff=0.6)
    if close:
        message += f" (did you mean '{close[0]}'?)"
    raise refuse(message + "; change keywords, exclude, top, time, timezone or days")


def build_subscribe(time: str | None, timezone: str | None, days: str | None,
                    refuse: Refuse, echo: Echo) -> Subscribe:
    """Subscribe from typed options (Discord): each checked as the text grammar does."""
    return Subscribe(
        time=check_time(time, refuse, echo) if time else None,
        timezone=check_timezone(timezone, refuse, echo) if timezone else None,
        days=check_days(days, refuse, echo) if days else None,
    )


def build_change(refuse: Refuse, echo: Echo, *, time: str | None = None,
                 timezone: str | None = None, days: str | None = None,
                 top: int | None = None, keywords_add: str | None = None,
                 keywords_remove: str | None = None, exclude_add: str | None = None,
                 exclude_remove: str | None = None, keywords_clear: bool = False,
                 exclude_clear: bool = False) -> ChannelChange:
    """A change from typed options (Discord); any number of them at once."""
    return ChannelChange(
        time=check_time(time, refuse, echo) if time else None,
        timezone=check_timezone(timezone, refuse, echo) if timezone else None,
        days=check_days(days, refuse, echo) if days else None,
        top_n=check_top(str(top), refuse, echo) if top is not None else None,
        keywords_add=check_words(keywords_add, refuse, echo) if keywords_add else (),
        keywords_remove=check_words(keywords_remove, refuse, echo) if keywords_remove else (),
        exclude_add=check_words(exclude_add, refuse, echo) if exclude_add else (),
        exclude_remove=check_words(exclude_remove, refuse, echo) if exclude_remove else (),
        keywords_clear=keywords_clear, exclude_clear=exclude_clear,
    )


# --- one value each ----------------------------------------------------------------------------


def check_time(text: str, refuse: Refuse, echo: Echo) -> str:
    """ "8:30", "08:30", "0830", "8h30" → "08:30"; anything else is refused."""
    word = text.strip()
    if word.isdigit() and len(word) in (3, 4):
        word = f"{word[:-2]}:{word[-2:]}"
    match = _TIME.match(word)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise refuse(f"'{echo(text)}' is not a time; use 24-hour HH:MM, e.g. 08:30 or 17:45")
    return f"{int(match[1]):02d}:{match[2]}"


def check_timezone(text: str, refuse: Refuse, echo: Echo) -> str:
    """An IANA timezone name in its canonical spelling ("europe/paris" → "Europe/Paris")."""
    name = text.strip()
    canonical = _zones().get(name.lower())
    if canonical is not None:
        try:
            ZoneInfo(canonical)
        except (ZoneInfoNotFoundError, ValueError):  # listed but not loadable: refuse
            canonical = None
    if canonical is None:
        close = difflib.get_close_matches(name.lower(), list(_zones()), n=1)
        hint = f" (did you mean '{_zones()[close[0]]}'?)" if close else \
            " (use an IANA name like Europe/Paris, America/New_York or UTC)"
        raise refuse(f"unknown timezone '{echo(text)}'{hint}")
    return canonical


def check_days(text: str, refuse: Refuse, echo: Echo) -> tuple[str, ...]:
    """Days in week order from `mon-fri`, `mon,wed,fri`, `mon wed fri`, `weekdays`…"""
    chosen: set[str] = set()
    parts = [p for p in re.split(r"[\s,;]+", text.strip().lower()) if p]
    if not parts:
        raise refuse("name at least one day, e.g. mon-fri")
    for part in parts:
        if part in _DAY_ALIASES:
            chosen.update(_DAY_ALIASES[part])
            continue
        ends = part.split("-")
        if len(ends) == 1:
            chosen.add(_day(ends[0], text, refuse, echo))
        elif len(ends) == 2:
            first = WEEKDAYS.index(_day(ends[0], text, refuse, echo))
            last = WEEKDAYS.index(_day(ends[1], text, refuse, echo))
            span = (last - first) % 7 + 1  # wraps: fri-mon is fri, sat, sun, mon
            chosen.update(WEEKDAYS[(first + i) % 7] for i in range(span))
        else:
            raise refuse(f"'{echo(part)}' is not a day range; use e.g. mon-fri")
    return tuple(day for day in WEEKDAYS if day in chosen)


def check_top(text: str, refuse: Refuse, echo: Echo) -> int:
    """How many picks a day: a whole number from 1 to MAX_TOP."""
    word = text.strip()
    if not word.isdigit() or not 1 <= int(word) <= MAX_TOP:
        raise refuse(f"top must be a whole number from 1 to {MAX_TOP} (got '{echo(text)}')")
    return int(word)


def check_words(text: str, refuse: Refuse, echo: Echo) -> tuple[str, ...]:
    """Keywords or excludes: comma-separated phrases, else words ("quoted phrases" whole)."""
    clean = text.replace("“", '"').replace("”", '"').strip()
    if "," in clean:
        words = [" ".join(part.split()) for part in clean.split(",")]
    else:
        try:
            words = [" ".join(part.split()) for part in shlex.split(clean)]
        except ValueError:
            raise refuse(f"unbalanced quote in '{echo(text)}'") from None
    words = [w for w in words if w]
    if not words:
        raise refuse("name at least one word, e.g. keywords add diffusion")
    for word in words:
        if len(word) > MAX_WORD_CHARS:
            raise refuse(f"'{echo(word)}' is longer than {MAX_WORD_CHARS} characters")
        if not _WORD_OK.match(word):
            raise refuse(f"'{echo(word)}' is not a plain word or phrase (letters, digits, "
                         "spaces and - . ' & + # / : only)")
    unique: dict[str, str] = {}
    for word in words:
        unique.setdefault(word.casefold(), word)
    return tuple(unique.values())


def _word_change(field: WordList, rest: list[str], refuse: Refuse, echo: Echo) -> ChannelChange:
    action = rest[0].lower() if rest else ""
    if action == "clear" and len(rest) == 1:
        return ChannelChange(**{f"{field}_clear": True})  # type: ignore[arg-type]
    if action not in ("add", "remove", "rm", "delete"):
        raise refuse(f"settings {field} add|remove <words>, or {field} clear "
                     f"(e.g. {field} add diffusion)")
    if len(rest) < 2:
        raise refuse(f"settings {field} {action} needs words, e.g. {field} {action} diffusion")
    words = check_words(" ".join(rest[1:]), refuse, echo)
    kind = "add" if action == "add" else "remove"
    return ChannelChange(**{f"{field}_{kind}": words})  # type: ignore[arg-type]


def _day(word: str, whole: str, refuse: Refuse, echo: Echo) -> str:
    day = _LONG_DAYS.get(word, word)
    if day not in WEEKDAYS:
        raise refuse(f"unknown day in '{echo(whole)}'; use e.g. mon-fri, mon,wed,fri or weekdays")
    return day


def _looks_like_days(word: str) -> bool:
    parts = [p for p in re.split(r"[,;-]+", word.lower()) if p]
    return bool(parts) and all(
        p in WEEKDAYS or p in _LONG_DAYS or p in _DAY_ALIASES for p in parts
    )


@cache
def _zones() -> dict[str, str]:
    """Lower-case IANA name → its canonical spelling (Slack users type `europe/paris`)."""
    return {name.lower(): name for name in available_timezones()} | {"utc": "UTC"}


__all__ = [
    "MAX_TOP", "MAX_WORDS", "SETTINGS_SYNTAX", "SUBSCRIBE_SYNTAX", "ChannelChange", "Subscribe",
    "Unsubscribe", "build_change", "build_subscribe", "check_days", "check_time",
    "check_timezone", "check_top", "check_words", "parse_change", "parse_subscribe",
]
