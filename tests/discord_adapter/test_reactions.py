"""📌 on a paper the bot posted saves it for the reacting user; the Save button does too.

Reactions are `RawReactionActionEvent`s built from the gateway's payload and handed to the
adapter's handler (one test sends them through the gateway itself); the button press is an
INTERACTION_CREATE. Asserts read the guild's list in the store and the fake Discord's wire.
"""

from __future__ import annotations

import logging

import discord
import pytest

from adapters.discord.adapter import DiscordAdapter
from tests.discord_adapter.conftest import (
    CHANNEL_ID,
    GUILD,
    PICKS,
    USER,
    Bot,
    papers_posted,
    post_today,
)
from tests.fakes.discord_api import BOT_ID, TOKEN, Payload, button_payload, reaction_payload

PIN = "📌"
CONFIRM = "%E2%9C%85"  # ✅ as it appears in the reaction route


def _event(message: int | str, emoji: str = PIN, *, user_id: int = USER, added: bool = True,
           custom_id: int | None = None) -> discord.RawReactionActionEvent:
    data = reaction_payload(GUILD, CHANNEL_ID, int(message), emoji, user_id=user_id,
                            custom_id=custom_id)
    partial = discord.PartialEmoji(name=emoji, id=custom_id)
    return discord.RawReactionActionEvent(
        data, partial, "REACTION_ADD" if added else "REACTION_REMOVE")  # type: ignore[arg-type]


async def _saved(bot: Bot) -> list[str]:
    return [e.paper.arxiv_id for e in await bot.services.store.saved_papers("discord",
                                                                            str(GUILD))]


@pytest.fixture
async def posted(bot: Bot) -> dict[str, str]:
    """Today's post is out; the id of each paper's message."""
    await post_today(bot)
    return {key: message["id"] for key, message in papers_posted(bot.fake).items()}


async def test_pushpin_on_a_paper_saves_it(bot: Bot, posted: dict[str, str]) -> None:
    await bot.adapter.on_reaction(_event(posted[PICKS[1]]), added=True)
    assert await _saved(bot) == [PICKS[1]]


async def test_saved_paper_is_marked_with_a_check(bot: Bot, posted: dict[str, str]) -> None:
    await bot.adapter.on_reaction(_event(posted[PICKS[1]]), added=True)
    assert bot.fake.reactions == [(CHANNEL_ID, int(posted[PICKS[1]]), "✅", True)]


async def test_pushpin_with_a_skin_tone_still_saves(bot: Bot, posted: dict[str, str]) -> None:
    await bot.adapter.on_reaction(_event(posted[PICKS[0]], PIN + "\U0001f3fd"), added=True)
    assert await _saved(bot) == [PICKS[0]]


async def test_removing_the_pushpin_unsaves(bot: Bot, posted: dict[str, str]) -> None:
    await bot.adapter.on_reaction(_event(posted[PICKS[1]]), added=True)
    await bot.adapter.on_reaction(_event(posted[PICKS[1]], added=False), added=False)
    assert await _saved(bot) == []


async def test_check_goes_when_nobody_has_the_paper_saved(
    bot: Bot, posted: dict[str, str]
) -> None:
    await bot.adapter.on_reaction(_event(posted[PICKS[1]]), added=True)
    await bot.adapter.on_reaction(_event(posted[PICKS[1]], added=False), added=False)
    assert bot.fake.reactions[-1] == (CHANNEL_ID, int(posted[PICKS[1]]), "✅", False)


async def test_check_is_added_once_and_stays_while_someone_has_it_saved(
    bot: Bot, posted: dict[str, str]
) -> None:
    await bot.adapter.on_reaction(_event(posted[PICKS[1]]), added=True)
    await bot.adapter.on_reaction(_event(posted[PICKS[1]], user_id=202), added=True)
    await bot.adapter.on_reaction(_event(posted[PICKS[1]], added=False), added=False)
    assert [added for *_, added in bot.fake.reactions] == [True]


@pytest.mark.parametrize(
    "case",
    ["the bot's own", "another emoji", "a custom emoji named pushpin", "on the header"],
)
async def test_reaction_that_is_not_a_save_is_ignored(
    bot: Bot, posted: dict[str, str], case: str
) -> None:
    header = bot.fake.messages[CHANNEL_ID][0]["id"]
    event = {
        "the bot's own": _event(posted[PICKS[0]], user_id=BOT_ID),
        "another emoji": _event(posted[PICKS[0]], "👍"),
        "a custom emoji named pushpin": _event(posted[PICKS[0]], "pushpin", custom_id=77),
        "on the header": _event(header),
    }[case]
    await bot.adapter.on_reaction(event, added=True)
    assert await _saved(bot) == []


async def test_ignored_reaction_sends_nothing(bot: Bot, posted: dict[str, str]) -> None:
    before = len(bot.fake.log)
    await bot.adapter.on_reaction(_event(posted[PICKS[0]], "👍"), added=True)
    assert bot.fake.log[before:] == []


async def test_pushpin_through_the_gateway_saves(bot: Bot, posted: dict[str, str]) -> None:
    await bot.fake.dispatch("MESSAGE_REACTION_ADD",
                            reaction_payload(GUILD, CHANNEL_ID, int(posted[PICKS[3]]), PIN))
    await bot.fake.until(lambda: bool(bot.fake.reactions))
    assert await _saved(bot) == [PICKS[3]]


