"""A fake OpenAI-compatible LLM: `POST /v1/chat/completions` on a local aiohttp server.

Answers in the real chat-completion shape (`completion()` builds it, also for tests that fake
the LLM with httpx.MockTransport). By default each answer is "This paper presents <title
from the prompt>." — plain, no links and no numbers beyond the title's, so the summariser's
checks accept it; `FakeOpenAI(content="…")` answers that text instead.
With `api_key` set, a request without `Authorization: Bearer <api_key>` gets 401 in OpenAI's
error shape, so a summary from the LLM proves the key was sent. `fail_next(COMPLETIONS,
status=401)` (tests/fakes/__init__.py) refuses the next request(s) whatever key they carry.

Usage:
    async with FakeOpenAI() as llm:
        config = SummariesConfig(base_url=llm.v1, model="fake-model")
        ...
        assert llm.completions == 5
"""

from __future__ import annotations

import re
import time
from typing import Any

from aiohttp import web

from tests.fakes import FakeServer

COMPLETIONS = "/v1/chat/completions"

_TITLE = re.compile(r"^Title: (?P<title>.*)$", re.M)


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


def openai_error(status: int, message: str, code: str | None = None) -> web.Response:
    """An error answer in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    return web.json_response({"error": error}, status=status)


class FakeOpenAI(FakeServer):
    """The fake; see the module docstring. `completions` counts chat-completion requests."""

    def __init__(self, *, api_key: str | None = None, content: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.content = content

    @property
    def completions(self) -> int:
        return self.requests[COMPLETIONS]

    @property
    def v1(self) -> str:
        """The URL to put in `[summaries] base_url`."""
        return f"{self.base_url}/v1"

    def routes(self) -> list[web.RouteDef]:
        return [web.post(COMPLETIONS, self._complete)]

    async def _complete(self, request: web.Request) -> web.Response:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return openai_error(401, "Incorrect API key provided.", "invalid_api_key")
        try:
            body = await request.json()
            model = body["model"]
            prompt = body["messages"][-1]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return openai_error(400, "Invalid request body.")
        if self.content is not None:
            content = self.content
        else:
            match = _TITLE.search(prompt)
            content = f"This paper presents {match['title'] if match else 'a method'}."
        return web.json_response(completion(content, model, number=self.completions))


__all__ = ["COMPLETIONS", "FakeOpenAI", "completion", "openai_error"]
