"""HTTP plumbing shared by the upstream sources: one client, one retry policy, one error map.

- `make_client` builds the `httpx.AsyncClient` every source receives (descriptive
  User-Agent, timeout, bounded redirects). Sources never build their own client, so tests hand
  them one on a MockTransport or pointed at a local fake server.
- `RetryPolicy` + `send_with_retries` retry what a retry can fix — HTTP 429 (waiting what
  `Retry-After` asks, up to a cap), 408/5xx, timeouts and dropped connections — with
  exponential backoff and jitter (stamina), bounded in attempts and total time.
  Each retry is one WARNING a person can read ("Hugging Face did not answer in time
  (attempt 1 of 3); retrying in 2 s"): the source's name and what went wrong, never the URL
  (its query may carry a search or a key). The final failure is not logged here: it is
  raised, once, for the caller to report. stamina's own instrumentation (bare
  `stamina.retry_scheduled` records, Prometheus counters) is replaced by that one line.
- `translate` maps every httpx failure to the `bot.errors` tree (`raise ... from exc`);
  `decode_json` turns an unreadable body into `BadPayload`; `MalformedItem` marks one
  unusable item inside a readable body. Messages carry the source and a
  URL without credentials — never headers.

How long one call may take: up to `attempts` tries (3), each bounded by the client's
timeout, with 1–2 s then 2–3 s of backoff between them: attempts × timeout + 5 s for an
upstream that accepts the connection and never answers (3 × 20 + 5 = 65 s at Hugging Face's
default timeout). Whatever the timeouts and `Retry-After` waits, a call gives up after
`MAX_CALL_SECONDS` (75 s): an attempt still running then is cut off and the call raises
UpstreamTimeout. The sources share one client, but each request carries its own source's
`[sources.*] timeout` (bot.runtime passes it to each client). A refused connection fails in
about 5 s (three attempts, two backoffs).

Not here: what to fetch and how to read it (`huggingface.py`, `arxiv.py`), politeness spacing
(arXiv's own client), caching. Tests switch backoff waits off with
`stamina.set_testing(True, attempts=<n>, cap=True)`: the policy's attempt bound still holds
and nothing sleeps for real.
Called by bot.sources.huggingface, bot.sources.arxiv and bot.runtime (make_client).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import importlib.metadata
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import stamina
import stamina.instrumentation

from bot.errors import BadPayload, RateLimited, UpstreamError, UpstreamTimeout

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/paperboy-bot/paperboy"
DEFAULT_TIMEOUT = 20.0
MAX_REDIRECTS = 5
# The longest one call to an upstream may take, every attempt, backoff and Retry-After wait
# included (see the module docstring). Someone is often waiting for the answer (/papers
# today, the first /post), and a scheduler retry later beats a call that hangs for minutes.
MAX_CALL_SECONDS = 75.0

# What the retry lines call each source; errors keep the short id ("huggingface").
SOURCE_NAMES = {"huggingface": "Hugging Face", "arxiv": "arXiv"}

# httpx failures that are bugs in our own code (a stream read twice, a cookie clash), not an
# upstream failing: they propagate untranslated so that nobody blames Hugging Face for them.
NOT_TRANSLATED: tuple[type[Exception], ...] = (httpx.StreamError, httpx.CookieConflict)

# Transport failures a second attempt cannot fix: the URL scheme or our own request is wrong.
_PERMANENT_TRANSPORT = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class MalformedItem(ValueError):
    """One upstream object (a JSON item, a feed entry) cannot become a Paper: its id or title
    is missing or has the wrong type. Sources skip such an item with a warning naming it."""


def user_agent() -> str:
    """`paperboy/<version> (+<project url>)`: upstreams ask clients to say who they are."""
    try:
        version = importlib.metadata.version("paperboy")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"paperboy/{version} (+{PROJECT_URL})"


def make_client(
    timeout: float = DEFAULT_TIMEOUT, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one AsyncClient the sources share. `transport` lets tests fake the network."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent()},
        # arXiv's export host redirects http to https; a loop must not spin forever.
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        transport=transport,
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request. Times are seconds.

    attempts         total tries, the first included
    timeout          the most one call may take, all attempts and waits included: an
                     attempt still running then is cut off (UpstreamTimeout)
    wait_initial     first backoff; it doubles per retry, plus up to `wait_jitter`
    wait_max         no single backoff is longer
    max_retry_after  the longest `Retry-After` we wait; a longer one raises RateLimited at
                     once, so the caller (a scheduler, a person) decides instead of a
                     request silently hanging for minutes
    """

    attempts: int = 3
    timeout: float = MAX_CALL_SECONDS
    wait_initial: float = 1.0
    wait_max: float = 15.0
    wait_jitter: float = 1.0
    max_retry_after: float = 30.0

    def backoff(self, exc: Exception) -> bool | float:
        """stamina's backoff hook: False gives up, True backs off exponentially, a number
        waits exactly that long (an upstream's `Retry-After`)."""
        if isinstance(exc, httpx.HTTPStatusError):
            status = exc.response.status_code
            if status == 429:
                wait = retry_after_seconds(exc.response)
                if wait is None:
                    return True
                return wait if wait <= self.max_retry_after else False
            return status in _RETRYABLE_STATUS
        if isinstance(exc, _PERMANENT_TRANSPORT):
            return False
        return isinstance(exc, httpx.TransportError)

    def longest_backoff(self) -> float:
        """The most all exponential backoffs of one call add up to (Retry-After aside)."""
        return sum(
            min(self.wait_max, self.wait_initial * 2**retry + self.wait_jitter)
            for retry in range(self.attempts - 1)
        )

    def longest_call(self, timeout: float) -> float:
        """How long one call can take with a client timeout of `timeout` seconds: every
        attempt hanging to its timeout, every backoff at its longest, capped by `timeout`
        of the policy (the hard bound)."""
        return min(self.timeout, self.attempts * timeout + self.longest_backoff())


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class _Call:
    source: str
    attempts: int


