"""The shape of Paperboy's settings: frozen dataclasses, their defaults, and the TOML tables.

One job: say what a valid configuration looks like, so that loading (bot.config.load),
validation (bot.config.validate), the report (bot.config.describe) and the test keeping
config.example.toml complete all read one schema. No I/O, no validation, no environment.
The defaults are a working bot: one console channel, Hugging Face only, the offline TL;DR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from bot.models import Platform

OnEmpty = Literal["skip", "note"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PLATFORMS: tuple[str, ...] = get_args(Platform)
ON_EMPTY: tuple[str, ...] = get_args(OnEmpty)

ENV_CONFIG = "PAPERBOY_CONFIG"
ENV_DATA = "PAPERBOY_DATA"
ENV_HEALTH_PORT = "PAPERBOY_HEALTH_PORT"
ENV_HEALTH_HOST = "PAPERBOY_HEALTH_HOST"
# The PostgreSQL password when [storage] url is set (libpq's PGPASSWORD works too).
ENV_DATABASE_PASSWORD = "PAPERBOY_DATABASE_PASSWORD"
DEFAULT_FILE = "config.toml"
PLATFORM_TOKENS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
                   "SLACK_CLIENT_SECRET", "DISCORD_TOKEN")


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
    `timeout` bounds one paper's request; `wait` is how long a post waits for TL;DRs not yet
    in the cache; `prefetch_minutes` is how long before a post the bot starts summarising
    its likely picks in the background (bot.summaries.chain).
    """

    base_url: str = ""
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4
    timeout: float = 120.0
    wait: float = 20.0
    prefetch_minutes: int = 60

    @property
    def llm_enabled(self) -> bool:
        return bool(self.base_url and self.model)


SlackMode = Literal["auto", "socket", "http"]
SLACK_MODES: tuple[str, ...] = get_args(SlackMode)


@dataclass(frozen=True)
class SlackConfig:
    """The Slack adapter (`[slack]`). `mode` "auto" is Socket Mode when SLACK_APP_TOKEN is
    set, else HTTP mode; `port` and `path` are where HTTP mode listens for commands, events
    and interactivity alike; `api_url` is the Web API root (GovSlack, a proxy, a test).
    `client_id` set: one app installed in many workspaces (OAuth, HTTP mode, tokens in
    PostgreSQL); empty: the one workspace of SLACK_BOT_TOKEN."""

    mode: SlackMode = "auto"
    port: int = 3000
    path: str = "/slack/events"
    api_url: str = "https://slack.com/api/"
    client_id: str = ""


@dataclass(frozen=True)
class DiscordConfig:
    """The Discord adapter at scale (`[discord]`): `shard_count` gateway shards in all
    (0: one connection, no sharding), of which this process runs `shard_ids` (empty: all).
    Every process of one bot must give the same `shard_count`."""

    shard_count: int = 0
    shard_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class AdminConfig:
    """Where the bot tells its admin about incidents (`[admin]`): a channel addressed as
    `[[channels]]` are (platform, id, team). `min_free_mb`: below this much free space in
    the data directory the store counts as near full."""

    platform: Platform = "console"
    id: str = "console"
    team: str | None = None
    min_free_mb: int = 200


@dataclass(frozen=True)
class HealthConfig:
    """`GET /healthz` for a container or a load balancer (`[health]`). Off while `port` is
    0; `$PAPERBOY_HEALTH_PORT` and `$PAPERBOY_HEALTH_HOST` override (the image sets them).
    `host` is where it listens: the loopback by default, 0.0.0.0 to be probed from outside."""

    port: int = 0
    host: str = "127.0.0.1"

    @property
    def enabled(self) -> bool:
        return self.port > 0


@dataclass(frozen=True)
class StorageConfig:
    path: Path = Path("data")
    # "postgresql://user@host:5432/db": team state on PostgreSQL (shared by replicas); the
    # password comes from $PAPERBOY_DATABASE_PASSWORD (or libpq's $PGPASSWORD), never the file.
    # Empty: everything in `path` (TinyDB). `path` still holds each process's search index.
    url: str = ""
    # With `url`: how long a replica's claim on a daily post outlives its last write; a
    # replica that dies mid-post has its post finished by another this long after.
    lease_seconds: float = 120.0


@dataclass(frozen=True)
class Config:
    storage: StorageConfig = field(default_factory=StorageConfig)
    huggingface: HuggingFaceConfig = field(default_factory=HuggingFaceConfig)
    arxiv: ArxivConfig = field(default_factory=ArxivConfig)
    summaries: SummariesConfig = field(default_factory=SummariesConfig)
    slack: SlackConfig = field(default_factory=SlackConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    channels: tuple[ChannelConfig, ...] = (ChannelConfig(),)
    admin: AdminConfig | None = None  # None: no [admin] table, incidents only in the log
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
    "slack": SlackConfig,
    "health": HealthConfig,
    "discord": DiscordConfig,
    "channels": ChannelConfig,
    "admin": AdminConfig,
}
