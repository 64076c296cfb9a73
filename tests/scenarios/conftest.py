"""Setup for the scenarios: the installed command, a config file, and local fake upstreams.

A scenario starts the fakes in its own event loop, writes a config.toml that points every
URL at them, and runs the real `paperboy` console script as a child process with
`asyncio.create_subprocess_exec`, so the fakes keep answering while the test awaits it.
The socket guard in tests/conftest.py does not reach a child process: the config file is
what keeps the child off the internet, so every scenario writes one.

The fake LLM is tests.fakes.llm_server.FakeOpenAI; the `llm` fixture here serves it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import pytest_asyncio

from tests.fakes.hf_server import FakeHuggingFace
from tests.fakes.llm_server import FakeOpenAI

PAPERBOY = Path(sys.executable).parent / "paperboy"
DAY = "2026-06-12"
# A child that hangs fails its test instead of stalling the run (pytest-timeout is 120 s).
CHILD_TIMEOUT = 60.0

_SECRET_PREFIXES = ("PAPERBOY_", "SLACK_", "DISCORD_", "OPENAI_")


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
