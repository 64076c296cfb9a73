"""Is the running bot well? The facts behind `GET /healthz` and `paperboy status`.

`HealthMonitor` gathers, while `paperboy run` serves: a heartbeat the event loop itself
updates (a stalled loop stops beating), each chat connection and whether it is still up,
the last successful and the last failed fetch of the day's papers, the next post of every
channel, and the channels an adapter paused (a missing permission, not in the channel).
`snapshot()` turns them into one JSON-ready dict with a verdict; `run()` beats and writes that
snapshot to `<data>/status.json` (temporary file then rename, so a reader never sees half a
file) whenever something changes and at every beat, so that `paperboy status` in another
terminal reads it without opening the store or disturbing the bot.

Verdict: unhealthy when the heartbeat is older than `STALE_HEARTBEAT`, a connection is down,
or the latest fetch of papers failed with no success since. A bot that has not fetched yet
is healthy: there is nothing to fetch before the first post or command.

Platform-free: an adapter is asked only for the optional attributes `connected` (bool) and
`paused` (channel id → reason); one lacking them is taken as connected while it serves.
Called by bot.running (the monitor's life) and paperboy/health.py (the HTTP endpoint).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.events import Identity

log = logging.getLogger(__name__)

STATUS_FILE = "status.json"
HEARTBEAT = timedelta(seconds=5)
# A beat missed this long means the loop is stuck (a blocking call) or the bot is gone.
STALE_HEARTBEAT = timedelta(seconds=30)

Clock = Callable[[], datetime]


@dataclass
class _Connection:
    identity: Identity
    adapter: object
    serving: bool = True


class HealthMonitor:
    """What `/healthz` and `paperboy status` report about one running bot."""

    def __init__(self, data_dir: Path | None, *, clock: Clock | None = None) -> None:
        self._path = data_dir / STATUS_FILE if data_dir is not None else None
        # Heartbeat and ages are wall time even when the scheduler runs on a test clock.
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self.started = self._clock()
        self.heartbeat = self.started
        self._connections: list[_Connection] = []
        self._next_posts: Callable[[], Mapping[str, datetime]] = dict
        self.last_fetch_ok: datetime | None = None
        self.last_fetch_failed: datetime | None = None
        self.last_fetch_error: str | None = None
        self.stopping = False
        self.stopped: datetime | None = None
        self._changed = asyncio.Event()
        self._write_warned = False

    # --- what the running bot tells it --------------------------------------------------

    def connected(self, adapter: object, identity: Identity) -> None:
        self._connections.append(_Connection(identity, adapter))
        self._changed.set()

    def stopped_serving(self, adapter: object) -> None:
        for connection in self._connections:
            if connection.adapter is adapter:
                connection.serving = False
        self._changed.set()

    def watch_schedule(self, next_posts: Callable[[], Mapping[str, datetime]]) -> None:
        self._next_posts = next_posts
        self._changed.set()

    def fetched(self, error: BaseException | None) -> None:
        """A fetch of the day's candidates ended: None when it succeeded."""
        now = self._clock()
        if error is None:
            self.last_fetch_ok = now
        else:
            self.last_fetch_failed, self.last_fetch_error = now, _one_line(error)
        self._changed.set()

    def stop(self) -> None:
        self.stopping = True
        self._changed.set()

    async def close(self) -> None:
        """Write the last report, marked stopped, for `paperboy status` to find."""
        self.stopped = self._clock()
        await self._write()

    # --- what it reports ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        now = self._clock()
        adapters = [
            {"platform": c.identity.platform, "team": c.identity.team,
             "connected": c.serving and bool(getattr(c.adapter, "connected", True))}
            for c in self._connections
        ]
        paused = [
            {"platform": c.identity.platform, "channel": channel, "reason": reason}
            for c in self._connections
            for channel, reason in dict(getattr(c.adapter, "paused", {})).items()
        ]
        report: dict[str, Any] = {
            "pid": os.getpid(),
            "started_at": _iso(self.started),
            "heartbeat": _iso(self.heartbeat),
            "stopping": self.stopping,
            "stopped_at": _iso(self.stopped),
            "adapters": adapters,
            "last_fetch": {
                "ok_at": _iso(self.last_fetch_ok),
                "failed_at": _iso(self.last_fetch_failed),
                "error": self.last_fetch_error,
            },
            "next_posts": {name: _iso(when) for name, when in sorted(self._next_posts().items())},
            "paused": paused,
        }
        return judge(report, now)

    async def run(self) -> None:
        """Beat and keep status.json current until cancelled."""
        while True:
            self.heartbeat = self._clock()
            await self._write()
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), HEARTBEAT.total_seconds())

    async def _write(self) -> None:
        if self._path is None:
            return
        text = json.dumps(self.snapshot(), indent=2)
        try:
            await asyncio.to_thread(_replace_file, self._path, text)
        except OSError as exc:
            # A read-only or full data directory must not stop the bot; say it once.
            if not self._write_warned:
                log.warning("cannot write %s (%s); `paperboy status` will be out of date",
                            self._path, exc.strerror or exc)
                self._write_warned = True
        else:
            self._write_warned = False


