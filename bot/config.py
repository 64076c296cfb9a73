"""Paperboy's settings: config.toml plus the environment, validated once at start.

`find_config_path` picks the file (`--config`, then `$PAPERBOY_CONFIG`, then ./config.toml),
`load_config` reads and validates it into the frozen dataclasses below, and `describe_config`
prints the settings in effect for `paperboy config check`. With no file at all the defaults
work: one console channel, Hugging Face as the only source, the offline TL;DR.

Every mistake is one ConfigError naming the file and the exact key path, channels counted
from 0 in file order (`config.toml: channels[1].timezone: unknown time zone 'Mars/Base'`),
because an admin should fix it from that one line. Secrets never live here: the file only
names environment variables (`api_key_env`), and a key or value that looks like a secret is
rejected without being echoed. Reads one file; no network. Called by bot.cli at start.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.errors import ConfigError
from bot.models import Platform

OnEmpty = Literal["skip", "note"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PLATFORMS: tuple[str, ...] = get_args(Platform)
ON_EMPTY: tuple[str, ...] = get_args(OnEmpty)

ENV_CONFIG = "PAPERBOY_CONFIG"
ENV_DATA = "PAPERBOY_DATA"
DEFAULT_FILE = "config.toml"
PLATFORM_TOKENS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN")


@dataclass(frozen=True)
class ChannelConfig:
    """One channel's schedule and filters (a `[[channels]]` table)."""

    name: str = "console"
    platform: Platform = "console"
    id: str = "console"
    time: str = "09:00"
    timezone: str = "UTC"
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    top_n: int = 5
    min_upvotes: int = 0
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    on_empty: OnEmpty = "note"
    team: str | None = None  # Slack workspace / Discord guild id; None = the adapter's own


@dataclass(frozen=True)
class HuggingFaceConfig:
    base_url: str = "https://huggingface.co"
    timeout: float = 20.0
    # Seconds `paperboy backfill` waits between months, to stay polite to Hugging Face.
    backfill_pause: float = 2.0


@dataclass(frozen=True)
class ArxivConfig:
    base_url: str = "https://export.arxiv.org"
    rss_url: str = "https://rss.arxiv.org"
    categories: tuple[str, ...] = ()
    timeout: float = 30.0


@dataclass(frozen=True)
class SummariesConfig:
    """The LLM step of the TL;DR chain; disabled while `base_url` is empty.

    `base_url` is the OpenAI-compatible API root including its version prefix, as the
    OpenAI SDKs spell it (`https://api.openai.com/v1`, `http://localhost:11434/v1`); the
    summariser appends `/chat/completions` (and `/v1` first when the URL lacks it).
    """

    base_url: str = ""
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4
    timeout: float = 20.0

    @property
    def llm_enabled(self) -> bool:
        return bool(self.base_url and self.model)


@dataclass(frozen=True)
class StorageConfig:
    path: Path = Path("data")


@dataclass(frozen=True)
class Config:
    storage: StorageConfig = field(default_factory=StorageConfig)
    huggingface: HuggingFaceConfig = field(default_factory=HuggingFaceConfig)
    arxiv: ArxivConfig = field(default_factory=ArxivConfig)
    summaries: SummariesConfig = field(default_factory=SummariesConfig)
    channels: tuple[ChannelConfig, ...] = (ChannelConfig(),)
    source_path: Path | None = None  # the file this came from, None for built-in defaults

    def channel(self, name: str) -> ChannelConfig | None:
        return next((c for c in self.channels if c.name == name), None)


# Each TOML table and the dataclass whose fields are its keys: the one schema that parsing,
# `describe_config` and the test keeping config.example.toml complete all read.
SECTIONS: dict[str, type] = {
    "storage": StorageConfig,
    "sources.huggingface": HuggingFaceConfig,
    "sources.arxiv": ArxivConfig,
    "summaries": SummariesConfig,
    "channels": ChannelConfig,
}

