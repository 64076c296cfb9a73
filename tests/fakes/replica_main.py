"""`python -m tests.fakes.replica_main ARGS…`: the real `paperboy ARGS…`, with discord.py
pointed at a fake Discord ($FAKE_DISCORD_URL), for runs of whole `paperboy run` processes
(tests/fakes/fleet.py). discord.py has no setting for its API root, so the same two class
attributes FakeDiscord.patch sets in-process are set here before the command starts; nothing
of Paperboy's is replaced.
"""

from __future__ import annotations

import os
import sys

import discord
import yarl
from discord.gateway import DiscordWebSocket

from paperboy.cli import main

if __name__ == "__main__":
    base = os.environ.get("FAKE_DISCORD_URL")
    if base:
        discord.http.Route.BASE = f"{base}/api/v10"
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"{base.replace('http', 'ws')}/gw")
    sys.exit(main(sys.argv[1:]))
