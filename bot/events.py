"""The vocabulary between adapters and the core: events in, replies out, and the adapter seam.

Pure data and protocols. An adapter turns a platform payload into a `CommandEvent` or a
`ReactionEvent` (keeping the untouched payload in `raw` for debugging), hands it to
`bot.service.Service`, and renders the `Reply` it gets with its own pure renderer. Every use
case answers with a reply, failures included, so an adapter needs no error handling or
wording of its own. Daily posts go out through the adapter's `Publisher`.

The seam every chat adapter implements is `ChatAdapter`: connect (and say who it is, an
`Identity`), run, close. The composition root (the `paperboy` command) connects every
configured adapter before the scheduler starts, so a post is always filed under the team the
platform said, never a guess.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

from bot.commands import Command, CommandHelp
from bot.config import ChannelConfig
from bot.models import ChatRef, Digest, Paper, Pick, Platform, SavedPaper

Visibility = Literal["private", "channel"]


@dataclass(frozen=True)
class Identity:
    """Who an adapter is, learnt from its platform at connect: the team (Slack workspace,
    Discord guild, the console's one team) and the bot's own user id, whose reactions never
    count."""

    platform: Platform
    team: str
    bot_user: str | None = None

    def address(self, channel: ChannelConfig) -> ChatRef | None:
        """Where a configured channel lives on this connection, or None when this
        connection does not serve it (another platform, or a `team` that is not ours)."""
        if channel.platform != self.platform:
            return None
        if channel.team is not None and channel.team != self.team:
            return None
        return ChatRef(self.platform, self.team, channel.id)

    def serves(self, where: ChatRef) -> bool:
        """Whether this connection posts in `where`, a channel set up from chat (whose
        team the command that set it up named)."""
        return where.platform == self.platform and where.team == self.team

    def targets(
        self, channels: Sequence[ChannelConfig], publisher: Publisher
    ) -> list[PostTarget]:
        """The configured channels this connection serves, as daily-post targets."""
        return [
            PostTarget(channel, where, publisher)
            for channel in channels
            if (where := self.address(channel)) is not None
        ]


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerInfo:
    """What the platform says about whoever typed a command: whether they may manage the
    channel's daily post (a Slack workspace admin or owner, a Discord member with Manage
    Channels there, the console's user) and their timezone when the platform knows it."""

    may_manage: bool
    timezone: str | None = None


# Asked only by the commands that change a channel (Slack pays a users.info call for it).
CallerLookup = Callable[[], Awaitable[CallerInfo]]


@dataclass(frozen=True)
class CommandEvent:
    """Someone typed `/papers <text>` in `where`; `command` is set instead of `text` when the
    platform already split the arguments (Discord's subcommand options), or `build` when
    turning them into a command is still to do (the core's grammar may refuse an option:
    the service answers with the help of subcommand `text`). `caller` tells who the caller
    is on the platform; None means "an ordinary member"."""

    where: ChatRef
    user: str
    text: str = ""
    command: Command | None = None
    build: Callable[[], Command] | None = field(default=None, compare=False, repr=False)
    raw: Any = field(default=None, compare=False, repr=False)
    caller: CallerLookup | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ReactionEvent:
    """`user` added (or removed) `emoji` on the message `where.message`."""

    where: ChatRef
    user: str
    emoji: str
    added: bool
    raw: Any = field(default=None, compare=False, repr=False)


# --- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """Base of every reply. `visibility` "private" goes to the caller only (ephemeral); each
    adapter maps it to what its platform can do."""

    visibility: Visibility = field(default="private", kw_only=True)

    @property
    def private(self) -> bool:
        return self.visibility == "private"


@dataclass(frozen=True)
class HelpReply(Reply):
    """Usage as data. `error` is the one-line explanation when the input was bad; `syntax` an
    extra line of grammar for the topic (search's filters)."""

    commands: tuple[CommandHelp, ...]
    error: str | None = None
    syntax: str | None = None


@dataclass(frozen=True)
class NoticeReply(Reply):
    """A one-line answer that is neither data nor a failure: "already posted today", "that
    paper is not on your team's list"."""

    text: str


@dataclass(frozen=True)
class ErrorReply(Reply):
    """An upstream or store failure, said in one line (never a traceback)."""

    message: str


@dataclass(frozen=True)
class Ignored(Reply):
    """The event was not the bot's to handle (another emoji, a message that is not a paper
    it posted, its own reaction). Chat platforms say nothing; the console shows `why`."""

    why: str


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


ChannelSource = Literal["config", "chat", "chat over config"]


@dataclass(frozen=True)
class SettingsReply(Reply):
    """A channel's daily post. `source` says where its settings come from (config.toml, a
    setup from chat, or chat settings over a config.toml channel); `subscriber` is the user
    who set it up from chat; `note` says what a command just changed."""

    channel: ChannelConfig | None
    next_run: datetime | None = None  # in the channel's time zone; None: no posting days
    save_emoji: str = "pushpin"
    source: ChannelSource = "config"
    subscriber: str | None = None
    note: str | None = None
    config_file: str = "config.toml"  # or "the built-in defaults", as replies name it


@dataclass(frozen=True)
class SaveReply(Reply):
    """The outcome of a save or unsave (by command or reaction)."""

    paper: Paper
    saved: bool  # True: the paper is now saved by this user; False: unsaved
    changed: bool  # False when it was already so
    savers: int  # how many team members have it saved now


@dataclass(frozen=True)
class DetailsReply(Reply):
    """A paper's full abstract, for the thread of the message that carried it (`where`)."""

    paper: Paper
    where: ChatRef


# --- the outgoing side of a daily post --------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One message of a daily post: where it goes and the key that names it in the post
    ("header", "note" or the paper's arXiv id). Platforms that can attach it to a message
    (Discord's nonce, Slack's metadata) do, so the message can be found again after a crash."""

    channel: ChatRef
    day: date
    key: str


class Publisher(Protocol):
    """Posts a daily digest to a channel, one message at a time; returns message ids.

    The service records each message before the call and its id after, so nothing is sent
    twice. A post method raises `UpstreamError` when the platform refused the message
    (nothing was posted: a retry sends it); any other exception means "may have been
    posted", and `find_posted` settles it on the next attempt.
    """

    async def post_header(self, out: Outgoing, digest: Digest) -> str: ...

    async def post_pick(self, out: Outgoing, digest: Digest, pick: Pick) -> str: ...

    async def post_note(self, out: Outgoing, text: str) -> str: ...

    async def find_posted(self, out: Outgoing, since: datetime) -> str | None:
        """The id of the message `out` if it reached the channel after `since`, else None.

        Asked only for a message whose fate is unknown (the process died between sending
        it and recording its id). Raises `UpstreamError` when the platform cannot say; the
        post then waits for the next attempt rather than guess."""
        ...

    async def post_in_thread(self, reply: DetailsReply) -> str:
        """Post `reply` in the thread of `reply.where` (a paper's abstract belongs there)."""
        ...

    async def post_notice(self, where: ChatRef, text: str) -> str:
        """Post one plain line to a channel, outside any daily post (the admin's alerts)."""
        ...


@dataclass(frozen=True)
class PostTarget:
    """A configured channel as a connected adapter serves it: its address and publisher."""

    channel: ChannelConfig
    where: ChatRef
    publisher: Publisher


class ChatAdapter(Publisher, Protocol):
    """What every chat adapter implements (the console adapter is the worked example).

    `connect` logs in and returns who the bot is there; nothing is posted before it
    returns. `run` serves events until the platform closes or input ends. `close` stops
    accepting events and releases connections; it is safe to call twice. The adapter is
    also the `Publisher` of the channels its identity serves.
    """

    platform: Platform

    async def connect(self) -> Identity: ...

    async def run(self) -> None: ...

    async def close(self) -> None: ...


__all__: Sequence[str] = (
    "CallerInfo", "CallerLookup", "ChannelSource", "ChatAdapter", "CommandEvent",
    "DetailsReply", "DigestReply", "ErrorReply", "FileReply",
    "HelpReply", "Identity", "Ignored", "ListReply", "NoticeReply", "Outgoing", "PostTarget",
    "Publisher", "ReactionEvent", "Reply", "SaveReply", "SearchHitView", "SearchReply",
    "SettingsReply", "Visibility",
)
