"""What a person waits on goes before queued post-ledger writes, on the store's one thread.

The lanes are tested on their own (bot.store._lanes) and through a real TinyDBStore on disk,
with the store's thread held by a gate (a threading.Event) so that the order is decided by
the lanes, not by timing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.models import ChatRef
from bot.store import PostItem
from bot.store._lanes import Lanes
from bot.store.tinydb import TinyDBStore

from ._factories import CHANNEL, DAY, T0, paper, saver

# --- the lanes alone --------------------------------------------------------------------


@pytest.fixture
def lanes() -> Iterator[Lanes]:
    lanes = Lanes("test-lanes")
    yield lanes
    lanes.shutdown()


def _recorder(order: list[str], name: str) -> Callable[[], str]:
    def call() -> str:
        order.append(name)
        return name
    return call


async def test_an_urgent_call_runs_before_calls_queued_earlier(lanes: Lanes) -> None:
    gate = threading.Event()
    order: list[str] = []
    held = lanes.submit(gate.wait)
    queued = [lanes.submit(_recorder(order, f"write{n}")) for n in range(3)]
    urgent = lanes.submit(_recorder(order, "save"), urgent=True)
    gate.set()
    await asyncio.gather(*(asyncio.wrap_future(f) for f in (held, *queued, urgent)))
    assert order == ["save", "write0", "write1", "write2"]


async def test_each_lane_keeps_its_order(lanes: Lanes) -> None:
    gate = threading.Event()
    order: list[str] = []
    futures = [lanes.submit(gate.wait)]
    for n in range(3):
        futures.append(lanes.submit(_recorder(order, f"write{n}")))
        futures.append(lanes.submit(_recorder(order, f"save{n}"), urgent=True))
    gate.set()
    await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
    assert order == ["save0", "save1", "save2", "write0", "write1", "write2"]


async def test_calls_run_one_at_a_time_on_one_thread(lanes: Lanes) -> None:
    running: list[int] = []
    overlaps: list[int] = []
    threads: set[str] = set()

    def call() -> None:
        running.append(1)
        overlaps.append(len(running))
        threads.add(threading.current_thread().name)
        threading.Event().wait(0.001)
        running.pop()

    await asyncio.gather(*(asyncio.wrap_future(lanes.submit(call, urgent=n % 2 == 0))
                           for n in range(20)))
    assert (max(overlaps), threads) == (1, {"test-lanes_0"})


async def test_a_failing_call_hands_its_exception_to_the_caller(lanes: Lanes) -> None:
    def fail() -> None:
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        await asyncio.wrap_future(lanes.submit(fail, urgent=True))


async def test_a_call_given_up_before_it_ran_never_runs(lanes: Lanes) -> None:
    gate = threading.Event()
    order: list[str] = []
    held = lanes.submit(gate.wait)
    dropped = lanes.submit(_recorder(order, "dropped"))
    kept = lanes.submit(_recorder(order, "kept"))
    dropped.cancel()
    gate.set()
    await asyncio.wrap_future(held)
    await asyncio.wrap_future(kept)
    assert order == ["kept"]


# --- through the store ------------------------------------------------------------------


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[TinyDBStore]:
    store = await TinyDBStore.open(tmp_path / "data")
    yield store
    await store.close()


async def _held(store: TinyDBStore) -> tuple[threading.Event, asyncio.Task[object]]:
    """Hold the store's thread until the returned gate is set."""
    gate = threading.Event()
    # A call on the queued lane, as the fan-out's writes are.
    holding = asyncio.ensure_future(store._run(gate.wait))
    await asyncio.sleep(0)  # queued first
    return gate, holding


def _channel(n: int) -> ChatRef:
    return replace(CHANNEL, channel=f"C{n}")


async def test_a_save_is_done_before_the_post_writes_queued_ahead_of_it(
    writer: TinyDBStore,
) -> None:
    channels = [_channel(n) for n in range(8)]
    for channel in channels:
        await writer.claim_post(channel, DAY, "me", T0, [PostItem("header", None, None)])
    finished: list[str] = []

    async def post_write(channel: ChatRef) -> None:
        await writer.record_items(channel, DAY, [PostItem("header", None, "1.0")])
        finished.append("post")

    async def save() -> None:
        await writer.save("slack", "T1", paper(), saver("ana"))
        finished.append("save")

    gate, holding = await _held(writer)
    writes = [asyncio.ensure_future(post_write(c)) for c in channels]
    await asyncio.sleep(0)
    saving = asyncio.ensure_future(save())
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(holding, saving, *writes)
    assert finished == ["save"] + ["post"] * len(channels)


async def test_a_list_is_answered_before_the_post_writes_queued_ahead_of_it(
    writer: TinyDBStore,
) -> None:
    await writer.save("slack", "T1", paper(), saver("ana"))
    await writer.claim_post(CHANNEL, DAY, "me", T0, [PostItem("header", None, None)])
    finished: list[str] = []

    async def timed(name: str, call: Awaitable[object]) -> object:
        result = await call
        finished.append(name)
        return result

    gate, holding = await _held(writer)
    write = asyncio.ensure_future(timed("post", writer.record_items(
        CHANNEL, DAY, [PostItem("header", None, "1.0")])))
    await asyncio.sleep(0)
    listing = asyncio.ensure_future(timed("list", writer.saved_papers("slack", "T1", limit=20)))
    counting = asyncio.ensure_future(timed("count", writer.count_saved("slack", "T1")))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(holding, write, listing, counting)
    assert finished == ["list", "count", "post"]
    assert (len(listing.result()), counting.result()) == (1, 1)


async def test_a_message_confirmed_behind_queued_writes_is_still_found(
    writer: TinyDBStore,
) -> None:
    # A 📌 on a message whose confirmation is still queued: the urgent look-up misses it,
    # and the store asks again behind the queued writes instead of answering "not a paper".
    await writer.claim_post(CHANNEL, DAY, "me", T0, [PostItem("2505.01234", "2505.01234", None)])
    gate, holding = await _held(writer)
    confirm = asyncio.ensure_future(writer.record_items(
        CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "1700000000.000100")]))
    await asyncio.sleep(0)
    looking = asyncio.ensure_future(
        writer.paper_for_message(replace(CHANNEL, message="1700000000.000100")))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(holding, confirm)
    assert await looking == "2505.01234"


async def test_a_message_that_is_no_paper_is_still_answered_none(writer: TinyDBStore) -> None:
    await writer.claim_post(CHANNEL, DAY, "me", T0, [PostItem("header", None, "1.0")])
    assert await writer.paper_for_message(replace(CHANNEL, message="9.9")) is None
