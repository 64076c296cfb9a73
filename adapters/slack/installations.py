"""Slack installs in many workspaces: slack_sdk's OAuth stores on PostgreSQL, and token
rotation that two replicas never run for the same workspace at once.

One job: give the Slack adapter, in multi-workspace (OAuth) mode, the pieces slack-bolt asks
for — an installation store and a state store (slack_sdk's own SQLAlchemy stores, tables
`slack_installations`, `slack_bots`, `slack_oauth_states`, beside Paperboy's team state on
the same database), and an `authorize` whose token rotator holds a PostgreSQL advisory lock
per workspace. Nothing is kept in the process between the install page and the redirect:
the state lives in the database, so any replica answers either request.

Why the lock: Slack's refresh tokens are single-use. Two replicas that both see a bot token
about to expire would both spend the same refresh token; the slower one gets
`invalid_refresh_token` and its request goes unanswered. Under the lock the second reads
the installation again, finds it rotated, and uses the new token.

Not here: Paperboy's team state (bot/store), the Web API calls the bot makes (adapter.py),
wording of errors. The client secret arrives from the caller (the environment) and is never
logged. Called by adapters/slack/adapter.py; the engine comes from paperboy/wiring.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.errors import ConfigError

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # how long an install link stays valid
# Rotate a bot token this long before it expires (slack-bolt's default, said once here).
ROTATE_MINUTES = 120
AUTHORIZE_CACHE = 10_000  # tokens whose auth.test answer is kept (one per workspace, mostly)


@dataclass(frozen=True)
class OAuthSecrets:
    """What the OAuth flow needs besides the database: the app's client id (config) and
    client secret (environment only)."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:  # the secret never reaches a log line or a traceback
        return f"OAuthSecrets(client_id={self.client_id!r}, client_secret=***)"


def open_engine(url: str, password: str | None = None, *, pool_size: int = 5) -> AsyncEngine:
    """A SQLAlchemy engine for slack_sdk's stores on `postgresql://…` (driver asyncpg, the
    one Paperboy's PostgreSQL store uses); the password given apart, from the environment.
    The pool is small: a store call holds a connection for one query, a rotation for two."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"Slack installs need PostgreSQL: expected postgresql://…, got "
                          f"{parsed.drivername}://…", key="storage.url")
    parsed = parsed.set(drivername="postgresql+asyncpg")
    if password:
        parsed = parsed.set(password=password)
    return create_async_engine(parsed, pool_size=pool_size, max_overflow=pool_size,
                               pool_pre_ping=True)


class Installations:
    """The installation and state stores of one Slack app on one database."""

    def __init__(self, engine: AsyncEngine, secrets: OAuthSecrets) -> None:
        self.engine = engine
        self.secrets = secrets
        # Rotation locks wait on connections of their own: a request waiting for another's
        # rotation must never hold one of the connections that rotation needs to finish
        # (with one pool, a storm of expiring workspaces deadlocked it, bench/
        # slack_workspaces.py). One waiter per workspace per process, the rest wait here.
        self.lock_engine = create_async_engine(engine.url, pool_size=1, max_overflow=9,
                                               pool_timeout=60)
        self.rotating: dict[tuple[str | None, str | None], asyncio.Lock] = {}
        self.store = AsyncSQLAlchemyInstallationStore(
            client_id=secrets.client_id, engine=engine, logger=log)
        self.states = AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=engine, logger=log)

    async def create_tables(self) -> None:
        """Create slack_sdk's tables when missing (CREATE TABLE IF NOT EXISTS each); two
        replicas starting together are serialised by one advisory lock."""
        async with self.engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": lock_key("slack-oauth-tables")})
            await conn.run_sync(self.store.metadata.create_all)
            await conn.run_sync(self.states.metadata.create_all)

    async def close(self) -> None:
        """Close the engines' connections (the adapter's `close` calls this)."""
        await self.lock_engine.dispose()
        await self.engine.dispose()

    def settings(self, scopes: list[str], *, authorization_url: str | None = None
                 ) -> AsyncOAuthSettings:
        """slack-bolt's OAuth settings: `/slack/install` answers with a redirect to Slack's
        consent page (no page of our own to render), `/slack/oauth_redirect` stores the
        installation."""
        return AsyncOAuthSettings(
            client_id=self.secrets.client_id, client_secret=self.secrets.client_secret,
            scopes=scopes, install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
            install_page_rendering_enabled=False, installation_store=self.store,
            state_store=self.states, authorization_url=authorization_url,
            token_rotation_expiration_minutes=ROTATE_MINUTES,
        )

    def authorize(self, client: AsyncWebClient) -> AsyncInstallationStoreAuthorize:
        """Bolt's per-request authorize (the team's tokens from the store), rotating with
        `SerialisedRotator`."""
        authorize = AsyncInstallationStoreAuthorize(
            logger=log, installation_store=self.store, client_id=self.secrets.client_id,
            client_secret=self.secrets.client_secret, client=client,
            token_rotation_expiration_minutes=ROTATE_MINUTES, cache_enabled=True)
        # Bolt caches who each token is (its auth.test) to keep that call out of every
        # ack; the token still comes from the store each time, so an uninstalled workspace
        # is refused at once. Bounded: rotation makes new tokens every few hours.
        authorize.authorize_result_cache = _Recent(AUTHORIZE_CACHE)
        authorize.token_rotator = SerialisedRotator(self, client)
        return authorize

    async def installed(self, team: str, client: AsyncWebClient) -> Installation | None:
        """The workspace's installation for calls outside a request (the daily post), its
        bot token rotated first when about to expire; None when the app is not installed."""
        installation = await self.store.async_find_installation(enterprise_id=None,
                                                                team_id=team)
        if installation is None or installation.bot_token is None:
            return None
        rotated = await SerialisedRotator(self, client).perform_token_rotation(
            installation=installation, minutes_before_expiration=ROTATE_MINUTES)
        return rotated or installation

    async def uninstalled(self, team: str | None, *, enterprise: str | None = None) -> None:
        """Delete every token of the workspace: Slack's `app_uninstalled`, or an admin's
        `paperboy slack forget`. Paperboy's team state is not touched."""
        await self.store.async_delete_all(enterprise_id=enterprise, team_id=team)
        log.info("Slack: the app was removed from workspace %s; its tokens are deleted", team)

    async def revoked(self, team: str | None, *, enterprise: str | None,
                      users: list[str], bot: bool) -> None:
        """Slack's `tokens_revoked`: forget the revoked tokens. slack-bolt's own listener
        deletes only the `slack_bots` row for a revoked bot token, while the installation
        row (which authorize reads first) keeps it; here the workspace's rows all go."""
        for user in users:
            await self.store.async_delete_installation(enterprise_id=enterprise,
                                                       team_id=team, user_id=user)
        if bot:
            await self.store.async_delete_all(enterprise_id=enterprise, team_id=team)
        log.info("Slack: tokens revoked in workspace %s (bot: %s, users: %d)", team,
                 "yes" if bot else "no", len(users))


