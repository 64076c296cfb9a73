"""Shared test setup: no internet, a clean environment, the paths to real payloads, and the
fixtures many test packages use: `http` (the sources' real client), the empty fake upstreams
`fake_hf` and `fake_arxiv` (tests/fakes), `sample_items`, `start_scheduler` with the `clock` and
`posts` it is usually given (tests/fakes/scheduled_post.py), and a real
PostgreSQL: `postgres_server` (one per test run) and `pg_database` (a fresh database per test).
`refusal(text)` is the error the command parser refuses a text with; `cli_workdir` sets up a
test that calls the CLI's main() in-process.

Every test runs with the Paperboy/Slack/Discord/OpenAI variables removed from the
environment (so no real token reaches a test) and with outbound connections, datagrams and
name lookups limited to loopback: a test that tries the internet fails loudly instead of
passing by luck (tests/test_network_guard.py proves the guard).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import stamina

from bot.commands import parse_command
from bot.errors import UserInputError
from bot.schedule import DailyScheduler
from bot.sources.http import make_client
from tests.fakes.arxiv_server import fake_arxiv  # noqa: F401  (a fixture, for every test)
from tests.fakes.hf_server import fake_hf, load_items  # noqa: F401  (fake_hf: a fixture)
from tests.fakes.postgres import (  # noqa: F401  (fixtures)
    pg_database,
    pg_database_sync,
    pg_reused_database,
    postgres_server,
)
from tests.fakes.scheduled_post import clock, posts  # noqa: F401  (fixtures)

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT / "tests" / "fixtures"
# Five real Daily Papers items of 2026-06-12, verbatim from ../shared/fixtures.
HF_SAMPLE = FIXTURES / "hf_daily_papers_2026-06-12_sample.json"
SHARED = PROJECT.parent / "shared"
SHARED_FIXTURES = SHARED / "fixtures"
CORPUS = SHARED / "data" / "hf-daily-papers-2023-05_2025-11.jsonl"

_SECRET_PREFIXES = ("PAPERBOY_", "SLACK_", "DISCORD_", "OPENAI_")


def shared_fixture(name: str) -> Path:
    """A real upstream payload from ../shared/fixtures, or a skip saying it is absent."""
    path = SHARED_FIXTURES / name
    if not path.exists():
        pytest.skip(f"../shared/fixtures/{name} is absent (run beside ../shared for this test)")
    return path


def corpus_path() -> Path:
    """The 8,036-paper corpus in ../shared/data, or a skip saying it is absent."""
    if not CORPUS.exists():
        pytest.skip("../shared/data corpus is absent (run beside ../shared for this test)")
    return CORPUS


def refusal(text: str) -> UserInputError:
    """The error `parse_command` refuses `text` with (the test fails if it is accepted)."""
    with pytest.raises(UserInputError) as caught:
        parse_command(text)
    return caught.value


@pytest.fixture
def cli_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """For tests that call `paperboy.cli.main` in-process: the working directory is the
    empty `tmp_path`, and the httpx logger is left as found (main() quietens it for the
    process; later tests must not inherit that)."""
    monkeypatch.chdir(tmp_path)
    logger = logging.getLogger("httpx")
    level = logger.level
    yield tmp_path
    logger.setLevel(level)


StartScheduler = Callable[..., Awaitable[DailyScheduler]]


@pytest.fixture
def sample_items() -> list[dict[str, Any]]:
    """The five real items of the 2026-06-12 sample batch (HF_SAMPLE), fresh per test."""
    return load_items(HF_SAMPLE)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The client the sources use in production (User-Agent, redirects), with a 5 s timeout."""
    async with make_client(timeout=5.0) as client:
        yield client


@pytest_asyncio.fixture
async def start_scheduler() -> AsyncIterator[StartScheduler]:
    """`await start_scheduler(channels, post, store=..., clock=..., ...)` builds a
    DailyScheduler with those arguments and starts it; every one is shut down after the test,
    so no APScheduler timer outlives it."""
    started: list[DailyScheduler] = []

    async def start(*args: Any, **kwargs: Any) -> DailyScheduler:
        scheduler = DailyScheduler(*args, **kwargs)
        started.append(scheduler)
        await scheduler.start()
        return scheduler

    yield start
    for scheduler in started:
        await scheduler.shutdown()


@pytest.fixture(autouse=True)
def _instant_retries() -> object:
    # stamina's test mode keeps each policy's attempt bound but waits zero seconds, so a
    # test of 429s and 500s proves the retry count without sleeping through backoff.
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(_SECRET_PREFIXES):
            monkeypatch.delenv(name)


def _is_loopback(host: object) -> bool:
    """True for the hosts a test may reach: localhost and loopback addresses."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host)
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _refuse(host: object) -> AssertionError:
    return AssertionError(f"test tried to reach {host!s}: tests never use the internet")


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Name lookups are refused too: a test must not learn whether the internet is there,
    # and a lookup that fails only offline would make a test pass or fail by luck.
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def _check(address: object) -> None:
        # AF_UNIX addresses are paths (str or bytes), not tuples: local by definition.
        if isinstance(address, tuple) and address and not _is_loopback(address[0]):
            raise _refuse(address[0])

    def guarded_connect(self: socket.socket, address: object) -> None:
        _check(address)
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        _check(address)
        return real_connect_ex(self, address)

    def guarded_sendto(self: socket.socket, data: bytes, *args: object) -> int:
        _check(args[-1] if args else None)  # sendto(data, address) or (data, flags, address)
        return real_sendto(self, data, *args)  # type: ignore[call-overload]

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host not in (None, "", b"") and not _is_loopback(host):
            raise _refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", guarded_sendto)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
