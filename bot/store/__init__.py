"""The Store contract: everything Paperboy remembers, behind one async protocol.

Two kinds of data live here, and the difference decides how carefully each is kept:
- caches that can be rebuilt from upstream: papers and summaries;
- team state that is the source of truth and is never lost or reset: daily post records
  (claims, which message carried which paper), team reading lists, channel state, channels
  set up from chat (bot.channel_setup), and small bookkeeping values (`meta`, e.g. backfill
  progress).

Implementations: `bot.store.memory.MemoryStore` (tests, throwaway runs),
`bot.store.tinydb.TinyDBStore` (files in the data directory, one writing process) and
`bot.store.postgres.PostgresStore` (shared by replicas; also a `SharedStore`). All pass the
same contract suite in `tests/store/test_contract.py`; a future store must too.
Every method is async; implementations keep blocking I/O off the event loop.
Called by bot.service, bot.digest, bot.schedule and bot.search — never by adapters directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from bot.channel_setup import ChannelSetup
from bot.models import ChatRef, Paper, SavedPaper, Saver, Summary
from bot.store._files import CorruptFile, DataDirReadOnly

PostStatus = Literal["claimed", "posted", "empty"]


@dataclass(frozen=True)
class PostItem:
    """One message of a daily post. `key` is "header" or the paper's arXiv id.

    `message_id` is None while the message is being sent (or if the process died before
    the platform answered): such an item is never sent again.
    """

    key: str
    arxiv_id: str | None
    message_id: str | None


@dataclass(frozen=True)
class PostRecord:
    """The claim for one channel's post on one local date, and what was sent for it."""

    channel: ChatRef
    day: date
    status: PostStatus
    owner: str
    claimed_at: datetime
    items: tuple[PostItem, ...] = ()


@dataclass(frozen=True)
class ListChange:
    """What a save or unsave did to a team's list entry.

    `paper` is the entry's snapshot (None when the paper is not on the list), `changed` is
    False when it was already so, `savers` counts the entry's savers after the change."""

    paper: Paper | None
    changed: bool
    savers: int


