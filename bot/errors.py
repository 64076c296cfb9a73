"""Every error Paperboy raises on purpose, in one tree that branches on who can act.

    PaperboyError
    ├── UserInputError        the person typing can fix it; the message is safe to show
    │   ├── UnknownCommand    "/papers frobnicate"
    │   └── InvalidPaperId    "/papers save not-an-id"
    ├── UpstreamError         Hugging Face, arXiv, an LLM or a chat platform failed;
    │   │                     carries the source name and URL (never credentials)
    │   ├── UpstreamTimeout   no answer in time (after retries)
    │   ├── RateLimited       HTTP 429; `retry_after` seconds when the upstream said
    │   ├── ChannelPaused     a chat platform refused the bot a channel (not in it, a
    │   │                     missing permission): posts there wait for a person
    │   └── BadPayload        an answer we cannot read (HTML error page, truncated JSON…)
    ├── StoreError            the data directory is unreadable, locked or corrupt
    │   └── StoreLocked       another Paperboy process holds the data directory
    └── ConfigError           config.toml or the environment is wrong; names file and key

Adapters show `UserInputError` messages to users as they are, report the other branches
as one line, and let anything outside this tree (a bug) propagate. httpx errors are
translated into this tree inside `bot.sources` with `raise ... from exc`.
"""

from __future__ import annotations


class PaperboyError(Exception):
    """Base of every error Paperboy raises on purpose."""


class UserInputError(PaperboyError):
    """Bad input from a person. `str(error)` is one line, safe to show; usage follows it."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class UnknownCommand(UserInputError):
    """A subcommand the grammar does not know."""


class InvalidPaperId(UserInputError):
    """Text that is neither an arXiv id nor a link to a paper."""


class UpstreamError(PaperboyError):
    """An upstream service failed. `source` names it ("huggingface", "arxiv", "llm"…)."""

    def __init__(self, message: str, *, source: str, url: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.url = url

    def __str__(self) -> str:
        base = super().__str__()
        return f"{self.source}: {base}" + (f" ({self.url})" if self.url else "")


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer in time, after retries."""


class RateLimited(UpstreamError):
    """The upstream answered 429. `retry_after` is in seconds when it said so."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, source=source, url=url)
        self.retry_after = retry_after


class ChannelPaused(UpstreamError):
    """A chat platform refused the bot a channel; nothing was posted and nothing will be
    until a person fixes it (invite the bot, grant the permission) and restarts the bot."""


class BadPayload(UpstreamError):
    """The upstream answered with something we cannot read."""


class StoreError(PaperboyError):
    """The store cannot be read or written. Team state is never reset to hide this."""


class StoreLocked(StoreError):
    """Another process writes to this data directory."""


class ConfigError(PaperboyError):
    """The configuration is invalid. The message names the file and the key."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        super().__init__(message)
        self.path = path
        self.key = key

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.path, self.key) if p)
        return f"{where}: {super().__str__()}" if where else super().__str__()
