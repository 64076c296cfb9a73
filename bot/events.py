"""What adapters hand to the service, and what the service hands back to render.

Pure data. An adapter turns a platform payload into a `CommandEvent` or `ReactionEvent`
(keeping the untouched payload in `raw` for debugging), calls `bot.service.Service`, and
renders the `Reply` it gets with its own pure renderer. The outgoing side of a daily post goes
through a `Publisher` that each adapter implements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.config import ChannelConfig
from bot.models import ChatRef, Digest, Paper, Pick, SavedPaper


@dataclass(frozen=True)
class CommandEvent:
    """Someone typed `/papers <text>` in `where`."""

    where: ChatRef
    user: str
    text: str
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ReactionEvent:
    """`user` added (or removed) `emoji` on the message `where.message`."""

    where: ChatRef
    user: str
    emoji: str
    added: bool
    raw: Any = field(default=None, compare=False, repr=False)


# --- replies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Base of every reply. `private` replies go only to the caller (ephemeral)."""

    private: bool = field(default=True, kw_only=True)


@dataclass(frozen=True)
class HelpReply(Reply):
    usage: str
    error: str | None = None  # the one-line explanation when the input was bad


@dataclass(frozen=True)
class ErrorReply(Reply):
    """An upstream or store failure, said in one line (never a traceback)."""

    message: str


@dataclass(frozen=True)
class DigestReply(Reply):
    digest: Digest


@dataclass(frozen=True)
class SearchHitView:
    """One search result, with its TL;DR and why it matched."""

    paper: Paper
    summary: str
    snippet: str | None
    match: str  # "local" | "remote" | "exact"


@dataclass(frozen=True)
class SearchReply(Reply):
    query: str
    hits: tuple[SearchHitView, ...]
    note: str | None = None  # e.g. "Hugging Face search timed out: local results only"


@dataclass(frozen=True)
class ListReply(Reply):
    entries: tuple[SavedPaper, ...]
    total: int


@dataclass(frozen=True)
class FileReply(Reply):
    filename: str
    mime: str
    content: str
    count: int


@dataclass(frozen=True)
class SettingsReply(Reply):
    channel: ChannelConfig | None
    next_run: datetime | None = None
    save_emoji: str = "pushpin"


@dataclass(frozen=True)
class SaveReply(Reply):
    """The outcome of a save or unsave (by command or reaction)."""

    paper: Paper
    saved: bool  # True: the paper is now saved by this user; False: unsaved
    changed: bool  # False when it was already so
    savers: int  # how many team members have it saved now


# --- the outgoing side of a daily post --------------------------------------------------------


class Publisher(Protocol):
    """Posts a daily digest to a channel, one message at a time; returns message ids.

    Each adapter implements it with its own rendering. The service records each message
    before the call, so nothing is ever sent twice. A method raises `UpstreamError` when
    the platform refused the message (nothing was posted: a retry sends it); any other
    exception counts as "may have been posted" and the message is not sent again.
    """

    async def post_header(self, channel: ChatRef, digest: Digest) -> str: ...

    async def post_pick(self, channel: ChatRef, digest: Digest, pick: Pick) -> str: ...

    async def post_note(self, channel: ChatRef, text: str) -> str: ...


__all__: Sequence[str] = (
    "CommandEvent", "DigestReply", "ErrorReply", "FileReply", "HelpReply", "ListReply",
    "Publisher", "ReactionEvent", "Reply", "SaveReply", "SearchHitView", "SearchReply",
    "SettingsReply",
)
