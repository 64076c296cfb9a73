"""Set a channel's daily post up from chat: subscribe, change its settings, unsubscribe.

The use cases behind `/papers subscribe`, `/papers settings <change>` and `/papers
unsubscribe` (parsed by bot.channel_grammar), and the one place that decides which settings
a channel has: its setup from chat (team state in the Store, bot.channel_setup) over its
`[[channels]]` table in config.toml, over nothing.

Chat may override a config.toml channel: its schedule and filters chat can set (time,
timezone, days, keywords, exclude, top) then come from chat, the rest (name, min_upvotes,
authors, categories, on_empty) still from the file, and `/papers settings` says so.
`unsubscribe` there removes the chat settings, and the channel posts as config.toml says
again: only the file's owner removes a config channel. This way a workspace whose admin
never sees config.toml works from chat alone, and a file channel is never silently lost.

Who may change a channel: the platform's managers (a Slack workspace admin or owner, a
Discord member with Manage Channels, the console's user — the adapter says, `CallerInfo`)
and the user who subscribed it. A channel with no daily post may be subscribed by anyone,
who becomes its subscriber; a config.toml channel only by managers. Others are refused in
one line that says who may. Every change is stored before `on_change` tells the running
scheduler (bot.chat_channels), so a restart schedules what the last reply said.
Called by bot.service; replies are data, worded here and in bot.display.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from bot.channel_grammar import MAX_WORDS, ChannelChange, Subscribe
from bot.channel_setup import DEFAULT_DAYS, DEFAULT_TIME, DEFAULT_TOP_N, ChannelSetup
from bot.config import WEEKDAYS, ChannelConfig, Config
from bot.errors import UserInputError
from bot.events import CallerInfo, CallerLookup, ChannelSource, NoticeReply, Reply, SettingsReply
from bot.models import ChatRef
from bot.schedule import next_post_at
from bot.store import Store

log = logging.getLogger(__name__)

ChangeListener = Callable[[ChatRef], Awaitable[None]]

# Who may change a channel, by platform, for the refusal line.
MANAGERS = {
    "slack": "workspace admins",
    "discord": "members with the Manage Channels permission",
    "console": "the console's user",
}


def chat_channel_name(where: ChatRef) -> str:
    """The name a channel set up from chat goes by in logs and the scheduler."""
    return f"{where.platform}:{where.team}:{where.channel}"


def default_timezone(config: Config) -> str:
    """The timezone a subscription takes when the caller's is unknown: the one every
    config.toml channel uses, else UTC."""
    zones = {channel.timezone for channel in config.channels}
    return zones.pop() if len(zones) == 1 else "UTC"


def config_file(config: Config) -> str:
    """ "config.toml" (the file's name), or "the built-in defaults" without a file."""
    return config.source_path.name if config.source_path is not None else \
        "the built-in defaults"


def effective_channel(
    where: ChatRef, configured: ChannelConfig | None, setup: ChannelSetup | None
) -> ChannelConfig | None:
    """The settings `where` posts with: the setup from chat over the config.toml channel."""
    if setup is None:
        return configured
    base = configured or ChannelConfig(
        name=chat_channel_name(where), platform=where.platform, id=where.channel,
        team=where.team,
    )
    return replace(base, time=setup.time, timezone=setup.timezone, days=setup.days,
                   keywords=setup.keywords, exclude=setup.exclude, top_n=setup.top_n)


class ChannelAdmin:
    """The channel-setup use cases of one running bot. `on_change` is set by the running
    bot to reschedule a channel once its setup was stored."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Callable[[], datetime],
        configured: Callable[[ChatRef], ChannelConfig | None],
    ) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._configured = configured
        # Where config channels come from, as replies name it.
        self._file = config_file(config)
        self.on_change: ChangeListener | None = None
        # Read, change, write: one change at a time in this process (a second replica
        # sharing the store makes it last-writer-wins per channel).
        self._lock = asyncio.Lock()

    async def channel(
        self, where: ChatRef
    ) -> tuple[ChannelConfig | None, ChannelSource, ChannelSetup | None]:
        """The settings `where` posts with, where they come from, and its chat setup."""
        where = where.channel_ref
        configured = self._configured(where)
        setup = await self._store.get_channel_setup(where)
        source: ChannelSource = "config"
        if setup is not None:
            source = "chat over config" if configured is not None else "chat"
        return effective_channel(where, configured, setup), source, setup

    async def setups(self) -> list[ChannelSetup]:
        """Every channel set up from chat (for the running bot's start)."""
        return await self._store.channel_setups()

    async def show(self, where: ChatRef, save_emoji: str, note: str | None = None
                   ) -> SettingsReply:
        channel, source, setup = await self.channel(where)
        next_run = next_post_at(channel, self._clock()) if channel is not None else None
        return SettingsReply(channel, next_run=next_run, save_emoji=save_emoji, source=source,
                             subscriber=setup.subscriber if setup else None, note=note,
                             config_file=self._file)

    async def subscribe(self, where: ChatRef, user: str, caller: CallerLookup | None,
                        command: Subscribe, save_emoji: str) -> Reply:
        where = where.channel_ref
        async with self._lock:
            configured = self._configured(where)
            setup = await self._store.get_channel_setup(where)
            if setup is not None and command == Subscribe():
                return await self.show(where, save_emoji, note=(
                    "This channel is already subscribed; change it with /papers settings, "
                    "stop it with /papers unsubscribe."))
            info = await _ask(caller)
            refusal = _refusal(where, user, info, setup, configured, self._file, starting=True)
            if refusal is not None:
                return refusal
            base = setup or self._new_setup(where, user, info, configured)
            updated = replace(
                base, time=command.time or base.time, timezone=command.timezone or base.timezone,
                days=command.days or base.days, updated_at=self._clock(), updated_by=user,
            )
            await self._store.put_channel_setup(updated)
        log.info("%s subscribed %s (%s %s %s)", user, chat_channel_name(where), updated.time,
                 updated.timezone, ",".join(updated.days))
        await self._changed(where)
        when = f"{updated.time} {updated.timezone}, {_days(updated.days)}"
        if setup is not None:
            note = f"Daily post now at {when}."
        elif configured is not None:
            note = (f"This channel posts from {self._file}; its schedule and filters are now "
                    f"set from chat: daily at {when}. /papers unsubscribe goes back to "
                    f"{self._file}.")
        else:
            note = (f"Subscribed: daily picks here at {when}. Change them with "
                    "/papers settings, stop them with /papers unsubscribe.")
        return await self.show(where, save_emoji, note=note)

    async def change(self, where: ChatRef, user: str, caller: CallerLookup | None,
                     change: ChannelChange, save_emoji: str) -> Reply:
        where = where.channel_ref
        if change.empty:
            return await self.show(where, save_emoji)
        async with self._lock:
            configured = self._configured(where)
            setup = await self._store.get_channel_setup(where)
            if setup is None and configured is None:
                return NoticeReply("This channel has no daily post; start one with "
                                   "/papers subscribe [HH:MM] [timezone] [days].")
            info = await _ask(caller)
            refusal = _refusal(where, user, info, setup, configured, self._file,
                               starting=False)
            if refusal is not None:
                return refusal
            base = setup or self._new_setup(where, user, info, configured)
            updated, notes = _apply(base, change)
            updated = replace(updated, updated_at=self._clock(), updated_by=user)
            await self._store.put_channel_setup(updated)
        log.info("%s changed %s: %s", user, chat_channel_name(where), " ".join(notes))
        await self._changed(where)
        return await self.show(where, save_emoji, note=" ".join(notes))

    async def unsubscribe(self, where: ChatRef, user: str, caller: CallerLookup | None
                          ) -> Reply:
        where = where.channel_ref
        async with self._lock:
            configured = self._configured(where)
            setup = await self._store.get_channel_setup(where)
            if setup is None:
                if configured is not None:
                    return NoticeReply(f"This channel's daily post comes from {self._file}; "
                                       "whoever runs the bot removes it there.")
                return NoticeReply("This channel has no daily post to stop.")
            refusal = _refusal(where, user, await _ask(caller), setup, configured, self._file,
                               starting=False)
            if refusal is not None:
                return refusal
            await self._store.delete_channel_setup(where)
        log.info("%s unsubscribed %s", user, chat_channel_name(where))
        await self._changed(where)
        if configured is not None:
            return NoticeReply(
                f"Chat settings removed: this channel posts as {self._file} says again "
                f"({configured.time} {configured.timezone}, {_days(configured.days)}).")
        return NoticeReply("Unsubscribed: no more daily picks here. "
                           "/papers subscribe starts them again.")

    def _new_setup(self, where: ChatRef, user: str, info: CallerInfo,
                   configured: ChannelConfig | None) -> ChannelSetup:
        now = self._clock()
        if configured is not None:
            return ChannelSetup(
                channel=where, time=configured.time, timezone=configured.timezone,
                days=configured.days, keywords=configured.keywords, exclude=configured.exclude,
                top_n=configured.top_n, subscriber=user, updated_at=now, updated_by=user,
            )
        return ChannelSetup(
            channel=where, time=DEFAULT_TIME,
            timezone=info.timezone or default_timezone(self._config), days=DEFAULT_DAYS,
            top_n=DEFAULT_TOP_N, subscriber=user, updated_at=now, updated_by=user,
        )

    async def _changed(self, where: ChatRef) -> None:
        if self.on_change is not None:
            await self.on_change(where)


async def _ask(caller: CallerLookup | None) -> CallerInfo:
    return await caller() if caller is not None else CallerInfo(may_manage=False)


def _refusal(where: ChatRef, user: str, info: CallerInfo, setup: ChannelSetup | None,
             configured: ChannelConfig | None, config_file: str, *, starting: bool
             ) -> NoticeReply | None:
    """None when `user` may make this change; else the one line that says who may."""
    if info.may_manage:
        return None
    if setup is not None and setup.subscriber == user:
        return None
    if starting and setup is None and configured is None:
        return None  # a channel without a daily post: whoever starts one owns it
    managers = MANAGERS.get(where.platform, "admins")
    if setup is None:
        return NoticeReply(f"Only {managers} may change this channel's daily post "
                           f"(it comes from {config_file}).")
    return NoticeReply(f"Only {managers} or the member who subscribed this channel "
                       "(see /papers settings) may change its daily post.")


def _apply(setup: ChannelSetup, change: ChannelChange) -> tuple[ChannelSetup, list[str]]:
    """`setup` with `change` applied, and one short sentence per thing changed."""
    notes: list[str] = []
    if change.time or change.timezone:
        setup = replace(setup, time=change.time or setup.time,
                        timezone=change.timezone or setup.timezone)
        notes.append(f"Daily post now at {setup.time} {setup.timezone}.")
    if change.days:
        setup = replace(setup, days=change.days)
        notes.append(f"Posting days now {_days(setup.days)}.")
    if change.top_n is not None:
        setup = replace(setup, top_n=change.top_n)
        notes.append(f"Now {change.top_n} picks a day at most.")
    for label, clear, add, remove in (
        ("keywords", change.keywords_clear, change.keywords_add, change.keywords_remove),
        ("exclude", change.exclude_clear, change.exclude_add, change.exclude_remove),
    ):
        if not (clear or add or remove):
            continue
        words: tuple[str, ...] = () if clear else getattr(setup, label)
        known = {w.casefold() for w in words}
        if len(remove) > 1 and " ".join(remove).casefold() in known:
            remove = (" ".join(remove),)  # "remove video generation" means that phrase
        words += tuple(w for w in add if w.casefold() not in known)
        missing = [w for w in remove if w.casefold() not in {k.casefold() for k in words}]
        gone = {w.casefold() for w in remove}
        words = tuple(w for w in words if w.casefold() not in gone)
        if len(words) > MAX_WORDS:
            raise UserInputError(f"at most {MAX_WORDS} {label} per channel; remove some first")
        setup = replace(setup, **{label: words})
        if missing:
            notes.append(f"Not in {label}: {', '.join(missing)}.")
        notes.append(f"{label.capitalize()} now: {', '.join(words) or 'none'}.")
    return setup, notes


def _days(days: tuple[str, ...]) -> str:
    """ "mon–fri", "mon, wed, fri", "every day" """
    if len(days) == 7:
        return "every day"
    indexes = [WEEKDAYS.index(d) for d in days]
    if len(days) > 2 and indexes == list(range(indexes[0], indexes[0] + len(days))):
        return f"{days[0]}–{days[-1]}"
    return ", ".join(days) or "no days"


__all__ = ["MANAGERS", "ChannelAdmin", "chat_channel_name", "default_timezone",
           "effective_channel"]
