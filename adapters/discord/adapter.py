"""The Discord adapter: discord.py's client on the bot's event loop, translating both ways.

It implements the seam (`bot.events.ChatAdapter`). `connect` logs in with the token, opens
the gateway and waits for the ready event: the bot user and the guilds it is in become a
`DiscordIdentity`, which files each configured channel under the guild (team) that holds it,
so one bot in several servers serves each with its own list. `run` serves the gateway until
close. Events in: the `/papers` slash commands (defer first — ephemeral unless shared — then
build the typed command and follow up with the rendered reply), 📌 reactions added or removed
on any message (the service decides whether it is a paper the bot posted) and the Save
button on each paper message (a persistent view, so it works across restarts). As
`Publisher` it sends the daily post, each message with a nonce Discord enforces, and answers
after a crash whether a message landed by reading the channel's messages since the claim.

At scale (`shards`) the client is discord.py's `AutoShardedClient` running only this process's
shard ids: each gateway shard carries the guilds whose id maps to it, and another process
runs the others (paperboy/shards.py makes sure no shard has two). Posting needs no gateway:
a channel of a guild on another process's shard, named with its `team`, is posted to over
REST from here, so whichever replica claims a day's post can send it.

A refusal (Forbidden: missing access or permission) pauses that channel until restart, with
one log line naming the channel and what is missing: refusals are never retried, which keeps
the bot far from Discord's invalid-request limit. The same holds for the ✅ after a save: a
channel that refuses it gets no more marks until restart (posting there is not paused).
discord.py's own 429 handling stays on.
Not here: what any command does (bot.service), how a reply reads (render.py), the options
of each command (commands.py). The token comes from the environment and is never logged.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import logging
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from adapters.discord import render
from adapters.discord.commands import Build, papers_group
from bot.config import ChannelConfig
from bot.errors import ChannelPaused, ConfigError, UpstreamError
from bot.events import (
    CallerInfo,
    CommandEvent,
    DetailsReply,
    Identity,
    Outgoing,
    ReactionEvent,
    Reply,
    SaveReply,
)
from bot.models import ChatRef, Digest, Pick
from bot.service import Service

log = logging.getLogger(__name__)

# The bot never joins voice: discord.py's warnings that the voice libraries (PyNaCl, davey)
# are missing would be lines of noise on every start and before a command's answer.
discord.VoiceClient.warn_nacl = False
if hasattr(discord.VoiceClient, "warn_dave"):  # discord.py 2.6 and later
    discord.VoiceClient.warn_dave = False

TOKEN_ENV = "DISCORD_TOKEN"
SAVE_BUTTON = "paperboy:save"
MORE_BUTTON = "paperboy:more"
CONFIRM_EMOJI = "✅"
# Messages read back after a crash: a post is ≤ 26 messages; this leaves room for talk.
FIND_LIMIT = 500
# Message ids carry Discord's clock, the claim ours: read from a little before the claim.
CLOCK_SKEW = timedelta(minutes=5)


def intents() -> discord.Intents:
    """Guilds (channels and the bot's own member, for permissions) and guild reactions.
    No message content, no members: nothing privileged."""
    return discord.Intents(guilds=True, guild_reactions=True)


# What the bot needs in a posting channel, each with the one line `paperboy discord invite`
# prints. Nothing else: exports and replies to commands go through the interaction, which
# needs no channel permission.
PERMISSIONS: dict[str, str] = {
    "view_channel": "see the configured channels",
    "send_messages": "post the daily header and papers",
    "embed_links": "show each paper as an embed",
    "read_message_history": "check after a crash whether a message already landed",
    "add_reactions": "add ✅ to a paper once it is on the team list",
}


def invite_permissions() -> discord.Permissions:
    return discord.Permissions(**dict.fromkeys(PERMISSIONS, True))


def invite_url(application_id: int) -> str:
    """The OAuth2 link that adds the bot with exactly `PERMISSIONS` and its slash commands."""
    return discord.utils.oauth_url(application_id, permissions=invite_permissions(),
                                   scopes=("bot", "applications.commands"))


@dataclass(frozen=True)
class Shards:
    """This process's part of the gateway: `ids` of `count` shards (Discord's rule: guild
    `g` is on shard `(g >> 22) % count`)."""

    count: int
    ids: tuple[int, ...]

    def holds(self, guild: int) -> bool:
        return (guild >> 22) % self.count in self.ids


@dataclass(frozen=True)
class DiscordIdentity(Identity):
    """Who the bot is on Discord: its user id, and the guild of every channel it can see.
    A configured channel belongs to the guild that holds it (each guild is a team); `team`
    names the guilds, for the log. Sharded, a channel whose configured `team` is a guild
    on another process's shard is served too: posting to it needs only REST."""

    guild_of: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    shards: Shards | None = field(default=None, compare=False, hash=False)

    def address(self, channel: ChannelConfig) -> ChatRef | None:
        if channel.platform != self.platform:
            return None
        guild = self.guild_of.get(channel.id)
        if (guild is None and channel.team is not None and channel.team.isdigit()
                and self.shards is not None and not self.shards.holds(int(channel.team))):
            guild = channel.team  # on another shard: this gateway never sees it
        if guild is None or (channel.team is not None and channel.team != guild):
            return None
        return ChatRef(self.platform, guild, channel.id)

    def serves(self, where: ChatRef) -> bool:
        # Each guild is a team; `team` lists them all. Sharded, a guild on another
        # process's shard is posted to over REST from here too.
        if where.platform != self.platform:
            return False
        elsewhere = (self.shards is not None and where.team.isdigit()
                     and not self.shards.holds(int(where.team)))
        return elsewhere or where.team in self.team.split(",")


