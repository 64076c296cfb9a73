"""The use cases every adapter calls: `/papers` commands, saves by reaction, posts by hand.

Platform-free and one way in: adapters hand in a `CommandEvent` (text, or a command the
platform already typed) or a `ReactionEvent`, and render the `Reply` they get back. Every use
case answers with a reply — bad input, "already posted", "nothing to do" and upstream or
store failures included — so adapters hold no error handling and no wording of their own. A
bug still propagates. Every `if` about papers lives here or deeper, never in an adapter.

The exactly-once daily post itself is bot.posting; this module starts one by hand and says
how it went. Called by adapters and the `paperboy` command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from bot import commands, daily, export, requestid
from bot.channel_admin import ChannelAdmin
from bot.channel_grammar import SETTINGS_SYNTAX, Subscribe, Unsubscribe
from bot.config import ChannelConfig, Config
from bot.errors import (
    InvalidPaperId,
    PaperboyError,
    StoreError,
    UpstreamError,
    UserInputError,
)
from bot.events import (
    CallerLookup,
    CommandEvent,
    DetailsReply,
    DigestReply,
    ErrorReply,
    FileReply,
    HelpReply,
    Ignored,
    ListReply,
    NoticeReply,
    PostTarget,
    ReactionEvent,
    Reply,
    SaveReply,
    SearchHitView,
    SearchReply,
    Visibility,
)
from bot.models import ChatRef, Digest, Paper, Saver
from bot.posting import DailyPoster, PostOutcome
from bot.prefetch import prefetch_summaries
from bot.schedule import local_today
from bot.search import SEARCH_USAGE, Searcher, parse_query
from bot.sources.arxiv import ArxivClient
from bot.sources.huggingface import HuggingFaceClient
from bot.store import Store
from bot.summaries import Summarizer, instant_summary

log = logging.getLogger(__name__)

LIST_SHOWN = 20
SEARCH_SHOWN = 5

# Emoji names and the characters Discord and terminals send for them.
EMOJI_CHARS = {"pushpin": "📌", "round_pushpin": "📍", "bookmark": "🔖", "star": "⭐",
               "bookmark_tabs": "📑", "books": "📚"}


STOPPING_NOTICE = "Paperboy is restarting: try again in a minute."


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
        self._store = store
        self._hf = hf
        self._arxiv = arxiv
        self._summarizer = summarizer
        self._searcher = searcher
        self.clock = clock or (lambda: datetime.now(UTC))
        self.save_emoji = normalise_emoji(save_emoji)
        self.candidates = daily.CandidateCache(
            config, hf=hf, arxiv=arxiv, store=store, clock=self.clock,
            index=searcher.index_papers if searcher is not None else None,
        )
        self.saved_lists = daily.SavedLists(store, self.clock)
        self.poster = DailyPoster(
            store=store, candidates=self.candidates, saved_lists=self.saved_lists,
            summarizer=summarizer, clock=self.clock,
            today=lambda target: self.local_today(target.channel),
        )
        # Channels set up from chat (`/papers subscribe`, `settings <change>`, `unsubscribe`).
        self.channels = ChannelAdmin(config, store, self.clock, self.channel_for)

    # --- commands -------------------------------------------------------------------------

    async def handle_command(self, event: CommandEvent) -> Reply:
        """Run one `/papers` command, typed (`event.command`) or as text, under a request id
        that every log line it causes carries."""
        requestid.begin()
        log.debug("command from %s in %s: %s", event.user, event.where.channel,
                  type(event.command).__name__ if event.command else "text")
        return await self._handle_command(event)

    async def _handle_command(self, event: CommandEvent) -> Reply:
        if self.poster.stopping.is_set():
            # Stopping takes seconds; a command started now could be cut off mid-reply.
            return NoticeReply(STOPPING_NOTICE)
        try:
            command = event.command
            if command is None:
                command = (event.build() if event.build is not None
                           else commands.parse_command(event.text))
        except UserInputError as exc:
            if exc.usage == SETTINGS_SYNTAX:
                return HelpReply(commands.help_for("settings"), error=str(exc),
                                 syntax=SETTINGS_SYNTAX)
            # Options refused: the help of the subcommand they belong to.
            named = commands.help_for(event.text) if event.build is not None else ()
            return HelpReply(named or commands.HELP, error=str(exc))
        return await self.run_command(event.where, event.user, command, caller=event.caller)

    async def run_command(self, where: ChatRef, user: str, command: commands.Command, *,
                          caller: CallerLookup | None = None) -> Reply:
        """Run an already typed command. Bad input, refusals and upstream or store failures
        become replies; a bug propagates. `caller` says whether the user may manage the
        channel (asked only by the commands that change it)."""
        name = type(command).__name__.lower()
        try:
            return await self._run(where, user, command, caller)
        except UserInputError as exc:
            if exc.usage is None:
                return NoticeReply(str(exc))  # not about usage: the usage would not help
            topic = commands.help_for(name) or commands.HELP
            syntax = exc.usage if exc.usage in (SEARCH_USAGE, SETTINGS_SYNTAX) else None
            return HelpReply(topic, error=str(exc), syntax=syntax)
        except PaperboyError as exc:
            # INFO: the user is told in the reply; the upstream or store logged the cause.
            log.info("/papers %s from %s failed: %s", name, user, exc)
            return ErrorReply(_one_line(exc))

    async def _run(self, where: ChatRef, user: str, command: commands.Command,
                   caller: CallerLookup | None = None) -> Reply:
        match command:
            case commands.Help(topic=topic):
                return HelpReply(commands.help_for(topic),
                                 syntax=SETTINGS_SYNTAX if topic == "settings" else None)
            case commands.Today(share=share):
                return DigestReply(await self.today(where), visibility=_shown(share))
            case commands.Search(query=query, share=share, limit=limit):
                return await self._search(where, query, limit or SEARCH_SHOWN, _shown(share))
            case commands.Save(arxiv_id=arxiv_id):
                return await self.save(where, user, arxiv_id)
            case commands.Unsave(arxiv_id=arxiv_id):
                return await self.unsave(where, user, arxiv_id)
            case commands.List(share=share):
                entries = await self._store.saved_papers(where.platform, where.team,
                                                         limit=LIST_SHOWN)
                total = await self._store.count_saved(where.platform, where.team)
                return ListReply(tuple(entries), total, visibility=_shown(share))
            case commands.Export(format=fmt, share=share):
                entries = await self._store.saved_papers(where.platform, where.team)
                filename, mime, content = export.export(entries, fmt)
                return FileReply(filename, mime, content, len(entries),
                                 visibility=_shown(share))
            case commands.Settings(change=None):
                return await self.channels.show(where, self.save_emoji)
            case commands.Settings(change=change) if change is not None:
                return await self.channels.change(where, user, caller, change, self.save_emoji)
            case Subscribe():
                return await self.channels.subscribe(where, user, caller, command,
                                                     self.save_emoji)
            case Unsubscribe():
                return await self.channels.unsubscribe(where, user, caller)
        raise AssertionError(f"unhandled command {command!r}")

    async def today(self, where: ChatRef) -> Digest:
        """This channel's picks for its local today, including what it was already sent
        today (so the answer matches the morning post)."""
        channel = (await self.channels.channel(where))[0] or _adhoc_channel(where)
        day = self.local_today(channel)
        record = await self._store.get_post(where.channel_ref, day)
        seen = frozenset(i.arxiv_id for i in record.items if i.arxiv_id) if record else ()
        candidates = await self.candidates.get(day, day)
        audience = daily.Audience(channel, where.channel_ref, frozenset(seen))
        return (await daily.build_digests(
            candidates, [audience], store=self._store, summarizer=self._summarizer,
            saved_lists=self.saved_lists,
        ))[0]

    async def _search(
        self, where: ChatRef, query: str, limit: int, visibility: Visibility
    ) -> SearchReply:
        parsed = parse_query(query)  # the one check of a query, before anything else is asked
        if self._searcher is None:
            raise UserInputError("search is not available in this bot")
        results = await self._searcher.search(
            parsed, limit=limit, team=(where.platform, where.team), channel=where.channel_ref
        )
        hits = tuple(
            SearchHitView(hit.paper, instant_summary(hit.paper).text, hit.snippet, hit.match)
            for hit in results.hits
        )
        note = results.note or (None if hits else "no papers matched")
        return SearchReply(query, hits, note, visibility=visibility)

    # --- the team list --------------------------------------------------------------------

    async def save(self, where: ChatRef, user: str, arxiv_id: str) -> SaveReply:
        """Save a paper to the team list for `user` (idempotent)."""
        paper = await self.find_paper(arxiv_id)
        saver = Saver(user=user, saved_at=self.clock(), where=where)
        change = await self._store.save(where.platform, where.team, paper, saver)
        log.info("%s saved %s in %s:%s (%s)", user, paper.arxiv_id, where.platform, where.team,
                 "new" if change.changed else "already saved")
        return SaveReply(change.paper or paper, saved=True, changed=change.changed,
                         savers=change.savers)

    async def unsave(self, where: ChatRef, user: str, arxiv_id: str) -> SaveReply:
        """Remove `user`'s save; the entry goes when nobody else saved it."""
        change = await self._store.unsave(where.platform, where.team, arxiv_id, user)
        if change.paper is None:
            raise UserInputError(f"{arxiv_id} is not on your team's list")
        return SaveReply(change.paper, saved=False, changed=change.changed,
                         savers=change.savers)

    async def handle_reaction(self, event: ReactionEvent, *, bot_user: str | None) -> Reply:
        """Save or unsave by reaction. `Ignored` when the reaction is not the bot's to handle:
        another emoji, the bot's own reaction (`bot_user`, from the adapter's identity), or
        a message that is not a paper the bot posted."""
        requestid.begin()
        return await self._handle_reaction(event, bot_user=bot_user)

    async def _handle_reaction(self, event: ReactionEvent, *, bot_user: str | None) -> Reply:
        if bot_user is not None and event.user == bot_user:
            return Ignored("that is my own reaction")
        if normalise_emoji(event.emoji) != self.save_emoji:
            return Ignored(f"{event.emoji} is not the save emoji (:{self.save_emoji}:)")
        arxiv_id = await self._paper_at(event.where)
        if arxiv_id is None:
            return Ignored("that message is not a paper I posted")
        try:
            if event.added:
                return await self.save(event.where, event.user, arxiv_id)
            return await self.unsave(event.where, event.user, arxiv_id)
        except UserInputError:
            # Removing a reaction whose save was already undone by command: nothing to do.
            return Ignored(f"{arxiv_id} is not on your team's list")
        except PaperboyError as exc:
            log.warning("saving %s by reaction for %s failed: %s", arxiv_id, event.user, exc)
            return ErrorReply(_one_line(exc))

    async def details(self, message: ChatRef) -> Reply:
        """The full abstract of the paper a posted message carries, for its thread."""
        arxiv_id = await self._paper_at(message)
        if arxiv_id is None:
            return Ignored("that message is not a paper I posted")
        try:
            paper = await self.find_paper(arxiv_id)
        except PaperboyError as exc:
            return ErrorReply(_one_line(exc))
        # Private by default: whoever asked reads it; an adapter may instead post it in the
        # message's thread (Publisher.post_in_thread) where the discussion lives.
        return DetailsReply(paper, ChatRef(message.platform, message.team, message.channel,
                                           thread=message.message))

    async def find_paper(self, arxiv_id: str) -> Paper:
        """A paper by canonical id: the cache, then Hugging Face, then arXiv."""
        known = await self._store.get_papers([arxiv_id])
        if arxiv_id in known:
            return known[arxiv_id]
        paper: Paper | None = None
        hf_failure: UpstreamError | None = None
        try:
            paper = await self._hf.paper(arxiv_id)
        except UpstreamError as exc:
            log.warning("Hugging Face lookup of %s failed: %s", arxiv_id, exc)
            hf_failure = exc
        if paper is None and self._arxiv is not None:
            found = await self._arxiv.by_ids([arxiv_id])
            paper = found[0] if found else None
        if paper is None:
            if hf_failure is not None:
                # Hugging Face could not say: "no such paper" would be a guess, and wrong.
                raise hf_failure
            raise InvalidPaperId(f"no paper {arxiv_id} on Hugging Face or arXiv")
        if not self._store.readonly:
            await self._store.put_papers([paper])
            if self._searcher is not None:
                await self._searcher.index_papers([paper])
        return paper

    async def _paper_at(self, message: ChatRef) -> str | None:
        if message.message is None:
            return None
        return await self._store.paper_for_message(message)

    async def index_papers(self, papers: list[Paper]) -> int:
        """Offer papers another process put in a shared store to this process's search
        index (bot.replicas); how many were queued (0 without an index)."""
        if self._searcher is None:
            return 0
        return await self._searcher.index_papers(papers)

    async def close(self) -> None:
        """Commit what is queued for the search index; call once, when the bot stops."""
        if self._searcher is not None:
            await self._searcher.close()

    async def warm_up(self, targets: Iterable[PostTarget]) -> None:
        """Read each team's list (the targets' teams and every team the store knows) and each
        channel's post ledger once, at start, so that the first `/papers list`, 📌 or
        morning post after a restart does not pay for it (a 20,000-paper list or a year of
        posts takes seconds to read whole)."""
        targets = list(targets)
        teams = {(t.where.platform, t.where.team) for t in targets}
        try:
            # Teams with a list but no daily channel here are asked `/papers list` too.
            teams.update(await self._store.known_teams())
        except StoreError as exc:
            log.warning("could not look for the teams in the data directory: %s", exc)
        for platform, team in sorted(teams):
            try:
                await self._store.count_saved(platform, team)
            except StoreError as exc:  # the list's own commands will say what is wrong
                log.warning("could not read the team list of %s:%s: %s", platform, team, exc)
        for target in targets:
            try:
                await self._store.posted_ids(target.where)
            except StoreError as exc:  # the post itself will stop and say so
                log.warning("could not read the post ledger of #%s: %s",
                            target.channel.name, exc)

    # --- daily posts started by hand ------------------------------------------------------

    async def post_now(
        self, target: PostTarget, day: date | None = None, *, force: bool = False
    ) -> Reply:
        """Run `target`'s daily post now (`/post`), and say how it went. Settings changed
        from chat apply, as they do to the scheduled post."""
        effective = (await self.channels.channel(target.where))[0]
        if effective is not None:
            target = replace(target, channel=effective)
        day = day or self.local_today(target.channel)
        try:
            outcome = await self.poster.post(target, day, force=force)
        except PaperboyError as exc:
            log.warning("#%s: the post by hand failed: %s", target.channel.name, exc)
            return ErrorReply(_one_line(exc))
        return NoticeReply(describe_outcome(outcome), visibility="private")

    # --- channels -------------------------------------------------------------------------

    def channel_for(self, where: ChatRef) -> ChannelConfig | None:
        """The configured channel a chat address belongs to: same platform and channel id,
        and the same team when the channel names one."""
        return next(
            (c for c in self.config.channels
             if c.platform == where.platform and c.id == where.channel
             and (c.team is None or c.team == where.team)),
            None,
        )

    def local_today(self, channel: ChannelConfig) -> date:
        return local_today(channel, self.clock())

    async def prefetch_summaries(self, targets: Sequence[PostTarget], day: date) -> int:
        """Start summarising these channels' likely picks for `day` (bot.prefetch)."""
        today = self.local_today(targets[0].channel) if targets else day
        return await prefetch_summaries(
            targets, day, today, candidates=self.candidates, store=self._store,
            saved_lists=self.saved_lists, summarizer=self._summarizer,
        )


