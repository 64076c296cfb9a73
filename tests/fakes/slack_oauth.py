"""The OAuth side of the fake Slack: installs in many workspaces and token rotation.

Part of `FakeSlack` (tests/fakes/slack_api.py), as `fake.oauth`; answers in the shapes of
Slack's `oauth.v2.access` (a V2 install with a bot token; with token rotation on, also
`refresh_token` and `expires_in`, and rotated tokens spelled `xoxe.xoxb-…`).

    GET  /oauth/v2/authorize          Slack's consent page, already "Allow"ed: redirects to
                                      `redirect_uri` with a one-time `code` for the
                                      workspace the test named in `installing`, and the
                                      `state` it was given
    POST /api/oauth.v2.access         code → tokens (`grant_type` absent or
                                      authorization_code), or refresh_token → new tokens;
                                      the app's credentials in HTTP Basic auth, as slack_sdk
                                      sends them. Codes and refresh tokens are single-use
                                      (a reused one answers invalid_code /
                                      invalid_refresh_token), so a second rotation of the
                                      same token fails as it would on Slack.

Recorded: `grants` (each oauth.v2.access call: grant type, team, ok), `tokens` (every
access token issued → its workspace; rotation retires the old one). `token_lifetime`
(seconds) turns token rotation on for the next install or refresh; None keeps tokens that
never expire, as an app without rotation gets.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.slack_api import FakeSlack

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fake-client-secret-0f3c"
APP_ID = "A0PAPERBOY"


@dataclass(frozen=True)
class Workspace:
    """A workspace the app can be installed in, and who its bot user is there."""

    team: str
    name: str
    bot_user: str
    bot_id: str


class SlackOAuth:
    def __init__(self, fake: FakeSlack) -> None:
        self._fake = fake
        self.workspaces: dict[str, Workspace] = {}
        self.installing: str | None = None  # the workspace whose admin clicks "Allow"
        self.redirect_uri: str | None = None  # the app's redirect URL, as configured
        self.token_lifetime: int | None = None
        self.tokens: dict[str, str] = {}  # access token → team (valid ones only)
        self.issued: set[str] = set()  # every access token ever issued
        self.grants: list[dict[str, Any]] = []
        self._codes: dict[str, str] = {}  # code → team
        self._refresh: dict[str, str] = {}  # refresh token → team
        self._serial = itertools.count(1)

    def add_workspace(self, team: str, name: str) -> Workspace:
        number = len(self.workspaces) + 1
        workspace = Workspace(team, name, bot_user=f"U0BOT{number}", bot_id=f"B0BOT{number}")
        self.workspaces[team] = workspace
        return workspace

    def workspace_of(self, token: str) -> Workspace | None:
        team = self.tokens.get(token)
        return self.workspaces[team] if team is not None else None

    def retired(self, token: str) -> bool:
        """Issued here once, valid no more (rotated away or revoked)."""
        return token in self.issued and token not in self.tokens

    def revoke(self, team: str) -> None:
        """The workspace uninstalled the app: its tokens stop working."""
        self.tokens = {t: w for t, w in self.tokens.items() if w != team}
        self._refresh = {r: w for r, w in self._refresh.items() if w != team}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/oauth/v2/authorize", self._authorize),
                web.post("/api/oauth.v2.access", self._access)]

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID or self.installing is None:
            return web.Response(status=400, text="invalid_client_id")
        code = f"code-{next(self._serial)}"
        self._codes[code] = self.installing
        target = query.get("redirect_uri") or self.redirect_uri
        assert target is not None, "set fake.oauth.redirect_uri (the app's redirect URL)"
        params = urlencode({"code": code, "state": query.get("state", "")})
        raise web.HTTPFound(f"{target}?{params}")

    async def _access(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        grant = str(form.get("grant_type") or "authorization_code")
        if _basic_auth(request) != (CLIENT_ID, CLIENT_SECRET):
            return self._refuse(grant, None, "invalid_client_id")
        if grant == "refresh_token":
            team = self._refresh.pop(str(form.get("refresh_token")), None)
            if team is None:
                return self._refuse(grant, None, "invalid_refresh_token")
            # The old access token stops working: only the new one is valid from now on.
            self.tokens = {t: w for t, w in self.tokens.items() if w != team}
        else:
            team = self._codes.pop(str(form.get("code")), None)
            if team is None:
                return self._refuse(grant, None, "invalid_code")
        workspace = self.workspaces[team]
        number = next(self._serial)
        token = f"xoxb-{team}-{number}"
        answer: dict[str, Any] = {
            "ok": True, "app_id": APP_ID, "authed_user": {"id": "U0ADMIN"},
            "scope": str(form.get("scope") or "commands,chat:write"), "token_type": "bot",
            "bot_user_id": workspace.bot_user,
            "team": {"id": team, "name": workspace.name}, "enterprise": None,
            "is_enterprise_install": False,
        }
        if self.token_lifetime is not None:
            token = f"xoxe.xoxb-1-{team}-{number}"
            refresh = f"xoxe-1-{team}-{number}"
            self._refresh[refresh] = team
            answer |= {"refresh_token": refresh, "expires_in": self.token_lifetime}
        answer["access_token"] = token
        self.tokens[token] = team
        self.issued.add(token)
        self.grants.append({"grant_type": grant, "team": team, "ok": True})
        await self._fake.changed()
        return web.json_response(answer)

    def _refuse(self, grant: str, team: str | None, error: str) -> web.Response:
        self.grants.append({"grant_type": grant, "team": team, "ok": False, "error": error})
        return web.json_response({"ok": False, "error": error})


def _basic_auth(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


__all__ = ["APP_ID", "CLIENT_ID", "CLIENT_SECRET", "SlackOAuth", "Workspace"]
