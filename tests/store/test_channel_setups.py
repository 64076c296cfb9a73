"""Channels set up from chat are team state: every Store keeps them exactly like this.

Runs on the contract suite's `store` fixture (tests/store/test_contract.py), so a store that
joins that fixture's params runs these too. The TinyDB-only facts (the file, its backup,
reopening) are at the end.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channel_setup import ChannelSetup, setup_from_dict, setup_to_dict
from bot.errors import StoreError
from bot.models import ChatRef
from bot.store import Store
from bot.store.tinydb import TinyDBStore

from . import test_contract
from ._factories import CHANNEL, OTHER_CHANNEL, T0

# The contract suite's fixture, with its params: every store it runs, these run too.
store = test_contract.store


def setup(channel: ChatRef = CHANNEL, **changes: object) -> ChannelSetup:
    fields: dict[str, object] = {
        "channel": channel,
        "time": "08:30",
        "timezone": "Europe/Paris",
        "days": ("mon", "wed", "fri"),
        "keywords": ("diffusion", "vidéo"),
        "exclude": ("survey",),
        "top_n": 7,
        "subscriber": "U1",
        "updated_at": T0,
        "updated_by": "U2",
    }
    fields.update(changes)
    return ChannelSetup(**fields)  # type: ignore[arg-type]


async def test_unknown_channel_has_no_setup(store: Store) -> None:
    assert await store.get_channel_setup(CHANNEL) is None


async def test_setup_round_trips_every_field(store: Store) -> None:
    await store.put_channel_setup(setup())
    assert await store.get_channel_setup(CHANNEL) == setup()


async def test_setup_is_found_from_a_message_in_its_channel(store: Store) -> None:
    await store.put_channel_setup(setup())
    assert await store.get_channel_setup(ChatRef("slack", "T1", "C1", "123.4", "122.0")) == setup()


async def test_setup_is_kept_without_the_message_it_came_from(store: Store) -> None:
    await store.put_channel_setup(setup(ChatRef("slack", "T1", "C1", "123.4")))
    assert (await store.channel_setups())[0].channel == CHANNEL


async def test_put_replaces_the_whole_setup(store: Store) -> None:
    await store.put_channel_setup(setup())
    await store.put_channel_setup(setup(keywords=(), top_n=3, updated_at=T0 + timedelta(hours=1)))
    assert await store.get_channel_setup(CHANNEL) == setup(
        keywords=(), top_n=3, updated_at=T0 + timedelta(hours=1)
    )


async def test_setups_of_two_channels_stay_apart(store: Store) -> None:
    await store.put_channel_setup(setup())
    await store.put_channel_setup(setup(OTHER_CHANNEL, top_n=2))
    found = (await store.get_channel_setup(CHANNEL), await store.get_channel_setup(OTHER_CHANNEL))
    assert found == (setup(), setup(OTHER_CHANNEL, top_n=2))


async def test_same_channel_id_on_another_platform_is_another_channel(store: Store) -> None:
    await store.put_channel_setup(setup())
    assert await store.get_channel_setup(ChatRef("discord", "T1", "C1")) is None


async def test_delete_forgets_the_setup(store: Store) -> None:
    await store.put_channel_setup(setup())
    await store.delete_channel_setup(CHANNEL)
    assert await store.get_channel_setup(CHANNEL) is None


async def test_delete_says_there_was_a_setup(store: Store) -> None:
    await store.put_channel_setup(setup())
    assert await store.delete_channel_setup(CHANNEL) is True


async def test_delete_of_an_unknown_channel_says_there_was_none(store: Store) -> None:
    assert await store.delete_channel_setup(CHANNEL) is False


async def test_delete_leaves_other_channels(store: Store) -> None:
    await store.put_channel_setup(setup())
    await store.put_channel_setup(setup(OTHER_CHANNEL))
    await store.delete_channel_setup(CHANNEL)
    assert await store.channel_setups() == [setup(OTHER_CHANNEL)]


async def test_channel_setups_lists_every_channel_sorted(store: Store) -> None:
    channels = [
        ChatRef("slack", "T2", "C1"),
        ChatRef("discord", "G1", "9"),
        OTHER_CHANNEL,
        CHANNEL,
        ChatRef("console", "console", "console"),
    ]
    for channel in channels:
        await store.put_channel_setup(setup(channel))
    listed = [s.channel for s in await store.channel_setups()]
    assert listed == sorted(channels, key=lambda c: (c.platform, c.team, c.channel))


async def test_no_setups_lists_nothing(store: Store) -> None:
    assert await store.channel_setups() == []


async def test_ids_with_path_and_json_characters_stay_apart(store: Store) -> None:
    odd = [ChatRef("slack", 'T/"1', "C1"), ChatRef("slack", "T", '"1/C1'), ChatRef("slack", "", "")]
    for number, channel in enumerate(odd):
        await store.put_channel_setup(setup(channel, top_n=number + 1))
    assert [(await store.get_channel_setup(c)).top_n for c in odd] == [1, 2, 3]  # type: ignore[union-attr]


# --- the JSON form, which every store may keep as is -------------------------------------


def test_json_form_round_trips() -> None:
    assert setup_from_dict(json.loads(json.dumps(setup_to_dict(setup())))) == setup()


def test_json_form_ignores_unknown_keys_and_defaults_missing_ones() -> None:
    data = setup_to_dict(setup())
    for key in ("keywords", "exclude", "top_n", "updated_by"):
        del data[key]
    data["from_the_future"] = 1
    assert setup_from_dict(data) == setup(keywords=(), exclude=(), top_n=5, updated_by="U1")


# --- TinyDB: a durable file beside the rest of the team state ----------------------------


async def test_tinydb_setup_survives_reopening(data_dir: Path) -> None:
    first = await TinyDBStore.open(data_dir)
    await first.put_channel_setup(setup())
    await first.close()
    again = await TinyDBStore.open(data_dir)
    try:
        assert await again.get_channel_setup(CHANNEL) == setup()
    finally:
        await again.close()


async def test_tinydb_keeps_the_previous_version_as_backup(data_dir: Path) -> None:
    writer = await TinyDBStore.open(data_dir)
    await writer.put_channel_setup(setup())
    await writer.put_channel_setup(setup(top_n=2))
    await writer.close()
    backup = json.loads((data_dir / "channels.json.bak").read_text())
    assert [doc["top_n"] for doc in backup["setups"].values()] == [7]


async def test_tinydb_refuses_a_corrupt_file_naming_its_backup(data_dir: Path) -> None:
    writer = await TinyDBStore.open(data_dir)
    await writer.put_channel_setup(setup())
    await writer.close()
    (data_dir / "channels.json").write_text('{"setups": {"[\\"sla')
    again = await TinyDBStore.open(data_dir)
    try:
        with pytest.raises(StoreError, match=r"channels\.json.*channels\.json\.bak"):
            await again.channel_setups()
    finally:
        await again.close()


async def test_tinydb_reader_sees_a_live_writers_setups(data_dir: Path) -> None:
    writer = await TinyDBStore.open(data_dir)
    reader = await TinyDBStore.open(data_dir, readonly=True)
    try:
        await writer.put_channel_setup(setup())
        assert await reader.get_channel_setup(CHANNEL) == setup()
    finally:
        await reader.close()
        await writer.close()


async def test_tinydb_reader_refuses_to_change_a_setup(data_dir: Path) -> None:
    reader = await TinyDBStore.open(data_dir, readonly=True)
    try:
        with pytest.raises(StoreError, match="read-only"):
            await reader.put_channel_setup(setup())
    finally:
        await reader.close()
