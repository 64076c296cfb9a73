"""The loopback guard of tests/conftest.py: every test may reach 127.0.0.1 and localhost, and
nothing else — no connection, no datagram, no name lookup.

192.0.2.1 is TEST-NET-1 (RFC 5737) and example.org is reserved (RFC 2606): even if a guard
failed, these tests would send nothing to anybody's server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import pytest

OUTSIDE = ("192.0.2.1", 443)
REFUSED = "tests never use the internet"


@pytest.fixture
def tcp() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        yield sock


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        yield sock


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1 (the kernel completes a connect to it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def test_connect_outside_loopback_is_refused(tcp: socket.socket) -> None:
    with pytest.raises(AssertionError, match=REFUSED):
        tcp.connect(OUTSIDE)


def test_connect_ex_outside_loopback_is_refused(tcp: socket.socket) -> None:
    with pytest.raises(AssertionError, match=REFUSED):
        tcp.connect_ex(OUTSIDE)


def test_datagram_outside_loopback_is_refused(udp: socket.socket) -> None:
    with pytest.raises(AssertionError, match=REFUSED):
        udp.sendto(b"x", OUTSIDE)


def test_datagram_with_flags_outside_loopback_is_refused(udp: socket.socket) -> None:
    with pytest.raises(AssertionError, match=REFUSED):
        udp.sendto(b"x", 0, OUTSIDE)


def test_name_lookup_of_an_internet_host_is_refused() -> None:
    with pytest.raises(AssertionError, match=REFUSED):
        socket.getaddrinfo("example.org", 443)


async def test_asyncio_connection_to_an_internet_host_is_refused() -> None:
    # The path aiohttp and httpx take: the event loop's getaddrinfo, in a worker thread.
    with pytest.raises(AssertionError, match=REFUSED):
        await asyncio.open_connection("example.org", 443)


def test_connect_to_127_0_0_1_is_allowed(tcp: socket.socket, listener: socket.socket) -> None:
    tcp.connect(listener.getsockname())
    assert tcp.getpeername() == listener.getsockname()


def test_connect_to_localhost_is_allowed(tcp: socket.socket, listener: socket.socket) -> None:
    tcp.connect(("localhost", listener.getsockname()[1]))
    assert tcp.getpeername() == listener.getsockname()


def test_datagram_to_127_0_0_1_is_allowed(udp: socket.socket) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        udp.sendto(b"ping", receiver.getsockname())
        assert receiver.recv(16) == b"ping"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", None])
def test_name_lookup_of_a_local_host_is_allowed(host: str | None) -> None:
    addresses = socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)
    assert addresses


def test_name_lookup_of_an_empty_host_is_left_to_the_resolver() -> None:
    # Only the guard raises AssertionError; glibc itself refuses "" (others may not).
    with contextlib.suppress(socket.gaierror):
        socket.getaddrinfo("", 80, type=socket.SOCK_STREAM)
