"""A second Paperboy process for the TinyDB file tests: `python _holder.py DATA_DIR MODE`.

MODE "hold": open the store, print "ready <pid>", keep the lock until stdin closes.
MODE "count": open the store, then forever write meta "n" = {"i": i, "pad": ...} and print i
once the write has returned (so the parent knows which values are on disk).
The pad makes each file ~100 kB, so a SIGKILL is likely to land in the middle of a write.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.store.tinydb import TinyDBStore


async def main(data_dir: Path, mode: str) -> None:
    store = await TinyDBStore.open(data_dir)
    print(f"ready {os.getpid()}", flush=True)
    if mode == "hold":
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    else:
        pad = "x" * 100_000
        i = 0
        while True:
            i += 1
            await store.set_meta("n", {"i": i, "pad": pad})
            print(i, flush=True)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