def describe_outcome(outcome: PostOutcome) -> str:
    """One line about a daily post, for whoever started it by hand."""
    channel, day = f"#{outcome.channel}", outcome.day.isoformat()
    match outcome.status:
        case "already" if outcome.note and outcome.note.startswith("being posted"):
            return f"{channel}'s post for {day} is {outcome.note}."
        case "already":
            return f"Today's post for {channel} is already out ({day}); scroll up."
        case "empty":
            return f"Nothing to post in {channel} for {day}: {outcome.note}."
        case "stopped":
            return f"Stopped {channel}'s post for {day}; the rest goes out at the next start."
        case "resumed":
            return f"Finished {channel}'s interrupted post for {day}."
    return f"Posted {channel}'s picks for {day}."


def normalise_emoji(emoji: str) -> str:
    """`:pushpin:`, `pushpin`, `📌` and Slack's `pushpin::skin-tone-2` all become `pushpin`."""
    # U+FE0F (emoji presentation) is often appended by keyboards: "📌\ufe0f" is still 📌.
    name = emoji.strip().strip(":").split("::")[0].lower().replace("\ufe0f", "")
    for known, char in EMOJI_CHARS.items():
        if name == char.replace("\ufe0f", ""):
            return known
    return name


def _adhoc_channel(where: ChatRef) -> ChannelConfig:
    # `/papers today` in a channel without a schedule gets the default profile.
    return ChannelConfig(name=where.channel, platform=where.platform, id=where.channel)


def _shown(share: bool) -> Visibility:
    return "channel" if share else "private"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or exc.__class__.__name__


__all__ = ["Service", "describe_outcome", "normalise_emoji"]
