"""The health verdict (`bot.health.judge`) and the status file `paperboy status` reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.health import STATUS_FILE, HealthMonitor, judge, read_status

NOW = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)


def report(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "heartbeat": NOW.isoformat(), "stopping": False, "stopped_at": None,
        "adapters": [{"platform": "slack", "team": "T0", "connected": True}],
        "last_fetch": {"ok_at": None, "failed_at": None, "error": None},
    }
    return {**base, **changes}


def names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_fresh_report_is_healthy() -> None:
    assert judge(report(), NOW)["healthy"] is True


def test_heartbeat_older_than_thirty_seconds_is_unhealthy() -> None:
    verdict = judge(report(), NOW + timedelta(seconds=31))
    assert verdict["problems"] == [
        "no heartbeat since 31 s ago: the bot is stuck or not running"]


def test_disconnected_adapter_is_unhealthy() -> None:
    down = report(adapters=[{"platform": "slack", "team": "T0", "connected": False}])
    assert judge(down, NOW)["problems"] == ["slack (team T0) is not connected"]


def test_failed_fetch_after_a_success_is_unhealthy() -> None:
    fetch = {"ok_at": "2026-06-12T08:00:00+00:00", "failed_at": "2026-06-12T08:30:00+00:00",
             "error": "huggingface: 503"}
    assert judge(report(last_fetch=fetch), NOW)["status"] == "unhealthy"


def test_success_after_a_failed_fetch_is_healthy() -> None:
    fetch = {"ok_at": "2026-06-12T08:45:00+00:00", "failed_at": "2026-06-12T08:30:00+00:00",
             "error": "huggingface: 503"}
    assert judge(report(last_fetch=fetch), NOW)["healthy"] is True


def test_stopped_bot_says_when_it_stopped_not_that_it_is_stuck() -> None:
    stopped = report(stopping=True, stopped_at="2026-06-12T08:59:00+00:00")
    assert judge(stopped, NOW + timedelta(hours=1))["problems"] == [
        "the bot stopped at 2026-06-12T08:59:00+00:00"]


def test_damaged_status_file_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / STATUS_FILE).write_bytes(b'{"heartbeat": "2026-')
    assert read_status(tmp_path) is None


def test_missing_status_file_reads_as_none(tmp_path: Path) -> None:
    assert read_status(tmp_path) is None


async def test_monitor_writes_a_status_file_that_reads_back(tmp_path: Path) -> None:
    monitor = HealthMonitor(tmp_path)
    await monitor.close()
    written = read_status(tmp_path)
    assert written is not None and written["stopped_at"] is not None
    assert names(tmp_path) == [STATUS_FILE]  # no temporary file left


async def test_unwritable_data_directory_does_not_stop_the_monitor(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monitor = HealthMonitor(blocker / "data")
    await monitor.close()  # warns once; raises nothing
    assert read_status(blocker / "data") is None
