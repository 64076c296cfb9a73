"""A fake Slack: the Web API methods Paperboy calls, `response_url`s and a Socket Mode socket.

A local aiohttp server (see tests/fakes/__init__.py for the common API: `base_url`,
`requests`, `calls`, `fail_next`). Point the client at `api_url` (`<base_url>/api/`).

    POST /api/auth.test               the bot's identity (TEAM, BOT_USER; or the workspace
                                      an OAuth token belongs to); a token in `bad_tokens`
                                      or one rotated away answers invalid_auth
    GET  /oauth/v2/authorize,         installs and token rotation: see
    POST /api/oauth.v2.access         tests/fakes/slack_oauth.py (`fake.oauth`)
    POST /api/chat.postMessage        appends to the channel's history (`history[channel]`)
                                      and answers its `ts`; a channel in `refuse` answers
                                      that error (not_in_channel…) and posts nothing; while
                                      `drop_after_post` > 0 a message lands and the
                                      connection is then cut before any answer
    POST /api/chat.postEphemeral      recorded in `ephemerals`
    GET  /api/conversations.history   the channel's messages after `oldest`, newest first,
                                      `metadata` only with include_all_metadata; `page_size`
                                      messages per page with a next_cursor
    GET  /api/users.info              a user from `users` (id → display name), with the
                                      fields in `profiles[id]` (is_admin, is_owner, tz…)
    POST /api/apps.connections.open   the URL of this server's Socket Mode socket (an
                                      app token in `bad_tokens`: invalid_auth)
    POST /response/<id>               a `response_url`: the JSON body lands in `responses`
    GET  /socket                      Socket Mode: sends `hello`; `send_envelope(...)` pushes
                                      an envelope; the app's acks land in `acks`

`response_url(name)` makes a response URL; `wait_until(predicate)` waits (bounded by the
test timeout, no sleeps) until what was recorded satisfies the predicate.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.fakes import FakeServer
from tests.fakes.slack_oauth import SlackOAuth

TEAM = "T0PAPERS"
BOT_USER = "U0BOT"
BOT_NAME = "paperboy"
Message = dict[str, Any]


class FakeSlack(FakeServer):
    def __init__(self, *, users: dict[str, str] | None = None, page_size: int = 100) -> None:
        super().__init__()
        self.history: defaultdict[str, list[Message]] = defaultdict(list)
        self.ephemerals: list[Message] = []
        self.responses: list[Message] = []
        self.acks: list[Message] = []
        self.uploads: list[Message] = []  # files shared by files upload v2, completed
        self._pending: dict[str, Message] = {}  # file id → what was uploaded so far
        self.users = users or {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self.refuse: dict[str, str] = {}
        self.bad_tokens: set[str] = set()
        self.page_size = page_size
        # Seconds chat.postMessage takes before it lands: a message "in flight" for a test
        # that stops the bot mid-message.
        self.post_delay = 0.0
        # Messages still to land without an answer: the connection is cut after each, as a
        # network failing between Slack's write and its reply does.
        self.drop_after_post = 0
        self._last_ts = 0.0
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self.oauth = SlackOAuth(self)
        self.posted_with: dict[str, str] = {}  # a posted message's ts → the token it used

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/auth.test", self._auth_test),
            web.post("/api/chat.postMessage", self._post_message),
            web.post("/api/chat.postEphemeral", self._post_ephemeral),
            web.get("/api/conversations.history", self._history),
            web.post("/api/conversations.history", self._history),
            web.get("/api/users.info", self._users_info),
            web.post("/api/users.info", self._users_info),
            web.post("/api/apps.connections.open", self._connections_open),
            web.get("/api/files.getUploadURLExternal", self._upload_url),
            web.post("/api/files.getUploadURLExternal", self._upload_url),
            web.post("/upload/{file_id}", self._upload),
            web.post("/api/files.completeUploadExternal", self._complete_upload),
            web.post("/response/{name}", self._response),
            web.get("/socket", self._socket),
            *self.oauth.routes(),
        ]

    # --- what a test uses -----------------------------------------------------------------

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    def posted(self, channel: str) -> list[Message]:
        """The channel's messages, oldest first."""
        return list(self.history[channel])

    def posted_keys(self, channel: str) -> list[str]:
        """The item key (`header` or an arXiv id) each of the channel's messages carries in
        its metadata, oldest first: how a test counts what a post sent."""
        return [m["metadata"]["event_payload"]["key"] for m in self.history[channel]]

    def add_message(self, channel: str, message: Message) -> Message:
        """Put a message in a channel's history as if someone had posted it."""
        message = {"ts": self._next_ts(), **message}
        self.history[channel].append(message)
        return message

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await self._changed.wait_for(predicate)

    @property
    def sockets_open(self) -> int:
        """Socket Mode connections currently open."""
        return len(self._sockets)

    async def send_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str,
                            *, accepts_response_payload: bool = False) -> None:
        """Push a Socket Mode envelope (events_api, slash_commands, interactive)."""
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": accepts_response_payload,
                    "retry_attempt": 0, "retry_reason": ""}
        await self.wait_until(lambda: bool(self._sockets))
        await self._sockets[-1].send_str(json.dumps(envelope))

    # --- handlers -------------------------------------------------------------------------

    async def _auth_test(self, request: web.Request) -> web.Response:
        token = _token(request)
        if token in self.bad_tokens or self.oauth.retired(token):
            return _fail("invalid_auth")
        workspace = self.oauth.workspace_of(token)
        if workspace is not None:
            return _ok(url=f"https://{workspace.name}.slack.com/", team=workspace.name,
                       user=BOT_NAME, team_id=workspace.team, user_id=workspace.bot_user,
                       bot_id=workspace.bot_id)
        return _ok(url="https://paperboy-test.slack.com/", team="Paperboy Test", user=BOT_NAME,
                   team_id=TEAM, user_id=BOT_USER, bot_id="B0BOT")

    async def _post_message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        channel = body["channel"]
        token = _token(request)
        if self.oauth.retired(token):
            return _fail("invalid_auth")
        if channel in self.refuse:
            return _fail(self.refuse[channel])
        if self.post_delay:
            await asyncio.sleep(self.post_delay)
        workspace = self.oauth.workspace_of(token)
        user, bot_id = (workspace.bot_user, workspace.bot_id) if workspace else (BOT_USER,
                                                                               "B0BOT")
        message = {"ts": self._next_ts(), "user": user, "bot_id": bot_id, "type": "message",
                   "text": body.get("text", ""), "blocks": _json(body.get("blocks")),
                   "metadata": _json(body.get("metadata")), "thread_ts": body.get("thread_ts"),
                   "unfurl_links": body.get("unfurl_links"),
                   "unfurl_media": body.get("unfurl_media")}
        self.posted_with[message["ts"]] = token
        self.history[channel].append(message)
        await self._notify()
        if self.drop_after_post > 0:
            self.drop_after_post -= 1
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError  # the handler's connection is gone: answer nothing
        return _ok(channel=channel, ts=message["ts"], message=message)

    async def _post_ephemeral(self, request: web.Request) -> web.Response:
        body = await _body(request)
        self.ephemerals.append({**body, "blocks": _json(body.get("blocks"))})
        await self._notify()
        return _ok(message_ts=self._next_ts())

    async def _history(self, request: web.Request) -> web.Response:
        body = await _body(request)
        oldest = float(body.get("oldest") or 0)
        with_metadata = str(body.get("include_all_metadata")).lower() in ("true", "1")
        messages = [m for m in reversed(self.history[body["channel"]])
                    if float(m["ts"]) > oldest]
        start = int(body.get("cursor") or 0)
        page = messages[start:start + self.page_size]
        shown = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                 for m in page]
        more = start + self.page_size < len(messages)
        return _ok(messages=shown, has_more=more,
                   response_metadata={"next_cursor": str(start + self.page_size) if more else ""})

    async def _users_info(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = body["user"]
        if user not in self.users:
            return _fail("user_not_found")
        name = self.users[user]
        return _ok(user={"id": user, "name": name.lower().replace(" ", "."),
                         "is_admin": False, "is_owner": False, "tz": "Europe/London",
                         "profile": {"display_name": name, "real_name": name},
                         **self.profiles.get(user, {})})

    # files upload v2: ask for an upload URL, POST the bytes there, complete into a channel.
    async def _upload_url(self, request: web.Request) -> web.Response:
        body = await _body(request)
        file_id = f"F{len(self._pending) + 1:05d}"
        self._pending[file_id] = {"id": file_id, "filename": body.get("filename"),
                                  "length": int(body.get("length", 0)), "content": None}
        return _ok(upload_url=f"{self.base_url}/upload/{file_id}", file_id=file_id)

    async def _upload(self, request: web.Request) -> web.Response:
        pending = self._pending[request.match_info["file_id"]]
        pending["content"] = (await request.read()).decode("utf-8")
        return web.Response(text=f"OK - {len(pending['content'])}")

    async def _complete_upload(self, request: web.Request) -> web.Response:
        body = await _body(request)
        channel = body.get("channel_id")
        if channel in self.refuse:
            return _fail(self.refuse[channel])
        files = _json(body.get("files")) or []
        for file in files:
            self.uploads.append({**self._pending[file["id"]], "title": file.get("title"),
                                 "channel": channel,
                                 "initial_comment": body.get("initial_comment")})
        await self._notify()
        return _ok(files=[{"id": f["id"], "title": f.get("title")} for f in files])

    async def _connections_open(self, request: web.Request) -> web.Response:
        if _token(request) in self.bad_tokens:
            return _fail("invalid_auth")
        host = request.host
        return _ok(url=f"ws://{host}/socket")

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append({"url": str(request.url), **body,
                               "blocks": _json(body.get("blocks"))})
        await self._notify()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                          "connection_info": {"app_id": "A0PAPERBOY"}}))
        self._sockets.append(socket)
        await self._notify()
        async for frame in socket:
            if frame.type == WSMsgType.TEXT:
                self.acks.append(json.loads(frame.data))
                await self._notify()
        self._sockets.remove(socket)
        return socket

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        await super().stop()

    def _next_ts(self) -> str:
        # Slack's ts is the posting time (what `oldest` compares with), unique per channel.
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def changed(self) -> None:
        """Wake `wait_until` waiters (the OAuth part records through this too)."""
        await self._notify()


async def _body(request: web.Request) -> dict[str, Any]:
    """A Web API call's arguments, wherever the client put them (query, form or JSON)."""
    found: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        raw = await request.text()
        if request.content_type == "application/json":
            found.update(json.loads(raw))
        else:
            found.update(parse_qsl(raw))
    return found


def _json(value: Any) -> Any:
    # Form-encoded calls carry blocks and metadata as JSON strings.
    return json.loads(value) if isinstance(value, str) else value


def _token(request: web.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


def _ok(**fields: Any) -> web.Response:
    return web.json_response({"ok": True, **fields})


def _fail(error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error})


__all__ = ["BOT_NAME", "BOT_USER", "TEAM", "FakeSlack"]