# The call whose retry is being scheduled: stamina's retry hooks are process-wide and only
# see the exception, so send_with_retries says here which source and bound they belong to.
_CURRENT_CALL: contextvars.ContextVar[_Call | None] = contextvars.ContextVar(
    "paperboy_http_call", default=None
)


def _log_retry(details: stamina.instrumentation.RetryDetails) -> None:
    call = _CURRENT_CALL.get()
    if call is None:
        return  # stamina used outside send_with_retries (nothing does): no source to name
    name = SOURCE_NAMES.get(call.source, call.source)
    log.warning(
        "%s %s (attempt %d of %d); retrying in %.0f s",
        name, _what_went_wrong(details.caused_by), details.retry_num, call.attempts,
        details.wait_for,
    )


def _what_went_wrong(exc: Exception) -> str:
    """A few words for a retry line: what happened, never the URL or a header."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status == 429:
            return "asked us to slow down (HTTP 429)"
        return f"answered HTTP {status} {exc.response.reason_phrase}".rstrip()
    if isinstance(exc, httpx.TimeoutException):
        return "did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "could not be reached"
    return f"dropped the connection ({type(exc).__name__})"


# Replaces stamina's default instrumentation (a bare "stamina.retry_scheduled" WARNING with
# the details in `extra`, which a plain log format drops) with the one readable line above.
stamina.instrumentation.set_on_retry_hooks([_log_retry])


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    source: str,
    url: str,
    policy: RetryPolicy = DEFAULT_RETRY,
    accept: Collection[int] = (),
) -> httpx.Response:
    """Await `send()` until it answers 2xx (or a status in `accept`), retrying per `policy`.

    `send` performs exactly one HTTP request per call, so a source can count requests and
    space them (arXiv) around each attempt. Each retry logs one WARNING; any other final
    status or transport failure is raised translated into `bot.errors`, and the call as a
    whole raises UpstreamTimeout once `policy.timeout` has passed. `url` names the request
    in errors, never in logs.
    """
    token = _CURRENT_CALL.set(_Call(source, policy.attempts))
    deadline = asyncio.timeout(policy.timeout)
    try:
        async with deadline:
            return await _attempts(send, source=source, url=url, policy=policy, accept=accept)
    except TimeoutError as exc:
        if not deadline.expired():
            raise  # not our deadline: someone else's timeout, theirs to handle
        raise UpstreamTimeout(
            f"no answer within {policy.timeout:g} s, retries included",
            source=source,
            url=safe_url(url),
        ) from exc
    finally:
        _CURRENT_CALL.reset(token)


async def _attempts(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    source: str,
    url: str,
    policy: RetryPolicy,
    accept: Collection[int],
) -> httpx.Response:
    with translated(source, url):
        async for attempt in stamina.retry_context(
            on=policy.backoff,
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                response = await send()
                if response.is_success or response.status_code in accept:
                    return response
                # Any other status (1xx/3xx included) raises HTTPStatusError for the
                # backoff hook to judge.
                response.raise_for_status()
    raise AssertionError("stamina ends every retry loop with a return or an exception")


@contextlib.contextmanager
def translated(source: str, url: str) -> Iterator[None]:
    """Re-raise any httpx failure inside the block as its `bot.errors` equivalent."""
    try:
        yield
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise translate(exc, source=source, url=url) from exc


def translate(exc: httpx.HTTPError | httpx.InvalidURL, *, source: str, url: str) -> UpstreamError:
    """The `bot.errors` exception for an httpx failure (raise it `from exc`).

    Timeouts → UpstreamTimeout; HTTP 429 → RateLimited (with `retry_after`); any other
    status, transport or redirect failure → UpstreamError; an undecodable body → BadPayload.
    `NOT_TRANSLATED` classes are bugs and are refused with TypeError.
    """
    where = safe_url(url)
    if isinstance(exc, NOT_TRANSLATED):
        raise TypeError(f"{type(exc).__name__} is a bug in our code, not an upstream failure")
    if isinstance(exc, httpx.HTTPStatusError):
        return _status_error(exc.response, source=source, url=where)
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(
            f"no answer in time ({type(exc).__name__})", source=source, url=where
        )
    if isinstance(exc, httpx.DecodingError):
        return BadPayload(f"undecodable response body: {_one_line(exc)}", source=source, url=where)
    if isinstance(exc, httpx.TooManyRedirects):
        return UpstreamError("too many redirects", source=source, url=where)
    if isinstance(exc, httpx.InvalidURL):
        return UpstreamError(f"invalid URL: {_one_line(exc)}", source=source, url=where)
    if isinstance(exc, httpx.TransportError):
        return UpstreamError(
            f"connection failed ({type(exc).__name__}: {_one_line(exc)})", source=source, url=where
        )
    return UpstreamError(
        f"request failed ({type(exc).__name__}: {_one_line(exc)})", source=source, url=where
    )


def decode_json(response: httpx.Response, *, source: str, url: str) -> Any:
    """The JSON body of `response`, or BadPayload naming the URL (HTML page, truncation…)."""
    try:
        return response.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        if "json" in kind:
            message = f"invalid or truncated JSON ({_one_line(exc)})"
        else:
            message = f"expected JSON, got {kind} ({len(response.content)} bytes)"
        raise BadPayload(message, source=source, url=safe_url(url)) from exc


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds the upstream asks us to wait, from `Retry-After` (seconds or an HTTP date) or
    the IETF `RateLimit` header's `t=` (Hugging Face sends it); None when it did not say."""
    value = response.headers.get("retry-after", "").strip()
    if value:
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    match = re.search(r"(?:^|;)\s*t=(\d+)", response.headers.get("ratelimit", ""))
    return float(match.group(1)) if match else None