class SaveView(discord.ui.View):
    """The Save and More buttons under each paper. Persistent (no timeout, fixed custom
    ids): the client routes a press on any message, including those posted before a
    restart."""

    def __init__(self, adapter: DiscordAdapter) -> None:
        super().__init__(timeout=None)
        self._adapter = adapter

    @discord.ui.button(label="Save", emoji=render.SAVE_EMOJI, custom_id=SAVE_BUTTON,
                       style=discord.ButtonStyle.secondary)
    async def save(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._adapter.on_save_button(interaction)

    @discord.ui.button(label="Abstract", custom_id=MORE_BUTTON,
                       style=discord.ButtonStyle.secondary)
    async def more(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._adapter.on_more_button(interaction)


class _Listening:
    """What both clients (one gateway connection, or this process's shards) do."""

    adapter: DiscordAdapter
    tree: app_commands.CommandTree[Any]

    def _listen(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)  # type: ignore[arg-type]
        self.tree.add_command(papers_group(adapter.run_command))

    if TYPE_CHECKING:  # discord.Client's, which every subclass also inherits
        def add_view(self, view: discord.ui.View) -> None: ...

    async def setup_hook(self) -> None:
        # Registered, not synced: the tree is synced only by `paperboy discord sync`.
        self.add_view(SaveView(self.adapter))

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_reaction(payload, added=False)


class _Client(_Listening, discord.Client):
    def __init__(self, adapter: DiscordAdapter, guild_ready_timeout: float) -> None:
        # No text the bot sends may ping anyone, whatever a title or query contains.
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(),
                         guild_ready_timeout=guild_ready_timeout)
        self._listen(adapter)
        self.streamed = asyncio.Event()
        self._session_ready = False

    async def on_socket_event_type(self, event: str) -> None:
        # discord.py fires on_ready only once no guild has arrived for guild_ready_timeout
        # (2 s): every start would wait that long. Every guild READY announced having
        # arrived is all the bot needs. The handler runs after discord.py parsed the event.
        if event == "READY":
            self._session_ready = True
        if (event in ("READY", "GUILD_CREATE") and self._session_ready
                and all(not guild.unavailable for guild in self.guilds)):
            self.streamed.set()


class _ShardedClient(_Listening, discord.AutoShardedClient):
    def __init__(self, adapter: DiscordAdapter, guild_ready_timeout: float,
                 shards: Shards) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(),
                         guild_ready_timeout=guild_ready_timeout,
                         shard_count=shards.count, shard_ids=list(shards.ids))
        self._listen(adapter)


