"""Real faulty disks for fault tests: a small tmpfs to fill up (`tmpfs`, `fill`), made
read-only (`remount_readonly`), and a directory bind-mounted read-only onto itself
(`read_only_bind`).

Mounting needs root (or CAP_SYS_ADMIN) and the `mount` tool; without them the test is
skipped with a one-line reason. Once a mount worked, a failing remount is the test's own
doing (a file still open for writing makes it "busy") and fails the test. Root ignores
permission bits, so a read-only mount is the only honest "read-only data directory" for
tests that run as root.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


def _mount_or_skip(*args: str) -> None:
    if shutil.which("mount") is None:
        pytest.skip("the mount tool is absent: cannot make a small or read-only filesystem")
    done = _mount(*args)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here (needs root): {done.stderr.strip()[:80]}")


def _remount(*args: str) -> None:
    done = _mount(*args)
    if done.returncode != 0:
        pytest.fail(f"mount {' '.join(args)} failed: {done.stderr.strip()}")


@contextmanager
def tmpfs(path: Path, size: str = "8m") -> Iterator[Path]:
    """A fresh tmpfs of `size` mounted at `path`, unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    _mount_or_skip("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def remount_readonly(path: Path) -> None:
    """Make the tmpfs at `path` read-only (writes then fail with EROFS, even for root)."""
    _remount("-o", "remount,ro", str(path))


@contextmanager
def read_only_bind(directory: Path) -> Iterator[Path]:
    """`directory` bind-mounted read-only onto itself, unmounted afterwards."""
    _mount_or_skip("--bind", str(directory), str(directory))
    try:
        _remount("-o", "remount,bind,ro", str(directory))
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True, check=False)


def fill(path: Path) -> Path:
    """Fill the filesystem holding `path` with one file until it is full; returns it."""
    filler = path / "filler"
    chunk = b"\0" * 65536
    # Unbuffered: nothing is left to flush on close, which would hit ENOSPC once more.
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:  # only a full disk is the point
                raise
    return filler


__all__ = ["fill", "read_only_bind", "remount_readonly", "tmpfs"]
