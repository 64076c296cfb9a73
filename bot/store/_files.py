"""Files in the data directory done safely: atomic JSON files, a TinyDB storage, a process lock.

TinyDB's own JSONStorage rewrites its file in place, so a crash mid-write corrupts it, and
it cannot tell an unreadable file from an empty one. Here:
- `write_json_atomic` writes a temporary file beside the target, fsyncs it, `os.replace`s it
  over the target and fsyncs the directory: a reader (or a crash) sees the old file or the
  new one, never half of one.
  With `backup`, the file being replaced is first hard-linked to `<name>.bak` (a link and a
  rename, no copy): team state always has its last good version beside it.
  A full disk (ENOSPC, EDQUOT) or a file system turned read-only fails with one line naming
  the file, and leaves neither a stray temp file nor a damaged target.
- `read_json` treats a missing file as empty. A file this module wrote is never zero bytes
  long, so an empty, truncated or garbage file raises `CorruptFile` naming it; nothing here
  rewrites or resets what it could not read.
- `AtomicJSONStorage` is a TinyDB Storage built on those two, with an in-memory copy of the
  file and a `batch()` that turns several TinyDB operations into one write. Team state
  refuses a corrupt file and names its backup; a rebuildable cache moves it aside (kept for
  inspection as `<name>.corrupt-<UTC stamp>`), warns once and starts empty.
- `DataDirLock` is an exclusive `flock` on `<data dir>/paperboy.lock` that records the
  holder's pid and command. The kernel drops it when the holder exits or is killed, so a
  lock file left behind never blocks anyone.
Not thread-safe: bot.store.tinydb calls all of this from its one writer thread.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from bot.errors import StoreError, StoreLocked

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".tmp"
BACKUP_SUFFIX = ".bak"
LOCK_NAME = "paperboy.lock"

# Write failures that mean "no room" or "no longer writable" rather than a bug or a bad path:
# they get a plain sentence, and the store stays usable for when space returns.
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


class CorruptFile(StoreError):
    """A data file that exists but cannot be used: empty, truncated, garbage or foreign."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} is corrupt ({reason})")
        self.path = path
        self.reason = reason


class DataDirReadOnly(StoreError):
    """The data directory cannot be written (read-only mount, no permission): a reader may
    still open it read-only; a writer cannot run there."""

# How long after a file's mtime a read-only cache still re-checks it. Filesystems stamp
# mtimes with a coarse clock (ext4 ~4 ms, some network/FAT filesystems 1-2 s) and inode
# numbers are reused, so two quick writes of the same size can look identical: a copy read
# within this window of the file's mtime is not trusted on the stamp alone (as git does).
_RACY_WINDOW_NS = 2_000_000_000


def write_json_atomic(path: Path, data: Any, *, backup: bool = False) -> None:
    """Replace `path` with `data` as JSON, all or nothing. Raises StoreError naming the file.

    With `backup`, the current file (if any) becomes `<name>.bak` first.
    """
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        _make_dirs(path.parent)
        if backup:
            _keep_backup(path)
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
        raise StoreError(_write_failure(path, exc)) from exc


def backup_path(path: Path) -> Path:
    """Where the last good version of team-state file `path` is kept."""
    return path.with_name(path.name + BACKUP_SUFFIX)


def _keep_backup(path: Path) -> None:
    # A hard link to the old inode: os.replace then gives `path` a new inode, so the link
    # keeps the old content for the cost of one link and one rename, whatever the file size.
    # Linked under a temp name first, because os.link will not replace an existing `.bak`.
    temp = path.with_name(f".{path.name}.{os.getpid()}{BACKUP_SUFFIX}{TEMP_SUFFIX}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)
    try:
        os.link(path, temp)
    except FileNotFoundError:
        return  # a new file: nothing to keep yet
    try:
        os.replace(temp, backup_path(path))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _write_failure(path: Path, exc: OSError) -> str:
    if exc.errno in _DISK_FULL:
        return f"disk full: could not write {path}"
    if exc.errno == errno.EROFS:
        return f"read-only file system: could not write {path}"
    return f"cannot write {path}: {exc.strerror or exc}"


def read_json(path: Path) -> Any:
    """The JSON in `path`; None when it is missing.

    Raises CorruptFile naming the file when it is empty or cannot be parsed (every file the
    store writes holds at least `{}`), StoreError when it cannot be read; the file is left as
    it is.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not raw:
        raise CorruptFile(path, "empty file")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptFile(path, str(exc)) from exc


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename an unusable file to `<name>.corrupt-<UTC stamp>` (kept for a person to look
    at) and return the new path."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, target)
    _fsync_dir(path.parent)
    return target


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

    def __init__(self, path: Path, *, readonly: bool = False, rebuildable: bool = False) -> None:
        super().__init__()
        self.path = path
        self.readonly = readonly
        # A cache can be refetched, so a corrupt one is set aside; team state cannot.
        self.rebuildable = rebuildable
        self._data: dict[str, dict[str, Any]] | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._read_started_ns = 0
        self._batching = False
        self._dirty = False
        self._warned_stamp: tuple[int, int, int] | None = None
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
        try:
            data = read_json(self.path)
            if data is not None and not _is_data_file(data):
                raise CorruptFile(self.path, "not a Paperboy data file")
        except CorruptFile as exc:
            if not self.rebuildable:
                raise StoreError(_restore_hint(exc)) from exc
            self._set_aside(exc)
            data = None
        if data is None:
            self._data = {}
            return None
        self._data = data
        return data

    def _set_aside(self, exc: CorruptFile) -> None:
        """Treat an unusable cache file as empty; a writer moves it aside, once."""
        if self.readonly:
            # Not ours to move: the writer will. Say so once per version of the file.
            if self._warned_stamp != self._stamp:
                self._warned_stamp = self._stamp
                log.warning("%s; reading that cache as empty", exc)
            return
        try:
            moved = move_aside(self.path)
        except OSError as move_exc:
            log.warning("%s; could not move it aside (%s), reading that cache as empty",
                        exc, move_exc.strerror or move_exc)
            return
        log.warning("%s; moved it to %s, its entries will be fetched again", exc, moved.name)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.readonly:
            raise StoreError(f"read-only: cannot write {self.path}")
        self.version += 1
        if self._batching:
            self._data = data
            self._dirty = True
            return
        try:
            write_json_atomic(self.path, data, backup=not self.rebuildable)
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
                write_json_atomic(self.path, self._data, backup=not self.rebuildable)
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
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno in _READ_ONLY:
                raise DataDirReadOnly(
                    f"data directory {self.path.parent} is read-only "
                    f"({exc.strerror or exc}): paperboy cannot write there"
                ) from exc
            raise StoreError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
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
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        except OSError as exc:
            # The holder record only names the process in a "data directory in use" error;
            # a full disk must not stop a command that may not even write (list, search).
            log.debug("could not record the lock holder in %s: %s", self.path, exc)
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


def _is_data_file(data: Any) -> bool:
    return isinstance(data, dict) and all(isinstance(t, dict) for t in data.values())


def _restore_hint(exc: CorruptFile) -> str:
    backup = backup_path(exc.path)
    if backup.is_file():
        return f"{exc}: restore from {backup}"
    return f"{exc}: no backup at {backup}; restore it from your own backup or move it away"


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
