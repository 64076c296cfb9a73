"""In-memory indexes an exclusive (writing) TinyDBStore keeps over its own files.

Pure: no I/O. A writing store is the data directory's only writer, so after reading a
channel's ledger or a team's list once it can answer "what was sent here", "which paper is
this message" and "how many savers, which entries are newest" from memory, and keep the
answers right by applying its own writes (only after they reached the disk). A read-only
store keeps none of this: another process writes, so it reads the files each time.
Used by bot.store.tinydb only.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

# (arxiv id or None for the header, message id or None while being sent)
ItemKey = tuple[str | None, str | None]


class LedgerIndex:
    """One channel's post ledger: every arXiv id sent (or being sent) and message → paper.

    Items are filed by the claim they belong to (its day), so rewriting a claim replaces
    its items; items of released claims stay for good, as they do on disk.
    """

    def __init__(self) -> None:
        self._claims: dict[str, tuple[ItemKey, ...]] = {}
        # Counted, because the same paper may be in several claims and one may be dropped.
        self._ids: Counter[str] = Counter()
        self._messages: dict[str, str | None] = {}
        self._frozen: frozenset[str] | None = None

    def set_claim(self, day: str, items: Iterable[ItemKey]) -> None:
        """The items of the claim for `day` are now exactly `items`."""
        for item in self._claims.pop(day, ()):
            self._remove(item)
        kept = tuple(items)
        self._claims[day] = kept
        for item in kept:
            self._add(item)

    def release_claim(self, day: str) -> None:
        """The claim for `day` is gone; its items stay in the ledger (they were sent)."""
        self._claims.pop(day, None)

    def add_released(self, items: Iterable[ItemKey]) -> None:
        for item in items:
            self._add(item)

    def posted_ids(self) -> frozenset[str]:
        if self._frozen is None:
            self._frozen = frozenset(self._ids)
        return self._frozen

    def paper_for_message(self, message_id: str) -> str | None:
        return self._messages.get(message_id)

    def _add(self, item: ItemKey) -> None:
        arxiv_id, message_id = item
        if arxiv_id is not None:
            if arxiv_id not in self._ids:
                self._frozen = None
            self._ids[arxiv_id] += 1
        if message_id is not None:
            self._messages[message_id] = arxiv_id

    def _remove(self, item: ItemKey) -> None:
        arxiv_id, message_id = item
        if arxiv_id is not None:
            self._ids[arxiv_id] -= 1
            if self._ids[arxiv_id] <= 0:
                del self._ids[arxiv_id]
                self._frozen = None
        if message_id is not None and self._messages.get(message_id) == arxiv_id:
            del self._messages[message_id]


class ListIndex:
    """One team's list: for each entry, when it was last saved and how many savers it has.

    Enough to count the list, order it newest first and pick the first page, without
    decoding a single paper. The order is kept sorted as entries change (a bisect and a
    list insert, microseconds at 20,000 entries), so a page costs no sort."""

    def __init__(self, entries: Iterable[tuple[str, datetime, int]] = ()) -> None:
        """Start from (arxiv id, last saved at, savers) triples, sorted once."""
        self._entries: dict[str, tuple[datetime, int]] = {
            arxiv_id: (last_saved_at, savers) for arxiv_id, last_saved_at, savers in entries
        }
        self._order: list[tuple[datetime, str]] = sorted(  # oldest first
            (last_saved_at, arxiv_id) for arxiv_id, (last_saved_at, _) in self._entries.items()
        )

    def put(self, arxiv_id: str, last_saved_at: datetime, savers: int) -> None:
        self.remove(arxiv_id)
        self._entries[arxiv_id] = (last_saved_at, savers)
        bisect.insort(self._order, (last_saved_at, arxiv_id))

    def remove(self, arxiv_id: str) -> None:
        old = self._entries.pop(arxiv_id, None)
        if old is not None:
            key = (old[0], arxiv_id)
            del self._order[bisect.bisect_left(self._order, key)]

    def count(self) -> int:
        return len(self._entries)

    def newest(self, limit: int) -> list[str]:
        """The ids of the `limit` most recently saved entries, newest first (ties: the
        higher id first, as the full listing orders them)."""
        return [arxiv_id for _, arxiv_id in reversed(self._order[-limit:])] if limit > 0 else []
