"""A fake Discord: the REST API and the gateway, one local aiohttp server, real payload shapes.

discord.py itself talks to it — its `Route.BASE` and the gateway URL are pointed here by
`FakeDiscord.patch(monkeypatch)` — so a test drives the real client: login, the gateway
handshake (HELLO, IDENTIFY, READY, GUILD_CREATE), events the test dispatches as the gateway
would (`dispatch("INTERACTION_CREATE", payload)`), and every REST call the bot makes, which
the fake records for asserts on the wire.

REST (under /api/v10):
    GET    /users/@me, /oauth2/applications/@me          the bot user, its application
    POST   /channels/{c}/messages                         a message (JSON or multipart);
                                                          `refuse(channel)` → 403 50013
    GET    /channels/{c}/messages?after=&before=&limit=   the channel's messages, newest first
    PUT    /channels/{c}/messages/{m}/reactions/{e}/@me   the bot reacts;
                                                          `refuse_reactions(channel, status)`
    DELETE /channels/{c}/messages/{m}/reactions/{e}/@me   the bot removes its reaction
    POST   /interactions/{id}/{token}/callback            an interaction's response (defer…)
    POST   /webhooks/{app}/{token}                        a followup (JSON or multipart)
    DELETE /webhooks/{app}/{token}/messages/@original     the deferred response removed
    PUT    /applications/{app}/commands                   global command sync
    PUT    /applications/{app}/guilds/{g}/commands        one guild's command sync
A token other than `FakeDiscord.token` gets 401, as Discord answers an invalid token.

Sharding: an IDENTIFY with `shard: [id, count]` gets READY and GUILD_CREATE for only the
guilds on that shard (Discord's rule, `(guild_id >> 22) % count`), and `dispatch` sends a
guild's events only to the connection holding its shard. `identifies` keeps every IDENTIFY.

Recorded: `messages[channel]` (message objects as Discord returns them), `bodies[channel]`
(each message POST's body as sent, refused ones too: nonce, enforce_nonce, allowed_mentions),
`callbacks` and `followups` (interaction id / token → what arrived, in order), `reactions`
(the bot's accepted (channel, message, emoji, added) calls), `synced` (route → commands),
`identify` (the IDENTIFY payload, intents included) and `log` (every request as (method,
path) in order).
`await fake.until(predicate)` waits until a request makes `predicate()` true: no sleeps.
Message ids are snowflakes of `clock()`, so "messages after the claim" is real arithmetic.
Nonces are recorded, not enforced: Discord's few-minute nonce window is a second line of
defence, and a test of exactly-once must hold without it (after a longer outage).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
import pytest_asyncio
import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.utils import time_snowflake

from tests.fakes import FakeServer

Payload = dict[str, Any]

APP_ID = 1100000000000000001
BOT_ID = 1100000000000000002
TOKEN = "fake-discord-token"
FORBIDDEN = {"message": "Missing Permissions", "code": 50013}


@dataclass
class Guild:
    """A server the bot is in: its channels (id → name) and the bot's role permissions."""

    id: int
    channels: dict[int, str]
    permissions: int = 0
    name: str = "Lab"


@dataclass
class Interaction:
    """What the bot answered one interaction: callbacks, then followups, in order, and when
    the first of each arrived (`time.perf_counter()`, for bench/discord_defer.py)."""

    callbacks: list[Payload] = field(default_factory=list)
    followups: list[Payload] = field(default_factory=list)
    deleted_original: bool = False
    deferred_at: float | None = None
    followed_at: float | None = None


