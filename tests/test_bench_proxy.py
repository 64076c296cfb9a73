"""bench/_proxy.py: the load balancer of the replica benchmark hands each new connection to
the next backend, skips one that refuses, and carries the bytes unchanged both ways."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from bench._proxy import RoundRobinProxy
from tests.fakes.ports import free_port


async def _echo_server(name: bytes) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read(100)
        writer.write(name + b":" + data)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


@pytest_asyncio.fixture
async def backends() -> AsyncIterator[list[tuple[str, int]]]:
    servers = [await _echo_server(name) for name in (b"a", b"b")]
    yield [("127.0.0.1", int(s.sockets[0].getsockname()[1])) for s in servers]
    for server in servers:
        server.close()
        await server.wait_closed()


async def _ask(port: int, text: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(text)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_connections_go_to_each_backend_in_turn(backends: list[tuple[str, int]]) -> None:
    proxy = RoundRobinProxy(backends)
    await proxy.start()
    try:
        answers = [await _ask(proxy.port, b"x") for _ in range(4)]
    finally:
        await proxy.stop()
    assert answers == [b"a:x", b"b:x", b"a:x", b"b:x"]


async def test_a_backend_that_refuses_is_skipped(backends: list[tuple[str, int]]) -> None:
    proxy = RoundRobinProxy([("127.0.0.1", free_port()), *backends])
    await proxy.start()
    try:
        answers = [await _ask(proxy.port, b"y") for _ in range(2)]
    finally:
        await proxy.stop()
    assert answers == [b"a:y", b"b:y"]
