"""The Slack adapter: the seam (`bot.events.ChatAdapter`) on slack-bolt's `AsyncApp`.

`connect` asks Slack who the bot is (`auth.test`: its workspace and bot user); `run` serves
`/papers` commands, 📌 reactions and the Save / Abstract buttons — in Socket Mode (an
app-level token, no public URL) or HTTP mode (signed requests on `port`/`path`), in the
event loop the scheduler uses; as `Publisher` it sends the daily post with
`chat.postMessage`. Every listener acknowledges first, then asks bot.service, then sends
what adapters/slack/render.py made of the reply. Payloads become events in translate.py.

Each daily-post message carries `metadata` naming its day and item, so after a crash
`find_posted` finds the bot's own message with one `conversations.history` call. Slack
refusing a post with `not_in_channel`, `channel_not_found`, `is_archived` or
`account_inactive` pauses that channel (one log line saying what to do) instead of failing
again every morning. Tokens come from the caller (the environment), never from config, and
are never logged. Not here: any decision about papers (bot.service) or wording of failures.

With `installations` (adapters/slack/installations.py: `[slack] client_id` set) one app
serves every workspace that installs it: HTTP mode also answers `/slack/install` and
`/slack/oauth_redirect`, each request is authorised with its workspace's token from the
installation store, the daily post uses the token of the channel's workspace, and
`app_uninstalled` / `tokens_revoked` delete that workspace's tokens (slack-bolt's own
listeners) while its team list stays in Paperboy's store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render, translate
from bot.config import ChannelConfig, SlackConfig
from bot.errors import ChannelPaused, ConfigError, RateLimited, UpstreamError
from bot.events import (
    CallerInfo,
    DetailsReply,
    FileReply,
    Identity,
    Ignored,
    Outgoing,
    ReactionEvent,
    Reply,
    SaveReply,
)
from bot.models import ChatRef, Digest, Pick, SimilarToSaved
from bot.service import Service

if TYPE_CHECKING:
    from adapters.slack.installations import Installations

log = logging.getLogger(__name__)

COMMAND = "/papers"
METADATA_TYPE = "paperboy_item"
# Slack's answers that mean "this channel cannot take the bot's posts until a person acts".
PAUSING_ERRORS = {
    "not_in_channel": "invite @{bot} to the channel (/invite @{bot})",
    "channel_not_found": "check the channel id in config.toml and invite @{bot}",
    "is_archived": "unarchive the channel or remove it from config.toml",
    "account_inactive": "the bot token was revoked: reinstall the app and set SLACK_BOT_TOKEN",
}
# The Web API methods this adapter calls and the bot scopes each needs: the manifest asks
# for exactly these (tests/slack/test_manifest.py).
SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "conversations.history": ("channels:history", "groups:history"),
    "users.info": ("users:read",),
    "files.upload_v2": ("files:write",),
}
# Called with the app-level token (SLACK_APP_TOKEN) rather than the bot's: its scope is the
# token's own, not one the manifest asks installs for.
APP_LEVEL: dict[str, tuple[str, ...]] = {"apps.connections.open": ("connections:write",)}
# Events the app in many workspaces handles (no scope needed): its tokens there go.
INSTALL_EVENTS = ("app_uninstalled", "tokens_revoked")
# Scopes that come with what the app receives rather than a method it calls.
RECEIVES: dict[str, tuple[str, ...]] = {
    COMMAND: ("commands",),
    **{event: ("reactions:read",) for event in translate.EVENT_TYPES},
}


def manifest_scopes() -> set[str]:
    """Every bot scope the app asks for: what an OAuth install requests."""
    return {scope for scopes in (*SCOPES.values(), *RECEIVES.values()) for scope in scopes}


PACE_SECONDS = 1.0  # Slack allows about one message per second per channel
RATE_LIMIT_RETRIES = 3
SEEN_EVENTS = 1000  # event ids remembered to ignore Slack's re-deliveries


class Pacer:
    """At most one message per `interval` seconds per channel. The clock and the sleep are
    passed in so tests check the waits without waiting."""

    def __init__(
        self,
        interval: float = PACE_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            last = self._last.get(channel)
            if last is not None:
                wait = self.interval - (self._clock() - last)
                if wait > 0:
                    await self._sleep(wait)
            self._last[channel] = self._clock()


class SlackAdapter:
    """Serve one Slack workspace. Also the `Publisher` of its configured channels."""

    platform = "slack"

    def __init__(
        self,
        service: Service,
        settings: SlackConfig,
        *,
        bot_token: str | None,
        signing_secret: str | None = None,
        app_token: str | None = None,
        host: str = "0.0.0.0",
        pacer: Pacer | None = None,
        installations: Installations | None = None,
        authorization_url: str | None = None,
        serves: bool = False,
    ) -> None:
        """`bot_token` serves one workspace; `installations` (with `bot_token` None) serves
        every workspace that installed the app, in HTTP mode. `authorization_url` replaces
        Slack's consent page (a test's fake). `serves`: `connect` also checks what `run`
        needs, so a refused app token stops the bot before the scheduler posts anything."""
        self.service = service
        self.settings = settings
        self.mode = settings.mode
        if self.mode == "auto":
            self.mode = "socket" if app_token else "http"
        self.host = host
        self.port: int | None = None  # the port HTTP mode listens on, once running
        self.installations = installations
        if installations is not None and self.mode != "http":
            raise ConfigError("[slack] client_id (installs in many workspaces) needs HTTP "
                              "mode: unset SLACK_APP_TOKEN or set [slack] mode = \"http\"")
        self.client = AsyncWebClient(token=bot_token, base_url=settings.api_url,
                                     retry_handlers=retry_handlers())
        oauth: dict[str, Any] = {}
        if installations is not None:
            oauth = {"oauth_settings": installations.settings(
                        sorted(manifest_scopes()), authorization_url=authorization_url),
                     "authorize": installations.authorize(self.client)}
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret or "",
            # HTTP mode checks every request's signature; Socket Mode needs none.
            request_verification_enabled=self.mode == "http",
            logger=_bolt_logger(),
            **oauth,
        )
        if installations is not None:
            uninstalled, revoked = INSTALL_EVENTS
            self.app.event(uninstalled)(self._on_uninstalled)
            self.app.event(revoked)(self._on_tokens_revoked)
        self._app_token = app_token
        self._signing_secret = signing_secret
        self._serves = serves
        self._serving_checked = False
        self._pacer = pacer or Pacer()
        self.identity: Identity | None = None
        self._bot_name = "Paperboy"
        self._bot_id: str | None = None
        self._paused: dict[str, str] = {}  # channel id → Slack's error
        self._names: dict[str, str] = {}  # user id → display name
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._stopped = asyncio.Event()
        self.serving = asyncio.Event()  # set once events can arrive (tests wait on it)
        # Workspaces whose tokens this process deleted, in order: events are handled after
        # their ack, so a test waits on this to know the deletion is done.
        self.forgotten: list[str] = []
        self._forgetting = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._listen()

    # --- the seam -------------------------------------------------------------------------

    async def connect(self) -> Identity:
        """Who the bot is in this workspace. An invalid token is a ConfigError (exit 2).
        Installed in many workspaces, the bot is whoever each install made it: nothing to
        ask until a request or a post names the workspace."""
        if self._serves:
            await self._check_serving()
        if self.installations is not None:
            await self.installations.create_tables()
            self.identity = WorkspacesIdentity("slack", "installed workspaces")
            return self.identity
        try:
            auth = await self.client.auth_test()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(f"auth.test: cannot reach Slack ({type(exc).__name__})",
                                source="slack", url=self.settings.api_url) from None
        except SlackApiError as exc:
            error = _error_code(exc)
            if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
                raise ConfigError(
                    f"Slack refused SLACK_BOT_TOKEN ({error}): set the app's Bot User OAuth "
                    "Token (xoxb-…)") from None
            raise _upstream(exc, "auth.test") from None
        self._bot_name = str(auth.get("user") or self._bot_name)
        self._bot_id = auth.get("bot_id")
        self.identity = Identity("slack", str(auth["team_id"]), bot_user=str(auth["user_id"]))
        return self.identity

    async def run(self) -> None:
        """Serve events until `close()`: Socket Mode or an HTTP server, per `mode`. Posting
        alone (`paperboy post`) needs only the bot token; serving needs the mode's secret."""
        await self._check_serving()
        if self.mode == "socket":
            self._socket = AsyncSocketModeHandler(self.app, self._app_token,
                                                  web_client=self.client)
            await self._socket.connect_async()
            log.info("Slack: connected in Socket Mode")
        else:
            await self.start_http()
        self.serving.set()
        await self._stopped.wait()

    async def _check_serving(self) -> None:
        if self._serving_checked:
            return
        _check_tokens(self.mode, app_token=self._app_token,
                      signing_secret=self._signing_secret)
        if self.mode == "socket":
            await self._check_app_token()
        self._serving_checked = True

    async def _check_app_token(self) -> None:
        """Ask Slack once whether it takes SLACK_APP_TOKEN: refused, it is a ConfigError
        (exit 2), where slack_sdk's Socket Mode client would retry it for ever."""
        try:
            await self.client.apps_connections_open(app_token=self._app_token)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(f"apps.connections.open: cannot reach Slack "
                                f"({type(exc).__name__})", source="slack") from None
        except SlackApiError as exc:
            error = _error_code(exc)
            if error in ("invalid_auth", "not_authed", "token_revoked",
                         "not_allowed_token_type"):
                raise ConfigError(
                    f"Slack refused SLACK_APP_TOKEN ({error}): set the app-level token "
                    "(xapp-…) with the connections:write scope") from None
            raise _upstream(exc, "apps.connections.open") from None

    async def start_http(self) -> None:
        """Listen for Slack's signed requests on `host:port` + `path` (port 0: any free)."""
        server = web.Application()
        server.add_routes([web.post(self.settings.path, self._http_request)])
        if self.installations is not None:
            from adapters.slack.installations import INSTALL_PATH, REDIRECT_PATH

            server.add_routes([web.get(INSTALL_PATH, self._install),
                               web.get(REDIRECT_PATH, self._oauth_redirect)])
        self._runner = web.AppRunner(server, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.settings.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("Slack: listening on port %d, path %s", self.port, self.settings.path)

    async def close(self) -> None:
        self._stopped.set()
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self.installations is not None:
            await self.installations.close()

    @property
    def connected(self) -> bool:
        """Serving or about to: not closed, and in Socket Mode the socket still open."""
        if self._stopped.is_set():
            return False
        if self._socket is None:
            return True
        client = self._socket.client
        session = client.current_session
        return not client.closed and not client.stale and session is not None \
            and not session.closed

    @property
    def paused(self) -> dict[str, str]:
        """Channel id → Slack's error that paused posting there, for health."""
        return dict(self._paused)

    async def _http_request(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _install(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None, "routed only with installations"
        return await to_aiohttp_response(await flow.handle_installation(
            await to_bolt_request(request)))

    async def _oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None, "routed only with installations"
        response = await flow.handle_callback(await to_bolt_request(request))
        if response.status == 200:
            log.info("Slack: installed in a workspace")
        return await to_aiohttp_response(response)

    # --- listeners: ack first, then the service, then the reply -----------------------------

    def _listen(self) -> None:
        self.app.command(COMMAND)(self._on_command)
        for kind in translate.EVENT_TYPES:
            self.app.event(kind)(self._on_event)
        self.app.action(render.SAVE_ACTION)(self._on_button)
        self.app.action(render.ABSTRACT_ACTION)(self._on_button)
        # Link buttons open their URL in the browser; Slack still expects an ack.
        self.app.action(re.compile(f"^{render.LINK_ACTION}_"))(_ack_only)

    async def _on_command(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        event = translate.command(body)
        event = dataclasses.replace(event, caller=functools.partial(
            self._caller, event.where.team, event.user))
        reply = await self.service.handle_command(event)
        if isinstance(reply, FileReply) and not reply.private:
            # A shared export goes to the channel as a file (Slack cannot post an ephemeral
            # file); if Slack refuses the upload, the caller still gets the export privately.
            if await self._upload(event.where, reply):
                return
            reply = dataclasses.replace(reply, visibility="private")
        await self._respond(reply, respond, event.where.team, private=reply.private)

    async def _upload(self, where: ChatRef, reply: FileReply) -> bool:
        """Upload `reply` into the channel (files upload v2); False when Slack refused, or
        failed or could not be reached: the caller then gets the file privately (at worst
        a second copy of a list, never nothing)."""
        try:
            bot = await self._bot(where.team)
            await self._call("files.completeUploadExternal", where.channel,
                             self.client.files_upload_v2(
                                 channel=where.channel, content=reply.content,
                                 filename=reply.filename, title=reply.filename,
                                 initial_comment=render.file_comment(reply), **bot.auth))
        except UpstreamError as exc:
            log.warning("could not upload %s to Slack channel %s: %s", reply.filename,
                        where.channel, exc)
            return False
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not upload %s to Slack channel %s: %s", reply.filename,
                        where.channel, type(exc).__name__)
            return False
        return True

    async def _on_event(self, body: dict[str, Any]) -> None:
        # Bolt acknowledges events before calling this.
        event = translate.event(body)
        if event is None or self._redelivered(body.get("event_id")):
            return
        bot = await self._bot(event.where.team)
        reply = await self.service.handle_reaction(event, bot_user=bot.user)
        if not isinstance(reply, Ignored):
            await self._ephemeral(event.where, event.user, reply, bot)

    async def _on_uninstalled(self, context: Any) -> None:
        assert self.installations is not None, "listened to only with installations"
        await self.installations.uninstalled(context.team_id, enterprise=context.enterprise_id)
        await self._forgot(context.team_id)

    async def _on_tokens_revoked(self, event: dict[str, Any], context: Any) -> None:
        assert self.installations is not None, "listened to only with installations"
        tokens = event.get("tokens") or {}
        await self.installations.revoked(
            context.team_id, enterprise=context.enterprise_id,
            users=tokens.get("oauth") or [], bot=bool(tokens.get("bot")))
        await self._forgot(context.team_id)

    async def _forgot(self, team: str) -> None:
        async with self._forgetting:
            self.forgotten.append(team)
            self._forgetting.notify_all()

    async def wait_forgotten(self, team: str) -> None:
        """Until this process has deleted `team`'s tokens (an uninstall or a revocation)."""
        async with self._forgetting:
            await self._forgetting.wait_for(lambda: team in self.forgotten)

    async def _on_button(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        press = translate.button(body)
        if press is None:
            return
        if press.action == render.ABSTRACT_ACTION:
            reply = await self.service.details(press.where)
            # Privately, to whoever asked: the thread stays quiet.
            await self._respond(reply, respond, press.where.team, private=True)
            return
        reply = await self._toggle_save(press)
        await self._respond(reply, respond, press.where.team, private=True)

    async def _toggle_save(self, press: translate.ButtonPress) -> Reply:
        """The Save button saves like the save emoji; pressed again, it unsaves."""
        bot_user = (await self._bot(press.where.team)).user
        save = ReactionEvent(press.where, press.user, self.service.save_emoji,
                                       added=True, raw=press.raw)
        reply = await self.service.handle_reaction(save, bot_user=bot_user)
        if isinstance(reply, SaveReply) and not reply.changed:
            unsave = ReactionEvent(press.where, press.user, self.service.save_emoji,
                                             added=False, raw=press.raw)
            reply = await self.service.handle_reaction(unsave, bot_user=bot_user)
        return reply


    async def _respond(self, reply: Reply, respond: Any, team: str, *, private: bool) -> None:
        if isinstance(reply, Ignored):
            return  # not the bot's to answer: say nothing
        names = await self._display_names(_users_in(reply), team)
        message = render.render_reply(reply, names)
        await respond(text=message.text, blocks=list(message.blocks),
                      response_type="ephemeral" if private else "in_channel",
                      replace_original=False)

    async def _ephemeral(self, where: ChatRef, user: str, reply: Reply, bot: _Bot) -> None:
        message = render.render_reply(reply)
        await self.client.chat_postEphemeral(channel=where.channel, user=user,
                                             text=message.text, blocks=list(message.blocks),
                                             **bot.auth)

    def _redelivered(self, event_id: str | None) -> bool:
        """True for an event id seen before (Slack re-sends an event it thinks was lost)."""
        if event_id is None:
            return False
        if event_id in self._seen:
            return True
        self._seen[event_id] = None
        if len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        return False

    async def _bot(self, team: str) -> _Bot:
        """Who the bot is in `team` and the token to call Slack there: the one token given,
        or the workspace's installation (rotated first when about to expire)."""
        if self.installations is None:
            return _Bot(None, self.identity.bot_user if self.identity else None, self._bot_id)
        installation = await self.installations.installed(team, self.client)
        if installation is None:
            raise UpstreamError(f"the app is not installed in Slack workspace {team}",
                                source="slack")
        return _Bot(installation.bot_token, installation.bot_user_id, installation.bot_id)

    # --- Publisher ------------------------------------------------------------------------

    async def post_header(self, out: Outgoing, digest: Digest) -> str:
        return await self._post(out, render.header_message(digest, self.service.save_emoji))

    async def post_pick(self, out: Outgoing, digest: Digest, pick: Pick) -> str:
        savers = [u for part in pick.reasons if isinstance(part, SimilarToSaved)
                  for u in part.savers]
        names = await self._display_names(savers, out.channel.team)
        return await self._post(out, render.pick_message(pick, names))

    async def post_note(self, out: Outgoing, text: str) -> str:
        return await self._post(out, render.note_message(text))

    async def post_in_thread(self, reply: DetailsReply) -> str:
        message = render.details_message(reply)
        channel = reply.where.channel
        bot = await self._bot(reply.where.team)
        answer = await self._call("chat.postMessage", channel, self.client.chat_postMessage(
            channel=channel, thread_ts=reply.where.thread, text=message.text,
            blocks=list(message.blocks), unfurl_links=False, unfurl_media=False, **bot.auth))
        return str(answer["ts"])

    async def post_notice(self, where: ChatRef, text: str) -> str:
        message = render.note_message(text)
        bot = await self._bot(where.team)  # installed in many workspaces: that one's token
        answer = await self._call("chat.postMessage", where.channel, self.client.chat_postMessage(
            channel=where.channel, text=message.text, blocks=list(message.blocks),
            unfurl_links=False, unfurl_media=False, **bot.auth))
        return str(answer["ts"])

    async def find_posted(self, out: Outgoing, since: datetime) -> str | None:
        """The bot's own message carrying `out`'s metadata, posted after `since`."""
        payload = _metadata_payload(out)
        bot = await self._bot(out.channel.team)
        cursor: str | None = None
        while True:
            answer = await self._call("conversations.history", out.channel.channel,
                                      self.client.conversations_history(
                channel=out.channel.channel, oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True, limit=200, cursor=cursor, **bot.auth))
            for message in answer.get("messages", ()):
                metadata = message.get("metadata") or {}
                if (bot.wrote(message) and metadata.get("event_type") == METADATA_TYPE
                        and metadata.get("event_payload") == payload):
                    return str(message["ts"])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not answer.get("has_more") or cursor is None:
                return None

    async def _post(self, out: Outgoing, message: render.Message) -> str:
        channel = out.channel.channel
        if channel in self._paused:
            raise ChannelPaused(f"posting to {channel} is paused ({self._paused[channel]})",
                                source="slack")
        bot = await self._bot(out.channel.team)
        await self._pacer.wait(channel)
        answer = await self._call("chat.postMessage", channel, self.client.chat_postMessage(
            channel=channel, text=message.text, blocks=list(message.blocks),
            unfurl_links=False, unfurl_media=False,
            metadata={"event_type": METADATA_TYPE, "event_payload": _metadata_payload(out)},
            **bot.auth))
        return str(answer["ts"])

    async def _call(self, method: str, channel: str, call: Awaitable[Any]) -> Any:
        """Await a Web API call; Slack's refusals become UpstreamError (nothing happened).

        An HTTP 5xx or a lost connection propagates as it is: the message may have been
        posted, and `find_posted` settles it on the next attempt."""
        try:
            return await call
        except SlackApiError as exc:
            if exc.response.status_code >= 500:
                raise
            error = _error_code(exc)
            if error in PAUSING_ERRORS and channel not in self._paused:
                self._paused[channel] = error
                log.error("Slack channel %s: %s; paused until restart: %s", channel, error,
                          PAUSING_ERRORS[error].format(bot=self._bot_name))
            if error in PAUSING_ERRORS:
                raise ChannelPaused(f"{method}: {error}: "
                                    f"{PAUSING_ERRORS[error].format(bot=self._bot_name)}",
                                    source="slack") from None
            raise _upstream(exc, method) from None

    async def _caller(self, team: str, user: str) -> CallerInfo:
        """Whether `user` administers the workspace, and their timezone (`users.info`),
        asked only by the commands that change a channel. Not cached: an admin demoted a
        minute ago is no longer one."""
        try:
            answer = await self.client.users_info(user=user,
                                                  **(await self._bot(team)).auth)
        except SlackApiError as exc:
            raise _upstream(exc, "users.info") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"users.info: cannot reach Slack ({type(exc).__name__})",
                                source="slack") from None
        profile = answer["user"]
        return CallerInfo(
            may_manage=bool(profile.get("is_admin") or profile.get("is_owner")
                            or profile.get("is_primary_owner")),
            timezone=profile.get("tz") or None,
        )

    async def _display_names(self, users: Iterable[str], team: str) -> Mapping[str, str]:
        """Display names of `users` in `team`, each looked up once (`users.info`), cached."""
        for user in users:
            if user in self._names:
                continue
            try:
                answer = await self.client.users_info(user=user,
                                                      **(await self._bot(team)).auth)
            # The renderer says "a teammate" instead: a name is not worth a failed post.
            except SlackApiError as exc:
                log.info("Slack: no display name for %s (%s)", user, _error_code(exc))
                continue
            except aiohttp.ClientError as exc:
                log.info("Slack: no display name for %s (%s)", user, type(exc).__name__)
                continue
            profile = answer["user"].get("profile", {})
            self._names[user] = (profile.get("display_name") or profile.get("real_name")
                                 or answer["user"].get("name") or user)
        return self._names


def retry_handlers() -> list[AsyncRetryHandler]:
    """What slack_sdk may retry by itself: a 429 (Slack did nothing; it waits Retry-After)
    and a connection that never opened (the request was not sent). Not its default retry
    of a connection dropped or reset after sending: a chat.postMessage may have landed,
    and re-sending it blindly would post it twice. The caller gets that error instead;
    the daily post resolves it by asking Slack (`find_posted`)."""
    return [AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncConnectionErrorRetryHandler(error_types=[aiohttp.ClientConnectorError])]


@dataclasses.dataclass(frozen=True)
class _Bot:
    """The bot in one workspace: its token (None: the client's own), user and bot ids."""

    token: str | None
    user: str | None
    bot_id: str | None

    @property
    def auth(self) -> dict[str, str]:
        """Keyword arguments for a Web API call in this workspace."""
        return {"token": self.token} if self.token else {}

    def wrote(self, message: Mapping[str, Any]) -> bool:
        # Messages a bot token posts carry the bot user, and the bot id as well.
        return (message.get("user") == self.user
                or (self.bot_id is not None and message.get("bot_id") == self.bot_id))


class WorkspacesIdentity(Identity):
    """The app installed in many workspaces: a configured channel must name its workspace
    (`team`), and every such Slack channel is served (posting fails for a workspace that has
    not installed the app, and says so)."""

    def address(self, channel: ChannelConfig) -> ChatRef | None:
        if channel.platform != self.platform or channel.team is None:
            return None
        return ChatRef(self.platform, channel.team, channel.id)

    def serves(self, where: ChatRef) -> bool:
        # A channel set up from chat names the workspace its command came from.
        return where.platform == self.platform


class _SameTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns that the given
    client's token wins; it is the same token, so the warning is noise at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("adapters.slack.bolt")
    if not any(isinstance(f, _SameTokenWarning) for f in logger.filters):
        logger.addFilter(_SameTokenWarning())
    return logger


async def _ack_only(ack: Any) -> None:
    await ack()


def _check_tokens(mode: str, *, app_token: str | None, signing_secret: str | None) -> None:
    if mode == "socket" and not app_token:
        raise ConfigError("[slack] mode is \"socket\": set SLACK_APP_TOKEN (xapp-…), the "
                          "app-level token with connections:write")
    if mode == "http" and not signing_secret:
        raise ConfigError("Slack HTTP mode needs SLACK_SIGNING_SECRET (Basic Information → "
                          "App Credentials), or set SLACK_APP_TOKEN for Socket Mode")


def _metadata_payload(out: Outgoing) -> dict[str, str]:
    return {"day": out.day.isoformat(), "key": out.key}


def _users_in(reply: Reply) -> list[str]:
    entries = getattr(reply, "entries", ())
    users = {saver.user for entry in entries for saver in entry.savers}
    subscriber = getattr(reply, "subscriber", None)  # a channel's settings name who set it up
    return sorted(users | ({subscriber} if subscriber else set()))


def _error_code(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"HTTP {exc.response.status_code}")


def _upstream(exc: SlackApiError, method: str) -> UpstreamError:
    error = _error_code(exc)
    if exc.response.status_code == 429:
        retry_after = exc.response.headers.get("Retry-After")
        return RateLimited(f"{method}: rate limited", source="slack",
                           retry_after=float(retry_after) if retry_after else None)
    return UpstreamError(f"{method}: {error}", source="slack")


__all__ = [
    "APP_LEVEL", "COMMAND", "INSTALL_EVENTS", "METADATA_TYPE", "PAUSING_ERRORS", "RECEIVES",
    "SCOPES",
    "Pacer", "SlackAdapter", "WorkspacesIdentity",
]