class FakeDiscord(FakeServer):
    def __init__(self, guilds: list[Guild], *, clock: Callable[[], datetime] | None = None,
                 token: str = TOKEN) -> None:
        super().__init__()
        self.guilds = guilds
        self.token = token
        self.clock = clock or (lambda: datetime.now(UTC))
        self.messages: defaultdict[int, list[Payload]] = defaultdict(list)
        self.interactions: defaultdict[str, Interaction] = defaultdict(Interaction)
        self.reactions: list[tuple[int, int, str, bool]] = []
        self.synced: dict[str, list[Payload]] = {}
        self.identify: Payload | None = None
        self.identifies: list[Payload] = []
        self.log: list[tuple[str, str]] = []
        self.bodies: defaultdict[int, list[Payload]] = defaultdict(list)
        self._refused: set[int] = set()
        self._reactions_refused: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._shard_of: dict[web.WebSocketResponse, tuple[int, int]] = {}
        self._seq = itertools.count(1)

    # --- test API -------------------------------------------------------------------------

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point discord.py's REST routes and gateway at this server."""
        monkeypatch.setattr(discord.http.Route, "BASE", f"{self.base_url}/api/v10")
        monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY",
                            yarl.URL(f"{self.base_url.replace('http', 'ws')}/gw"))

    def refuse(self, channel: int) -> None:
        """Messages to `channel` are refused (403 Missing Permissions)."""
        self._refused.add(channel)

    def refuse_reactions(self, channel: int, status: int = 403) -> None:
        """The bot's reactions in `channel` (PUT or DELETE) are answered `status`: 403 as
        Discord refuses a bot lacking Add Reactions, or a server error (503: discord.py
        gives up at once; it retries 500, 502, 504 and 524 with sleeps)."""
        self._reactions_refused[channel] = status

    def snowflake(self) -> int:
        return time_snowflake(self.clock()) + next(self._ids)

    def post_message(self, channel: int, body: Payload, *, author: Payload | None = None,
                     message_id: int | None = None) -> Payload:
        """Store a message as if posted (by the bot unless `author` says otherwise)."""
        message = _message(message_id or self.snowflake(), channel, body,
                           author or bot_user())
        self.messages[channel].append(message)
        return message

    async def dispatch(self, event: str, data: Payload) -> None:
        """Send a gateway event (DISPATCH) to every connected client (a guild's event: to
        the connection whose shard holds the guild)."""
        frame = json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data})
        guild = data.get("guild_id")
        for socket in self._sockets:
            if guild is None or self._on_shard(socket, int(guild)):
                await socket.send_str(frame)

    def _on_shard(self, socket: web.WebSocketResponse, guild: int) -> bool:
        shard, count = self._shard_of.get(socket, (0, 1))
        return (guild >> 22) % count == shard

    async def until(self, predicate: Callable[[], bool], within: float = 10) -> None:
        """Wait until a request the bot makes leaves `predicate()` true (at most `within`
        seconds: a bound against a hung test, not a timing)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), within)

    def paths(self, method: str, prefix: str = "") -> list[str]:
        return [path for m, path in self.log if m == method and path.startswith(prefix)]

    # --- server ---------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        api = "/api/v10"
        return [
            web.get("/gw", self._gateway),
            web.get(f"{api}/users/@me", self._me),
            web.get(f"{api}/oauth2/applications/@me", self._application),
            web.post(f"{api}/channels/{{channel}}/messages", self._create_message),
            web.get(f"{api}/channels/{{channel}}/messages", self._history),
            web.put(f"{api}/channels/{{channel}}/messages/{{message}}/reactions/{{emoji}}/@me",
                    self._react),
            web.delete(
                f"{api}/channels/{{channel}}/messages/{{message}}/reactions/{{emoji}}/@me",
                self._react),
            web.post(f"{api}/interactions/{{id}}/{{token}}/callback", self._callback),
            web.post(f"{api}/webhooks/{{app}}/{{token}}", self._followup),
            web.delete(f"{api}/webhooks/{{app}}/{{token}}/messages/@original",
                       self._delete_original),
            web.put(f"{api}/applications/{{app}}/commands", self._sync),
            web.put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._sync),
        ]

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _me(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json(bot_user())

    async def _application(self, request: web.Request) -> web.Response:
        return _json({
            "id": str(APP_ID), "name": "Paperboy", "description": "", "icon": None,
            "bot_public": False, "bot_require_code_grant": False, "verify_key": "0" * 64,
            "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
            "team": None, "flags": 0, "interactions_endpoint_url": None,
        })

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = int(request.match_info["channel"])
        self.log.append(("POST", request.path))
        body = await _body(request)
        self.bodies[channel].append(body)
        if channel in self._refused:
            await self._changed_now()
            return _json(FORBIDDEN, status=403)
        message = self.post_message(channel, body)
        await self._changed_now()
        return _json(message)

    async def _history(self, request: web.Request) -> web.Response:
        channel = int(request.match_info["channel"])
        self.log.append(("GET", request.path))
        after = int(request.query.get("after", 0))
        before = int(request.query.get("before", 2**63))
        limit = int(request.query.get("limit", 50))
        found = sorted((m for m in self.messages[channel]
                        if after < int(m["id"]) < before), key=lambda m: int(m["id"]))
        # Discord answers the `limit` messages nearest the cursor, newest first.
        page = found[:limit] if "after" in request.query else found[-limit:]
        return _json(list(reversed(page)))

    async def _react(self, request: web.Request) -> web.Response:
        self.log.append((request.method, request.path))
        refused = self._reactions_refused.get(int(request.match_info["channel"]))
        if refused is not None:
            await self._changed_now()
            return _json(FORBIDDEN if refused == 403 else
                         {"message": "Service Unavailable", "code": 0}, status=refused)
        self.reactions.append((int(request.match_info["channel"]),
                               int(request.match_info["message"]),
                               request.match_info["emoji"], request.method == "PUT"))
        await self._changed_now()
        return web.Response(status=204)

    async def _callback(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        self.log.append(("POST", request.path))
        body = await _body(request)
        answered = self.interactions[request.match_info["token"]]
        answered.callbacks.append(body)
        answered.deferred_at = answered.deferred_at or arrived
        await self._changed_now()
        flags = (body.get("data") or {}).get("flags", 0)
        return _json({
            "interaction": {"id": request.match_info["id"], "type": 2,
                            "response_message_loading": body["type"] == 5,
                            "response_message_ephemeral": bool(flags & 64)},
            "resource": {"type": body["type"]},
        })

    async def _followup(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        self.log.append(("POST", request.path))
        body = await _body(request)
        answered = self.interactions[request.match_info["token"]]
        answered.followups.append(body)
        answered.followed_at = answered.followed_at or arrived
        message = _message(self.snowflake(), 0, body, bot_user())
        await self._changed_now()
        return _json(message)

    async def _delete_original(self, request: web.Request) -> web.Response:
        self.log.append(("DELETE", request.path))
        self.interactions[request.match_info["token"]].deleted_original = True
        await self._changed_now()
        return web.Response(status=204)

    async def _sync(self, request: web.Request) -> web.Response:
        self.log.append(("PUT", request.path))
        commands = await request.json()
        self.synced[request.path] = commands
        await self._changed_now()
        return _json([
            {**c, "id": str(self.snowflake()), "application_id": str(APP_ID), "version": "1",
             "default_member_permissions": None, "type": c.get("type", 1)}
            for c in commands
        ])

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        self._sockets.append(socket)
        try:
            async for frame in socket:
                payload = json.loads(frame.data)
                if payload["op"] == 1:
                    await socket.send_json({"op": 11})
                elif payload["op"] == 2:
                    self.identify = payload["d"]
                    self.identifies.append(payload["d"])
                    shard = payload["d"].get("shard") or [0, 1]
                    self._shard_of[socket] = (int(shard[0]), int(shard[1]))
                    await self._ready(socket)
                    await self._changed_now()
        finally:
            self._sockets.remove(socket)
            self._shard_of.pop(socket, None)
        return socket

    async def _ready(self, socket: web.WebSocketResponse) -> None:
        guilds = [g for g in self.guilds if self._on_shard(socket, g.id)]
        ready: Payload = {
            "v": 10, "user": bot_user(), "session_id": "session",
            "resume_gateway_url": self.base_url.replace("http", "ws") + "/gw",
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "application": {"id": str(APP_ID), "flags": 0},
        }
        if socket in self._shard_of:
            ready["shard"] = list(self._shard_of[socket])
        await socket.send_json({"op": 0, "t": "READY", "s": next(self._seq), "d": ready})
        for guild in guilds:
            await socket.send_json({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq),
                                    "d": guild_payload(guild)})


# --- payloads ---------------------------------------------------------------------------------


def bot_user() -> Payload:
    return {"id": str(BOT_ID), "username": "paperboy", "discriminator": "0", "avatar": None,
            "bot": True, "global_name": None}


def user(user_id: int, name: str = "ana") -> Payload:
    return {"id": str(user_id), "username": name, "discriminator": "0", "avatar": None,
            "global_name": name.title()}


def guild_payload(guild: Guild) -> Payload:
    """GUILD_CREATE for `guild`: its text channels, @everyone with `permissions`, and the
    bot's own member (sent even without the members intent)."""
    return {
        "id": str(guild.id), "name": guild.name, "icon": None, "owner_id": "1",
        "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
        "explicit_content_filter": 0, "features": [], "mfa_level": 0, "system_channel_id": None,
        "roles": [{"id": str(guild.id), "name": "@everyone", "permissions":
                   str(guild.permissions), "position": 0, "color": 0, "hoist": False,
                   "managed": False, "mentionable": False, "flags": 0}],
        "emojis": [], "stickers": [], "member_count": 2, "large": False, "unavailable": False,
        "joined_at": "2026-01-01T00:00:00+00:00", "voice_states": [], "presences": [],
        "threads": [], "stage_instances": [], "guild_scheduled_events": [],
        "members": [{"user": bot_user(), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00",
                     "deaf": False, "mute": False, "flags": 0}],
        "channels": [{"id": str(cid), "type": 0, "name": name, "position": n,
                      "guild_id": str(guild.id), "permission_overwrites": [], "nsfw": False,
                      "parent_id": None}
                     for n, (cid, name) in enumerate(guild.channels.items())],
        "premium_tier": 0, "preferred_locale": "en-US", "nsfw_level": 0,
    }


