"""An address on 127.0.0.1 where nothing listens: a connection there is refused at once.

What an offline machine or a stopped upstream looks like to the client, without a server.
The port stays bound (never listening) for the rest of the test run, so no other process can
take it: a connection there is refused, every time.
"""

from __future__ import annotations

import atexit
import socket

_HELD: list[socket.socket] = []


@atexit.register
def _release() -> None:
    # Closed here rather than by the garbage collector at exit, which warns about each one.
    for holder in _HELD:
        holder.close()


def refusing_url() -> str:
    """`http://127.0.0.1:<port>` for a port bound by no listener."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    _HELD.append(holder)  # bound but not listening: the kernel refuses connections to it
    return f"http://127.0.0.1:{holder.getsockname()[1]}"


__all__ = ["refusing_url"]
