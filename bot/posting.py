"""The exactly-once daily post: claim, announce, send, confirm — and settle after a crash.

Before a daily post the poster claims (platform, team, channel, local date) in the store;
before sending each message it records the item ("announced"), and after sending it records
the platform's message id ("confirmed") in the same durable write as the next message's
announcement, so N messages cost N+1 writes. A restart finds the claim and sends only what
was never announced. An item announced but never confirmed (the process died mid-call) has
an unknown fate: the adapter's `Publisher.find_posted` asks the platform whether it landed;
found, its id is recorded; not found, it is sent. Nothing is ever sent twice, and no pick is
silently dropped.

A stop request (Ctrl-C, SIGTERM) is honoured between messages: the message in flight is
finished and recorded, the claim stays open, and the next start resumes the post.
Does not: decide when to post (bot.schedule) or what to pick (bot.daily, bot.picks).
Called by bot.service (a post started by hand), bot.schedule (through the bot's runner)
and the `paperboy post` command.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from bot import daily
from bot.errors import PaperboyError
from bot.events import Outgoing, PostTarget
from bot.models import ChatRef, Digest
from bot.store import PostItem, PostRecord, SharedStore, Store
from bot.store import PostStatus as PostStoreStatus
from bot.summarize import Summarizer

log = logging.getLogger(__name__)

PostStatus = Literal["posted", "empty", "already", "resumed", "stopped"]
# A claim older than this whose owner cannot be asked is taken over (the catch-up window).
STALE_CLAIM = timedelta(hours=1)
# Channels posting at once. The store writes one file at a time anyway; a few channels in
# flight keep it busy (with two, it idled while both were between writes: ranking, a send)
# and do not queue every channel's writes at once (500 channels share 09:00). A save or a
# list arriving mid-fan-out does not wait behind them: it takes the store's urgent lane.
CONCURRENT_POSTS = 4
# (item key, arXiv id or None, the call that sends it and returns the message id)
_Message = tuple[str, str | None, Callable[[], Awaitable[str]]]


@dataclass(frozen=True)
class PostOutcome:
    """What one daily post did. `sent` counts messages sent by this call; `found` those an
    earlier, interrupted attempt had sent, as the platform confirmed."""

    channel: str
    day: date
    status: PostStatus
    sent: int
    note: str | None = None
    found: int = 0


class DailyPoster:
    """Posts each channel's picks for a day exactly once. One instance per running bot."""

    def __init__(
        self,
        *,
        store: Store,
        candidates: daily.CandidateCache,
        saved_lists: daily.SavedLists,
        summarizer: Summarizer,
        clock: Callable[[], datetime],
        today: Callable[[PostTarget], date],
        stopping: asyncio.Event | None = None,
        concurrent: int = CONCURRENT_POSTS,
    ) -> None:
        self._store = store
        self._candidates = candidates
        self._saved_lists = saved_lists
        self._summarizer = summarizer
        self._clock = clock
        self._today = today
        self.stopping = stopping or asyncio.Event()
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._locks: dict[ChatRef, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(concurrent)

    async def post(self, target: PostTarget, day: date, *, force: bool = False) -> PostOutcome:
        """Post `target`'s picks for `day` exactly once (see the module docstring)."""
        ref, name = target.where, target.channel.name
        if self.stopping.is_set():
            return PostOutcome(name, day, "stopped", 0, "the bot is stopping")
        # One post per channel at a time (the scheduler and a post by hand may race); a few
        # channels post concurrently.
        async with self._locks.setdefault(ref, asyncio.Lock()), self._slots:
            record = await self._store.get_post(ref, day)
            allow_again: frozenset[str] = frozenset()
            if force and record is not None:
                allow_again = _paper_ids(record)
                await self._store.release_post(ref, day)
                record = None
            if record is not None and record.status != "claimed":
                return PostOutcome(name, day, "already", 0, f"already posted on {day}")
            if record is not None and isinstance(self._store, SharedStore) \
                    and record.status == "claimed" and record.owner != self.owner:
                # Replicas share the store: only one may win a dead owner's post.
                record = await self._store.take_over_post(
                    ref, day, self.owner, record.owner, owner_gone=self._owner_gone(record))
                if record is None:
                    return PostOutcome(name, day, "already", 0, "being posted by a replica")
            elif record is not None and not self._may_resume(record):
                return PostOutcome(name, day, "already", 0, f"being posted by {record.owner}")
            found = 0
            if record is not None:
                record, found = await self._settle(target, record)
                allow_again = _paper_ids(record)
            # Fetch and rank before claiming, so that an upstream failure leaves no claim
            # behind and a later attempt simply starts over.
            candidates = await self._candidates.get(day, self._today(target))
            digest = (await daily.build_digests(
                candidates, [daily.Audience(target.channel, ref, allow_again)],
                store=self._store, summarizer=self._summarizer, saved_lists=self._saved_lists,
            ))[0]
            done = {item.key for item in (record.items if record else ())}
            messages, status = _messages(target, day, digest)
            messages = [m for m in messages if m[0] not in done]
            first = [PostItem(key, arxiv_id, None) for key, arxiv_id, _ in messages[:1]]
            if record is None:
                # The claim carries the first message's announcement: one durable write less.
                if await self._store.claim_post(ref, day, self.owner, self._clock(), first) \
                        is None:
                    return PostOutcome(name, day, "already", 0, "claimed meanwhile")
            else:
                log.warning("#%s: resuming the %s post interrupted earlier (%d already out)",
                            name, day, len(done))
                if first:
                    await self._store.record_items(ref, day, first)
            sent = await self._send(ref, day, messages, status)
            if sent < len(messages):
                log.warning("#%s: stopped after %d of %d messages; the rest go out at the "
                            "next start", name, sent, len(messages))
                return PostOutcome(name, day, "stopped", sent, found=found)
            if status == "empty":
                # WARNING, not INFO: an admin reading the default log must see why a channel
                # got nothing today.
                log.warning("#%s: nothing to post for %s (%s); on_empty=%s",
                            name, day, digest.note, target.channel.on_empty)
                return PostOutcome(name, day, "empty", sent, digest.note, found)
            log.info("#%s: posted %d picks of %d for %s (%d messages sent now)",
                     name, len(digest.picks), digest.candidates, day, sent)
            return PostOutcome(name, day, "posted" if record is None else "resumed", sent,
                               found=found)

    async def _settle(self, target: PostTarget, record: PostRecord) -> tuple[PostRecord, int]:
        """Ask the platform about every message announced but never confirmed: record the
        ones that landed, forget the others so that they are sent. Returns the settled
        record and how many were found."""
        unknown = [item for item in record.items if item.message_id is None]
        if not unknown:
            return record, 0
        landed: list[PostItem] = []
        for item in unknown:
            out = Outgoing(target.where, record.day, item.key)
            message_id = await target.publisher.find_posted(out, record.claimed_at)
            if message_id is None:
                log.warning("#%s: %s of %s never reached the channel; sending it",
                            target.channel.name, item.key, record.day)
                await self._store.drop_item(target.where, record.day, item.key)
            else:
                log.warning("#%s: %s of %s was posted as %s before an interruption",
                            target.channel.name, item.key, record.day, message_id)
                landed.append(PostItem(item.key, item.arxiv_id, message_id))
        if landed:
            await self._store.record_items(target.where, record.day, landed)
        settled = await self._store.get_post(target.where, record.day)
        assert settled is not None, "a claimed post cannot vanish while its lock is held"
        return settled, len(landed)

    async def _send(
        self, ref: ChatRef, day: date, messages: list[_Message], status: PostStoreStatus
    ) -> int:
        """Send messages in order; the first is already announced in the store. Each is
        confirmed with its message id after sending, in the same durable write as the next
        one's announcement; the last confirmation also closes the post. Returns how many
        were sent: fewer than all when a stop was requested."""
        if not messages:
            await self._store.finish_post(ref, day, status)
            return 0
        for position, (key, arxiv_id, send) in enumerate(messages):
            sending = asyncio.ensure_future(send())
            cancelled = False
            try:
                try:
                    message_id = await asyncio.shield(sending)
                except asyncio.CancelledError:
                    # Cancelled mid-call (shutdown): finish the message in flight and
                    # record it, rather than leave its fate unknown, then stop.
                    cancelled = True
                    message_id = await sending
            except PaperboyError:
                # The platform answered with a refusal: nothing was posted, so a retry
                # sends this message.
                await self._store.drop_item(ref, day, key)
                raise
            done = [PostItem(key, arxiv_id, message_id)]
            last = position + 1 == len(messages)
            if last:
                await self._store.record_items(ref, day, done, status=status)
            elif cancelled:
                await self._store.record_items(ref, day, done)
                raise asyncio.CancelledError
            elif self.stopping.is_set():
                await self._store.record_items(ref, day, done)
                return position + 1
            else:
                next_key, next_id, _ = messages[position + 1]
                done.append(PostItem(next_key, next_id, None))
                await self._store.record_items(ref, day, done)
        return len(messages)

    def _may_resume(self, record: PostRecord) -> bool:
        """May this process finish a post claimed earlier? Yes when the claim is its own, or
        the store is exclusive to this process, or its owner on this host is gone (a crash),
        or it is older than the catch-up window (an owner elsewhere that never finished)."""
        if record.owner == self.owner or self._store.exclusive:
            return True  # an exclusive store: whoever claimed it is gone
        if self._owner_gone(record):
            return True
        if self._clock() - record.claimed_at > STALE_CLAIM:
            return True
        log.warning("post for %s on %s is being sent by %s; leaving it to that process",
                    record.channel.channel, record.day, record.owner)
        return False

    @staticmethod
    def _owner_gone(record: PostRecord) -> bool:
        """Whether the claim's owner is a process of this host that no longer exists."""
        host, _, pid = record.owner.rpartition(":")
        return host == socket.gethostname() and pid.isdigit() and not _process_alive(int(pid))


def _messages(
    target: PostTarget, day: date, digest: Digest
) -> tuple[list[_Message], PostStoreStatus]:
    """The messages of a day's post, in order, and the status it ends with."""
    publisher, ref = target.publisher, target.where

    def out(key: str) -> Outgoing:
        return Outgoing(ref, day, key)

    if not digest.picks:
        if target.channel.on_empty == "skip":
            return [], "empty"
        reason = digest.note or "nothing new"
        text = f"No new papers for {digest.day.strftime('%a %d %b')}: {reason}."
        return [("note", None, lambda: publisher.post_note(out("note"), text))], "empty"
    messages: list[_Message] = [
        ("header", None, lambda: publisher.post_header(out("header"), digest))
    ]
    for pick in digest.picks:
        key = pick.paper.arxiv_id
        messages.append(
            (key, key, lambda key=key, pick=pick: publisher.post_pick(out(key), digest, pick))
        )
    return messages, "posted"


def _paper_ids(record: PostRecord) -> frozenset[str]:
    return frozenset(item.arxiv_id for item in record.items if item.arxiv_id)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


__all__ = ["STALE_CLAIM", "DailyPoster", "PostOutcome"]