def member(user_id: int, name: str = "ana", permissions: int = 0) -> Payload:
    """A guild member as an interaction carries it: `permissions` are the member's resolved
    permissions in the interaction's channel (a bit field, as a string)."""
    return {"user": user(user_id, name), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False, "mute": False, "flags": 0, "permissions": str(permissions)}


_interactions = itertools.count(1)


def command_payload(guild: int, channel: int, subcommand: str, *, user_id: int = 201,
                    permissions: int = 0, **options: Any) -> Payload:
    """INTERACTION_CREATE for `/papers <subcommand> option:value …` as Discord sends it,
    from a member with `permissions` in the channel."""
    types = {bool: 5, int: 4, str: 3}
    sub_options = [{"name": k, "type": types[type(v)], "value": v} for k, v in options.items()]
    return _interaction(guild, channel, user_id, 2, {
        "id": "1200000000000000001", "name": "papers", "type": 1,
        "options": [{"name": subcommand, "type": 1, "options": sub_options}],
    }, permissions)


def button_payload(guild: int, channel: int, message: Payload, *, user_id: int = 201,
                   custom_id: str = "paperboy:save") -> Payload:
    """INTERACTION_CREATE for a press of a button on `message`."""
    payload = _interaction(guild, channel, user_id, 3,
                           {"custom_id": custom_id, "component_type": 2})
    payload["message"] = message
    return payload


