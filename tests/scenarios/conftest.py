"""Setup for the scenarios: the installed command, a config file, and local fake upstreams.

A scenario starts the fakes in its own event loop, writes a config.toml that points every
URL at them, and runs the real `paperboy` console script as a child process with
`asyncio.create_subprocess_exec`, so the fakes keep answering while the test awaits it.
The socket guard in tests/conftest.py does not reach a child process: the config file is
what keeps the child off the internet, so every scenario writes one.

`FakeOpenAI` plays an OpenAI-compatible `/v1/chat/completions` server (the real response
shape, calls counted); bench/digest.py uses it too.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import pytest_asyncio
from aiohttp import web

from tests.conftest import FIXTURES
from tests.fakes import FakeServer
from tests.fakes.hf_server import FakeHuggingFace, load_items

PAPERBOY = Path(sys.executable).parent / "paperboy"
SAMPLE = FIXTURES / "hf_daily_papers_2026-06-12_sample.json"
DAY = "2026-06-12"
COMPLETIONS = "/v1/chat/completions"
# A child that hangs fails its test instead of stalling the run (pytest-timeout is 120 s).
CHILD_TIMEOUT = 60.0

_SECRET_PREFIXES = ("PAPERBOY_", "SLACK_", "DISCORD_", "OPENAI_")
_TITLE = re.compile(r"^Title: (?P<title>.*)$", re.M)


# --- a fake OpenAI-compatible server ------------------------------------------------------


class FakeOpenAI(FakeServer):
    """`POST /v1/chat/completions` answering in the real chat-completion shape.

    Each answer is "This paper presents <title from the prompt>." — plain, no links and no
    numbers beyond the title's, so the summariser's checks accept it. With `api_key` set,
    a request without `Authorization: Bearer <api_key>` gets 401 in OpenAI's error shape,
    so a summary from the LLM proves the key was sent. `completions` counts requests;
    `fail_next` (tests/fakes/__init__.py) injects failures.
    """

    def __init__(self, *, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key

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
            return _openai_error(401, "Incorrect API key provided.", "invalid_api_key")
        try:
            body = await request.json()
            model = body["model"]
            prompt = body["messages"][-1]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return _openai_error(400, "Invalid request body.", None)
        match = _TITLE.search(prompt)
        title = match["title"] if match else "a method"
        content = f"This paper presents {title}."
        return web.json_response({
            "id": f"chatcmpl-fake{self.completions}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": (len(prompt) + len(content)) // 4},
            "system_fingerprint": "fp_fake",
        })


def _openai_error(status: int, message: str, code: str | None) -> web.Response:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    return web.json_response({"error": error}, status=status)


# --- running the installed command --------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """What one `paperboy` child process did."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class RunPaperboy(Protocol):
    def __call__(self, *args: str, env: Mapping[str, str] | None = None) -> Awaitable[Run]: ...


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any Paperboy/Slack/Discord/OpenAI variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SECRET_PREFIXES)}
    env.update(extra or {})
    return env


async def run_paperboy(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> Run:
    """Run the installed command with piped output, await it, and return what it did."""
    process = await asyncio.create_subprocess_exec(
        str(PAPERBOY), *args,
        cwd=cwd,
        env=child_environment(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT)
    finally:
        if process.returncode is None:  # timed out, or the test's own guard cancelled it
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Run(process.returncode, out.decode("utf-8"), err.decode("utf-8"))


def config_text(
    *,
    hf_url: str,
    data_dir: Path,
    llm_url: str | None = None,
    channels: str = "",
    extra: str = "",
) -> str:
    """A config.toml whose every URL is local: Hugging Face and arXiv at `hf_url` (arXiv
    is never asked unless a channel names categories), the LLM at `llm_url` when given."""
    lines = [
        "[storage]",
        f"path = {json.dumps(str(data_dir))}",
        "",
        "[sources.huggingface]",
        f"base_url = {json.dumps(hf_url)}",
        "timeout = 10",
        "",
        "[sources.arxiv]",
        f"base_url = {json.dumps(hf_url)}",
        f"rss_url = {json.dumps(hf_url)}",
        "",
    ]
    if llm_url is not None:
        lines += ["[summaries]", f"base_url = {json.dumps(llm_url)}", 'model = "fake-model"', ""]
    return "\n".join(lines) + channels + extra


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def sample_items() -> list[dict[str, Any]]:
    """The five real items of the 2026-06-12 sample batch."""
    return load_items(SAMPLE)


@pytest_asyncio.fixture
async def hf(sample_items: list[dict[str, Any]]) -> AsyncIterator[FakeHuggingFace]:
    """A fake Hugging Face serving the sample batch as 2026-06-12."""
    async with FakeHuggingFace(batches={DAY: sample_items}) as server:
        yield server


@pytest_asyncio.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def write_config(tmp_path: Path, data_dir: Path) -> Callable[..., Path]:
    """Write tmp_path/config.toml (see `config_text`; data in `data_dir`) and return it."""

    def write(hf_url: str, **options: Any) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(config_text(hf_url=hf_url, data_dir=data_dir, **options), "utf-8")
        return path

    return write


@pytest.fixture
def paperboy(tmp_path: Path) -> RunPaperboy:
    """Run the installed `paperboy` in tmp_path with a clean environment (plus `env`)."""

    def run(*args: str, env: Mapping[str, str] | None = None) -> Awaitable[Run]:
        return run_paperboy(*args, cwd=tmp_path, env=env)

    return run
