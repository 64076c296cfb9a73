"""Discord at scale: two processes each running one gateway shard of two, through the real
AutoShardedClient against the fake gateway; posting to any guild over REST from either;
one owner per shard, held in PostgreSQL and refused to a second process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from adapters.discord.adapter import DiscordAdapter, Shards, invite_permissions
from bot.config import ChannelConfig, DiscordConfig
from bot.errors import ConfigError
from bot.models import ChatRef
from paperboy.shards import ShardTaken, hold_shards, plan
from paperboy.shared_rate import SharedBucket
from tests.discord_adapter.conftest import DAY
from tests.fakes.discord_api import TOKEN, FakeDiscord, Guild, command_payload
from tests.fakes.postgres import Database
from tests.service.conftest import Services

# Discord's rule, (guild_id >> 22) % shard_count: LAB is on shard 1 of 2, OBS on shard 0.
LAB, OBS = 1 << 22, 2 << 22
LAB_CHANNEL = ChannelConfig(name="lab", platform="discord", id="300", team=str(LAB))
OBS_CHANNEL = ChannelConfig(name="obs", platform="discord", id="400", team=str(OBS))


@pytest_asyncio.fixture
async def fake(monkeypatch: pytest.MonkeyPatch, services: Services
               ) -> AsyncIterator[FakeDiscord]:
    granted = invite_permissions().value
    guilds = [Guild(LAB, {300: "lab-papers"}, granted), Guild(OBS, {400: "obs-papers"}, granted)]
    async with FakeDiscord(guilds, clock=services.clock) as fake:
        fake.patch(monkeypatch)
        yield fake


@pytest_asyncio.fixture
async def processes(fake: FakeDiscord, services: Services
                    ) -> AsyncIterator[list[DiscordAdapter]]:
    """Shard 0 and shard 1 of 2, each in its own client as two processes would run them."""
    adapters = [DiscordAdapter(services.make(LAB_CHANNEL, OBS_CHANNEL), TOKEN,
                               guild_ready_timeout=0.3, shards=Shards(2, (shard,)))
                for shard in (0, 1)]
    for adapter in adapters:
        await asyncio.wait_for(adapter.connect(), 10)
    yield adapters
    for adapter in adapters:
        await adapter.close()


async def test_each_process_identifies_only_its_own_shard(
    processes: list[DiscordAdapter], fake: FakeDiscord
) -> None:
    assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]


async def test_each_process_sees_only_the_guilds_on_its_shard(
    processes: list[DiscordAdapter],
) -> None:
    seen = [set(a.identity.guild_of.values()) if a.identity else set() for a in processes]
    assert seen == [{str(OBS)}, {str(LAB)}]


async def test_a_command_is_answered_by_the_process_holding_its_guild(
    processes: list[DiscordAdapter], fake: FakeDiscord
) -> None:
    payload = command_payload(LAB, 300, "help", user_id=201)
    answered = fake.interactions[payload["token"]]
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.until(lambda: bool(answered.followups))
    assert len(answered.callbacks) == 1


async def test_either_process_posts_to_a_guild_on_the_other_shard(
    processes: list[DiscordAdapter], fake: FakeDiscord
) -> None:
    shard0 = processes[0]
    assert shard0.identity is not None
    [target] = shard0.identity.targets([LAB_CHANNEL], shard0)  # LAB is on shard 1
    await shard0.service.poster.post(target, DAY)
    assert fake.messages[300]


async def test_a_channel_set_up_from_chat_on_another_shard_is_served_here_too(
    processes: list[DiscordAdapter],
) -> None:
    shard0 = processes[0]
    assert shard0.identity is not None
    assert shard0.identity.serves(ChatRef("discord", str(LAB), "300"))


async def test_a_channel_on_another_shard_needs_its_guild_named(
    processes: list[DiscordAdapter],
) -> None:
    shard0 = processes[0]
    assert shard0.identity is not None
    unnamed = ChannelConfig(name="lab", platform="discord", id="300")
    assert shard0.identity.targets([unnamed], shard0) == []


async def test_two_processes_posting_wait_in_one_shared_queue(
    fake: FakeDiscord, services: Services, pg_database: Database
) -> None:
    """Each message waits for a slot of one bucket in PostgreSQL (frozen clock, one token
    a burst, ten a second): the waits of both processes form one sequence."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    buckets = [await SharedBucket.open(pg_database.url, pg_database.password, "discord",
                                       rate=10, burst=1, clock=lambda: 1e6, sleep=sleep)
               for _ in range(2)]
    adapters = [DiscordAdapter(services.make(channel), TOKEN, guild_ready_timeout=0.3,
                               shards=Shards(2, (shard,)), gate=bucket)
                for shard, channel, bucket in ((0, LAB_CHANNEL, buckets[0]),
                                               (1, OBS_CHANNEL, buckets[1]))]
    try:
        for adapter in adapters:
            await asyncio.wait_for(adapter.connect(), 10)
        await asyncio.gather(*(adapter.service.poster.post(
            adapter.identity.targets([channel], adapter)[0], DAY)  # type: ignore[union-attr]
            for adapter, channel in zip(adapters, (LAB_CHANNEL, OBS_CHANNEL), strict=True)))
    finally:
        for adapter in adapters:
            await adapter.close()
        for bucket in buckets:
            await bucket.close()
    sent = len(fake.messages[300]) + len(fake.messages[400])
    assert sorted(slept) == [round(0.1 * n, 6) for n in range(1, sent)]


