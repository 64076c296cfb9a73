"""The use cases every adapter calls: commands, reactions and the exactly-once daily post.

Platform-free: adapters hand in `CommandEvent`s and `ReactionEvent`s (bot.events) and render
the `Reply` they get back; daily posts go out through the adapter's `Publisher`. Every `if`
about papers lives here, not in an adapter.

Exactly once: before a daily post the service claims (platform, team, channel, local date)
in the store; before sending each message it records the item, and after sending it records
the platform's message id. A restart finds the claim and sends only what was never attempted;
an item attempted but unconfirmed (the process died mid-call) is not sent again — a missing
paper is better than a duplicate. Called by adapters, bot.schedule and bot.cli.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo

from bot import commands, daily, export
from bot.config import ChannelConfig, Config
from bot.errors import (
    InvalidPaperId,
    PaperboyError,
    StoreError,
    UpstreamError,
    UserInputError,
)
from bot.events import (
    CommandEvent,
    DigestReply,
    ErrorReply,
    FileReply,
    HelpReply,
    ListReply,
    Publisher,
    ReactionEvent,
    Reply,
    SaveReply,
    SearchHitView,
    SearchReply,
    SettingsReply,
)
from bot.models import ChatRef, Digest, Paper, Saver
from bot.search import Searcher
from bot.sources.arxiv import ArxivClient
from bot.sources.huggingface import HuggingFaceClient
from bot.store import PostItem, PostRecord, Store
from bot.store import PostStatus as PostStoreStatus
from bot.summarize import Summarizer, instant_summary

log = logging.getLogger(__name__)

# How long one fetch of a day's candidates serves every channel posting that day.
CANDIDATES_TTL = timedelta(minutes=30)
LIST_SHOWN = 20
SEARCH_SHOWN = 5

# Emoji names and the characters Discord and terminals send for them.
EMOJI_CHARS = {"pushpin": "📌", "round_pushpin": "📍", "bookmark": "🔖", "star": "⭐",
               "bookmark_tabs": "📑", "books": "📚"}

PostStatus = Literal["posted", "empty", "already", "resumed"]
# A claim older than this whose owner cannot be asked is taken over (the catch-up window).
STALE_CLAIM = timedelta(hours=1)
# (item key, arXiv id or None, the call that sends it and returns the message id)
_Message = tuple[str, str | None, Callable[[], Awaitable[str]]]


@dataclass(frozen=True)
class PostOutcome:
    """What one daily post did. `sent` counts messages sent by this call."""

    channel: str
    day: date
    status: PostStatus
    sent: int
    note: str | None = None


class Service:
    """One instance per running bot, shared by every adapter it serves."""

    def __init__(
        self,
        config: Config,
        *,
        store: Store,
        hf: HuggingFaceClient,
        summarizer: Summarizer,
        searcher: Searcher | None = None,
        arxiv: ArxivClient | None = None,
        clock: Callable[[], datetime] | None = None,
        save_emoji: str = "pushpin",
    ) -> None:
        self.config = config
        self.store = store
        self.hf = hf
        self.arxiv = arxiv
        self.summarizer = summarizer
        self.searcher = searcher
        self.clock = clock or (lambda: datetime.now(UTC))
        self.save_emoji = normalise_emoji(save_emoji)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        # The workspace / server each adapter is connected to, and the bot's own user ids
        # (whose reactions never count). Adapters fill these in at start-up.
        self.teams: dict[str, str] = {}
        self.bot_users: set[str] = set()
        self._candidates: dict[date, tuple[datetime, daily.Candidates]] = {}
        self._fetch_lock = asyncio.Lock()
        self._post_locks: dict[ChatRef, asyncio.Lock] = {}

    # --- commands -------------------------------------------------------------------------

    async def handle_command(self, event: CommandEvent) -> Reply:
        """Parse and run one `/papers` command. Bad input and upstream failures become
        replies; a bug propagates."""
        try:
            command = commands.parse_command(event.text)
            return await self._run(command, event)
        except UserInputError as exc:
            return HelpReply(usage=exc.usage or commands.USAGE, error=str(exc))
        except PaperboyError as exc:
            log.warning("/papers %s from %s failed: %s", _first_word(event.text), event.user, exc)
            return ErrorReply(_one_line(exc))

    async def _run(self, command: commands.Command, event: CommandEvent) -> Reply:
        where = event.where
        match command:
            case commands.Help(topic=topic):
                return HelpReply(usage=commands.help_text(topic))
            case commands.Today(share=share):
                return DigestReply(await self.today(where), private=not share)
            case commands.Search(query=query, share=share, limit=limit):
                return await self.search(where, query, limit=limit or SEARCH_SHOWN,
                                         private=not share)
            case commands.Save(arxiv_id=arxiv_id):
                return await self.save(where, event.user, arxiv_id)
            case commands.Unsave(arxiv_id=arxiv_id):
                return await self.unsave(where, event.user, arxiv_id)
            case commands.List(share=share):
                entries = await self.store.saved_papers(
                    where.platform, where.team, limit=LIST_SHOWN
                )
                total = await self.store.count_saved(where.platform, where.team)
                return ListReply(tuple(entries), total, private=not share)
            case commands.Export(format=fmt):
                entries = await self.store.saved_papers(where.platform, where.team)
                filename, mime, content = export.export(entries, fmt)
                return FileReply(filename, mime, content, len(entries))
            case commands.Settings():
                channel = self.channel_for(where)
                return SettingsReply(channel, save_emoji=self.save_emoji)
        raise AssertionError(f"unhandled command {command!r}")

    async def today(self, where: ChatRef) -> Digest:
        """This channel's picks for its local today, including what it was already sent
        today (so the answer matches the morning post)."""
        channel = self.channel_for(where) or self._adhoc_channel(where)
        day = self.local_today(channel)
        digests = await self._digests(day, [channel], exclude_day_from_posted=True)
        return digests[0]

    async def search(
        self, where: ChatRef, query: str, *, limit: int = SEARCH_SHOWN, private: bool = True
    ) -> SearchReply:
        if self.searcher is None:
            raise UserInputError("search is not available in this bot")
        results = await self.searcher.search(
            query, limit=limit, team=(where.platform, where.team), channel=_channel_of(where)
        )
        hits = tuple(
            SearchHitView(hit.paper, instant_summary(hit.paper).text, hit.snippet, hit.match)
            for hit in results.hits
        )
        note = results.note or (None if hits else "no papers matched")
        return SearchReply(query, hits, note, private=private)

    # --- the team list --------------------------------------------------------------------

    async def save(self, where: ChatRef, user: str, arxiv_id: str) -> SaveReply:
        """Save a paper to the team list for `user` (idempotent)."""
        paper = await self.find_paper(arxiv_id)
        saver = Saver(user=user, saved_at=self.clock(), where=where)
        change = await self.store.save(where.platform, where.team, paper, saver)
        changed = change.changed
        if self.searcher is not None:
            try:
                await self.searcher.index_papers([paper])
            except StoreError as exc:  # the save itself succeeded; search catches up later
                log.warning("saved %s but could not index it: %s", paper.arxiv_id, exc)
        savers = change.savers
        log.info("%s saved %s in %s:%s (%s)", user, paper.arxiv_id, where.platform, where.team,
                 "new" if changed else "already saved")
        return SaveReply(paper, saved=True, changed=changed, savers=savers)

    async def unsave(self, where: ChatRef, user: str, arxiv_id: str) -> SaveReply:
        """Remove `user`'s save; the entry goes when nobody else saved it."""
        change = await self.store.unsave(where.platform, where.team, arxiv_id, user)
        if change.paper is None:
            raise UserInputError(f"{arxiv_id} is not on your team's list")
        return SaveReply(change.paper, saved=False, changed=change.changed, savers=change.savers)

    async def handle_reaction(self, event: ReactionEvent) -> SaveReply | None:
        """Save or unsave by reaction. None when the reaction is not ours to handle: another
        emoji, the bot's own reaction, or a message that is not a paper the bot posted."""
        if event.user in self.bot_users or normalise_emoji(event.emoji) != self.save_emoji:
            return None
        if event.where.message is None:
            return None
        arxiv_id = await self.store.paper_for_message(event.where)
        if arxiv_id is None:
            return None
        try:
            if event.added:
                return await self.save(event.where, event.user, arxiv_id)
            return await self.unsave(event.where, event.user, arxiv_id)
        except UserInputError:
            return None  # removing a reaction whose save was already undone by command

    async def find_paper(self, arxiv_id: str) -> Paper:
        """A paper by canonical id: the cache, then Hugging Face, then arXiv."""
        known = await self.store.get_papers([arxiv_id])
        if arxiv_id in known:
            return known[arxiv_id]
        paper: Paper | None = None
        hf_failure: UpstreamError | None = None
        try:
            paper = await self.hf.paper(arxiv_id)
        except UpstreamError as exc:
            log.warning("Hugging Face lookup of %s failed: %s", arxiv_id, exc)
            hf_failure = exc
        if paper is None and self.arxiv is not None:
            found = await self.arxiv.by_ids([arxiv_id])
            paper = found[0] if found else None
        if paper is None:
            if hf_failure is not None:
                # Hugging Face could not say: "no such paper" would be a guess, and wrong.
                raise hf_failure
            raise InvalidPaperId(f"no paper {arxiv_id} on Hugging Face or arXiv")
        if not self.store.readonly:
            await self.store.put_papers([paper])
        return paper

    # --- daily posts ----------------------------------------------------------------------

    async def post_daily(
        self, channel: ChannelConfig, day: date, publisher: Publisher, *, force: bool = False
    ) -> PostOutcome:
        """Post `channel`'s picks for `day` exactly once (see the module docstring)."""
        ref = daily.channel_ref(channel, self.teams)
        # One post per channel at a time (the scheduler and `/post` may race); different
        # channels post concurrently.
        async with self._post_locks.setdefault(ref, asyncio.Lock()):
            allow_again: frozenset[str] = frozenset()
            if force:
                previous = await self.store.get_post(ref, day)
                if previous is not None:
                    allow_again = frozenset(i.arxiv_id for i in previous.items if i.arxiv_id)
                await self.store.release_post(ref, day)
            existing = await self.store.get_post(ref, day)
            if existing is not None and existing.status != "claimed":
                return PostOutcome(channel.name, day, "already", 0,
                                   f"already posted on {day.isoformat()}")
            if existing is not None and not self._may_resume(existing):
                return PostOutcome(channel.name, day, "already", 0,
                                   f"being posted by {existing.owner}")
            # Fetch and rank before claiming, so that an upstream failure leaves no claim
            # behind and a later attempt (catch-up, `paperboy post`) simply starts over.
            digest = (await self._digests(
                day, [channel], exclude_day_from_posted=True, allow_again=allow_again
            ))[0]
            attempted = {item.key for item in (existing.items if existing else ())}
            messages, status = self._messages(channel, ref, digest, publisher)
            messages = [m for m in messages if m[0] not in attempted]
            first = [PostItem(key, arxiv_id, None) for key, arxiv_id, _ in messages[:1]]
            # The claim carries the first message's announcement: one durable write less.
            claimed = await self.store.claim_post(ref, day, self.owner, self.clock(), first)
            if claimed is None:
                log.warning("#%s: resuming the %s post interrupted earlier", channel.name, day)
                if first:
                    await self.store.record_items(ref, day, first)
            sent = await self._send(ref, day, messages, status)
            if status == "empty":
                # WARNING, not INFO: an admin reading the default log must see why a channel
                # got nothing today.
                log.warning("#%s: nothing to post for %s (%s); on_empty=%s",
                         channel.name, day, digest.note, channel.on_empty)
                return PostOutcome(channel.name, day, "empty", sent, digest.note)
            if self.searcher is not None:
                await self.searcher.index_papers(p.paper for p in digest.picks)
            log.info("#%s: posted %d picks of %d for %s (%d messages sent now)",
                     channel.name, len(digest.picks), digest.candidates, day, sent)
            return PostOutcome(
                channel.name, day, "posted" if claimed else "resumed", sent
            )

    def _messages(
        self, channel: ChannelConfig, ref: ChatRef, digest: Digest, publisher: Publisher
    ) -> tuple[list[_Message], PostStoreStatus]:
        """The messages of a day's post, in order, and the status it ends with."""
        if not digest.picks:
            if channel.on_empty == "skip":
                return [], "empty"
            reason = digest.note or "nothing new"
            text = f"No new papers for {digest.day.strftime('%a %d %b')}: {reason}."
            return [("note", None, partial(publisher.post_note, ref, text))], "empty"
        messages: list[_Message] = [
            ("header", None, partial(publisher.post_header, ref, digest))
        ]
        messages += [
            (p.paper.arxiv_id, p.paper.arxiv_id, partial(publisher.post_pick, ref, digest, p))
            for p in digest.picks
        ]
        return messages, "posted"

    async def _send(
        self, ref: ChatRef, day: date, messages: list[_Message], status: PostStoreStatus
    ) -> int:
        """Send messages in order; the first is already announced in the store. Each is
        confirmed with its message id after sending, in the same durable write as the next
        one's announcement; the last confirmation also closes the post."""
        if not messages:
            await self.store.finish_post(ref, day, status)
            return 0
        for position, (key, arxiv_id, send) in enumerate(messages):
            try:
                message_id = await send()
            except PaperboyError:
                # The platform answered with a refusal: nothing was posted, so the retry
                # may send this message. (A process that dies mid-call leaves the item
                # announced instead, and it is never sent twice.)
                await self.store.drop_item(ref, day, key)
                raise
            done = [PostItem(key, arxiv_id, message_id)]
            if position + 1 < len(messages):
                next_key, next_id, _ = messages[position + 1]
                done.append(PostItem(next_key, next_id, None))
                await self.store.record_items(ref, day, done)
            else:
                await self.store.record_items(ref, day, done, status=status)
        return len(messages)

    def _may_resume(self, record: PostRecord) -> bool:
        """May this process finish a post claimed earlier? Yes when the claim is its own, or
        the store is exclusive to this process, or its owner on this host is gone (a crash),
        or it is older than the catch-up window (an owner elsewhere that never finished)."""
        if record.owner == self.owner or self.store.exclusive:
            return True  # an exclusive store: whoever claimed it is gone
        host, _, pid = record.owner.rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not _process_alive(int(pid)):
            return True
        if self.clock() - record.claimed_at > STALE_CLAIM:
            return True
        log.warning("post for %s on %s is being sent by %s; leaving it to that process",
                    record.channel.channel, record.day, record.owner)
        return False

    async def _digests(
        self, day: date, channels: list[ChannelConfig], *, exclude_day_from_posted: bool,
        allow_again: frozenset[str] = frozenset(),
    ) -> list[Digest]:
        candidates = await self.candidates(day, channels)
        return await daily.build_digests(
            candidates, channels, store=self.store, summarizer=self.summarizer,
            exclude_day_from_posted=exclude_day_from_posted, allow_again=allow_again,
            teams=self.teams,
        )

    async def candidates(self, day: date, channels: list[ChannelConfig]) -> daily.Candidates:
        """The day's candidates, fetched once and shared by every channel posting soon after
        (one upstream fetch per day however many channels)."""
        async with self._fetch_lock:
            now = self.clock()
            cached = self._candidates.get(day)
            if cached is not None and now - cached[0] < CANDIDATES_TTL:
                return cached[1]
            fetched = await daily.fetch_candidates(
                day, self.config.channels, hf=self.hf, arxiv=self.arxiv,
                arxiv_categories=self.config.arxiv.categories,
                today=self.local_today(channels[0]), store=self.store,
            )
            self._candidates = {day: (now, fetched)}
            if self.searcher is not None:
                await self.searcher.index_papers(fetched.papers)
            return fetched

    # --- channels -------------------------------------------------------------------------

    def channel_for(self, where: ChatRef) -> ChannelConfig | None:
        """The configured channel a chat address belongs to, if any."""
        return next(
            (c for c in self.config.channels
             if c.platform == where.platform and c.id == where.channel),
            None,
        )

    def local_today(self, channel: ChannelConfig) -> date:
        return self.clock().astimezone(ZoneInfo(channel.timezone)).date()

    def _adhoc_channel(self, where: ChatRef) -> ChannelConfig:
        # `/papers today` in a channel without a schedule gets the default profile.
        return ChannelConfig(name=where.channel, platform=where.platform, id=where.channel)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


def normalise_emoji(emoji: str) -> str:
    """`:pushpin:`, `pushpin`, `📌` and Slack's `pushpin::skin-tone-2` all become `pushpin`."""
    # U+FE0F (emoji presentation) is often appended by keyboards: "📌\ufe0f" is still 📌.
    name = emoji.strip().strip(":").split("::")[0].lower().replace("\ufe0f", "")
    for known, char in EMOJI_CHARS.items():
        if name == char.replace("\ufe0f", ""):
            return known
    return name


def _channel_of(where: ChatRef) -> ChatRef:
    return ChatRef(where.platform, where.team, where.channel)


def _first_word(text: str) -> str:
    words = text.split()
    return words[0][:20] if words else "help"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or exc.__class__.__name__


__all__ = ["PostOutcome", "Service", "normalise_emoji"]

