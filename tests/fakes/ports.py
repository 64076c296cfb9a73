"""A TCP port on 127.0.0.1 that is free now, for a child process to listen on.

The port is closed before it is handed out, so another process could take it in between;
the kernel hands out ephemeral ports in turn, which makes that rare enough for tests.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


__all__ = ["free_port"]