def _interaction(guild: int, channel: int, user_id: int, kind: int, data: Payload,
                 permissions: int = 0) -> Payload:
    n = next(_interactions)
    return {
        "id": str(1300000000000000000 + n), "application_id": str(APP_ID), "type": kind,
        "token": f"interaction-token-{n}", "version": 1, "guild_id": str(guild),
        "channel_id": str(channel),
        "channel": {"id": str(channel), "type": 0, "guild_id": str(guild), "name": "papers",
                    "position": 0, "permission_overwrites": [], "nsfw": False,
                    "parent_id": None},
        "member": member(user_id, permissions=permissions), "data": data, "locale": "en-US",
        "guild_locale": "en-US",
        "app_permissions": "0", "entitlements": [], "authorizing_integration_owners": {},
        "context": 0, "attachment_size_limit": 10 * 1024 * 1024,
    }


def reaction_payload(guild: int, channel: int, message: int, emoji: str, *,
                     user_id: int = 201, custom_id: int | None = None) -> Payload:
    """MESSAGE_REACTION_ADD / _REMOVE data for `emoji` on `message`."""
    return {"user_id": str(user_id), "channel_id": str(channel), "message_id": str(message),
            "guild_id": str(guild), "burst": False, "type": 0,
            "emoji": {"id": str(custom_id) if custom_id else None, "name": emoji}}


def _message(message_id: int, channel: int, body: Payload, author: Payload) -> Payload:
    return {
        "id": str(message_id), "channel_id": str(channel), "author": author, "type": 0,
        "content": body.get("content") or "", "embeds": body.get("embeds") or [],
        "components": body.get("components") or [], "attachments": body.get("attachments")
        or [], "nonce": body.get("nonce"), "tts": False, "mention_everyone": False,
        "mentions": [], "mention_roles": [], "pinned": False, "flags": body.get("flags", 0),
        "timestamp": datetime.now(UTC).isoformat(), "edited_timestamp": None,
        "files": body.get("files", []),
    }


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py reads the body as text otherwise.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


async def _body(request: web.Request) -> Payload:
    """A JSON body, or a multipart one: `payload_json` plus files as {"name", "text"}."""
    if not request.content_type.startswith("multipart/"):
        return await request.json()
    body: Payload = {"files": []}
    async for part in await request.multipart():
        if part.name == "payload_json":
            body.update(json.loads(await part.text()))
        else:
            body["files"].append({"name": part.filename, "text": await part.text()})
    return body


@pytest_asyncio.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A running fake with one guild (id 10) holding #papers (id 100) and #general (101),
    where @everyone may do what the invite grants; discord.py pointed at it."""
    from adapters.discord.adapter import invite_permissions

    guild = Guild(10, {100: "papers", 101: "general"}, invite_permissions().value)
    async with FakeDiscord([guild]) as fake:
        fake.patch(monkeypatch)
        yield fake


__all__ = [
    "APP_ID", "BOT_ID", "TOKEN", "FakeDiscord", "Guild", "Interaction", "bot_user",
    "button_payload", "command_payload", "fake_discord", "guild_payload", "member",
    "reaction_payload", "user",
]