class DiscordAdapter:
    """Serve every guild the bot is in; the `Publisher` of their configured channels."""

    platform = "discord"

    def __init__(self, service: Service, token: str, *,
                 guild_ready_timeout: float = 2.0, shards: Shards | None = None,
                 gate: Callable[[], Awaitable[None]] | None = None) -> None:
        """`guild_ready_timeout`: how long the gateway may stay silent about guilds before
        discord.py declares itself ready (its default, 2 s). `shards`: run only these
        gateway shards (the caller holds their ownership). `gate`: awaited before each
        message or reaction sent, to keep every replica together under Discord's global
        rate limit (paperboy/shared_rate.py)."""
        self.service = service
        self._gate = gate
        self._token = token
        self.shards = shards
        self.client: discord.Client = (
            _Client(self, guild_ready_timeout) if shards is None
            else _ShardedClient(self, guild_ready_timeout, shards))
        self.identity: DiscordIdentity | None = None
        self._gateway: asyncio.Future[None] | None = None
        self._paused: dict[str, str] = {}  # channel id → why posting there stopped
        # Channels that refused the ✅ (no Add Reactions): saves there go unmarked until
        # restart, so each 📌 costs no 403 (each counts toward the invalid-request limit).
        self._unmarked: set[str] = set()

    # --- the seam -------------------------------------------------------------------------

    async def connect(self) -> DiscordIdentity:
        try:
            await login(self.client, self._token)
        except BaseException:
            await self.client.close()
            raise
        self._gateway = asyncio.ensure_future(self.client.connect())
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        waits = {self._gateway, ready}
        if isinstance(self.client, _Client):  # a sharded client waits for every shard
            waits.add(asyncio.ensure_future(self.client.streamed.wait()))
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits - {self._gateway}:
            wait.cancel()
        if self._gateway.done():
            await self.client.close()
            self._gateway.result()  # why the gateway closed, when it said
            raise UpstreamError("the gateway closed before it was ready", source="discord")
        user = self.client.user
        assert user is not None, "discord.py sets the user at login"
        guilds = sorted(self.client.guilds, key=lambda g: g.id)
        self.identity = DiscordIdentity(
            "discord", ",".join(str(g.id) for g in guilds) or "no guild",
            bot_user=str(user.id),
            guild_of={str(c.id): str(g.id) for g in guilds for c in g.channels},
            shards=self.shards,
        )
        log.info("Discord: logged in as %s in %d guilds%s", user, len(guilds),
                 f" (shards {list(self.shards.ids)} of {self.shards.count})"
                 if self.shards else "")
        return self.identity

    async def run(self) -> None:
        """Serve the gateway until it closes (discord.py reconnects on its own)."""
        assert self._gateway is not None, "connect() first"
        await self._gateway

    async def close(self) -> None:
        await self.client.close()

    @property
    def connected(self) -> bool:
        """The gateway is open now (discord.py reconnects by itself; health reports it)."""
        ws = self.client.ws
        return not self.client.is_closed() and ws is not None and ws.open

    @property
    def paused(self) -> dict[str, str]:
        """Channel id → why posting there stopped (a missing permission), for health."""
        return dict(self._paused)

    # --- events in ------------------------------------------------------------------------

    async def run_command(self, interaction: discord.Interaction, share: bool,
                          build: Build) -> None:
        """One `/papers` subcommand: defer within Discord's 3 seconds, before anything slow,
        then run the typed command and follow up with its reply."""
        await interaction.response.defer(ephemeral=not share, thinking=True)
        reply = await self._command(interaction, build)
        await self._follow_up(interaction, reply, shown=share)

    async def _command(self, interaction: discord.Interaction, build: Build) -> Reply:
        name = interaction.command.name if interaction.command else ""
        return await self.service.handle_command(
            CommandEvent(_where(interaction), str(interaction.user.id), text=name, build=build,
                         raw=interaction.data, caller=functools.partial(_caller, interaction))
        )

    async def _follow_up(self, interaction: discord.Interaction, reply: Reply, *,
                         shown: bool) -> None:
        rendered = render.render_reply(reply)
        if rendered is None:
            await interaction.delete_original_response()
            return
        if shown and reply.private:
            # Deferred in the open, but this reply (an error, the help) is the caller's
            # alone: drop the public "thinking…" and answer privately.
            await interaction.delete_original_response()
            shown = False
        await interaction.followup.send(ephemeral=not shown, **_message(rendered))

    async def on_save_button(self, interaction: discord.Interaction) -> None:
        """The Save button: the same as reacting 📌, answered only to the presser."""
        # A component's deferral shows nothing; the answer follows privately.
        await interaction.response.defer(ephemeral=True)
        message = interaction.message
        assert message is not None, "a button always sits on a message"
        where = _where(interaction, message=str(message.id))
        reply = await self._save(ReactionEvent(where, str(interaction.user.id),
                                               self.service.save_emoji, added=True,
                                               raw=interaction.data))
        rendered = render.render_reply(reply)
        if rendered is not None:
            await interaction.followup.send(ephemeral=True, **_message(rendered))

    async def on_more_button(self, interaction: discord.Interaction) -> None:
        """The Abstract button: the paper's full abstract, shown only to whoever asked (the
        channel keeps its one message per paper)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        message = interaction.message
        assert message is not None, "a button always sits on a message"
        reply = await self.service.details(_where(interaction, message=str(message.id)))
        rendered = render.render_reply(reply)
        if rendered is None:
            await interaction.delete_original_response()
            return
        await interaction.followup.send(ephemeral=True, **_message(rendered))

    async def on_reaction(self, payload: discord.RawReactionActionEvent, *,
                          added: bool) -> None:
        """A reaction added or removed anywhere the bot can see. The service decides whether
        it counts; the only answer is the ✅ on the paper (no channel message)."""
        if payload.guild_id is None:
            return  # direct messages hold no daily posts
        where = ChatRef("discord", str(payload.guild_id), str(payload.channel_id),
                        str(payload.message_id))
        await self._save(ReactionEvent(where, str(payload.user_id), _emoji(payload.emoji),
                                       added=added, raw=payload))

    async def _save(self, event: ReactionEvent) -> Reply:
        bot_user = str(self.client.user.id) if self.client.user else None
        reply = await self.service.handle_reaction(event, bot_user=bot_user)
        # The ✅ changes only when the paper joins the list or leaves it.
        if isinstance(reply, SaveReply) and reply.changed and \
                reply.savers == (1 if reply.saved else 0):
            await self._confirm(event.where, on_list=reply.saved)
        return reply

    async def _confirm(self, message: ChatRef, *, on_list: bool) -> None:
        """✅ on a paper while anyone has it saved; removed when nobody has."""
        assert message.message is not None
        if message.channel in self._unmarked:
            return
        target = self.client.get_partial_messageable(int(message.channel)).get_partial_message(
            int(message.message))
        try:
            if self._gate is not None:
                await self._gate()
            if on_list:
                await target.add_reaction(CONFIRM_EMOJI)
            else:
                await target.remove_reaction(CONFIRM_EMOJI, discord.Object(self.client.user.id))
        except discord.Forbidden:
            # The save itself went through; only the mark is missing. Never retried.
            self._unmarked.add(message.channel)
            log.warning("Discord channel %s: cannot mark saved papers with %s: %s; saves "
                        "there go unmarked until the bot restarts",
                        self._channel_name(message.channel), CONFIRM_EMOJI,
                        self._missing(message.channel) or "missing access")
        except discord.HTTPException as exc:
            # The save stands either way: the caller (a Save button's presser) is still
            # answered; the next save or unsave there tries the mark again.
            log.warning("Discord channel %s: could not change the %s on message %s: %s %s",
                        self._channel_name(message.channel), CONFIRM_EMOJI, message.message,
                        exc.status, exc.text)

    # --- Publisher ------------------------------------------------------------------------

    async def post_header(self, out: Outgoing, digest: Digest) -> str:
        return await self._send(out.channel.channel, render.render_header(digest),
                                nonce=nonce_for(out))

    async def post_pick(self, out: Outgoing, digest: Digest, pick: Pick) -> str:
        return await self._send(out.channel.channel, render.render_pick(pick),
                                nonce=nonce_for(out), view=SaveView(self))

    async def post_note(self, out: Outgoing, text: str) -> str:
        return await self._send(out.channel.channel, render.render_note(out.day, text),
                                nonce=nonce_for(out))

    async def post_in_thread(self, reply: DetailsReply) -> str:
        # A reply to the paper's message: it needs no thread permission.
        where = reply.where
        parent = where.thread or where.message
        reference = None if parent is None else discord.MessageReference(
            message_id=int(parent), channel_id=int(where.channel), fail_if_not_exists=False)
        return await self._send(where.channel, render.render_details(reply),
                                reference=reference)

    async def post_notice(self, where: ChatRef, text: str) -> str:
        return await self._send(where.channel, render.render_notice(text))

    async def find_posted(self, out: Outgoing, since: datetime) -> str | None:
        """Whether the message `out` reached the channel after `since`: one of the bot's
        own messages there that carries its marker (the day's header line, or the paper's
        footer). Discord returns no nonce when reading messages, hence the marker."""
        user = self.client.user
        assert user is not None, "connect() first"
        channel = self.client.get_partial_messageable(int(out.channel.channel))
        try:
            async for message in channel.history(limit=FIND_LIMIT, after=since - CLOCK_SKEW,
                                                 oldest_first=True):
                if message.author.id == user.id and _carries(message, out):
                    return str(message.id)
        except discord.HTTPException as exc:
            raise UpstreamError(f"cannot read channel {out.channel.channel}: "
                                f"{exc.status} {exc.text}", source="discord") from exc
        return None

    async def _send(self, channel_id: str, rendered: render.Rendered, *,
                    nonce: str | None = None, view: discord.ui.View | None = None,
                    reference: discord.MessageReference | None = None) -> str:
        if channel_id in self._paused:
            raise ChannelPaused(f"posting to channel {channel_id} is paused: "
                                f"{self._paused[channel_id]}", source="discord")
        channel = self.client.get_partial_messageable(int(channel_id))
        if self._gate is not None:
            await self._gate()
        try:
            message = await channel.send(
                content=rendered.content, embeds=list(rendered.embeds), view=view,
                reference=reference, nonce=nonce,
            )
        except discord.Forbidden as exc:
            why = self._missing(channel_id) or f"missing access ({exc.text or exc.status})"
            self._paused[channel_id] = why
            log.error("Discord channel %s refused the bot: %s; posts there are paused until "
                      "the bot restarts", self._channel_name(channel_id), why)
            raise ChannelPaused(f"channel {channel_id}: {why}", source="discord") from exc
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise  # Discord may have posted it: find_posted settles it next time
            raise UpstreamError(f"Discord refused the message ({exc.status}): {exc.text}",
                                source="discord") from exc
        return str(message.id)

    def _channel_name(self, channel_id: str) -> str:
        channel = self.client.get_channel(int(channel_id))
        name = getattr(channel, "name", None)
        return f"#{name} ({channel_id})" if name else channel_id

    def _missing(self, channel_id: str) -> str | None:
        """The permissions the bot lacks in a channel, as Discord's cache says; None when
        it cannot say (a channel it cannot see at all)."""
        channel = self.client.get_channel(int(channel_id))
        if not isinstance(channel, discord.abc.GuildChannel):
            return None
        granted = channel.permissions_for(channel.guild.me)
        if not granted.view_channel:
            return "missing access: the bot cannot see the channel (View Channel)"
        lacking = [name for name in PERMISSIONS if not getattr(granted, name)]
        if not lacking:
            return None
        return "missing permission " + ", ".join(_title(n) for n in lacking)


# --- helpers ------------------------------------------------------------------------------------


async def login(client: discord.Client, token: str) -> None:
    """Log in over HTTP; an invalid token is a configuration error (exit status 2)."""
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise ConfigError("Discord refused the token (invalid or reset); create a new one "
                          "in the Developer Portal", key=TOKEN_ENV) from None


async def application_id(token: str) -> int:
    """The bot's application id, learnt by logging in (for the invite link)."""
    client = discord.Client(intents=intents())
    try:
        await login(client, token)
        assert client.application_id is not None, "discord.py sets it at login"
        return client.application_id
    finally:
        await client.close()