# --- one owner per shard ------------------------------------------------------------------


async def test_a_shard_held_by_one_process_is_refused_to_another(pg_database: Database) -> None:
    url, password = pg_database.url, pg_database.password
    async with hold_shards(url, password, Shards(2, (0,))):
        with pytest.raises(ShardTaken, match="shard 0 of 2 is run by another process"):
            async with hold_shards(url, password, Shards(2, (0, 1))):
                pass


async def test_different_shards_are_held_by_different_processes(pg_database: Database) -> None:
    url, password = pg_database.url, pg_database.password
    async with hold_shards(url, password, Shards(2, (0,))), \
            hold_shards(url, password, Shards(2, (1,))):
        held = await _advisory_locks(pg_database)
    assert held == 2


async def test_a_refused_process_keeps_none_of_its_shards(pg_database: Database) -> None:
    url, password = pg_database.url, pg_database.password
    async with hold_shards(url, password, Shards(2, (1,))):
        with pytest.raises(ShardTaken):
            async with hold_shards(url, password, Shards(2, (0, 1))):
                pass
        assert await _advisory_locks(pg_database) == 1  # shard 0 was let go again


async def test_a_shard_is_free_again_once_its_owner_is_gone(pg_database: Database) -> None:
    url, password = pg_database.url, pg_database.password
    async with hold_shards(url, password, Shards(2, (0,))):
        pass
    async with hold_shards(url, password, Shards(2, (0,))):
        assert await _advisory_locks(pg_database) == 1


async def test_a_killed_owner_frees_its_shard_at_once(pg_database: Database) -> None:
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLD, pg_database.url, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PGPASSWORD_FOR_TEST": pg_database.password})
    try:
        assert owner.stdout is not None
        assert await asyncio.wait_for(owner.stdout.readline(), 30) == b"held\n"
        with pytest.raises(ShardTaken):
            async with hold_shards(pg_database.url, pg_database.password, Shards(2, (0,))):
                pass
    finally:
        owner.kill()  # SIGKILL: no clean-up of its own
        await owner.wait()
    async with hold_shards(pg_database.url, pg_database.password, Shards(2, (0,))):
        assert await _advisory_locks(pg_database) == 1


# A process that owns shard 0 of 2 until it is killed.
_HOLD = """
import asyncio, os, sys
from adapters.discord.adapter import Shards
from paperboy.shards import hold_shards

async def main():
    async with hold_shards(sys.argv[1], os.environ["PGPASSWORD_FOR_TEST"], Shards(2, (0,))):
        print("held", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_second_unsharded_process_on_one_database_is_refused(
        pg_database: Database) -> None:
    url, password = pg_database.url, pg_database.password
    async with hold_shards(url, password, Shards(1, (0,)), unsharded=True):
        with pytest.raises(ShardTaken, match="Discord gateway is run by another process"):
            async with hold_shards(url, password, Shards(1, (0,)), unsharded=True):
                pass


async def test_a_sharded_process_is_refused_beside_an_unsharded_one(
        pg_database: Database) -> None:
    url, password = pg_database.url, pg_database.password
    async with hold_shards(url, password, Shards(1, (0,)), unsharded=True):
        with pytest.raises(ShardTaken, match=r"shard_count = 0 or 1; every process must"):
            async with hold_shards(url, password, Shards(2, (1,))):
                pass


async def test_processes_with_different_shard_counts_are_refused(pg_database: Database) -> None:
    url, password = pg_database.url, pg_database.password
    async with hold_shards(url, password, Shards(4, (0,))):
        with pytest.raises(ShardTaken, match=r"shard_count = 4; every process must use the same"):
            async with hold_shards(url, password, Shards(2, (1,))):
                pass
        # The refused process let its count go: another with the same count still starts.
        async with hold_shards(url, password, Shards(4, (1,))):
            assert await _advisory_locks(pg_database) == 2


def test_without_a_shared_database_one_process_runs_every_shard() -> None:
    assert plan(DiscordConfig(shard_count=4), shared_database=False) == Shards(4, (0, 1, 2, 3))


def test_without_a_shared_database_some_shards_are_refused() -> None:
    with pytest.raises(ConfigError, match="needs a database the other processes share"):
        plan(DiscordConfig(shard_count=4, shard_ids=(0, 1)), shared_database=False)


def test_shard_count_zero_runs_one_connection() -> None:
    assert plan(DiscordConfig(), shared_database=True) is None


async def _advisory_locks(database: Database) -> int:
    conn = await database.server.connect(database.name)
    try:
        return int(await conn.fetchval(
            # objsubid 1: one-key locks (shards); the shared shard-count locks use two keys.
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
            "objsubid = 1 AND "
            "database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
    finally:
        await conn.close()
