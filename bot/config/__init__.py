"""Paperboy's settings: config.toml plus the environment, validated once at start.

`find_config_path` picks the file (`--config`, then `$PAPERBOY_CONFIG`, then ./config.toml),
`load_config` reads and validates it into frozen dataclasses, and `describe_config` prints the
settings in effect for `paperboy config check`. With no file at all the defaults work: one
console channel, Hugging Face as the only source, the offline TL;DR.

Every mistake is one ConfigError naming the file and the exact key path. Secrets never live
here: the file only names environment variables (`api_key_env`), and a key or value that
looks like a secret is rejected without being echoed. Reads one file; no network.

One job per module:
    schema    the dataclasses, their defaults and the TOML tables they map to
    load      finding and reading the file, `$PAPERBOY_DATA`
    validate  document → Config, every error naming file and key
    describe  the settings in effect as TOML, secrets masked
"""

from __future__ import annotations

from bot.config.describe import describe_config, platforms_from_env
from bot.config.load import find_config_path, load_config
from bot.config.schema import (
    DEFAULT_FILE,
    ENV_CONFIG,
    ENV_DATA,
    ENV_HEALTH_HOST,
    ENV_HEALTH_PORT,
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
    OnEmpty,
    SlackConfig,
    StorageConfig,
    SummariesConfig,
)

__all__ = [
    "DEFAULT_FILE",
    "ENV_CONFIG",
    "ENV_DATA",
    "ENV_HEALTH_HOST",
    "ENV_HEALTH_PORT",
    "ON_EMPTY",
    "PLATFORMS",
    "PLATFORM_TOKENS",
    "SECTIONS",
    "SLACK_MODES",
    "WEEKDAYS",
    "AdminConfig",
    "ArxivConfig",
    "ChannelConfig",
    "Config",
    "DiscordConfig",
    "HealthConfig",
    "HuggingFaceConfig",
    "OnEmpty",
    "SlackConfig",
    "StorageConfig",
    "SummariesConfig",
    "describe_config",
    "find_config_path",
    "load_config",
    "platforms_from_env",
]