async def sync_commands(token: str, guild: int | None = None) -> int:
    """Publish the `/papers` commands: to one guild (visible at once, for testing) or
    globally. Returns how many top-level commands Discord now has there."""
    client = discord.Client(intents=intents())
    tree = app_commands.CommandTree(client)
    # This client never opens the gateway, so no interaction reaches `_not_served`.
    tree.add_command(papers_group(_not_served))
    target = discord.Object(guild) if guild is not None else None
    try:
        await login(client, token)
        if target is not None:
            tree.copy_global_to(guild=target)
        synced = await tree.sync(guild=target)
    except discord.HTTPException as exc:
        raise UpstreamError(f"Discord refused the command sync ({exc.status}): {exc.text}",
                            source="discord") from exc
    finally:
        await client.close()
    return len(synced)


async def _not_served(interaction: discord.Interaction, share: bool, build: Build) -> None:
    raise RuntimeError("commands are answered by `paperboy run`, not by the sync client")


def nonce_for(out: Outgoing) -> str:
    """Discord's nonce for one daily-post message (≤ 25 characters). Discord enforces it per
    author, so it names the channel as well as the day and the item."""
    digest = hashlib.blake2b(f"{out.channel.channel}/{out.day}/{out.key}".encode(),
                             digest_size=11).hexdigest()
    return f"pb{digest}"