@runtime_checkable
class Store(Protocol):
    """The storage contract. `readonly` stores refuse writes with StoreError.

    `exclusive` is True when this process is guaranteed to be the store's only writer (the
    TinyDB store's lock, the memory store): a post claim it did not make then belongs to a
    process that is gone and may be resumed at once. A store shared by several processes
    says False, and only stale claims are taken over."""

    readonly: bool
    exclusive: bool

    async def close(self) -> None:
        """Flush and release files and locks. Safe to call twice."""

    # --- papers (cache) -------------------------------------------------------------
    async def put_papers(self, papers: Iterable[Paper]) -> None:
        """Insert or replace papers by arXiv id (newer fields win)."""

    async def get_papers(self, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
        """The known papers among `arxiv_ids`, by id; unknown ids are absent."""

    async def all_papers(self) -> list[Paper]:
        """Every cached paper (for rebuilding the search index)."""

    def iter_papers(self, batch: int = 1000) -> AsyncIterator[list[Paper]]:
        """Every cached paper once, in lists of at most `batch`, in no particular order:
        rebuilding the search index streams the cache without holding all of it."""

    # --- summaries (cache) ----------------------------------------------------------
    async def get_summaries(
        self, arxiv_ids: Iterable[str], summarizer: str, model: str | None
    ) -> dict[str, Summary]:
        """Cached summaries made by `summarizer` (+ `model`) for these papers."""

    async def put_summary(self, arxiv_id: str, summarizer: str, summary: Summary) -> None:
        """Cache one summary under (paper, summarizer, summary.model)."""

    # --- daily posts (team state) ---------------------------------------------------
    async def claim_post(
        self, channel: ChatRef, day: date, owner: str, now: datetime,
        items: Sequence[PostItem] = (),
    ) -> PostRecord | None:
        """Claim (channel, day), with its first `items` already recorded (the same write).
        Returns the new record, or None when already claimed."""

    async def get_post(self, channel: ChatRef, day: date) -> PostRecord | None:
        """The record for (channel, day), if any."""

    async def record_items(
        self, channel: ChatRef, day: date, items: Sequence[PostItem],
        status: PostStatus | None = None,
    ) -> None:
        """Add or update items of a claimed post (by key), and optionally set its status, in
        ONE write. An item with message_id None is being sent (never sent again); a message
        id makes `paper_for_message` answer for that message. The daily post confirms message
        k and announces message k+1 together, which halves its durable writes."""

    async def finish_post(self, channel: ChatRef, day: date, status: PostStatus) -> None:
        """Mark a claimed post "posted" or "empty"."""

    async def drop_item(self, channel: ChatRef, day: date, key: str) -> None:
        """Remove an item announced but never confirmed, because its send failed with an
        answer from the platform (nothing was posted): a retry then sends it again."""

    async def release_post(self, channel: ChatRef, day: date) -> None:
        """Forget the claim for (channel, day) so it can be posted again (`--force`).
        Its items stay in the ledger: they were posted."""

    async def posted_ids(self, channel: ChatRef) -> frozenset[str]:
        """Every arXiv id ever sent (or being sent) to this channel."""

    async def paper_for_message(self, message: ChatRef) -> str | None:
        """The arXiv id carried by a message the bot posted, or None."""

    # --- team reading list (team state) ---------------------------------------------
    async def save(self, platform: str, team: str, paper: Paper, saver: Saver) -> ListChange:
        """Add `saver` to the team's entry for the paper (creating it with this snapshot).
        Idempotent per (paper, user). The change carries the entry's snapshot (the first
        saver's, not necessarily `paper`) and its saver count, so that a reply needs no
        second read of the list."""

    async def unsave(self, platform: str, team: str, arxiv_id: str, user: str) -> ListChange:
        """Remove that user's save; the entry goes when no savers remain. The change's paper
        is None when the paper was not on the list."""

    async def saved_papers(
        self, platform: str, team: str, *, limit: int | None = None
    ) -> list[SavedPaper]:
        """The team list, most recently saved first (ties: the higher arXiv id first); only
        the first `limit` entries when given."""

    async def count_saved(self, platform: str, team: str) -> int:
        """How many entries the team's list has."""

    async def known_teams(self) -> list[tuple[str, str]]:
        """Every (platform, team) that has (or had) a list or a daily post, sorted."""

    # --- small state ----------------------------------------------------------------
    async def get_meta(self, key: str) -> Any:
        """A JSON value stored under `key` (channel state, backfill progress), or None."""

    async def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under `key` (None deletes it)."""

    # --- channels set up from chat (team state) -------------------------------------
    async def get_channel_setup(self, channel: ChatRef) -> ChannelSetup | None:
        """The setup of `channel` (its message and thread are ignored), or None."""

    async def put_channel_setup(self, setup: ChannelSetup) -> None:
        """Insert or wholly replace the setup of `setup.channel`, durably, in one write."""

    async def delete_channel_setup(self, channel: ChatRef) -> bool:
        """Forget the setup of `channel`; True when there was one."""

    async def channel_setups(self) -> list[ChannelSetup]:
        """Every channel set up from chat, sorted by (platform, team, channel)."""


@runtime_checkable
class SharedStore(Protocol):
    """What a store shared by several processes (`exclusive` False) adds to `Store`: post
    claims held under a lease that every write of the post renews, and a takeover that only
    one process can win. bot.posting resumes another process's post only through it."""

    lease: timedelta  # how long a claim outlives its last write

    async def take_over_post(
        self, channel: ChatRef, day: date, owner: str, previous_owner: str, *,
        owner_gone: bool = False,
    ) -> PostRecord | None:
        """Make `owner` the claimant of the open post that `previous_owner` still holds, if
        its lease ran out (or `owner_gone`: the caller knows that process is dead). The
        record as taken over, or None when the lease is alive or another process won."""

    async def expired_claims(self, within: timedelta = ...) -> list[tuple[ChatRef, date]]:
        """Open posts whose lease ran out less than `within` ago: their owner died
        mid-post. Older ones are not listed (a late post is worse than none)."""

    async def papers_since(self, after: int, limit: int = 1000) -> tuple[list[Paper], int]:
        """Papers any process wrote after change number `after` (0: all), and the number to
        pass next time: how each process keeps its own search index up to date."""


def with_items(
    record: PostRecord, items: Sequence[PostItem], status: PostStatus | None = None
) -> PostRecord:
    """`record` with `items` upserted by key (order of first appearance kept) and, when
    given, a new status. Shared by the Store implementations."""
    merged = {item.key: item for item in record.items}
    merged.update((item.key, item) for item in items)
    return replace(record, items=tuple(merged.values()), status=status or record.status)


__all__ = [
    "ChannelSetup",
    "CorruptFile",
    "DataDirReadOnly",
    "ListChange",
    "PostItem",
    "PostRecord",
    "PostStatus",
    "SharedStore",
    "Store",
    "with_items",
]

