"""Shared test setup: no internet, a clean environment, and the paths to real payloads.

Every test runs with the Paperboy/Slack/Discord/OpenAI variables removed from the
environment (so no real token reaches a test) and with outbound connections limited to
loopback: a test that tries the internet fails loudly instead of passing by luck.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest
import stamina

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = PROJECT / "tests" / "fixtures"
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


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def _check(address: object) -> None:
        if isinstance(address, tuple) and address:
            host = str(address[0])
            try:
                if ipaddress.ip_address(host).is_loopback:
                    return
            except ValueError:
                if host == "localhost":
                    return
            raise AssertionError(f"test tried to reach {host}: tests never use the internet")

    def guarded_connect(self: socket.socket, address: object) -> None:
        _check(address)
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        _check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