class SerialisedRotator(AsyncTokenRotator):
    """slack_sdk's token rotation, one workspace at a time across every replica."""

    def __init__(self, installations: Installations, client: AsyncWebClient) -> None:
        super().__init__(client_id=installations.secrets.client_id,
                         client_secret=installations.secrets.client_secret, client=client)
        self._installations = installations

    async def perform_token_rotation(self, *, installation: Installation,
                                     minutes_before_expiration: int = ROTATE_MINUTES
                                     ) -> Installation | None:
        if not _expiring(installation, minutes_before_expiration):
            return None  # the common case: no lock, no query
        workspace = (installation.enterprise_id, installation.team_id)
        key = lock_key(f"slack-rotate:{workspace[0]}:{workspace[1]}")
        local = self._installations.rotating.setdefault(workspace, asyncio.Lock())
        async with local, self._installations.lock_engine.connect() as conn, conn.begin():
            # Held until this transaction ends, on this connection only: a replica that
            # crashes mid-rotation frees it with its connection.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            current = await self._installations.store.async_find_installation(
                enterprise_id=installation.enterprise_id, team_id=installation.team_id)
            if current is None:
                return None  # uninstalled meanwhile
            rotated = await super().perform_token_rotation(
                installation=current, minutes_before_expiration=minutes_before_expiration)
            if rotated is None:
                # Another request rotated while this one waited: use what it stored.
                return current if current.bot_token != installation.bot_token else None
            # Saved before the lock is released, so the next holder reads the new tokens.
            await self._installations.store.async_save(rotated)
            log.info("Slack: rotated the bot token of workspace %s", installation.team_id)
            return rotated


class _Recent(dict[str, Any]):
    """A dict that keeps only its `size` most recently added entries."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self) > self.size:
            del self[next(iter(self))]


def _expiring(installation: Installation, minutes: int) -> bool:
    deadline = time.time() + minutes * 60
    expiries = [installation.bot_token_expires_at if installation.bot_refresh_token else None,
                installation.user_token_expires_at if installation.user_refresh_token else None]
    return any(at is not None and at <= deadline for at in expiries)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for `name` (the same in every process)."""
    return int.from_bytes(hashlib.sha256(f"paperboy:{name}".encode()).digest()[:8], "big",
                          signed=True)


__all__ = ["INSTALL_PATH", "REDIRECT_PATH", "Installations", "OAuthSecrets",
           "SerialisedRotator", "lock_key", "open_engine"]
