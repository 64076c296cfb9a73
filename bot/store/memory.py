"""The Store in plain dicts: for tests and throwaway runs (`paperboy digest` without a disk).

Nothing survives the process. Every method finishes without awaiting anything, so on one
event loop each call is atomic, the same guarantee TinyDBStore gets from its single writer
thread. Behaves exactly as the contract suite (tests/store/test_contract.py) says TinyDBStore
does — including refusing meta values that are not JSON and copying them in and out.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from bot.channel_setup import ChannelSetup, setup_key
from bot.errors import StoreError
from bot.models import ChatRef, Paper, SavedPaper, Saver, Summary
from bot.store import ListChange, PostItem, PostRecord, PostStatus, with_items

_ChannelKey = tuple[str, str, str]


class MemoryStore:
    """Every piece of state in a dict, keyed as the TinyDB files are."""

    readonly = False
    exclusive = True  # it lives inside one process

    def __init__(self) -> None:
        self._papers: dict[str, Paper] = {}
        self._summaries: dict[tuple[str, str, str | None], Summary] = {}
        self._claims: dict[tuple[_ChannelKey, date], PostRecord] = {}
        # Items of released claims: they were sent, so they still count as posted.
        self._released: dict[_ChannelKey, list[PostItem]] = {}
        self._lists: dict[tuple[str, str], dict[str, SavedPaper]] = {}
        self._meta: dict[str, str] = {}
        self._setups: dict[_ChannelKey, ChannelSetup] = {}

    async def close(self) -> None:
        return None

    # --- papers -------------------------------------------------------------------------
    async def put_papers(self, papers: Iterable[Paper]) -> None:
        for paper in papers:
            self._papers[paper.arxiv_id] = paper

    async def get_papers(self, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
        return {i: self._papers[i] for i in arxiv_ids if i in self._papers}

    async def all_papers(self) -> list[Paper]:
        return list(self._papers.values())

    async def iter_papers(self, batch: int = 1000) -> AsyncIterator[list[Paper]]:
        papers = list(self._papers.values())  # a copy: callers may put papers meanwhile
        size = max(1, batch)
        for start in range(0, len(papers), size):
            yield papers[start : start + size]

    # --- summaries ----------------------------------------------------------------------
    async def get_summaries(
        self, arxiv_ids: Iterable[str], summarizer: str, model: str | None
    ) -> dict[str, Summary]:
        found = {i: self._summaries.get((i, summarizer, model)) for i in arxiv_ids}
        return {i: summary for i, summary in found.items() if summary is not None}

    async def put_summary(self, arxiv_id: str, summarizer: str, summary: Summary) -> None:
        self._summaries[(arxiv_id, summarizer, summary.model)] = summary

    # --- daily posts --------------------------------------------------------------------
    async def claim_post(
        self, channel: ChatRef, day: date, owner: str, now: datetime,
        items: Sequence[PostItem] = (),
    ) -> PostRecord | None:
        key = (_channel_key(channel), day)
        if key in self._claims:
            return None
        record = PostRecord(
            channel=replace(channel, message=None),
            day=day,
            status="claimed",
            owner=owner,
            claimed_at=now,
            items=tuple(items),
        )
        self._claims[key] = record
        return record

    async def get_post(self, channel: ChatRef, day: date) -> PostRecord | None:
        return self._claims.get((_channel_key(channel), day))

    async def record_items(
        self,
        channel: ChatRef,
        day: date,
        items: Sequence[PostItem],
        status: PostStatus | None = None,
    ) -> None:
        record = self._claimed(channel, day)
        self._claims[(_channel_key(channel), day)] = with_items(record, items, status)

    async def finish_post(self, channel: ChatRef, day: date, status: PostStatus) -> None:
        record = self._claimed(channel, day)
        self._claims[(_channel_key(channel), day)] = replace(record, status=status)

    async def drop_item(self, channel: ChatRef, day: date, key: str) -> None:
        record = self._claimed(channel, day)
        self._claims[(_channel_key(channel), day)] = replace(
            record, items=tuple(i for i in record.items if i.key != key)
        )

    async def release_post(self, channel: ChatRef, day: date) -> None:
        record = self._claims.pop((_channel_key(channel), day), None)
        if record is not None:
            self._released.setdefault(_channel_key(channel), []).extend(record.items)

    async def posted_ids(self, channel: ChatRef) -> frozenset[str]:
        return frozenset(i.arxiv_id for i in self._ledger(channel) if i.arxiv_id)

    async def paper_for_message(self, message: ChatRef) -> str | None:
        if message.message is None:
            return None
        for item in self._ledger(message):
            if item.message_id == message.message:
                return item.arxiv_id
        return None

    def _claimed(self, channel: ChatRef, day: date) -> PostRecord:
        record = self._claims.get((_channel_key(channel), day))
        if record is None:
            where = "/".join(_channel_key(channel))
            raise StoreError(f"no claim for {where} on {day}: claim_post first")
        return record

    def _ledger(self, channel: ChatRef) -> list[PostItem]:
        key = _channel_key(channel)
        claimed = [
            item
            for (channel_key, _day), record in self._claims.items()
            if channel_key == key
            for item in record.items
        ]
        return claimed + self._released.get(key, [])

    # --- team reading list --------------------------------------------------------------
    async def save(self, platform: str, team: str, paper: Paper, saver: Saver) -> ListChange:
        entries = self._lists.setdefault((platform, team), {})
        entry = entries.get(paper.arxiv_id)
        if entry is None:
            entries[paper.arxiv_id] = SavedPaper(paper=paper, savers=(saver,))
            return ListChange(paper, True, 1)
        if any(old.user == saver.user for old in entry.savers):
            return ListChange(entry.paper, False, len(entry.savers))
        entries[paper.arxiv_id] = replace(entry, savers=(*entry.savers, saver))
        return ListChange(entry.paper, True, len(entry.savers) + 1)

    async def unsave(self, platform: str, team: str, arxiv_id: str, user: str) -> ListChange:
        entries = self._lists.get((platform, team), {})
        entry = entries.get(arxiv_id)
        if entry is None:
            return ListChange(None, False, 0)
        savers = tuple(old for old in entry.savers if old.user != user)
        if len(savers) == len(entry.savers):
            return ListChange(entry.paper, False, len(savers))
        if savers:
            entries[arxiv_id] = replace(entry, savers=savers)
        else:
            del entries[arxiv_id]
        return ListChange(entry.paper, True, len(savers))

    async def saved_papers(
        self, platform: str, team: str, *, limit: int | None = None
    ) -> list[SavedPaper]:
        entries = self._lists.get((platform, team), {}).values()
        ordered = sorted(
            entries, key=lambda e: (e.last_saved_at, e.paper.arxiv_id), reverse=True
        )
        return ordered if limit is None else ordered[:limit]

    async def count_saved(self, platform: str, team: str) -> int:
        return len(self._lists.get((platform, team), {}))

    async def known_teams(self) -> list[tuple[str, str]]:
        teams = set(self._lists)
        teams.update(key[:2] for key, _day in self._claims)
        teams.update(key[:2] for key in self._released)
        return sorted(teams)

    # --- small state --------------------------------------------------------------------
    async def get_meta(self, key: str) -> Any:
        # Kept as JSON text: the caller gets a fresh copy, as from a file.
        text = self._meta.get(key)
        return json.loads(text) if text is not None else None

    async def set_meta(self, key: str, value: Any) -> None:
        if value is None:
            self._meta.pop(key, None)
        else:
            self._meta[key] = json.dumps(value)

    # --- channels set up from chat ------------------------------------------------------
    async def get_channel_setup(self, channel: ChatRef) -> ChannelSetup | None:
        return self._setups.get(setup_key(channel))

    async def put_channel_setup(self, setup: ChannelSetup) -> None:
        self._setups[setup_key(setup.channel)] = replace(setup, channel=setup.channel.channel_ref)

    async def delete_channel_setup(self, channel: ChatRef) -> bool:
        return self._setups.pop(setup_key(channel), None) is not None

    async def channel_setups(self) -> list[ChannelSetup]:
        return [self._setups[key] for key in sorted(self._setups)]



def _channel_key(channel: ChatRef) -> _ChannelKey:
    return (channel.platform, channel.team, channel.channel)