def safe_url(url: str) -> str:
    """`url` without user:password — an error message must never carry a credential."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid URL>"
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else str(parsed)


def _status_error(response: httpx.Response, *, source: str, url: str) -> UpstreamError:
    status = response.status_code
    message = f"HTTP {status} {response.reason_phrase}".rstrip()
    detail = _upstream_detail(response)
    if detail:
        message += f": {detail}"
    if status == 429:
        return RateLimited(
            message, source=source, url=url, retry_after=retry_after_seconds(response)
        )
    return UpstreamError(message, source=source, url=url)


def _upstream_detail(response: httpx.Response) -> str | None:
    # Hugging Face explains a 400 in {"error": "..."}; that sentence is what the admin needs.
    # An HTML error page is not worth quoting.
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return _clip(" ".join(body[key].split()), 200)
    return None


def _one_line(exc: BaseException) -> str:
    return _clip(" ".join(str(exc).split()), 200) or type(exc).__name__


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_timestamp(value: Any) -> datetime | None:
    """An upstream ISO 8601 timestamp as an aware datetime (UTC when it names no zone), or
    None for anything else: both sources' parsers treat a bad date as absent, not fatal."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


__all__ = [
    "DEFAULT_RETRY",
    "MAX_CALL_SECONDS",
    "NOT_TRANSLATED",
    "SOURCE_NAMES",
    "MalformedItem",
    "RetryPolicy",
    "decode_json",
    "make_client",
    "parse_timestamp",
    "retry_after_seconds",
    "safe_url",
    "send_with_retries",
    "translate",
    "translated",
    "user_agent",
]
