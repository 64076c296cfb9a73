"""An address on 127.0.0.1 where nothing listens: a connection there is refused at once.

What an offline machine or a stopped upstream looks like to the client, without a server.
The port is taken from the kernel (bound, then released), so it is free when the test runs;
another process grabbing it in between is possible but vanishingly rare on a test machine.
"""

from __future__ import annotations

import socket


def refusing_url() -> str:
    """`http://127.0.0.1:<port>` for a port with no listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


__all__ = ["refusing_url"]
