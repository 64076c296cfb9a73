"""bot.sources.http: the client, the retry policy and the httpx → bot.errors map.

Upstreams are faked with httpx.MockTransport; retries wait nothing (stamina test mode,
see conftest.py).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from bot.errors import BadPayload, RateLimited, UpstreamError, UpstreamTimeout
from bot.sources.http import (
    NOT_TRANSLATED,
    PROJECT_URL,
    RetryPolicy,
    decode_json,
    make_client,
    retry_after_seconds,
    send_with_retries,
    translate,
    translated,
)

URL = "https://upstream.test/api/thing"
REQUEST = httpx.Request("GET", URL)

# Every exception class httpx exports, and what it must become. A new httpx class fails
# test_every_httpx_exception_class_has_a_decided_translation until someone decides.
EXPECTED: dict[str, type[Exception] | None] = {
    "CloseError": UpstreamError,
    "ConnectError": UpstreamError,
    "ConnectTimeout": UpstreamTimeout,
    "CookieConflict": None,  # None: a bug in our code, deliberately not translated
    "DecodingError": BadPayload,
    "HTTPError": UpstreamError,
    "HTTPStatusError": UpstreamError,  # 429 is checked separately: RateLimited
    "InvalidURL": UpstreamError,
    "LocalProtocolError": UpstreamError,
    "NetworkError": UpstreamError,
    "PoolTimeout": UpstreamTimeout,
    "ProtocolError": UpstreamError,
    "ProxyError": UpstreamError,
    "ReadError": UpstreamError,
    "ReadTimeout": UpstreamTimeout,
    "RemoteProtocolError": UpstreamError,
    "RequestError": UpstreamError,
    "RequestNotRead": None,
    "ResponseNotRead": None,
    "StreamClosed": None,
    "StreamConsumed": None,
    "StreamError": None,
    "TimeoutException": UpstreamTimeout,
    "TooManyRedirects": UpstreamError,
    "TransportError": UpstreamError,
    "UnsupportedProtocol": UpstreamError,
    "WriteError": UpstreamError,
    "WriteTimeout": UpstreamTimeout,
}


def _httpx_exception_classes() -> dict[str, type[BaseException]]:
    return {
        name: obj
        for name in httpx.__all__
        if inspect.isclass(obj := getattr(httpx, name)) and issubclass(obj, BaseException)
    }


def _instance(cls: type[BaseException], status: int = 500) -> BaseException:
    if issubclass(cls, httpx.HTTPStatusError):
        response = httpx.Response(status, request=REQUEST)
        return cls("failed", request=REQUEST, response=response)
    if issubclass(cls, httpx.RequestError):
        return cls("failed", request=REQUEST)
    if issubclass(cls, httpx.StreamError) and cls is not httpx.StreamError:
        return cls()  # the concrete stream errors carry a fixed message
    return cls("failed")


def _transport(*answers: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[int]]:
    """A transport answering `answers` in turn (the last one forever), counting requests."""
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        answer = answers[min(len(sent), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), sent


def _send(client: httpx.AsyncClient) -> Callable[[], Awaitable[httpx.Response]]:
    async def send() -> httpx.Response:
        return await client.get(URL)

    return send


def test_every_httpx_exception_class_has_a_decided_translation() -> None:
    assert sorted(_httpx_exception_classes()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e is not None))
def test_httpx_exception_translates_to_its_bot_error(name: str) -> None:
    exc = _instance(_httpx_exception_classes()[name])
    assert type(translate(exc, source="test", url=URL)) is EXPECTED[name]


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e is None))
def test_httpx_bug_exception_is_refused_by_translate(name: str) -> None:
    exc = _instance(_httpx_exception_classes()[name])
    with pytest.raises(TypeError):
        translate(exc, source="test", url=URL)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e is None))
def test_httpx_bug_exception_passes_through_translated_block(name: str) -> None:
    exc = _instance(_httpx_exception_classes()[name])
    with pytest.raises(NOT_TRANSLATED), translated("test", URL):
        raise exc


def test_http_429_translates_to_rate_limited() -> None:
    exc = _instance(httpx.HTTPStatusError, status=429)
    assert type(translate(exc, source="test", url=URL)) is RateLimited


def test_rate_limited_carries_retry_after_seconds() -> None:
    response = httpx.Response(429, headers={"Retry-After": "17"}, request=REQUEST)
    exc = httpx.HTTPStatusError("slow down", request=REQUEST, response=response)
    error = translate(exc, source="test", url=URL)
    assert getattr(error, "retry_after", None) == 17.0


def test_translated_error_keeps_the_httpx_error_as_cause() -> None:
    original = httpx.ConnectError("refused", request=REQUEST)
    with pytest.raises(UpstreamError) as caught, translated("test", URL):
        raise original
    assert caught.value.__cause__ is original


def test_translated_error_names_source_and_url() -> None:
    error = translate(httpx.ReadTimeout("slow", request=REQUEST), source="arxiv", url=URL)
    assert str(error) == f"arxiv: no answer in time (ReadTimeout) ({URL})"


def test_status_error_quotes_the_upstreams_json_reason() -> None:
    response = httpx.Response(400, json={"error": "Invalid date"}, request=REQUEST)
    exc = httpx.HTTPStatusError("bad", request=REQUEST, response=response)
    assert "HTTP 400 Bad Request: Invalid date" in str(translate(exc, source="t", url=URL))


def test_error_message_never_contains_url_credentials() -> None:
    url = "https://user:s3cret@upstream.test/api/thing?q=x"
    error = translate(httpx.ConnectError("refused"), source="test", url=url)
    assert "s3cret" not in str(error)


def test_error_message_never_contains_request_headers() -> None:
    request = httpx.Request("GET", URL, headers={"Authorization": "Bearer s3cret"})
    response = httpx.Response(401, request=request, json={"error": "unauthorized"})
    exc = httpx.HTTPStatusError("no", request=request, response=response)
    assert "s3cret" not in str(translate(exc, source="test", url=URL))


def test_decode_json_rejects_an_html_page_naming_the_url() -> None:
    response = httpx.Response(200, html="<html><body>Bad gateway</body></html>")
    with pytest.raises(BadPayload, match=re.escape("upstream.test/api/thing")):
        decode_json(response, source="test", url=URL)


def test_decode_json_rejects_truncated_json() -> None:
    response = httpx.Response(
        200, content=b'[{"paper": {"id": "2606.1', headers={"content-type": "application/json"}
    )
    with pytest.raises(BadPayload, match="invalid or truncated JSON"):
        decode_json(response, source="test", url=URL)


def test_retry_after_reads_seconds() -> None:
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "120"})) == 120.0


def test_retry_after_reads_an_http_date() -> None:
    now = datetime(2026, 6, 12, 8, 0, 0, tzinfo=UTC)
    response = httpx.Response(429, headers={"Retry-After": "Fri, 12 Jun 2026 08:00:30 GMT"})
    assert retry_after_seconds(response, now=now) == 30.0


def test_retry_after_falls_back_to_ratelimit_reset() -> None:
    response = httpx.Response(429, headers={"RateLimit": '"api";r=0;t=42'})
    assert retry_after_seconds(response) == 42.0


def test_retry_after_is_none_when_upstream_did_not_say() -> None:
    assert retry_after_seconds(httpx.Response(429)) is None


def _status(status: int, **headers: str) -> httpx.HTTPStatusError:
    response = httpx.Response(status, headers=headers, request=REQUEST)
    return httpx.HTTPStatusError("x", request=REQUEST, response=response)


@pytest.mark.parametrize(
    ("exc", "decision"),
    [
        (_status(429, **{"Retry-After": "7"}), 7.0),  # wait exactly what was asked
        (_status(429, **{"Retry-After": "3600"}), False),  # beyond the cap: give up now
        (_status(429), True),  # no hint: exponential backoff
        (_status(503), True),
        (_status(500), True),
        (_status(408), True),
        (_status(404), False),
        (_status(400), False),
        (httpx.ReadTimeout("x"), True),
        (httpx.ConnectError("x"), True),
        (httpx.RemoteProtocolError("x"), True),
        (httpx.UnsupportedProtocol("x"), False),
        (ValueError("a bug"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_retry_policy_decides_what_to_retry(exc: Exception, decision: bool | float) -> None:
    assert RetryPolicy(max_retry_after=30.0).backoff(exc) == decision


async def test_server_errors_are_retried_until_success() -> None:
    transport, sent = _transport(httpx.Response(503), httpx.Response(502), httpx.Response(200))
    async with make_client(transport=transport) as client:
        response = await send_with_retries(_send(client), source="test", url=URL)
    assert response.status_code == 200
    assert len(sent) == 3


async def test_server_errors_exhaust_the_attempt_bound() -> None:
    transport, sent = _transport(httpx.Response(500))
    async with make_client(transport=transport) as client:
        with pytest.raises(UpstreamError, match="HTTP 500"):
            await send_with_retries(
                _send(client), source="test", url=URL, policy=RetryPolicy(attempts=3)
            )
    assert len(sent) == 3


async def test_timeouts_become_upstream_timeout_after_retries() -> None:
    transport, sent = _transport(httpx.ReadTimeout("slow"))
    async with make_client(transport=transport) as client:
        with pytest.raises(UpstreamTimeout):
            await send_with_retries(_send(client), source="test", url=URL)
    assert len(sent) == RetryPolicy().attempts


async def test_client_error_is_not_retried() -> None:
    transport, sent = _transport(httpx.Response(403))
    async with make_client(transport=transport) as client:
        with pytest.raises(UpstreamError, match="HTTP 403"):
            await send_with_retries(_send(client), source="test", url=URL)
    assert len(sent) == 1


async def test_accepted_status_is_returned_without_retry() -> None:
    transport, _ = _transport(httpx.Response(404))
    async with make_client(transport=transport) as client:
        response = await send_with_retries(_send(client), source="test", url=URL, accept=(404,))
    assert response.status_code == 404


async def test_long_retry_after_raises_rate_limited_without_waiting() -> None:
    transport, _ = _transport(httpx.Response(429, headers={"Retry-After": "600"}))
    async with make_client(transport=transport) as client:
        with pytest.raises(RateLimited) as caught:
            await send_with_retries(_send(client), source="test", url=URL)
    assert caught.value.retry_after == 600.0


async def test_long_retry_after_is_not_retried() -> None:
    transport, sent = _transport(httpx.Response(429, headers={"Retry-After": "600"}))
    async with make_client(transport=transport) as client:
        with pytest.raises(RateLimited):
            await send_with_retries(_send(client), source="test", url=URL)
    assert len(sent) == 1


async def test_client_sends_the_paperboy_user_agent() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["User-Agent"])
        return httpx.Response(200)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        await client.get(URL)
    assert seen == [f"paperboy/{importlib.metadata.version('paperboy')} (+{PROJECT_URL})"]
