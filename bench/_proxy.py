"""A tiny round-robin TCP proxy: each new connection goes to the next backend in turn.

What a load balancer in front of Slack HTTP mode does, reduced to the part the replica
benchmark needs (bench/replicas.py): clients open one connection per request, so requests
spread evenly over the replicas. Bytes are piped both ways untouched (no HTTP parsing);
a backend that refuses the connection is skipped for that connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import Sequence


class RoundRobinProxy:
    def __init__(self, backends: Sequence[tuple[str, int]]) -> None:
        self.backends = list(backends)
        self.served: Counter[int] = Counter()  # backend index → connections handed to it
        self._next = itertools.cycle(range(len(self.backends)))
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, client_r: asyncio.StreamReader,
                      client_w: asyncio.StreamWriter) -> None:
        upstream = None
        for _ in range(len(self.backends)):
            index = next(self._next)
            try:
                upstream = await asyncio.open_connection(*self.backends[index])
            except OSError:
                continue
            self.served[index] += 1
            break
        if upstream is None:
            client_w.close()
            return
        back_r, back_w = upstream
        await asyncio.gather(_pipe(client_r, back_w), _pipe(back_r, client_w))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass  # the other side went away: closing below is all there is to do
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()
