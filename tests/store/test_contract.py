"""The Store contract: every implementation behaves exactly like this.

Each test runs against MemoryStore, TinyDBStore on a real data directory in tmp_path, and
PostgresStore on a fresh database of a real PostgreSQL server (tests/fakes/postgres.py). A
new store joins the `store` fixture's params and must pass all of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.errors import StoreError
from bot.models import Paper, Summary
from bot.store import ListChange, PostItem, Store
from bot.store.memory import MemoryStore
from bot.store.postgres import PostgresStore
from bot.store.tinydb import TinyDBStore
from tests.fakes.postgres import Database, empty_tables

from ._factories import CHANNEL, DAY, OTHER_CHANNEL, T0, full_paper, paper, saver


async def _open(kind: str, tmp_path: Path) -> Store:
    if kind == "memory":
        return MemoryStore()
    return await TinyDBStore.open(tmp_path / "data")


@pytest.fixture(params=["memory", "tinydb", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param != "postgres":
        opened = await _open(request.param, tmp_path)
        yield opened
        await opened.close()
        return
    database: Database = request.getfixturevalue("pg_reused_database")
    opened = await PostgresStore.open(database.url, password=database.password)
    await empty_tables(database)
    yield opened
    await opened.close()


def test_full_paper_sets_every_field_away_from_its_default() -> None:
    # Guards the round-trip test below: a field added to Paper must be added to full_paper().
    sample = full_paper()
    at_default = [
        f.name
        for f in dataclasses.fields(Paper)
        if f.default is not dataclasses.MISSING and getattr(sample, f.name) == f.default
    ]
    assert at_default == []


async def test_store_satisfies_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)


async def test_store_is_writable(store: Store) -> None:
    assert store.readonly is False


async def test_close_twice_is_safe(store: Store) -> None:
    await store.close()
    await store.close()


# --- papers -----------------------------------------------------------------------------


async def test_paper_round_trips_every_field(store: Store) -> None:
    await store.put_papers([full_paper()])
    assert await store.get_papers(["2505.01234"]) == {"2505.01234": full_paper()}


async def test_paper_with_only_required_fields_round_trips(store: Store) -> None:
    await store.put_papers([paper()])
    assert await store.get_papers(["2505.01234"]) == {"2505.01234": paper()}


async def test_old_style_paper_round_trips(store: Store) -> None:
    await store.put_papers([paper("hep-th/9901001")])
    assert await store.get_papers(["hep-th/9901001"]) == {"hep-th/9901001": paper("hep-th/9901001")}


async def test_unknown_paper_ids_are_absent(store: Store) -> None:
    await store.put_papers([paper("2505.01234")])
    assert await store.get_papers(["2505.01234", "2505.09999", "2301.00001"]) == {
        "2505.01234": paper("2505.01234")
    }


async def test_put_papers_replaces_a_paper_with_the_same_id(store: Store) -> None:
    await store.put_papers([full_paper()])
    await store.put_papers([paper(upvotes=3)])
    assert await store.get_papers(["2505.01234"]) == {"2505.01234": paper(upvotes=3)}


async def test_all_papers_returns_every_paper_across_months(store: Store) -> None:
    ids = ["2301.00001", "2505.01234", "2505.05678", "hep-th/9901001"]
    await store.put_papers(paper(i) for i in ids)
    assert sorted(p.arxiv_id for p in await store.all_papers()) == sorted(ids)


async def test_all_papers_of_an_empty_store_is_empty(store: Store) -> None:
    assert await store.all_papers() == []


# --- summaries --------------------------------------------------------------------------

LLM = Summary("An LLM TL;DR.", "llm", "gpt-4o-mini")


async def test_summary_is_found_under_its_summarizer_and_model(store: Store) -> None:
    await store.put_summary("2505.01234", "llm", LLM)
    assert await store.get_summaries(["2505.01234"], "llm", "gpt-4o-mini") == {"2505.01234": LLM}


async def test_summary_of_another_model_is_not_returned(store: Store) -> None:
    await store.put_summary("2505.01234", "llm", LLM)
    assert await store.get_summaries(["2505.01234"], "llm", "llama3") == {}


async def test_summary_of_another_summarizer_is_not_returned(store: Store) -> None:
    await store.put_summary("2505.01234", "llm", LLM)
    assert await store.get_summaries(["2505.01234"], "other", "gpt-4o-mini") == {}


async def test_summary_without_model_is_found_with_none(store: Store) -> None:
    extractive = Summary("We present a method.", "extractive")
    await store.put_summary("2505.01234", "extractive", extractive)
    assert await store.get_summaries(["2505.01234"], "extractive", None) == {
        "2505.01234": extractive
    }


async def test_two_models_keep_their_own_summary(store: Store) -> None:
    other = Summary("Another TL;DR.", "llm", "llama3")
    await store.put_summary("2505.01234", "llm", LLM)
    await store.put_summary("2505.01234", "llm", other)
    assert await store.get_summaries(["2505.01234"], "llm", "gpt-4o-mini") == {"2505.01234": LLM}


async def test_put_summary_replaces_the_same_key(store: Store) -> None:
    newer = Summary("A better TL;DR.", "llm", "gpt-4o-mini")
    await store.put_summary("2505.01234", "llm", LLM)
    await store.put_summary("2505.01234", "llm", newer)
    assert await store.get_summaries(["2505.01234"], "llm", "gpt-4o-mini") == {
        "2505.01234": newer
    }


async def test_summaries_are_returned_only_for_papers_that_have_one(store: Store) -> None:
    await store.put_summary("2505.01234", "llm", LLM)
    await store.put_summary("hep-th/9901001", "llm", LLM)
    found = await store.get_summaries(["2505.01234", "2505.09999", "hep-th/9901001"], "llm",
                                      "gpt-4o-mini")
    assert sorted(found) == ["2505.01234", "hep-th/9901001"]


# --- daily posts ------------------------------------------------------------------------


async def test_first_claim_returns_a_claimed_record(store: Store) -> None:
    record = await store.claim_post(CHANNEL, DAY, "host-1", T0)
    fields = (record.status, record.owner, record.claimed_at, record.items) if record else None
    assert fields == ("claimed", "host-1", T0, ())


async def test_claimed_record_is_for_the_channel_not_a_message(store: Store) -> None:
    record = await store.claim_post(dataclasses.replace(CHANNEL, message="1.2"), DAY, "h", T0)
    assert record is not None and record.channel == CHANNEL


async def test_second_claim_for_the_same_day_gets_nothing(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    assert await store.claim_post(CHANNEL, DAY, "host-2", T0) is None


async def test_claim_for_another_day_succeeds(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    assert await store.claim_post(CHANNEL, DAY + timedelta(days=1), "host-1", T0) is not None


async def test_claim_for_another_channel_succeeds(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    assert await store.claim_post(OTHER_CHANNEL, DAY, "host-1", T0) is not None


async def test_concurrent_claims_for_one_day_give_exactly_one_record(store: Store) -> None:
    results = await asyncio.gather(
        *(store.claim_post(CHANNEL, DAY, f"host-{i}", T0) for i in range(20))
    )
    assert sum(r is not None for r in results) == 1


async def test_get_post_returns_the_claim(store: Store) -> None:
    record = await store.claim_post(CHANNEL, DAY, "host-1", T0)
    assert await store.get_post(CHANNEL, DAY) == record


async def test_get_post_of_an_unclaimed_day_is_none(store: Store) -> None:
    assert await store.get_post(CHANNEL, DAY) is None


async def test_claim_after_release_succeeds(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.release_post(CHANNEL, DAY)
    assert await store.claim_post(CHANNEL, DAY, "host-2", T0) is not None


async def test_released_post_is_gone(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.release_post(CHANNEL, DAY)
    assert await store.get_post(CHANNEL, DAY) is None


async def test_releasing_an_unclaimed_day_does_nothing(store: Store) -> None:
    await store.release_post(CHANNEL, DAY)
    assert await store.get_post(CHANNEL, DAY) is None


async def test_record_items_adds_items_in_order(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("header", None, "100.1")])
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", None)])
    record = await store.get_post(CHANNEL, DAY)
    assert record is not None and record.items == (
        PostItem("header", None, "100.1"),
        PostItem("2505.01234", "2505.01234", None),
    )


async def test_record_items_again_sets_the_message_id_in_place(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", None)])
    await store.record_items(CHANNEL, DAY, [PostItem("2505.05678", "2505.05678", None)])
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    record = await store.get_post(CHANNEL, DAY)
    assert record is not None and record.items == (
        PostItem("2505.01234", "2505.01234", "100.2"),
        PostItem("2505.05678", "2505.05678", None),
    )


async def test_claim_can_record_the_first_item_in_the_same_write(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0, items=[PostItem("header", None, None)])
    record = await store.get_post(CHANNEL, DAY)
    assert record is not None and record.items == (PostItem("header", None, None),)


async def test_record_items_confirms_one_and_announces_the_next_together(
    store: Store,
) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("header", None, None)])
    await store.record_items(
        CHANNEL, DAY,
        [PostItem("header", None, "100.1"), PostItem("2505.01234", "2505.01234", None)],
    )
    record = await store.get_post(CHANNEL, DAY)
    assert record is not None and record.items == (
        PostItem("header", None, "100.1"),
        PostItem("2505.01234", "2505.01234", None),
    )


async def test_record_items_can_finish_the_post_in_the_same_write(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(
        CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")], status="posted"
    )
    record = await store.get_post(CHANNEL, DAY)
    assert record is not None and record.status == "posted"


async def test_record_items_without_a_status_keeps_the_claim_open(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("header", None, "100.1")])
    record = await store.get_post(CHANNEL, DAY)
    assert record is not None and record.status == "claimed"


async def test_drop_item_forgets_an_unconfirmed_item(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0, items=[PostItem("header", None, "1")])
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", None)])
    await store.drop_item(CHANNEL, DAY, "2505.01234")
    assert await store.posted_ids(CHANNEL) == frozenset()


async def test_only_a_store_no_other_process_writes_is_exclusive(store: Store) -> None:
    # PostgreSQL is shared by replicas; the others are one process's own.
    assert store.exclusive is not isinstance(store, PostgresStore)


async def test_record_items_without_a_claim_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="no claim"):
        await store.record_items(CHANNEL, DAY, [PostItem("header", None, None)])


async def test_finish_post_sets_the_status(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.finish_post(CHANNEL, DAY, "posted")
    record = await store.get_post(CHANNEL, DAY)
    assert record is not None and record.status == "posted"


async def test_finish_post_keeps_the_items(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    await store.finish_post(CHANNEL, DAY, "posted")
    record = await store.get_post(CHANNEL, DAY)
    assert record is not None and record.items == (PostItem("2505.01234", "2505.01234", "100.2"),)


async def test_finish_post_without_a_claim_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="no claim"):
        await store.finish_post(CHANNEL, DAY, "empty")


async def test_recorded_message_leads_to_its_paper(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    message = dataclasses.replace(CHANNEL, message="100.2")
    assert await store.paper_for_message(message) == "2505.01234"


async def test_header_message_leads_to_no_paper(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("header", None, "100.1")])
    assert await store.paper_for_message(dataclasses.replace(CHANNEL, message="100.1")) is None


async def test_same_message_id_in_another_channel_leads_to_no_paper(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    message = dataclasses.replace(OTHER_CHANNEL, message="100.2")
    assert await store.paper_for_message(message) is None


async def test_channel_reference_without_message_leads_to_no_paper(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    assert await store.paper_for_message(CHANNEL) is None


async def test_posted_ids_include_items_still_being_sent(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", None)])
    await store.record_items(CHANNEL, DAY, [PostItem("2505.05678", "2505.05678", "100.3")])
    assert await store.posted_ids(CHANNEL) == {"2505.01234", "2505.05678"}


async def test_posted_ids_leave_out_the_header(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("header", None, "100.1")])
    assert await store.posted_ids(CHANNEL) == frozenset()


async def test_posted_ids_are_per_channel(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    assert await store.posted_ids(OTHER_CHANNEL) == frozenset()


async def test_posted_ids_span_days_and_years(store: Store) -> None:
    for day, arxiv_id in [(date(2024, 12, 31), "2412.00001"), (DAY, "2505.01234")]:
        await store.claim_post(CHANNEL, day, "host-1", T0)
        await store.record_items(CHANNEL, day, [PostItem(arxiv_id, arxiv_id, "1")])
    assert await store.posted_ids(CHANNEL) == {"2412.00001", "2505.01234"}


async def test_released_post_items_still_count_as_posted(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    await store.release_post(CHANNEL, DAY)
    assert await store.posted_ids(CHANNEL) == {"2505.01234"}


async def test_released_post_messages_still_lead_to_their_papers(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    await store.release_post(CHANNEL, DAY)
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "200.2")])
    message = dataclasses.replace(CHANNEL, message="100.2")
    assert await store.paper_for_message(message) == "2505.01234"


# A writing store answers the ledger from memory once read: each write must keep it right.


async def test_posted_ids_read_earlier_follow_a_dropped_item(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0, items=[PostItem("header", None, "1")])
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", None)])
    await store.posted_ids(CHANNEL)
    await store.drop_item(CHANNEL, DAY, "2505.01234")
    assert await store.posted_ids(CHANNEL) == frozenset()


async def test_dropped_item_stays_posted_when_another_day_sent_it(store: Store) -> None:
    yesterday = DAY - timedelta(days=1)
    await store.claim_post(CHANNEL, yesterday, "h", T0, [PostItem("2505.01234", "2505.01234", "9")])
    await store.claim_post(CHANNEL, DAY, "h", T0, [PostItem("2505.01234", "2505.01234", None)])
    await store.posted_ids(CHANNEL)
    await store.drop_item(CHANNEL, DAY, "2505.01234")
    assert await store.posted_ids(CHANNEL) == {"2505.01234"}


async def test_message_confirmed_after_a_lookup_leads_to_its_paper(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "h", T0, [PostItem("2505.01234", "2505.01234", None)])
    message = dataclasses.replace(CHANNEL, message="100.2")
    await store.paper_for_message(message)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    assert await store.paper_for_message(message) == "2505.01234"


async def test_posted_ids_read_earlier_follow_a_new_claim(store: Store) -> None:
    await store.posted_ids(CHANNEL)
    await store.claim_post(CHANNEL, DAY, "h", T0, [PostItem("2505.01234", "2505.01234", None)])
    assert await store.posted_ids(CHANNEL) == {"2505.01234"}


async def test_released_items_read_earlier_still_count_after_a_new_claim(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "h", T0, [PostItem("2505.01234", "2505.01234", "1")])
    await store.posted_ids(CHANNEL)
    await store.release_post(CHANNEL, DAY)
    await store.claim_post(CHANNEL, DAY, "h", T0, [PostItem("2505.05678", "2505.05678", "2")])
    assert await store.posted_ids(CHANNEL) == {"2505.01234", "2505.05678"}


async def test_reclaimed_post_starts_without_items(store: Store) -> None:
    await store.claim_post(CHANNEL, DAY, "host-1", T0)
    await store.record_items(CHANNEL, DAY, [PostItem("2505.01234", "2505.01234", "100.2")])
    await store.release_post(CHANNEL, DAY)
    record = await store.claim_post(CHANNEL, DAY, "host-2", T0)
    assert record is not None and record.items == ()


# --- team reading list ------------------------------------------------------------------


async def test_first_save_creates_an_entry(store: Store) -> None:
    change = await store.save("slack", "T1", paper(), saver("ana"))
    assert change == ListChange(paper(), changed=True, savers=1)


async def test_second_saver_is_counted_in_the_change(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    change = await store.save("slack", "T1", paper(), saver("bob", minutes=1))
    assert change == ListChange(paper(), changed=True, savers=2)


async def test_save_change_carries_the_first_snapshot(store: Store) -> None:
    await store.save("slack", "T1", paper(upvotes=1), saver("ana"))
    change = await store.save("slack", "T1", paper(upvotes=99), saver("bob", minutes=1))
    assert change.paper == paper(upvotes=1)


async def test_saved_entry_round_trips_paper_and_saver(store: Store) -> None:
    where = dataclasses.replace(CHANNEL, message="100.2")
    await store.save("slack", "T1", full_paper(), saver("ana", where=where))
    [entry] = await store.saved_papers("slack", "T1")
    assert (entry.paper, entry.savers) == (full_paper(), (saver("ana", where=where),))


async def test_saving_twice_by_the_same_user_changes_nothing(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    change = await store.save("slack", "T1", paper(), saver("ana", minutes=5))
    assert change == ListChange(paper(), changed=False, savers=1)


async def test_saving_twice_by_the_same_user_keeps_one_saver(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    await store.save("slack", "T1", paper(), saver("ana", minutes=5))
    [entry] = await store.saved_papers("slack", "T1")
    assert entry.savers == (saver("ana"),)


async def test_two_savers_share_one_entry(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    await store.save("slack", "T1", paper(), saver("bob", minutes=1))
    [entry] = await store.saved_papers("slack", "T1")
    assert [s.user for s in entry.savers] == ["ana", "bob"]


async def test_entry_keeps_the_first_saved_snapshot(store: Store) -> None:
    await store.save("slack", "T1", paper(upvotes=1), saver("ana"))
    await store.save("slack", "T1", paper(upvotes=99), saver("bob", minutes=1))
    [entry] = await store.saved_papers("slack", "T1")
    assert entry.paper.upvotes == 1


async def test_unsave_removes_only_that_users_save(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    await store.save("slack", "T1", paper(), saver("bob", minutes=1))
    await store.unsave("slack", "T1", "2505.01234", "ana")
    [entry] = await store.saved_papers("slack", "T1")
    assert [s.user for s in entry.savers] == ["bob"]


async def test_unsave_of_a_save_reports_a_change(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    change = await store.unsave("slack", "T1", "2505.01234", "ana")
    assert change == ListChange(paper(), changed=True, savers=0)


async def test_unsave_of_one_of_two_savers_counts_the_one_left(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    await store.save("slack", "T1", paper(), saver("bob", minutes=1))
    change = await store.unsave("slack", "T1", "2505.01234", "ana")
    assert change == ListChange(paper(), changed=True, savers=1)


async def test_unsave_by_the_last_saver_removes_the_entry(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    await store.unsave("slack", "T1", "2505.01234", "ana")
    assert await store.saved_papers("slack", "T1") == []


async def test_unsave_of_a_paper_not_on_the_list_has_no_paper(store: Store) -> None:
    change = await store.unsave("slack", "T1", "2505.01234", "ana")
    assert change == ListChange(None, changed=False, savers=0)


async def test_unsave_by_someone_who_did_not_save_changes_nothing(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    change = await store.unsave("slack", "T1", "2505.01234", "bob")
    assert change == ListChange(paper(), changed=False, savers=1)


async def test_list_is_most_recently_saved_first(store: Store) -> None:
    for minutes, arxiv_id in [(0, "2505.00001"), (2, "hep-th/9901001"), (1, "2301.00001")]:
        await store.save("slack", "T1", paper(arxiv_id), saver("ana", minutes=minutes))
    listed = [e.paper.arxiv_id for e in await store.saved_papers("slack", "T1")]
    assert listed == ["hep-th/9901001", "2301.00001", "2505.00001"]


async def test_a_new_saver_moves_an_entry_to_the_top(store: Store) -> None:
    await store.save("slack", "T1", paper("2505.00001"), saver("ana", minutes=0))
    await store.save("slack", "T1", paper("2505.00002"), saver("ana", minutes=1))
    await store.save("slack", "T1", paper("2505.00001"), saver("bob", minutes=2))
    listed = [e.paper.arxiv_id for e in await store.saved_papers("slack", "T1")]
    assert listed == ["2505.00001", "2505.00002"]


async def test_list_shows_a_save_made_after_it_was_last_listed(store: Store) -> None:
    await store.save("slack", "T1", paper("2505.00001"), saver("ana"))
    await store.saved_papers("slack", "T1")
    await store.save("slack", "T1", paper("2505.00002"), saver("ana", minutes=1))
    listed = [e.paper.arxiv_id for e in await store.saved_papers("slack", "T1")]
    assert listed == ["2505.00002", "2505.00001"]


async def test_all_papers_shows_papers_put_after_the_last_call(store: Store) -> None:
    await store.put_papers([paper("2505.00001")])
    await store.all_papers()
    await store.put_papers([paper("2505.00002")])
    assert len(await store.all_papers()) == 2


async def test_lists_are_per_team(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    assert await store.saved_papers("slack", "T2") == []


async def test_lists_are_per_platform(store: Store) -> None:
    await store.save("slack", "T1", paper(), saver("ana"))
    assert await store.saved_papers("discord", "T1") == []


async def test_concurrent_saves_and_unsaves_give_exactly_the_right_list(store: Store) -> None:
    papers = [paper(i) for i in ("2505.00001", "2505.00002", "2401.00003", "hep-th/9901001")]
    gone = paper("2312.00005")  # saved only by people who all unsave it
    expected: dict[str, set[str]] = {p.arxiv_id: set() for p in papers}
    for n in range(40):  # already on the list before the rush
        target = gone if n % 2 else papers[n % 4]
        await store.save("slack", "T1", target, saver(f"old{n}", minutes=n))
    for n in range(0, 40, 2):
        expected[papers[n % 4].arxiv_id].add(f"old{n}")

    operations = [store.save("slack", "T1", papers[n % 4], saver(f"new{n}", minutes=100 + n))
                  for n in range(80)]
    operations += [store.unsave("slack", "T1", gone.arxiv_id, f"old{n}") for n in range(1, 40, 2)]
    for n in range(80):
        expected[papers[n % 4].arxiv_id].add(f"new{n}")
    results = await asyncio.gather(*operations)

    listed = {e.paper.arxiv_id: {s.user for s in e.savers}
              for e in await store.saved_papers("slack", "T1")}
    assert [r.changed for r in results] == [True] * 100
    assert listed == expected


async def _save_five(store: Store) -> None:
    for minutes, arxiv_id in enumerate(["2505.00001", "2505.00002", "2401.00003",
                                        "hep-th/9901001", "2505.00005"]):
        await store.save("slack", "T1", paper(arxiv_id), saver("ana", minutes=minutes))


async def test_limited_list_is_the_start_of_the_whole_list(store: Store) -> None:
    await _save_five(store)
    await store.save("slack", "T1", paper("2505.00001"), saver("bob", minutes=9))
    whole = await store.saved_papers("slack", "T1")
    assert await store.saved_papers("slack", "T1", limit=3) == whole[:3]


async def test_limited_list_follows_saves_and_unsaves(store: Store) -> None:
    await _save_five(store)
    await store.saved_papers("slack", "T1", limit=2)
    await store.unsave("slack", "T1", "2505.00005", "ana")
    await store.save("slack", "T1", paper("2401.00003"), saver("bob", minutes=9))
    listed = [e.paper.arxiv_id for e in await store.saved_papers("slack", "T1", limit=2)]
    assert listed == ["2401.00003", "hep-th/9901001"]


async def test_equal_save_times_list_the_higher_id_first(store: Store) -> None:
    await store.save("slack", "T1", paper("2505.00001"), saver("ana"))
    await store.save("slack", "T1", paper("2505.00002"), saver("bob"))
    listed = [e.paper.arxiv_id for e in await store.saved_papers("slack", "T1", limit=1)]
    assert listed == ["2505.00002"]


async def test_count_saved_counts_entries_not_savers(store: Store) -> None:
    await _save_five(store)
    await store.save("slack", "T1", paper("2505.00001"), saver("bob", minutes=9))
    assert await store.count_saved("slack", "T1") == 5


async def test_count_saved_follows_unsaves(store: Store) -> None:
    await _save_five(store)
    await store.count_saved("slack", "T1")
    await store.unsave("slack", "T1", "2505.00002", "ana")
    assert await store.count_saved("slack", "T1") == 4


async def test_count_saved_of_an_unknown_team_is_zero(store: Store) -> None:
    assert await store.count_saved("slack", "nobody") == 0


async def test_known_teams_lists_teams_with_a_list_or_a_post(store: Store) -> None:
    await store.save("discord", "G.1", paper(), saver("ana"))
    await store.claim_post(CHANNEL, DAY, "h", T0)
    assert await store.known_teams() == [("discord", "G.1"), ("slack", "T1")]


async def test_known_teams_of_an_empty_store_is_empty(store: Store) -> None:
    assert await store.known_teams() == []


# --- small state ------------------------------------------------------------------------


async def test_meta_value_round_trips(store: Store) -> None:
    value = {"last": "2025-05-12", "done": [1, 2], "nested": {"ok": True, "none": None}}
    await store.set_meta("backfill", value)
    assert await store.get_meta("backfill") == value


async def test_meta_of_an_unknown_key_is_none(store: Store) -> None:
    assert await store.get_meta("nothing") is None


async def test_setting_meta_again_replaces_it(store: Store) -> None:
    await store.set_meta("k", {"a": 1})
    await store.set_meta("k", 2)
    assert await store.get_meta("k") == 2


async def test_setting_meta_to_none_deletes_it(store: Store) -> None:
    await store.set_meta("k", "v")
    await store.set_meta("k", None)
    assert await store.get_meta("k") is None


async def test_deleting_a_missing_meta_key_does_nothing(store: Store) -> None:
    await store.set_meta("k", None)
    assert await store.get_meta("k") is None


async def test_changing_a_returned_meta_value_does_not_change_the_store(store: Store) -> None:
    await store.set_meta("k", {"seen": [1]})
    (await store.get_meta("k"))["seen"].append(2)
    assert await store.get_meta("k") == {"seen": [1]}


async def test_meta_value_that_is_not_json_is_refused(store: Store) -> None:
    with pytest.raises(TypeError):
        await store.set_meta("k", {"when": T0})


# --- streaming the paper cache ----------------------------------------------------------


async def test_iter_papers_yields_every_paper_once(store: Store) -> None:
    ids = ["2301.00001", "2505.01234", "2505.05678", "2506.00001", "hep-th/9901001"]
    await store.put_papers(paper(i) for i in ids)
    seen = [p.arxiv_id async for chunk in store.iter_papers(batch=2) for p in chunk]
    assert sorted(seen) == sorted(ids)


async def test_iter_papers_batches_hold_at_most_the_batch_size(store: Store) -> None:
    await store.put_papers(paper(f"2505.{n:05d}") for n in range(1, 8))
    sizes = [len(chunk) async for chunk in store.iter_papers(batch=3)]
    assert sizes == [3, 3, 1]


async def test_iter_papers_of_an_empty_store_yields_nothing(store: Store) -> None:
    assert [chunk async for chunk in store.iter_papers()] == []