_SECRET_KEY = re.compile(
    r"(?:^|[_-])(?:api[_-]?key|token|secret|password|passwd|credentials?)(?:$|[_-])", re.I
)
# Shapes of real credentials (Slack, OpenAI-style, Hugging Face, GitHub, Discord), so that a
# token pasted into any value is refused before a message could echo it.
_SECRET_VALUE = re.compile(
    r"^(?:xox[abposr]-|xapp-|sk-[\w-]{16,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|[\w-]{23,28}\.[\w-]{6,7}\.[\w-]{27,})"
)
_SECRET_ADVICE = (
    "secrets never live in the config file: delete it and put the value in an environment "
    "variable — for an LLM key, name that variable in [summaries] api_key_env; chat tokens "
    "are read from " + ", ".join(PLATFORM_TOKENS)
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_CATEGORY = re.compile(r"^[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[a-z]+)*)?$")
_SLACK_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_DISCORD_ID = re.compile(r"^\d{1,20}$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TOML_ERROR = re.compile(r"^(?P<message>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


# --- finding and loading --------------------------------------------------------------------


def find_config_path(explicit: Path | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    """The config file to use: `--config`, else `$PAPERBOY_CONFIG`, else ./config.toml.

    A file the user named must exist (a typo must not silently mean "defaults"); a missing
    ./config.toml means built-in defaults and returns None. Relative paths are taken
    against `cwd`.
    """
    if explicit is not None:
        return _existing(cwd / explicit.expanduser(), "given with --config")
    named = env.get(ENV_CONFIG, "").strip()
    if named:
        return _existing(cwd / Path(named).expanduser(), f"named by ${ENV_CONFIG}")
    default = cwd / DEFAULT_FILE
    return default if default.is_file() else None


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate `path` (None: built-in defaults), then apply `$PAPERBOY_DATA`.

    Raises ConfigError naming the file and key path for the first problem found.
    """
    env = os.environ if env is None else env
    if path is None:
        return _apply_env(Config(), env)
    file = str(path)
    document = _parse(path, file)
    _reject_secrets(document, "", file)
    config = _build(_Table(document, "", file), base=path.absolute().parent)
    return _apply_env(replace(config, source_path=path), env)


def _existing(path: Path, how: str) -> Path:
    if not path.exists():
        raise ConfigError(f"no such file ({how})", path=str(path))
    if not path.is_file():
        raise ConfigError(f"not a file ({how})", path=str(path))
    return path


def _apply_env(config: Config, env: Mapping[str, str]) -> Config:
    data = env.get(ENV_DATA, "").strip()
    if not data:
        return config
    # Relative to where the command runs, as any path typed in a shell is.
    return replace(config, storage=StorageConfig(path=Path(data).expanduser().absolute()))


def _parse(path: Path, file: str) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("no such file", path=file) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", path=file) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (bad byte at offset {exc.start})", path=file) from exc
    # Windows editors may start the file with a byte-order mark, which TOML does not allow.
    text = text.removeprefix("\ufeff")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), text, file) from exc


def _syntax_error(message: str, text: str, file: str) -> ConfigError:
    match = _TOML_ERROR.match(message)
    if not match:
        return ConfigError(f"invalid TOML: {message}", path=file)
    line = int(match["line"])
    hint = ""
    source = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
    if re.match(r"^\s*time\s*=\s*\d", source):
        hint = ' (write the time in quotes: time = "09:00")'
    return ConfigError(
        f"invalid TOML: {match['message']}{hint}",
        path=file,
        key=f"line {line}, column {match['column']}",
    )


def _reject_secrets(value: object, where: str, file: str) -> None:
    # Runs before any other check so that no later message can quote a secret.
    if isinstance(value, dict):
        for name, item in value.items():
            key = _join(where, name)
            if _SECRET_KEY.search(name) and not name.lower().endswith("_env"):
                raise ConfigError(_SECRET_ADVICE, path=file, key=key)
            _reject_secrets(item, key, file)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_secrets(item, f"{where}[{index}]", file)
    elif isinstance(value, str) and _SECRET_VALUE.match(value.strip()):
        raise ConfigError(f"this looks like a secret; {_SECRET_ADVICE}", path=file, key=where)


# --- validation -----------------------------------------------------------------------------


class _Table:
    """One TOML table and where it sits, so that every error names the file and key path."""

    def __init__(self, data: Mapping[str, Any], where: str, file: str) -> None:
        self.data = data
        self.where = where
        self.file = file

    def key(self, name: str) -> str:
        return _join(self.where, name)

    def error(self, name: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.file, key=self.key(name))

    def check_keys(self, known: Sequence[str], hints: Sequence[str] = ()) -> None:
        for name in self.data:
            if name not in known:
                hint = _suggest(name, [*known, *hints]) or f" (known keys: {', '.join(known)})"
                raise self.error(name, f"unknown key '{name}'{hint}")

    def table(self, name: str) -> _Table:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table [{self.key(name)}], got {_kind(value)}")
        return _Table(value, self.key(name), self.file)

    def text(self, name: str, default: str) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {_kind(value)}")
        return value.strip()

    def integer(self, name: str, default: int, low: int, high: int | None = None) -> int:
        value = self.data.get(name, default)
        # bool is a subclass of int in Python; `top_n = true` is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected a whole number, got {_kind(value)}")
        if value < low or (high is not None and value > high):
            allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise self.error(name, f"must be {allowed}, got {value}")
        return value

    def seconds(self, name: str, default: float, *, zero_ok: bool = False) -> float:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"expected a number of seconds, got {_kind(value)}")
        # TOML allows inf and nan; neither is a usable timeout or pause.
        if zero_ok:
            if not math.isfinite(value) or value < 0:
                raise self.error(name, f"must be 0 or a positive number of seconds, got {value}")
        elif not math.isfinite(value) or value <= 0:
            raise self.error(name, f"must be a positive number of seconds, got {value}")
        return float(value)

    def texts(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.data.get(name, list(default))
        if not isinstance(value, list):
            raise self.error(
                name, f'expected an array of strings like ["a", "b"], got {_kind(value)}'
            )
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{name}[{index}]", f"expected a string, got {_kind(item)}")
            if not item.strip():
                raise self.error(f"{name}[{index}]", "must not be empty")
            items.append(item.strip())
        return tuple(items)

    def choice(self, name: str, default: str, allowed: Sequence[str]) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise self.error(
                name,
                f"expected one of {', '.join(allowed)}, got '{value}'{_suggest(value, allowed)}",
            )
        return value

    def url(self, name: str, default: str, *, optional: bool = False) -> str:
        value = self.text(name, default)
        if optional and not value:
            return ""
        bad = self.error(name, f"expected an http:// or https:// URL, got '{value}'")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            raise bad from None
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
            raise bad
        if parts.username or parts.password:
            # Not echoed: the part before '@' is a credential.
            raise self.error(name, f"must not contain a user name or password; {_SECRET_ADVICE}")
        return value.rstrip("/")


def _build(root: _Table, base: Path) -> Config:
    sections = [key for key in SECTIONS if "." not in key] + ["sources"]
    root.check_keys(sections, hints=[key for key in SECTIONS if "." in key])
    sources = root.table("sources")
    sources.check_keys([key.split(".", 1)[1] for key in SECTIONS if key.startswith("sources.")])
    return Config(
        storage=_storage(root.table("storage"), base),
        huggingface=_huggingface(sources.table("huggingface")),
        arxiv=_arxiv(sources.table("arxiv")),
        summaries=_summaries(root.table("summaries")),
        channels=_channels(root),
    )


def _storage(table: _Table, base: Path) -> StorageConfig:
    table.check_keys(_field_names(StorageConfig))
    raw = table.text("path", str(StorageConfig().path))
    if not raw:
        raise table.error("path", "must not be empty")
    path = Path(raw).expanduser()
    # Relative to the config file, so the bot finds its data wherever it is started from.
    return StorageConfig(path=path if path.is_absolute() else base / path)


def _huggingface(table: _Table) -> HuggingFaceConfig:
    table.check_keys(_field_names(HuggingFaceConfig))
    default = HuggingFaceConfig()
    return HuggingFaceConfig(
        base_url=table.url("base_url", default.base_url),
        timeout=table.seconds("timeout", default.timeout),
        backfill_pause=table.seconds("backfill_pause", default.backfill_pause, zero_ok=True),
    )


def _arxiv(table: _Table) -> ArxivConfig:
    table.check_keys(_field_names(ArxivConfig))
    default = ArxivConfig()
    return ArxivConfig(
        base_url=table.url("base_url", default.base_url),
        rss_url=table.url("rss_url", default.rss_url),
        categories=_categories(table),
        timeout=table.seconds("timeout", default.timeout),
    )


def _summaries(table: _Table) -> SummariesConfig:
    table.check_keys(_field_names(SummariesConfig))
    default = SummariesConfig()
    base_url = table.url("base_url", default.base_url, optional=True)
    model = table.text("model", default.model)
    if base_url and not model:
        raise table.error("model", 'required when base_url is set (e.g. "gpt-4o-mini", "llama3.2")')
    if model and not base_url:
        raise table.error(
            "base_url", "required when model is set (the API root, like http://localhost:11434/v1)"
        )
    api_key_env = table.text("api_key_env", default.api_key_env)
    if api_key_env and not _ENV_NAME.match(api_key_env):
        # Not echoed: a value here that is not a variable name may be the key itself.
        raise table.error(
            "api_key_env",
            "must be the name of an environment variable (like OPENAI_API_KEY), not the key",
        )
    return SummariesConfig(
        base_url=base_url,
        model=model,
        api_key_env=api_key_env,
        concurrency=table.integer("concurrency", default.concurrency, 1),
        timeout=table.seconds("timeout", default.timeout),
    )


def _channels(root: _Table) -> tuple[ChannelConfig, ...]:
    raw = root.data.get("channels", [])
    if not isinstance(raw, list):
        raise root.error("channels", f"expected [[channels]] tables, got {_kind(raw)}")
    channels = []
    for index, item in enumerate(raw):
        where = f"channels[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(
                f"expected a [[channels]] table, got {_kind(item)}", path=root.file, key=where
            )
        channels.append(_channel(_Table(item, where, root.file)))
    _check_unique(channels, root.file)
    return tuple(channels) or (ChannelConfig(),)


def _channel(table: _Table) -> ChannelConfig:
    table.check_keys(_field_names(ChannelConfig))
    default = ChannelConfig()
    platform = table.choice("platform", default.platform, PLATFORMS)
    if platform == "console" and "id" not in table.data:
        # A terminal has no channel ids: the name tells several console channels apart.
        name = table.text("name", default.name)
        channel_id = name
    else:
        channel_id = _channel_id(table, platform)
        name = table.text("name", channel_id)
    if not name:
        raise table.error("name", "must not be empty")
    return ChannelConfig(
        name=name,
        platform=platform,  # type: ignore[arg-type]  # checked against PLATFORMS above
        id=channel_id,
        team=_team(table),
        time=_clock(table),
        timezone=_zone(table),
        days=_days(table),
        top_n=table.integer("top_n", default.top_n, 1, 25),
        min_upvotes=table.integer("min_upvotes", default.min_upvotes, 0),
        keywords=table.texts("keywords", ()),
        exclude=table.texts("exclude", ()),
        authors=table.texts("authors", ()),
        categories=_categories(table),
        on_empty=table.choice("on_empty", default.on_empty, ON_EMPTY),  # type: ignore[arg-type]
    )


def _channel_id(table: _Table, platform: str) -> str:
    if "id" not in table.data:
        example = "C0123456789" if platform == "slack" else "1234567890123456789"
        raise table.error("id", f"required for a {platform} channel (its id, like {example})")
    value = table.data["id"]
    # Discord ids are numbers; TOML integers hold them exactly, so accept either spelling.
    if platform == "discord" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = table.text("id", "")
    if not text:
        raise table.error("id", "must not be empty")
    # A channel *name* would post, but reactions arrive with ids only: saves would never match.
    if platform == "slack" and not _SLACK_ID.match(text):
        raise table.error(
            "id", f"'{text}' is not a Slack channel id (like C0123456789; see channel details)"
        )
    if platform == "discord" and not _DISCORD_ID.match(text):
        raise table.error(
            "id", f"'{text}' is not a Discord channel id (a number; Copy Channel ID in Discord)"
        )
    return text


def _team(table: _Table) -> str | None:
    value = table.data.get("team")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a Discord guild id written as a number
    team = table.text("team", "")
    if not team:
        raise table.error("team", "must not be empty (leave it out to use the adapter's own)")
    return team


def _clock(table: _Table) -> str:
    value = table.data.get("time", ChannelConfig().time)
    # An unquoted TOML local time (time = 09:00:00) is a clear enough way to say it.
    if isinstance(value, clock_time):
        if value.second or value.microsecond:
            raise table.error("time", f'expected whole minutes like "09:00", got {value}')
        return f"{value.hour:02d}:{value.minute:02d}"
    text = table.text("time", ChannelConfig().time)
    match = _TIME.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise table.error(
            "time", f'expected a 24-hour time like "09:00" or "17:30", got \'{text}\''
        )
    return f"{int(match[1]):02d}:{match[2]}"


def _zone(table: _Table) -> str:
    name = table.text("timezone", ChannelConfig().timezone)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        suggestion = _suggest(name, sorted(available_timezones()))
        raise table.error("timezone", f"unknown time zone '{name}'{suggestion}") from None
    return name


def _days(table: _Table) -> tuple[str, ...]:
    value = table.data.get("days", list(ChannelConfig().days))
    if not isinstance(value, list):
        raise table.error(
            "days", f'expected an array of days like ["mon", "wed"], got {_kind(value)}'
        )
    if not value:
        raise table.error("days", "must name at least one day (mon, tue, wed, thu, fri, sat, sun)")
    seen: set[str] = set()
    for index, item in enumerate(value):
        key = f"days[{index}]"
        if not isinstance(item, str):
            raise table.error(key, f'expected a day name like "mon", got {_kind(item)}')
        day = item.strip().lower()
        if day not in WEEKDAYS:
            raise table.error(
                key,
                f"unknown day '{item}'"
                + (_suggest(item, WEEKDAYS) or f" (use {', '.join(WEEKDAYS)})"),
            )
        if day in seen:
            raise table.error(key, f"'{day}' is listed twice")
        seen.add(day)
    return tuple(day for day in WEEKDAYS if day in seen)


def _categories(table: _Table) -> tuple[str, ...]:
    categories = table.texts("categories", ())
    for index, category in enumerate(categories):
        if not _CATEGORY.match(category):
            raise table.error(
                f"categories[{index}]",
                f"'{category}' is not an arXiv category (like cs.CL, stat.ML or hep-th)",
            )
    return categories


def _check_unique(channels: Sequence[ChannelConfig], file: str) -> None:
    names: dict[str, int] = {}
    targets: dict[tuple[str, str], int] = {}
    for index, channel in enumerate(channels):
        if channel.name in names:
            raise ConfigError(
                f"duplicate channel name '{channel.name}' (also channels[{names[channel.name]}])",
                path=file,
                key=f"channels[{index}].name",
            )
        target = (channel.platform, channel.id)
        if target in targets:
            raise ConfigError(
                f"{channel.platform} channel '{channel.id}' is configured twice "
                f"(also channels[{targets[target]}]); one channel gets one post a day",
                path=file,
                key=f"channels[{index}].id",
            )
        names[channel.name] = index
        targets[target] = index


def _field_names(shape: type) -> list[str]:
    return [f.name for f in fields(shape)]


def _join(where: str, name: str) -> str:
    segment = name if _BARE_KEY.match(name.split("[", 1)[0]) else _toml_string(name)
    return f"{where}.{segment}" if where else segment


def _suggest(word: str, candidates: Sequence[str]) -> str:
    # Case-insensitive, so 'Slack' finds 'slack' and 'europe/berlin' finds 'Europe/Berlin'.
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"a string ('{shown}')"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | clock_time):
        return f"a date/time ({value})"
    return type(value).__name__


# --- describing -----------------------------------------------------------------------------


def platforms_from_env(env: Mapping[str, str]) -> tuple[Platform, ...]:
    """The adapters `paperboy run` starts: slack and/or discord by token, else console."""
    started: list[Platform] = []
    if _is_set(env, "SLACK_BOT_TOKEN"):
        started.append("slack")
    if _is_set(env, "DISCORD_TOKEN"):
        started.append("discord")
    return tuple(started) or ("console",)


def describe_config(config: Config, env: Mapping[str, str]) -> str:
    """The settings in effect as TOML (loadable again), then secrets and adapters as comments.

    Secrets appear only as "set (••••)" or "not set": never a value, not even a prefix.
    """
    source = str(config.source_path) if config.source_path else "built-in defaults (no file)"
    lines = [f"# Paperboy settings in effect — from {source}", ""]
    storage_note = f"from ${ENV_DATA}" if _is_set(env, ENV_DATA) else None
    lines += _section("storage", config.storage, storage_note)
    lines += _section("sources.huggingface", config.huggingface)
    lines += _section("sources.arxiv", config.arxiv)
    llm_note = None if config.summaries.llm_enabled else "LLM step off: HF summaries, then offline"
    lines += _section("summaries", config.summaries, llm_note)
    for channel in config.channels:
        lines += _section("channels", channel, array=True)
    lines += _secrets(config, env)
    return "\n".join(lines).rstrip() + "\n"


def _section(name: str, values: Any, note: str | None = None, *, array: bool = False) -> list[str]:
    header = f"[[{name}]]" if array else f"[{name}]"
    lines = [f"{header}  # {note}" if note else header]
    for item in fields(values):
        value = getattr(values, item.name)
        if value is not None:  # TOML has no null: an unset optional key is left out
            lines.append(f"{item.name} = {_toml_value(value)}")
    return [*lines, ""]


def _secrets(config: Config, env: Mapping[str, str]) -> Iterator[str]:
    yield "# Secrets, read from the environment (values are never shown)"
    key_env = config.summaries.api_key_env
    for name in dict.fromkeys([key_env, *PLATFORM_TOKENS] if key_env else PLATFORM_TOKENS):
        state = "set (••••)" if _is_set(env, name) else "not set"
        if name == key_env and not config.summaries.llm_enabled:
            state += " — unused while [summaries] base_url is empty"
        yield f"#   {name}: {state}"
    platforms = platforms_from_env(env)
    yield ""
    yield f"# paperboy run starts: {', '.join(platforms)}"
    if "slack" in platforms:
        if _is_set(env, "SLACK_APP_TOKEN"):
            yield "#   slack: Socket Mode (SLACK_APP_TOKEN)"
        elif _is_set(env, "SLACK_SIGNING_SECRET"):
            yield "#   slack: HTTP mode (SLACK_SIGNING_SECRET)"
        else:
            yield "#   slack: needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)"
    for channel in config.channels:
        if channel.platform not in platforms:
            yield f"#   channel '{channel.name}' ({channel.platform}) gets no posts: not started"


def _is_set(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip())


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return _toml_string(str(value))


def _toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