def judge(report: dict[str, Any], now: datetime) -> dict[str, Any]:
    """`report` with its verdict: `healthy`, `status` and the `problems` found at `now`.
    Pure; `paperboy status` judges a status file read later with the same rules."""
    problems: list[str] = []
    beat = _parse(report.get("heartbeat"))
    if report.get("stopped_at"):
        # A bot that stopped cleanly has no heartbeat to wait for.
        problems.append(f"the bot stopped at {report['stopped_at']}")
    else:
        if beat is None or now - beat > STALE_HEARTBEAT:
            age = "never" if beat is None else f"{int((now - beat).total_seconds())} s ago"
            problems.append(f"no heartbeat since {age}: the bot is stuck or not running")
        if report.get("stopping"):
            problems.append("the bot is stopping")
    problems += [
        f"{a['platform']} (team {a['team']}) is not connected"
        for a in report.get("adapters", ()) if not a.get("connected")
    ]
    fetch = report.get("last_fetch") or {}
    failed, ok = _parse(fetch.get("failed_at")), _parse(fetch.get("ok_at"))
    if failed is not None and (ok is None or ok < failed):
        problems.append(f"fetching papers failed at {fetch['failed_at']}: {fetch.get('error')}")
    return {**report, "healthy": not problems,
            "status": "ok" if not problems else "unhealthy", "problems": problems,
            "checked_at": _iso(now)}


def read_status(data_dir: Path) -> dict[str, Any] | None:
    """The last snapshot a running bot wrote under `data_dir`; None when there is none or it
    cannot be read as one (a bot that never ran, a damaged file)."""
    try:
        report = json.loads((data_dir / STATUS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def describe(report: Mapping[str, Any]) -> str:
    """The report as a few lines for an admin at a terminal."""
    lines = [f"Paperboy: {report['status']} (pid {report.get('pid')}, "
             f"last heartbeat {report.get('heartbeat')})"]
    lines += [f"  problem: {problem}" for problem in report.get("problems", ())]
    for adapter in report.get("adapters", ()):
        state = "connected" if adapter.get("connected") else "NOT connected"
        lines.append(f"  {adapter['platform']} team {adapter['team']}: {state}")
    fetch = report.get("last_fetch") or {}
    lines.append(f"  last successful fetch: {fetch.get('ok_at') or 'none yet'}")
    if fetch.get("failed_at"):
        lines.append(f"  last failed fetch: {fetch['failed_at']} ({fetch.get('error')})")
    for name, when in (report.get("next_posts") or {}).items():
        lines.append(f"  #{name}: next post {when}")
    for paused in report.get("paused", ()):
        lines.append(f"  paused: {paused['platform']} {paused['channel']} ({paused['reason']})")
    return "\n".join(lines)


def _replace_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat(timespec="seconds") if when is not None else None


def _parse(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


__all__ = ["STATUS_FILE", "HealthMonitor", "describe", "judge", "read_status"]