def _carries(message: discord.Message, out: Outgoing) -> bool:
    if out.key in ("header", "note"):
        return message.content.startswith(render.header_prefix(out.day))
    footer = render.pick_footer(out.key)
    return any(embed.footer.text == footer for embed in message.embeds)


async def _caller(interaction: discord.Interaction) -> CallerInfo:
    # The member's permissions in this channel, resolved by Discord and sent with the
    # interaction: no extra request.
    return CallerInfo(may_manage=interaction.permissions.manage_channels)


def _where(interaction: discord.Interaction, message: str | None = None) -> ChatRef:
    return ChatRef("discord", str(interaction.guild_id), str(interaction.channel_id), message)


def _emoji(emoji: discord.PartialEmoji) -> str:
    """A reaction's emoji as the service names it: unicode without skin tones; a custom
    emoji as `<:name:id>`, which never passes for a unicode one."""
    if emoji.id is not None:
        return f"<:{emoji.name}:{emoji.id}>"
    return "".join(c for c in emoji.name or "" if not _is_skin_tone(c))


def _is_skin_tone(char: str) -> bool:
    return unicodedata.name(char, "").startswith("EMOJI MODIFIER FITZPATRICK")


def _message(rendered: render.Rendered) -> dict[str, Any]:
    """Keyword arguments of a followup for a rendered reply."""
    kwargs: dict[str, Any] = {"embeds": list(rendered.embeds)}
    if rendered.content:
        kwargs["content"] = rendered.content
    if rendered.file is not None:
        name, data = rendered.file
        kwargs["file"] = discord.File(io.BytesIO(data), filename=name)
    return kwargs


def _title(permission: str) -> str:
    return permission.replace("_", " ").title()


__all__ = [
    "PERMISSIONS", "TOKEN_ENV", "DiscordAdapter", "DiscordIdentity", "SaveView",
    "application_id", "intents", "invite_permissions", "invite_url", "login", "nonce_for",
    "sync_commands",
]
