"""Paperboy's settings: config.toml plus the environment, validated once at start.

Shapes only in this part of the module; `load_config` reads and validates a file.
Defaults work with no file at all: one console channel, Hugging Face as the only source,
the offline TL;DR. Secrets are never stored here — only the *names* of environment variables
that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

OnEmpty = Literal["skip", "note"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ChannelConfig:
    """One channel's schedule and filters (a `[[channels]]` table)."""

    name: str = "console"
    platform: Literal["slack", "discord", "console"] = "console"
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


@dataclass(frozen=True)
class ArxivConfig:
    base_url: str = "https://export.arxiv.org"
    rss_url: str = "https://rss.arxiv.org"
    categories: tuple[str, ...] = ()
    timeout: float = 30.0


@dataclass(frozen=True)
class SummariesConfig:
    """The LLM step of the TL;DR chain; disabled while `base_url` is empty."""

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