async def test_pushpin_removed_through_the_gateway_unsaves(
    bot: Bot, posted: dict[str, str]
) -> None:
    message = int(posted[PICKS[3]])
    await bot.fake.dispatch("MESSAGE_REACTION_ADD",
                            reaction_payload(GUILD, CHANNEL_ID, message, PIN))
    await bot.fake.until(lambda: len(bot.fake.reactions) == 1)
    await bot.fake.dispatch("MESSAGE_REACTION_REMOVE",
                            reaction_payload(GUILD, CHANNEL_ID, message, PIN))
    await bot.fake.until(lambda: len(bot.fake.reactions) == 2)
    assert (await _saved(bot), bot.fake.reactions[-1]) == (
        [], (CHANNEL_ID, message, "✅", False))


# --- the ✅ refused ---------------------------------------------------------------------------


def _reaction_calls(bot: Bot) -> list[str]:
    return [path for method, path in bot.fake.log
            if method in ("PUT", "DELETE") and "/reactions/" in path]


async def test_channel_refusing_the_check_is_not_asked_again(
    bot: Bot, posted: dict[str, str]
) -> None:
    bot.fake.refuse_reactions(CHANNEL_ID, 403)
    for arxiv_id in PICKS[:3]:
        await bot.adapter.on_reaction(_event(posted[arxiv_id]), added=True)
    await bot.adapter.on_reaction(_event(posted[PICKS[0]], added=False), added=False)
    assert len(_reaction_calls(bot)) == 1


async def test_saves_stand_where_the_check_is_refused(
    bot: Bot, posted: dict[str, str]
) -> None:
    bot.fake.refuse_reactions(CHANNEL_ID, 403)
    for arxiv_id in PICKS[:2]:
        await bot.adapter.on_reaction(_event(posted[arxiv_id]), added=True)
    assert sorted(await _saved(bot)) == sorted(PICKS[:2])


async def test_refused_check_is_one_log_line(
    bot: Bot, posted: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.refuse_reactions(CHANNEL_ID, 403)
    with caplog.at_level(logging.WARNING, logger="adapters.discord"):
        for arxiv_id in PICKS[:3]:
            await bot.adapter.on_reaction(_event(posted[arxiv_id]), added=True)
    lines = [r.getMessage() for r in caplog.records if "✅" in r.getMessage()]
    assert len(lines) == 1 and "#papers" in lines[0] and "until the bot restarts" in lines[0]


async def test_check_failing_on_a_server_error_is_tried_again_next_time(
    bot: Bot, posted: dict[str, str]
) -> None:
    bot.fake.refuse_reactions(CHANNEL_ID, 503)
    for arxiv_id in PICKS[:2]:
        await bot.adapter.on_reaction(_event(posted[arxiv_id]), added=True)
    assert len(_reaction_calls(bot)) == 2


async def _press_save(bot: Bot, arxiv_id: str) -> object:
    message = papers_posted(bot.fake)[arxiv_id]
    payload = button_payload(GUILD, CHANNEL_ID, message, user_id=USER)
    answered = bot.fake.interactions[payload["token"]]
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    await bot.fake.until(lambda: bool(answered.followups))
    return answered


async def test_save_button_saves_the_paper(bot: Bot, posted: dict[str, str]) -> None:
    await _press_save(bot, PICKS[2])
    assert await _saved(bot) == [PICKS[2]]


async def test_save_button_is_acknowledged_without_a_message(
    bot: Bot, posted: dict[str, str]
) -> None:
    answered = await _press_save(bot, PICKS[2])
    assert answered.callbacks[0]["type"] == 6  # type: ignore[attr-defined]


async def test_save_button_answers_only_the_presser(bot: Bot, posted: dict[str, str]) -> None:
    answered = await _press_save(bot, PICKS[2])
    assert answered.followups[0]["flags"] & 64  # type: ignore[attr-defined]


async def test_reaction_in_a_direct_message_is_ignored(bot: Bot, posted: dict[str, str]) -> None:
    data = reaction_payload(GUILD, CHANNEL_ID, int(posted[PICKS[0]]), PIN)
    del data["guild_id"]
    event = discord.RawReactionActionEvent(data, discord.PartialEmoji(name=PIN),  # type: ignore[arg-type]
                                           "REACTION_ADD")
    await bot.adapter.on_reaction(event, added=True)
    assert await _saved(bot) == []


async def _press_more(bot: Bot, arxiv_id: str) -> Payload:
    message = papers_posted(bot.fake)[arxiv_id]
    payload = button_payload(GUILD, CHANNEL_ID, message, custom_id="paperboy:more")
    answered = bot.fake.interactions[payload["token"]]
    await bot.fake.dispatch("INTERACTION_CREATE", payload)
    await bot.fake.until(lambda: bool(answered.followups))
    return answered.followups[0]


async def test_save_button_is_answered_when_the_check_fails(
    bot: Bot, posted: dict[str, str]
) -> None:
    bot.fake.refuse_reactions(CHANNEL_ID, 503)
    answered = await _press_save(bot, PICKS[2])
    assert (await _saved(bot), len(answered.followups)) == (  # type: ignore[attr-defined]
        [PICKS[2]], 1)


async def test_abstract_button_shows_the_papers_abstract(
    bot: Bot, posted: dict[str, str]
) -> None:
    shown = await _press_more(bot, PICKS[0])
    assert shown["embeds"][0]["url"] == f"https://arxiv.org/abs/{PICKS[0]}"


async def test_abstract_button_answers_only_the_presser(
    bot: Bot, posted: dict[str, str]
) -> None:
    shown = await _press_more(bot, PICKS[0])
    assert shown["flags"] & 64


async def test_save_button_works_on_a_post_from_before_a_restart(
    bot: Bot, posted: dict[str, str]
) -> None:
    await bot.adapter.close()
    restarted = DiscordAdapter(bot.adapter.service, TOKEN, guild_ready_timeout=0.3)
    await restarted.connect()
    try:
        await _press_save(bot, PICKS[4])
    finally:
        await restarted.close()
    assert await _saved(bot) == [PICKS[4]]
