"""Three `paperboy run` replicas on one PostgreSQL serve Slack and Discord channels that are
all due the same minute; replicas are SIGKILLed mid-post and restarted, as an orchestrator
does, or killed for good: every channel gets each message of its post exactly once.

The replicas are whole processes (tests/fakes/fleet.py) against the Slack, Discord and
Hugging Face fakes; the posts are due at a minute just passed, so each replica's catch-up at
start fires all of them at once (bench/replicas.py runs the same fleet on the live minute,
with 200 channels, and measures it).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from tests.fakes.fleet import Fleet, until
from tests.fakes.postgres import Database

pytestmark = pytest.mark.timeout(300)


@pytest_asyncio.fixture
async def fleet(tmp_path: Path, pg_database: Database) -> AsyncIterator[Fleet]:
    now = datetime.now(UTC)
    async with Fleet(tmp_path, pg_database, now.date(), now.strftime("%H:%M"),
                     slack_channels=8, discord_channels=8, lease_seconds=3.0) as running:
        yield running


async def test_every_channel_gets_its_post_once_while_replicas_are_killed(fleet: Fleet) -> None:
    total = len(fleet.delivered()) * len(fleet.expected_keys())
    for replica in fleet.members:
        await fleet.start(replica)
    for fraction, victim in ((0.2, fleet.members[0]), (0.5, fleet.members[1])):
        await until(lambda f=fraction: fleet.messages() >= total * f, 120)
        fleet.kill(victim)
        await fleet.start(victim)  # the orchestrator brings it back
    await until(lambda: fleet.messages() >= total, 120)
    await asyncio.sleep(fleet.lease_seconds * 2)  # time for a late duplicate to show up
    # The kills landed mid-post: some replica had to resume a post another left.
    assert any("resuming the" in fleet.log_tail(r, None) for r in fleet.members)
    once = Counter(fleet.expected_keys())
    wrong = {channel: dict(keys) for channel, keys in fleet.delivered().items() if keys != once}
    assert wrong == {}


async def test_a_replica_killed_for_good_has_its_posts_finished_by_the_others(
    fleet: Fleet,
) -> None:
    total = len(fleet.delivered()) * len(fleet.expected_keys())
    for replica in fleet.members:
        await fleet.start(replica)
    victim, survivors = fleet.members[0], fleet.members[1:]
    await until(lambda: fleet.messages() >= total * 0.1, 120)
    # Killed while it holds open claims (read from the claims table), and nobody restarts it.
    left = await fleet.kill_mid_post(victim)
    assert left, "the victim must hold an open claim when it dies"
    assert await until(lambda: fleet.messages() >= total, 120), fleet.messages()
    await asyncio.sleep(fleet.lease_seconds * 2)  # time for a late duplicate to show up
    once = Counter(fleet.expected_keys())
    wrong = {channel: dict(keys) for channel, keys in fleet.delivered().items() if keys != once}
    assert wrong == {}
    # The ledger: every post closed; each one the victim left open now belongs to a survivor,
    # and exactly one survivor says it resumed it (whether its catch-up reached the channel
    # after the death, or its replica-duties round found the lease run out).
    ledger = {(r["platform"], r["team"], r["channel"], r["day"]): r for r in await fleet.posts()}
    assert len(ledger) == len(fleet.delivered())
    assert {r["status"] for r in ledger.values()} == {"posted"}
    heirs = {fleet.owner(r): r for r in survivors}
    logs = {r.name: fleet.log_tail(r, None) for r in survivors}
    for claim in left:
        platform, _, channel, day = claim
        assert ledger[claim]["owner"] in heirs, (claim, ledger[claim]["owner"])
        said = f"#{platform[0]}-{channel}: resuming the {day} post"
        resumed_by = [name for name, text in logs.items() if said in text]
        assert resumed_by == [heirs[ledger[claim]["owner"]].name], (claim, resumed_by)
