"""Files in the data directory done safely: atomic JSON files, a TinyDB storage, a process lock.

TinyDB's own JSONStorage rewrites its file in place, so a crash mid-write corrupts it, and
it cannot tell an unreadable file from an empty one. Here:
- `write_json_atomic` writes a temporary file beside the target, fsyncs it, `os.replace`s it
  over the target and fsyncs the directory: a reader (or a crash) sees the old file or the
  new one, never half of one.
- `read_json` treats a missing or zero-byte file as empty and anything unreadable as a
  StoreError naming the file; it never rewrites or resets what it could not read.
- `AtomicJSONStorage` is a TinyDB Storage built on those two, with an in-memory copy of the
  file and a `batch()` that turns several TinyDB operations into one write.
- `DataDirLock` is an exclusive `flock` on `<data dir>/paperboy.lock` that records the
  holder's pid and command. The kernel drops it when the holder exits or is killed, so a
  lock file left behind never blocks anyone.
Not thread-safe: bot.store.tinydb calls all of this from its one writer thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from bot.errors import StoreError, StoreLocked

TEMP_SUFFIX = ".tmp"
LOCK_NAME = "paperboy.lock"

# How long after a file's mtime a read-only cache still re-checks it. Filesystems stamp
# mtimes with a coarse clock (ext4 ~4 ms, some network/FAT filesystems 1-2 s) and inode
# numbers are reused, so two quick writes of the same size can look identical: a copy read
# within this window of the file's mtime is not trusted on the stamp alone (as git does).
_RACY_WINDOW_NS = 2_000_000_000


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace `path` with `data` as JSON, all or nothing. Raises StoreError naming the file."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        _make_dirs(path.parent)
        fd, temp_name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        # The rename itself lives in the directory: fsync it so the new name survives a crash.
        _fsync_dir(path.parent)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from exc


def read_json(path: Path) -> Any:
    """The JSON in `path`; None when it is missing or zero bytes long.

    Raises StoreError naming the file when it cannot be read or parsed; the file is left as
    it is, for a person to look at.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"{path} is corrupt ({exc}); it was left untouched: "
            "restore it from a backup or move it away"
        ) from exc


def remove_stale_temp_files(root: Path) -> int:
    """Delete temporary files a crashed writer left under `root`. Only the lock holder may."""
    removed = 0
    for temp in root.rglob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            temp.unlink()
            removed += 1
    return removed


class AtomicJSONStorage(Storage):
    """A TinyDB Storage: one JSON file, written atomically, cached in memory.

    Writer mode trusts its cached copy, because the data directory lock makes this process
    the only writer. Read-only mode re-reads the file whenever its (inode, size, mtime) stamp
    changed, and refuses writes. Inside `batch()`, writes only update the cached copy and the
    file is written once when the batch ends; if anything fails, the copy is dropped and the
    file on disk is still the last complete version. `version` changes whenever the content
    may have, so callers can keep values derived from it (see `current_version`).
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        super().__init__()
        self.path = path
        self.readonly = readonly
        self._data: dict[str, dict[str, Any]] | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._read_started_ns = 0
        self._batching = False
        self._dirty = False
        self.version = 0

    def current_version(self) -> int:
        """Bring the cached copy up to date (re-reading if needed) and return its version."""
        self.read()
        return self.version

    def read(self) -> dict[str, dict[str, Any]] | None:
        if self._data is not None and (not self.readonly or self._still_fresh()):
            return self._data
        self._read_started_ns = time.time_ns()
        self._stamp = _stamp(self.path)
        self.version += 1
        data = read_json(self.path)
        if data is None:
            self._data = {}
            return None
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise StoreError(f"{self.path} is not a Paperboy data file; it was left untouched")
        self._data = data
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.readonly:
            raise StoreError(f"read-only: cannot write {self.path}")
        self.version += 1
        if self._batching:
            self._data = data
            self._dirty = True
            return
        try:
            write_json_atomic(self.path, data)
        except BaseException:
            # TinyDB changed the cached dict in place before calling write: forget it.
            self._data = None
            raise
        self._data = data

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Collect the writes made inside the block into one atomic write of the file."""
        if self._batching:
            yield
            return
        self._batching = True
        self._dirty = False
        try:
            yield
            if self._dirty:
                write_json_atomic(self.path, self._data)
        except BaseException:
            self._data = None
            raise
        finally:
            self._batching = False
            self._dirty = False

    def _still_fresh(self) -> bool:
        stamp = _stamp(self.path)
        if stamp != self._stamp:
            return False
        if stamp is None:
            return True
        mtime_ns = stamp[2]
        return self._read_started_ns - mtime_ns > _RACY_WINDOW_NS


class DataDirLock:
    """An exclusive lock on a data directory for the life of one writing process."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise StoreLocked naming the process that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLocked(
                f"data directory {self.path.parent} is in use by paperboy "
                f"({_describe_holder(self.path)}); stop it, or point [storage] path or "
                "PAPERBOY_DATA elsewhere"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
        holder = {"pid": os.getpid(), "command": _command_line()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the next writer in. Safe to call twice; the file stays (see module docstring)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _describe_holder(lock_path: Path) -> str:
    try:
        holder = json.loads(lock_path.read_text(encoding="utf-8"))
        return f"pid {int(holder['pid'])}: {holder['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        # The holder is between taking the lock and writing its name.
        return "pid unknown"


def _command_line() -> str:
    parts = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    command = " ".join(parts)
    return command if len(command) <= 120 else command[:119] + "…"


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _make_dirs(directory: Path) -> None:
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for new_dir in reversed(missing):
        new_dir.mkdir(exist_ok=True)
        # A new directory's entry lives in its parent: make it durable like a rename.
        _fsync_dir(new_dir.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
