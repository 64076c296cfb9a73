"""Turn a parsed TOML document into a `Config`, or one ConfigError naming file and key.

One job: check every value against the schema (bot.config.schema) — types, ranges, ids,
time zones, HH:MM times, posting days, URLs — and refuse anything that looks like a secret
before any other check, so that no message can quote one. Every error names the exact key
path, channels counted from 0 in file order (`channels[1].timezone: unknown time zone
'Mars/Base'`), because an admin should fix the file from that one line.
Pure: reads no file and no environment. Called by bot.config.load.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.config.describe import toml_string
from bot.config.schema import (
    ON_EMPTY,
    PLATFORM_TOKENS,
    PLATFORMS,
    SECTIONS,
    SLACK_MODES,
    WEEKDAYS,
    AdminConfig,
    ArxivConfig,
    ChannelConfig,
    Config,
    DiscordConfig,
    HealthConfig,
    HuggingFaceConfig,
    SlackConfig,
    StorageConfig,
    SummariesConfig,
)
from bot.errors import ConfigError

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


def build_config(document: Mapping[str, Any], file: str, base: Path) -> Config:
    """The Config a parsed document describes; relative storage paths are taken from `base`.

    Raises ConfigError (naming `file` and the key path) for the first problem found.
    """
    _reject_secrets(document, "", file)
    return _build(_Table(document, "", file), base)


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
        slack=_slack(root.table("slack")),
        health=_health(root.table("health")),
        discord=_discord(root.table("discord")),
        channels=_channels(root),
        admin=_admin(root.table("admin")) if "admin" in root.data else None,
    )


def _admin(table: _Table) -> AdminConfig:
    table.check_keys(_field_names(AdminConfig))
    default = AdminConfig()
    platform = table.choice("platform", default.platform, PLATFORMS)
    channel_id = default.id if platform == "console" and "id" not in table.data \
        else _channel_id(table, platform)
    return AdminConfig(
        platform=platform,  # type: ignore[arg-type]  # checked against PLATFORMS above
        id=channel_id, team=_team(table),
        min_free_mb=table.integer("min_free_mb", default.min_free_mb, 0),
    )


def _storage(table: _Table, base: Path) -> StorageConfig:
    table.check_keys(_field_names(StorageConfig))
    raw = table.text("path", str(StorageConfig().path))
    if not raw:
        raise table.error("path", "must not be empty")
    path = Path(raw).expanduser()
    # Relative to the config file, so the bot finds its data wherever it is started from.
    return StorageConfig(path=path if path.is_absolute() else base / path,
                         url=_database_url(table),
                         lease_seconds=table.seconds("lease_seconds", 120.0))


def _database_url(table: _Table) -> str:
    url = table.text("url", "")
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise table.error("url", "expected a PostgreSQL URL like "
                          "postgresql://paperboy@localhost:5432/paperboy")
    if parts.password is not None or "password" in parts.query.lower():
        # Said without quoting the URL: the message must not carry the password.
        raise table.error("url", "has a password in it; put the password in the "
                          "PAPERBOY_DATABASE_PASSWORD environment variable instead")
    if not parts.hostname:
        raise table.error("url", "names no host (postgresql://user@HOST:5432/database)")
    return url


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
        wait=table.seconds("wait", default.wait, zero_ok=True),
        prefetch_minutes=table.integer("prefetch_minutes", default.prefetch_minutes, 0, 720),
    )


def _slack(table: _Table) -> SlackConfig:
    table.check_keys(_field_names(SlackConfig))
    default = SlackConfig()
    path = table.text("path", default.path)
    if not path.startswith("/") or " " in path:
        raise table.error("path", f"expected a URL path like {default.path}, got '{path}'")
    return SlackConfig(
        mode=table.choice("mode", default.mode, SLACK_MODES),  # type: ignore[arg-type]
        port=table.integer("port", default.port, 1, 65535),
        path=path,
        # The client joins method names to it: keep the trailing slash `url` strips.
        api_url=table.url("api_url", default.api_url) + "/",
        client_id=table.text("client_id", default.client_id),
    )


def _health(table: _Table) -> HealthConfig:
    table.check_keys(_field_names(HealthConfig))
    default = HealthConfig()
    host = table.text("host", default.host)
    if not host or " " in host:
        raise table.error("host", f"expected an address to listen on like 0.0.0.0, got '{host}'")
    return HealthConfig(port=table.integer("port", default.port, 0, 65535), host=host)


def _discord(table: _Table) -> DiscordConfig:
    table.check_keys(_field_names(DiscordConfig))
    count = table.integer("shard_count", DiscordConfig.shard_count, 0)
    raw = table.data.get("shard_ids", [])
    if not isinstance(raw, list):
        raise table.error("shard_ids", f"expected an array of shard numbers like [0, 1], "
                                       f"got {_kind(raw)}")
    ids = []
    for index, item in enumerate(raw):
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < count:
            raise table.error(f"shard_ids[{index}]", f"expected a shard number from 0 to "
                                                     f"{count - 1} (shard_count), got {item!r}")
        ids.append(item)
    if len(set(ids)) != len(ids):
        raise table.error("shard_ids", "lists a shard twice")
    return DiscordConfig(shard_count=count, shard_ids=tuple(sorted(ids)))


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
    segment = name if _BARE_KEY.match(name.split("[", 1)[0]) else toml_string(name)
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
