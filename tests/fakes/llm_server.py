"""A fake OpenAI-compatible LLM: `POST /v1/chat/completions` on a local aiohttp server.

Answers in the real chat-completion shape (`completion()` builds it, also for tests that fake
the LLM with httpx.MockTransport). By default each answer is "This paper presents <title
from the prompt>." — plain, no links and no numbers beyond the title's, so the summariser's
checks accept it; `FakeOpenAI(content="…")` answers that text instead.
With `api_key` set, a request without `Authorization: Bearer <api_key>` gets 401 in OpenAI's
error shape, so a summary from the LLM proves the key was sent. `fail_next(COMPLETIONS,
status=401)` (tests/fakes/__init__.py) refuses the next request(s) whatever key they carry
(or status=500: a crashed server).

Like the small local models it stands in for (llama.cpp, Ollama serving a 1–3B model):
- `style` picks how it answers (see STYLES): "plain", "too_long" (four sentences, ~550
  characters), "preamble" ("Sure! Here is a TL;DR: …" and a sign-off), "refusal",
  "mention" (`<!channel>`, `@everyone`), "domain" (a bare `github.com/…`), "markdown"
  (a heading and bullets), "template" (a trailing `<|im_end|>` and the next turn);
- it honours `max_tokens` roughly (4 characters a token) and then says finish_reason
  "length", cutting mid-sentence as real servers do;
- `delay` seconds of real sleep before each answer (a CPU model is slow; tests scale a
  minute down to a fraction of a second);
- `served_model`: the name it answers with whatever model was asked (llama.cpp serves one
  model and ignores the field);
- `refuse_params`: parameters it answers with 400 naming them, as some servers do for
  `max_tokens` or `temperature`.
- `api_root`: where it serves `<api_root>/chat/completions` ("/v1" by default; a vendor's
  OpenAI-compatible root such as "/v1beta/openai" otherwise);
- `hold()`: answers wait until `release()` (no real sleep); `in_flight` / `max_in_flight`
  count requests being answered together and `busy` is set once `busy_at` of them are.
`bodies` keeps every request body it accepted (or refused for a parameter), `urls` the full
URL of every chat-completion request it was asked.

Usage:
    async with FakeOpenAI() as llm:
        config = SummariesConfig(base_url=llm.v1, model="fake-model")
        ...
        assert llm.completions == 5
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Collection
from typing import Any

from aiohttp import web

from tests.fakes import FakeServer

COMPLETIONS = "/v1/chat/completions"

_TITLE = re.compile(r"^Title: (?P<title>.*)$", re.M)

# How each style answers, given the paper's title. Wording taken from the kind of answers
# small instruction models give when asked for a TL;DR.
STYLES = {
    "plain": "This paper presents {title}.",
    "too_long": (
        "This paper presents {title}, a new approach that addresses limitations of prior "
        "methods in the field. The authors describe the design of the method in detail and "
        "explain how each component contributes to the overall system. They evaluate it on "
        "several benchmarks and compare it with strong baselines from recent work. The "
        "results suggest that the approach is effective and general, improving model "
        "accuracy and efficiency during subsequent training and inference stages."
    ),
    "preamble": (
        "Sure! Here is a TL;DR of the paper:\n\nThis paper presents {title}.\n\n"
        "Let me know if you need anything else!"
    ),
    "refusal": "I'm sorry, but I cannot summarize this paper.",
    "mention": "<!channel> This paper presents {title}. @everyone",
    "domain": "This paper presents {title}; the code is at github.com/example/project.",
    "markdown": "## TL;DR\n\n- **This paper presents {title}.**",
    "template": "This paper presents {title}.<|im_end|>\n<|im_start|>user\nThanks!",
}


def completion(content: str, model: str = "fake-model", *, number: int = 0) -> dict[str, Any]:
    """A chat-completion answer whose choices[0].message.content is `content`."""
    return {
        "id": f"chatcmpl-fake{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 200, "completion_tokens": len(content) // 4,
                  "total_tokens": 200 + len(content) // 4},
        "system_fingerprint": "fp_fake",
    }


def openai_error(
    status: int, message: str, code: str | None = None, param: str | None = None
) -> web.Response:
    """An error answer in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return web.json_response({"error": error}, status=status)


class FakeOpenAI(FakeServer):
    """The fake; see the module docstring. `completions` counts chat-completion requests."""

    def __init__(
        self, *, api_key: str | None = None, content: str | None = None, style: str = "plain",
        delay: float = 0.0, served_model: str | None = None,
        refuse_params: Collection[str] = (), api_root: str = "/v1", busy_at: int = 2,
    ) -> None:
        super().__init__()
        self.api_root = api_root.rstrip("/")
        self.api_key = api_key
        self.content = content
        self.style = style
        self.delay = delay
        self.served_model = served_model
        self.refuse_params = frozenset(refuse_params)
        self.bodies: list[dict[str, Any]] = []
        self.urls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.busy_at = busy_at
        self.busy = asyncio.Event()
        self._gate = asyncio.Event()
        self._gate.set()

    @property
    def path(self) -> str:
        """The chat-completions path it serves (COMPLETIONS unless `api_root` moved it)."""
        return f"{self.api_root}/chat/completions"

    @property
    def completions(self) -> int:
        return self.requests[self.path]

    @property
    def v1(self) -> str:
        """The URL to put in `[summaries] base_url`."""
        return f"{self.base_url}{self.api_root}"

    def error_response(self, status: int) -> web.Response:
        # Injected failures (fail_next) answer in OpenAI's error shape too.
        return openai_error(status, f"injected failure: HTTP {status}")

    def hold(self) -> None:
        """Answers wait from now on until `release()`."""
        self._gate.clear()

    def release(self) -> None:
        """Let held answers (and later ones) go."""
        self._gate.set()

    def routes(self) -> list[web.RouteDef]:
        return [web.post(self.path, self._complete)]

    async def _complete(self, request: web.Request) -> web.Response:
        self.urls.append(str(request.url))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.in_flight >= self.busy_at:
            self.busy.set()
        try:
            await self._gate.wait()  # a held answer; a client that gives up cancels this
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return openai_error(401, "Incorrect API key provided.", "invalid_api_key")
        try:
            body = await request.json()
            model = body["model"]
            prompt = body["messages"][-1]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return openai_error(400, "Invalid request body.")
        self.bodies.append(body)
        for param in sorted(self.refuse_params & body.keys()):
            return openai_error(400, f"Unsupported parameter: '{param}' is not supported "
                                     "with this model.", "unsupported_parameter", param)
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow model; the client's timeout may end it
        if self.content is not None:
            content = self.content
        else:
            match = _TITLE.search(prompt)
            content = STYLES[self.style].format(title=match["title"] if match else "a method")
        answer = completion(content, self.served_model or model, number=self.completions)
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        if isinstance(max_tokens, int) and len(content) > max_tokens * 4:
            answer["choices"][0]["message"]["content"] = content[: max_tokens * 4]
            answer["choices"][0]["finish_reason"] = "length"
        return web.json_response(answer)


__all__ = ["COMPLETIONS", "STYLES", "FakeOpenAI", "completion", "openai_error"]
