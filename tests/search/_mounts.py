"""Real filesystems for fault tests: a small tmpfs (to fill up) that can be made read-only.

Mounting needs root (or CAP_SYS_ADMIN) and the `mount` tool; without them the test is
skipped with a one-line reason. Root ignores permission bits, so a read-only mount is the
only honest "read-only data directory" for tests that run as root.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextmanager
def tmpfs(path: Path, size: str = "8m") -> Iterator[Path]:
    """A fresh tmpfs of `size` mounted at `path`, unmounted afterwards."""
    if shutil.which("mount") is None:
        pytest.skip("the mount tool is absent: cannot make a small or read-only filesystem")
    path.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def remount_readonly(path: Path) -> None:
    """Make the tmpfs at `path` read-only (writes then fail with EROFS, even for root)."""
    done = _mount("-o", "remount,ro", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot remount read-only here: {done.stderr.strip()}")


def fill(path: Path) -> Path:
    """Fill the filesystem holding `path` with one file until it is full; returns it."""
    filler = path / "filler"
    chunk = b"\0" * 65536
    # Unbuffered: nothing is left to flush on close, which would hit ENOSPC once more.
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError:
            pass  # ENOSPC: the disk is full, which is the point
    return filler

