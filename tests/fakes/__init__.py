"""Local fake upstreams for tests: real aiohttp servers on 127.0.0.1, port 0.

`FakeServer` is the shared base: start/stop (an async context manager), a request log and
counter, and failure injection chosen by the test. The upstream fakes build on it:

    tests.fakes.hf_server.FakeHuggingFace     Hugging Face papers API (see its docstring)
    tests.fakes.arxiv_server.FakeArxiv        arXiv export API + announcement feeds
    tests.fakes.llm_server.FakeOpenAI         an OpenAI-compatible /v1/chat/completions
    tests.fakes.refusing_port.refusing_url    an address where nothing listens (offline)
    tests.fakes.clock.FakeClock               a wall clock the test moves by hand
    tests.fakes.disks.tmpfs / read_only_bind  real full or read-only disks (mounts; needs root)

The `fake_hf` and `fake_arxiv` fixtures (empty running fakes) and `http` (the real client
the sources use) are registered for every test in tests/conftest.py.

Common API (every fake):
    async with FakeX(...) as server: ...        start on a free port, stop on exit
    server.base_url                             "http://127.0.0.1:<port>" — hand it to the client
    server.requests["/api/daily_papers"]        requests received per path (a Counter)
    server.total_requests                       requests received in all
    server.calls                                [Call(path, query, headers)] in arrival order
    server.fail_next(path, status=..., ...)     the next request(s) to `path` ("*" = any) fail:
        status=429, retry_after=1          → 429 with Retry-After: 1
        status=500 (the default)           → 500 with a JSON error body in the upstream's shape
                                             (`error_response`; Hugging Face's by default)
        body="<html>…</html>"              → that body (status 200 unless given), text/html
        truncate=True                      → the real answer cut in half
        hang=True                          → never answer while the server runs: the request
                                             waits until `stop()` releases it, so only the
                                             client's own timeout can end it (no real sleep)
        times=3                            → the same failure for 3 requests in a row
        headers={"Via": "1.1 google"}      → extra headers on the failing answer
    server.recover(path)                        drop the failures still queued for `path`

Requests are counted before failures are applied, so a 429 counts as a request. Retries in
the code under test back off for real unless the test turns stamina's test mode on:
`stamina.set_testing(True, attempts=<n>, cap=True)` (tests/conftest.py does, for every test).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Failure:
    """What to do instead of (or to) the normal answer for one request."""

    status: int | None = None
    retry_after: float | None = None
    body: str | None = None
    content_type: str | None = None
    truncate: bool = False
    hang: bool = False
    headers: tuple[tuple[str, str], ...] = ()  # extra response headers

    @property
    def replaces_answer(self) -> bool:
        return self.body is not None or (self.status is not None and not self.truncate)


class FakeServer:
    """Base of the fake upstreams: subclasses add routes in `routes()`."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.calls: list[Call] = []
        self.base_url = ""
        self._failures: defaultdict[str, deque[Failure]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def fail_next(
        self,
        path: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        body: str | None = None,
        content_type: str | None = None,
        truncate: bool = False,
        hang: bool = False,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Make the next `times` requests to `path` ("*" for any path) fail as described in
        the module docstring. With nothing but a path, they answer 500."""
        if status is None and body is None and not truncate and not hang:
            status = 500
        failure = Failure(status, retry_after, body, content_type, truncate, hang,
                          tuple((headers or {}).items()))
        self._failures[path].extend([failure] * times)

    def recover(self, path: str) -> None:
        """Drop the failures still queued for `path`: the upstream is back."""
        self._failures.pop(path, None)

    async def start(self) -> None:
        self._stopping = asyncio.Event()  # made in the loop that serves
        app = web.Application(middlewares=[self._middleware()])
        app.add_routes(self.routes())
        # A short shutdown: a request still being answered must not hold the test for 60 s.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        # Release hanging requests first, so shutdown does not wait on them.
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def error_response(self, status: int) -> web.Response:
        """The JSON error an injected failure answers with, in this upstream's shape."""
        return json_error(status, f"injected failure: HTTP {status}")

    def _next_failure(self, path: str) -> Failure | None:
        for key in (path, "*"):
            if self._failures[key]:
                return self._failures[key].popleft()
        return None

    def _middleware(self) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
        @web.middleware
        async def record_and_fail(request: web.Request, handler: Handler) -> web.StreamResponse:
            self.requests[request.path] += 1
            self.calls.append(Call(request.path, dict(request.query), dict(request.headers)))
            failure = self._next_failure(request.path)
            if failure is None:
                return await handler(request)
            if failure.hang:
                await self._stopping.wait()
            if failure.replaces_answer:
                return _failure_response(failure, self.error_response)
            response = await handler(request)
            return _truncated(response) if failure.truncate else response

        return record_and_fail


def json_error(status: int, message: str) -> web.Response:
    """An error answer in the shape Hugging Face uses: {"error": "..."}."""
    return web.json_response({"error": message}, status=status)


def _failure_response(
    failure: Failure, error_response: Callable[[int], web.Response]
) -> web.Response:
    headers = dict(failure.headers)
    if failure.retry_after is not None:
        headers["Retry-After"] = f"{failure.retry_after:g}"
    if failure.body is not None and "Content-Type" in headers:
        # The header exactly as given (aiohttp would add "; charset=…" to content_type).
        return web.Response(status=failure.status or 200, body=failure.body.encode(),
                            headers=headers)
    if failure.body is not None:
        content_type = failure.content_type or (
            "text/html" if failure.body.lstrip().startswith("<") else "text/plain"
        )
        return web.Response(
            status=failure.status or 200,
            text=failure.body,
            content_type=content_type,
            headers=headers,
        )
    response = error_response(failure.status or 500)
    response.headers.update(headers)
    return response


def _truncated(response: web.StreamResponse) -> web.Response:
    body = response.body if isinstance(response, web.Response) else None
    data = bytes(body) if isinstance(body, bytes | bytearray) else b""
    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("content-length",)
    }
    return web.Response(status=response.status, body=data[: len(data) // 2], headers=headers)


__all__ = ["Call", "Failure", "FakeServer", "json_error"]
