"""The `GET /healthz` endpoint of `paperboy run`, on `[health] port` (off when 0).

A few lines of asyncio rather than a web framework: the default install has no aiohttp
(it comes only with the Slack extra), and one read-only JSON route needs no more. It answers
from bot.health.HealthMonitor — the snapshot as JSON, 200 when healthy, 503 when not, 404 for
any other path — and closes each connection. It runs in the bot's own event loop, so a stuck
loop answers nothing at all, which a probe with a timeout reads as unhealthy too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from bot.config import HealthConfig
from bot.health import HealthMonitor

log = logging.getLogger(__name__)

# A probe's request is a line and a few headers; anything slower or larger is dropped.
READ_TIMEOUT = 5.0
MAX_REQUEST = 8192
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class HealthServer:
    """Serves `monitor` at /healthz between `start()` and `close()`."""

    def __init__(self, settings: HealthConfig, monitor: HealthMonitor) -> None:
        self._settings = settings
        self._monitor = monitor
        self._server: asyncio.Server | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._answer, self._settings.host, self._settings.port, limit=MAX_REQUEST
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health: GET http://%s:%d/healthz", self._settings.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            method, path = _request_line(request)
            if path.split("?", 1)[0] != "/healthz":
                status, body = 404, {"error": "not found: the endpoint is /healthz"}
            elif method not in ("GET", "HEAD"):
                status, body = 405, {"error": "only GET /healthz"}
            else:
                body = self._monitor.snapshot()
                status = 200 if body["healthy"] else 503
            payload = json.dumps(body, indent=2).encode("utf-8") + b"\n"
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
            ).encode("ascii")
            writer.write(head if method == "HEAD" else head + payload)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError, ValueError) as exc:
            # A probe that hung up or sent garbage gets nothing; the bot goes on.
            log.debug("health: dropped a request: %s", type(exc).__name__)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def health_endpoint(
    settings: HealthConfig, monitor: HealthMonitor
) -> AsyncIterator[HealthServer | None]:
    """The endpoint while the block runs, when `[health] port` turns it on."""
    if not settings.enabled:
        yield None
        return
    server = HealthServer(settings, monitor)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def _request_line(request: bytes) -> tuple[str, str]:
    parts = request.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(parts) != 3:
        raise ValueError("not an HTTP request line")
    return parts[0], parts[1]
