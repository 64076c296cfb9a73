"""Setting a channel's daily post up from chat, through the real Service and TinyDB store.

The caller's standing comes from the adapter (`CallerInfo`); here a small lookup plays it,
counting how often it is asked. What is asserted: the reply, and what the store keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channel_grammar import SETTINGS_SYNTAX
from bot.config import ChannelConfig
from bot.errors import UpstreamError
from bot.events import (
    CallerInfo,
    CommandEvent,
    DigestReply,
    ErrorReply,
    HelpReply,
    NoticeReply,
    Reply,
    SettingsReply,
)
from bot.models import ChatRef
from bot.service import Service
from tests.service.conftest import CHANNEL, TEAM, WHERE, Services

NEW = ChatRef("slack", TEAM, "C0NEW")  # a channel config.toml does not list


@dataclass
class Caller:
    """What the platform says about a user; `asked` counts the lookups."""

    may_manage: bool = False
    timezone: str | None = None
    fails: bool = False
    asked: int = 0

    async def __call__(self) -> CallerInfo:
        self.asked += 1
        if self.fails:
            raise UpstreamError("users.info: ratelimited", source="slack")
        return CallerInfo(self.may_manage, self.timezone)


MEMBER, ADMIN = Caller(), Caller(may_manage=True)


async def say(service: Service, text: str, *, user: str = "U0ANA", where: ChatRef = NEW,
              caller: Caller | None = None) -> Reply:
    return await service.handle_command(
        CommandEvent(where, user, text, caller=caller or Caller()))


async def settings(service: Service, where: ChatRef = NEW) -> SettingsReply:
    reply = await say(service, "settings", where=where)
    assert isinstance(reply, SettingsReply)
    return reply


@pytest.fixture
def service(services: Services, tmp_path: Path) -> Service:
    return services.make(CHANNEL, source_path=tmp_path / "config.toml")


# --- subscribe ---------------------------------------------------------------------------------


async def test_subscribe_starts_a_weekday_post_at_nine(service: Service) -> None:
    await say(service, "subscribe")
    channel = (await settings(service)).channel
    assert channel is not None and (channel.time, channel.days) == (
        "09:00", ("mon", "tue", "wed", "thu", "fri"))


async def test_subscribe_takes_the_config_timezone_when_the_caller_has_none(
    services: Services,
) -> None:
    service = services.make(ChannelConfig(name="a", platform="slack", id="C1",
                                          timezone="Europe/Berlin"))
    await say(service, "subscribe")
    assert (await service.channels.channel(NEW))[0].timezone == "Europe/Berlin"  # type: ignore[union-attr]


async def test_subscribe_takes_the_callers_timezone(service: Service) -> None:
    await say(service, "subscribe", caller=Caller(timezone="Asia/Tokyo"))
    assert (await service.channels.channel(NEW))[0].timezone == "Asia/Tokyo"  # type: ignore[union-attr]


async def test_subscribe_is_kept_as_team_state(service: Service, services: Services) -> None:
    await say(service, "subscribe 07:15 Europe/Paris mon,thu")
    setup = await (await services.reopen()).get_channel_setup(NEW)
    assert setup is not None and (setup.time, setup.timezone, setup.days, setup.subscriber) == (
        "07:15", "Europe/Paris", ("mon", "thu"), "U0ANA")


async def test_subscribe_reply_says_when_and_how_to_change_it(service: Service) -> None:
    reply = await say(service, "subscribe 07:15 Europe/Paris")
    assert isinstance(reply, SettingsReply) and reply.note == (
        "Subscribed: daily picks here at 07:15 Europe/Paris, mon–fri. Change them with "
        "/papers settings, stop them with /papers unsubscribe.")


async def test_settings_of_a_subscribed_channel_say_it_was_set_up_from_chat(
    service: Service,
) -> None:
    await say(service, "subscribe")
    reply = await settings(service)
    assert (reply.source, reply.subscriber) == ("chat", "U0ANA")


async def test_any_member_may_subscribe_a_channel_without_a_post(service: Service) -> None:
    caller = Caller()
    reply = await say(service, "subscribe", caller=caller)
    assert isinstance(reply, SettingsReply) and reply.channel is not None


async def test_subscribing_again_changes_nothing(service: Service) -> None:
    await say(service, "subscribe 07:00")
    reply = await say(service, "subscribe")
    assert isinstance(reply, SettingsReply) and reply.channel is not None \
        and reply.channel.time == "07:00"


# --- who may change ------------------------------------------------------------------------


async def test_another_member_is_refused_in_one_line_that_says_who_may(
    service: Service,
) -> None:
    await say(service, "subscribe", user="U0ANA")
    reply = await say(service, "settings top 2", user="U0BOB")
    assert reply == NoticeReply("Only workspace admins or the member who subscribed this "
                                "channel (see /papers settings) may change its daily post.")


async def test_refused_change_is_not_stored(service: Service, services: Services) -> None:
    await say(service, "subscribe", user="U0ANA")
    await say(service, "settings top 2", user="U0BOB")
    setup = await services.store.get_channel_setup(NEW)
    assert setup is not None and setup.top_n == 5


async def test_another_member_cannot_unsubscribe(service: Service, services: Services) -> None:
    await say(service, "subscribe", user="U0ANA")
    await say(service, "unsubscribe", user="U0BOB")
    assert await services.store.get_channel_setup(NEW) is not None


async def test_the_subscriber_may_change_it(service: Service) -> None:
    await say(service, "subscribe", user="U0ANA")
    await say(service, "settings top 2", user="U0ANA")
    assert (await settings(service)).channel.top_n == 2  # type: ignore[union-attr]


async def test_an_admin_may_change_it(service: Service) -> None:
    await say(service, "subscribe", user="U0ANA")
    await say(service, "settings top 3", user="U0BOB", caller=Caller(may_manage=True))
    assert (await settings(service)).channel.top_n == 3  # type: ignore[union-attr]


async def test_an_admins_change_records_who_made_it(service: Service, services: Services) -> None:
    await say(service, "subscribe", user="U0ANA")
    await say(service, "settings top 3", user="U0BOB", caller=Caller(may_manage=True))
    setup = await services.store.get_channel_setup(NEW)
    assert setup is not None and (setup.subscriber, setup.updated_by) == ("U0ANA", "U0BOB")


async def test_showing_settings_does_not_ask_the_platform(service: Service) -> None:
    caller = Caller()
    await say(service, "settings", caller=caller)
    assert caller.asked == 0


async def test_platform_failing_to_say_who_the_caller_is_changes_nothing(
    service: Service, services: Services,
) -> None:
    await say(service, "subscribe", user="U0ANA")
    reply = await say(service, "settings top 2", user="U0BOB", caller=Caller(fails=True))
    setup = await services.store.get_channel_setup(NEW)
    assert isinstance(reply, ErrorReply) and setup is not None and setup.top_n == 5


# --- settings ----------------------------------------------------------------------------------


async def test_settings_change_on_a_channel_without_a_post_says_how_to_start_one(
    service: Service,
) -> None:
    reply = await say(service, "settings top 2")
    assert reply == NoticeReply("This channel has no daily post; start one with "
                                "/papers subscribe [HH:MM] [timezone] [days].")


async def test_keywords_add_then_remove(service: Service) -> None:
    await say(service, "subscribe")
    await say(service, "settings keywords add diffusion, video generation, agents")
    await say(service, "settings keywords remove video generation")
    assert (await settings(service)).channel.keywords == ("diffusion", "agents")  # type: ignore[union-attr]


async def test_keyword_added_twice_is_kept_once(service: Service) -> None:
    await say(service, "subscribe")
    await say(service, "settings keywords add diffusion")
    await say(service, "settings keywords add Diffusion")
    assert (await settings(service)).channel.keywords == ("diffusion",)  # type: ignore[union-attr]


async def test_removing_a_word_that_is_not_there_says_so(service: Service) -> None:
    await say(service, "subscribe")
    reply = await say(service, "settings exclude remove survey")
    assert isinstance(reply, SettingsReply) and reply.note == (
        "Not in exclude: survey. Exclude now: none.")


async def test_time_change_reply_says_the_new_time(service: Service) -> None:
    await say(service, "subscribe")
    reply = await say(service, "settings time 08:30 Europe/Paris")
    assert isinstance(reply, SettingsReply) and reply.note == (
        "Daily post now at 08:30 Europe/Paris.")


async def test_settings_show_the_next_post_in_the_channels_timezone(service: Service) -> None:
    await say(service, "subscribe 08:30 Europe/Paris")
    reply = await settings(service)  # the clock: Fri 12 Jun 2026 08:00 UTC = 10:00 Paris
    assert reply.next_run is not None and reply.next_run.isoformat() == \
        "2026-06-15T08:30:00+02:00"


async def test_too_many_keywords_are_refused(service: Service) -> None:
    await say(service, "subscribe")
    await say(service, "settings keywords add " + ", ".join(f"k{i}" for i in range(30)))
    reply = await say(service, "settings keywords add one more")
    assert reply == NoticeReply("at most 30 keywords per channel; remove some first")


async def test_today_uses_the_chat_settings(service: Service) -> None:
    await say(service, "subscribe")
    await say(service, "settings top 2")
    reply = await say(service, "today")
    assert isinstance(reply, DigestReply) and len(reply.digest.picks) == 2


# --- unsubscribe -------------------------------------------------------------------------------


async def test_unsubscribe_forgets_the_channel(service: Service, services: Services) -> None:
    await say(service, "subscribe")
    reply = await say(service, "unsubscribe")
    assert (reply, await services.store.get_channel_setup(NEW)) == (
        NoticeReply("Unsubscribed: no more daily picks here. "
                    "/papers subscribe starts them again."), None)


async def test_unsubscribe_without_a_post_says_there_is_none(service: Service) -> None:
    assert await say(service, "unsubscribe") == NoticeReply(
        "This channel has no daily post to stop.")


# --- a config.toml channel -------------------------------------------------------------------


async def test_config_channel_settings_say_they_come_from_the_file(service: Service) -> None:
    reply = await settings(service, WHERE)
    assert (reply.source, reply.subscriber) == ("config", None)


async def test_member_cannot_change_a_config_channel(service: Service) -> None:
    reply = await say(service, "settings top 2", where=WHERE)
    assert reply == NoticeReply("Only workspace admins may change this channel's daily post "
                                "(it comes from config.toml).")


async def test_member_cannot_subscribe_a_config_channel(
    service: Service, services: Services,
) -> None:
    await say(service, "subscribe 06:00", where=WHERE)
    assert await services.store.get_channel_setup(WHERE) is None


async def test_admin_change_overrides_the_config_channel(service: Service) -> None:
    await say(service, "settings keywords add diffusion", where=WHERE, caller=ADMIN)
    reply = await settings(service, WHERE)
    assert reply.source == "chat over config" and reply.channel is not None and (
        reply.channel.name, reply.channel.keywords, reply.channel.time) == (
        "papers", ("diffusion",), "09:00")


async def test_unsubscribe_of_a_config_channel_goes_back_to_the_file(service: Service) -> None:
    await say(service, "settings time 06:00", where=WHERE, caller=ADMIN)
    reply = await say(service, "unsubscribe", where=WHERE, caller=ADMIN)
    assert reply == NoticeReply("Chat settings removed: this channel posts as config.toml "
                                "says again (09:00 UTC, mon–fri).")


async def test_unsubscribe_of_a_plain_config_channel_points_at_the_file(
    service: Service,
) -> None:
    reply = await say(service, "unsubscribe", where=WHERE, caller=ADMIN)
    assert reply == NoticeReply("This channel's daily post comes from config.toml; whoever "
                                "runs the bot removes it there.")


async def test_channel_of_the_built_in_defaults_is_named_so(services: Services) -> None:
    service = services.make(CHANNEL)  # no config file: the built-in defaults
    reply = await say(service, "unsubscribe", where=WHERE, caller=ADMIN)
    assert reply == NoticeReply("This channel's daily post comes from the built-in defaults; "
                                "whoever runs the bot removes it there.")


async def test_help_for_settings_shows_the_settings_grammar(service: Service) -> None:
    reply = await say(service, "help settings")
    assert isinstance(reply, HelpReply) and reply.syntax == SETTINGS_SYNTAX


async def test_bad_setting_gets_the_settings_help_not_all_of_it(service: Service) -> None:
    reply = await say(service, "settings top 99")
    assert isinstance(reply, HelpReply) and [h.name for h in reply.commands] == ["settings"]
