"""The data directory fills up while the bot runs: the post fails with one clear line naming
the file in its directory, no file is left corrupt or truncated, the admin hears that the
disk is nearly full, and once space returns the bot posts by itself at its next retry —
exactly once — and the admin hears it is resolved.

Reproduce: .venv/bin/python -m pytest -q tests/faults/test_data_dir_full.py

A real 8 MB tmpfs holds the data directory, filled with one file until the kernel says
ENOSPC. The bot is `paperboy run`'s wiring for Slack (tests/slack/conftest.py
`start_scheduled`) on the test's clock. Needs root to mount; skips with a one-line reason
elsewhere (CI runs as root). A directory that is read-only cannot be turned so under a
running bot (the kernel refuses to remount a filesystem with files open for writing); a bot
started on one refuses in one line naming it: tests/store/test_cli_faults.py.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from bot.config import AdminConfig
from bot.store import PostRecord
from bot.store.tinydb import TinyDBStore
from tests.fakes.disks import fill, tmpfs
from tests.fakes.slack_api import FakeSlack
from tests.service.conftest import CHANNEL, DAY, PICKS, WHERE, Services
from tests.slack.conftest import ScheduledBot, start_scheduled

ADMIN = AdminConfig(platform="slack", id="C0ADMIN", min_free_mb=1)


def _store_files_parse(data: Path) -> list[str]:
    broken = []
    for path in data.rglob("*.json"):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            broken.append(str(path))
    return broken


async def _bot_on(services: Services, data: Path, fake: FakeSlack) -> ScheduledBot:
    services.data_dir = data
    services.store = await TinyDBStore.open(data)
    # 08:00: before the post; the index of the day's papers is not written yet.
    return await start_scheduled(services, fake, CHANNEL, admin=ADMIN)


@dataclass
class Morning:
    errors: list[str]  # ERROR lines while the disk was full
    posted_while_full: list[dict[str, object]]
    data: Path
    broken_files: list[str]
    post: PostRecord | None
    sent: Counter[str]
    admin: list[str]


@pytest_asyncio.fixture
async def morning(
    services: Services, fake_slack: FakeSlack, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> Morning:
    """09:00 on a full disk; space freed; the retry at 09:10."""
    old_store = services.store
    with tmpfs(tmp_path / "small", size="8m") as data:
        bot = await _bot_on(services, data, fake_slack)
        try:
            filler = fill(data)
            await bot.at(bot.clock.now.replace(hour=9))
            failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            posted_while_full = list(fake_slack.posted(CHANNEL.id))
            filler.unlink()
            await bot.at(bot.clock.now.replace(minute=10))
        finally:
            await bot.stop()
            await services.store.close()
        record = await TinyDBStore.open(data)
        try:
            post = await record.get_post(WHERE, DAY)
        finally:
            await record.close()
        broken = _store_files_parse(data)
    await old_store.close()
    sent = Counter(fake_slack.posted_keys(CHANNEL.id))
    return Morning(failed, posted_while_full, data, broken, post, sent, bot.said(ADMIN.id))


async def test_the_failure_is_one_line_naming_the_file_in_the_data_directory(
    morning: Morning,
) -> None:
    assert [line for line in morning.errors
            if "disk full: could not write" in line and str(morning.data) in line] != []


async def test_nothing_is_posted_while_the_disk_is_full(morning: Morning) -> None:
    assert morning.posted_while_full == []


async def test_no_store_file_is_left_corrupt_or_truncated(morning: Morning) -> None:
    assert morning.broken_files == []


async def test_the_post_goes_out_by_itself_once_space_returns(morning: Morning) -> None:
    assert morning.post is not None and morning.post.status == "posted"


async def test_each_message_goes_out_exactly_once(morning: Morning) -> None:
    assert morning.sent == Counter(["header", *PICKS])


async def test_the_admin_hears_the_disk_is_full_and_then_that_it_is_resolved(
    morning: Morning,
) -> None:
    assert [m.split(":")[0] for m in morning.admin] == ["Paperboy needs attention", "Resolved"]
