"""One request to an OpenAI-compatible `/v1/chat/completions` endpoint for one paper's TL;DR.

Sends a modest `max_tokens` and `temperature = 0` (short, repeatable answers). Some servers
and models refuse one of them with HTTP 400 naming the parameter (reasoning models want
`max_completion_tokens`; some reject any temperature): the request is sent again without
it, and the client remembers, so the next papers do not pay for the refusal again.

Failures raise `LLMError` with a short reason safe to log — never the key, never the text of
an exception (it may quote the request); `KeyRefused` for HTTP 401/403. The key is the one
the caller read from the environment variable the config names; nothing here reads the
environment. Called by bot.summaries.chain and `paperboy summaries test`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bot.config import SummariesConfig
from bot.models import Paper
from bot.summaries.offline import normalise

# ~300 characters of English are ~75 tokens; the rest is room for a preamble the guard
# strips. A model that rambles on stops here instead of at the per-paper timeout.
MAX_TOKENS = 160

SYSTEM_PROMPT = (
    "You write TL;DRs of research papers for a team's chat channel. Answer with one or two "
    "plain sentences, at most 300 characters in total, saying what the paper contributes. "
    "No links, no markdown, no preamble, and no numbers that are not in the abstract."
)

# What a 400 may name instead of a parameter we send, and what to send instead (if any).
_FALLBACK = {"max_tokens": "max_completion_tokens", "max_completion_tokens": None,
             "temperature": None}


class LLMError(Exception):
    """The endpoint gave no usable answer; `reason` is short and safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyRefused(LLMError):
    """HTTP 401/403: the same answer for every paper, so a batch stops asking."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class Answer:
    """The model's raw text; `truncated` when it stopped at the token limit."""

    text: str
    truncated: bool
    seconds: float


class LLMClient:
    """Asks the configured endpoint; holds which optional parameters the server accepts."""

    def __init__(
        self, config: SummariesConfig, *, http: httpx.AsyncClient | None = None,
        api_key: str | None = None,
    ) -> None:
        self.config = config
        self._http = http
        self._api_key = api_key or None
        # The optional parameters this server has not refused yet.
        self._params: dict[str, object] = {"max_tokens": MAX_TOKENS, "temperature": 0}
        self.requests = 0

    @property
    def url(self) -> str:
        base = self.config.base_url.rstrip("/")
        # The documented form is the API root (".../v1", or a vendor's own such as
        # ".../v1beta/openai"); a bare host ("http://localhost:11434") means its /v1.
        if not urlsplit(base).path:
            base += "/v1"
        return base + "/chat/completions"

    async def ask(self, paper: Paper) -> Answer:
        """The model's answer for `paper`; LLMError when there is none to use."""
        started = time.monotonic()
        if self._http is not None:
            response = await self._post_until_accepted(self._http, paper)
        else:
            async with httpx.AsyncClient() as client:
                response = await self._post_until_accepted(client, paper)
        seconds = time.monotonic() - started
        if response.status_code in (401, 403):
            raise KeyRefused(response.status_code)
        if response.status_code != 200:
            raise LLMError(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise LLMError("answer is not JSON") from exc
        try:
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError("answer has no choices[0].message.content") from exc
        if not isinstance(content, str):
            raise LLMError("answer content is not text")
        return Answer(content, choice.get("finish_reason") == "length", seconds)

    async def _post_until_accepted(
        self, client: httpx.AsyncClient, paper: Paper
    ) -> httpx.Response:
        while True:
            response = await self._post(client, paper)
            refused = _refused_parameter(response, self._params)
            if refused is None:
                return response
            # Not ours to fix: send the request the way this server accepts it.
            value = self._params.pop(refused)
            instead = _FALLBACK.get(refused)
            if instead is not None and instead not in self._params:
                self._params[instead] = value

    async def _post(self, client: httpx.AsyncClient, paper: Paper) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        body = {
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {
                    "role": "user",
                    "content": f"Title: {normalise(paper.title)}\n\n"
                    f"Abstract: {normalise(paper.abstract)}",
                },
            ],
            "stream": False,
            **self._params,
        }
        self.requests += 1
        try:
            return await client.post(
                self.url, json=body, headers=headers, timeout=self.config.timeout
            )
        except httpx.TimeoutException as exc:
            raise LLMError(f"no answer within the {self.config.timeout:g}s timeout") from exc
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError, ExceptionGroup) as exc:
            # The class name only: an exception's text may quote the request. Bad URLs
            # (a port out of range) end here too: a broken LLM never blocks a post.
            raise LLMError(type(exc).__name__) from exc


def _refused_parameter(response: httpx.Response, sent: dict[str, object]) -> str | None:
    """The optional parameter a 400 answer names, when we sent it; else None."""
    if response.status_code != 400 or not sent:
        return None
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        named = error.get("param")
        if isinstance(named, str) and named in sent:
            return named
        text = f"{error.get('message', '')}"
    else:
        text = response.text
    # Longest first: "max_completion_tokens" must not be read as a mention of "max_tokens".
    for name in sorted(sent, key=len, reverse=True):
        if name in text:
            return name
    return None


__all__ = ["MAX_TOKENS", "SYSTEM_PROMPT", "Answer", "KeyRefused", "LLMClient", "LLMError"]
