"""Save by reaction: 📌 on a paper the bot posted saves it; removing the 📌 unsaves it.

Each test starts after a real daily post (RecordingPublisher holds the message ids the
"platform" gave back) and feeds `Service.handle_reaction` the events an adapter would.
A table lists the reactions the service must ignore, as python-telegram-bot's handler
tests feed every other update kind.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from bot import commands
from bot.events import Ignored, ListReply, ReactionEvent, SaveReply
from bot.models import ChatRef, SavedPaper
from bot.service import Service, normalise_emoji

from .conftest import CHANNEL, PICKS, TEAM, WHERE, RecordingPublisher, Sent, Services, post

MINIMAX = PICKS[0]
ANA, BO = "U0ANA", "U0BO"
BOT = "U0PAPERBOY"


@pytest.fixture
async def posted(service: Service, publisher: RecordingPublisher) -> RecordingPublisher:
    """The day's post is out; the publisher knows which message carries which paper."""
    await post(service, publisher)
    return publisher


def reaction(message: Sent | ChatRef, user: str = ANA, emoji: str = "pushpin",
             *, added: bool = True) -> ReactionEvent:
    where = message.ref if isinstance(message, Sent) else message
    return ReactionEvent(where, user, emoji, added, raw={"reaction": emoji})


async def entries(service: Service) -> tuple[SavedPaper, ...]:
    """The team list as `/papers list` shows it."""
    reply = await service.run_command(WHERE, "U0ANYONE", commands.List())
    assert isinstance(reply, ListReply)
    return reply.entries


async def team_list(service: Service) -> dict[str, list[str]]:
    """The team list as {arxiv id: users who saved it}."""
    return {e.paper.arxiv_id: sorted(s.user for s in e.savers)
            for e in await entries(service)}


# --- saving and unsaving --------------------------------------------------------------------


async def test_pushpin_on_a_posted_paper_saves_it_for_the_reacting_user(
    service: Service, posted: RecordingPublisher
) -> None:
    await service.handle_reaction(reaction(posted.message_of(MINIMAX)), bot_user=BOT)
    assert await team_list(service) == {MINIMAX: [ANA]}


async def test_pushpin_reply_confirms_the_save(
    service: Service, posted: RecordingPublisher
) -> None:
    reply = await service.handle_reaction(reaction(posted.message_of(MINIMAX)), bot_user=BOT)
    assert isinstance(reply, SaveReply) and (reply.saved, reply.changed) == (True, True)


async def test_saved_entry_remembers_the_message_it_came_from(
    service: Service, posted: RecordingPublisher
) -> None:
    message = posted.message_of(MINIMAX)
    await service.handle_reaction(reaction(message), bot_user=BOT)
    [entry] = await entries(service)
    assert entry.savers[0].where == message.ref


@pytest.mark.parametrize("emoji", [":pushpin:", "pushpin", "📌", "pushpin::skin-tone-2",
                                   ":PUSHPIN:"])
async def test_every_spelling_of_pushpin_saves(
    service: Service, posted: RecordingPublisher, emoji: str
) -> None:
    await service.handle_reaction(reaction(posted.message_of(MINIMAX), emoji=emoji), bot_user=BOT)
    assert await team_list(service) == {MINIMAX: [ANA]}


async def test_second_pushpin_on_same_paper_saves_once(
    service: Service, posted: RecordingPublisher
) -> None:
    event = reaction(posted.message_of(MINIMAX))
    await service.handle_reaction(event, bot_user=BOT)
    await service.handle_reaction(
        event, bot_user=BOT,
    )  # Slack re-delivers an event it thinks was lost
    assert await team_list(service) == {MINIMAX: [ANA]}


async def test_redelivered_pushpin_reports_nothing_changed(
    service: Service, posted: RecordingPublisher
) -> None:
    event = reaction(posted.message_of(MINIMAX))
    await service.handle_reaction(event, bot_user=BOT)
    reply = await service.handle_reaction(event, bot_user=BOT)
    assert isinstance(reply, SaveReply) and reply.changed is False


async def test_two_users_make_one_entry_with_two_savers(
    service: Service, posted: RecordingPublisher
) -> None:
    message = posted.message_of(MINIMAX)
    await service.handle_reaction(reaction(message, ANA), bot_user=BOT)
    await service.handle_reaction(reaction(message, BO), bot_user=BOT)
    assert await team_list(service) == {MINIMAX: [ANA, BO]}


async def test_removing_the_reaction_removes_only_that_users_save(
    service: Service, posted: RecordingPublisher
) -> None:
    message = posted.message_of(MINIMAX)
    await service.handle_reaction(reaction(message, ANA), bot_user=BOT)
    await service.handle_reaction(reaction(message, BO), bot_user=BOT)
    await service.handle_reaction(reaction(message, ANA, added=False), bot_user=BOT)
    assert await team_list(service) == {MINIMAX: [BO]}


async def test_removing_the_last_reaction_removes_the_entry(
    service: Service, posted: RecordingPublisher
) -> None:
    message = posted.message_of(MINIMAX)
    await service.handle_reaction(reaction(message), bot_user=BOT)
    await service.handle_reaction(reaction(message, added=False), bot_user=BOT)
    assert await team_list(service) == {}


async def test_removal_reply_confirms_the_unsave(
    service: Service, posted: RecordingPublisher
) -> None:
    message = posted.message_of(MINIMAX)
    await service.handle_reaction(reaction(message), bot_user=BOT)
    reply = await service.handle_reaction(reaction(message, added=False), bot_user=BOT)
    assert isinstance(reply, SaveReply) and (reply.saved, reply.changed) == (False, True)


async def test_removing_a_reaction_already_undone_by_command_is_ignored(
    service: Service, posted: RecordingPublisher
) -> None:
    message = posted.message_of(MINIMAX)
    await service.handle_reaction(reaction(message), bot_user=BOT)
    await service.unsave(message.ref, ANA, MINIMAX)
    assert isinstance(await service.handle_reaction(
        reaction(message, added=False), bot_user=BOT,
    ), Ignored)


async def test_reactions_on_different_papers_make_separate_entries(
    service: Service, posted: RecordingPublisher
) -> None:
    for arxiv_id in PICKS[:2]:
        await service.handle_reaction(reaction(posted.message_of(arxiv_id)), bot_user=BOT)
    assert await team_list(service) == {PICKS[0]: [ANA], PICKS[1]: [ANA]}


async def test_saves_survive_a_restart(
    services: Services, posted: RecordingPublisher
) -> None:
    await services.make().handle_reaction(reaction(posted.message_of(MINIMAX)), bot_user=BOT)
    await services.reopen()
    assert await team_list(services.make()) == {MINIMAX: [ANA]}


async def test_reaction_after_a_restart_still_finds_the_posted_paper(
    services: Services, posted: RecordingPublisher
) -> None:
    await services.reopen()
    await services.make().handle_reaction(reaction(posted.message_of(MINIMAX)), bot_user=BOT)
    assert await team_list(services.make()) == {MINIMAX: [ANA]}


# --- what the service must ignore -----------------------------------------------------------

Event = Callable[[RecordingPublisher], ReactionEvent]

IGNORED: list[object] = [
    pytest.param(lambda p: reaction(p.message_of(MINIMAX), emoji="thumbsup"),
                 id="another-emoji"),
    pytest.param(lambda p: reaction(p.message_of(MINIMAX), emoji="👍"),
                 id="another-emoji-character"),
    pytest.param(lambda p: reaction(p.message_of(MINIMAX), emoji="round_pushpin"),
                 id="a-look-alike-emoji"),
    pytest.param(lambda p: reaction(p.message_of(MINIMAX), user=BOT), id="the-bots-own"),
    pytest.param(lambda p: reaction(p.message_of(MINIMAX), user=BOT, added=False),
                 id="the-bots-own-removal"),
    pytest.param(lambda p: reaction(ChatRef("slack", TEAM, CHANNEL.id, "1781251200.999999")),
                 id="a-message-the-bot-did-not-post"),
    pytest.param(lambda p: reaction(p.header()), id="the-header-message"),
    pytest.param(lambda p: reaction(ChatRef("slack", TEAM, "C0OTHER",
                                            p.message_of(MINIMAX).message_id)),
                 id="same-message-id-in-another-channel"),
    pytest.param(lambda p: reaction(ChatRef("slack", "T0OTHER", CHANNEL.id,
                                            p.message_of(MINIMAX).message_id)),
                 id="same-message-id-in-another-team"),
    pytest.param(lambda p: reaction(ChatRef("discord", TEAM, CHANNEL.id,
                                            p.message_of(MINIMAX).message_id)),
                 id="same-message-id-on-another-platform"),
    pytest.param(lambda p: reaction(ChatRef("slack", TEAM, CHANNEL.id)),
                 id="no-message-at-all"),
    pytest.param(lambda p: reaction(p.message_of(MINIMAX), user=BO, added=False),
                 id="removal-of-a-save-never-made"),
]


@pytest.mark.parametrize("make_event", IGNORED)
async def test_ignored_reaction_gets_no_reply(
    service: Service, posted: RecordingPublisher, make_event: Event
) -> None:
    assert isinstance(await service.handle_reaction(make_event(posted), bot_user=BOT), Ignored)


@pytest.mark.parametrize("make_event", IGNORED)
async def test_ignored_reaction_saves_nothing(
    service: Service, posted: RecordingPublisher, make_event: Event
) -> None:
    await service.handle_reaction(make_event(posted), bot_user=BOT)
    assert await team_list(service) == {}


@pytest.mark.parametrize("make_event", IGNORED)
async def test_ignored_reaction_leaves_an_existing_save_alone(
    service: Service, posted: RecordingPublisher, make_event: Event
) -> None:
    await service.handle_reaction(reaction(posted.message_of(MINIMAX), ANA), bot_user=BOT)
    await service.handle_reaction(make_event(posted), bot_user=BOT)
    assert await team_list(service) == {MINIMAX: [ANA]}


async def test_a_configured_save_emoji_replaces_pushpin(
    services: Services, posted: RecordingPublisher
) -> None:
    service = services.make(save_emoji=":bookmark:")
    await service.handle_reaction(reaction(posted.message_of(MINIMAX), emoji="🔖"), bot_user=BOT)
    assert await team_list(service) == {MINIMAX: [ANA]}


async def test_pushpin_is_ignored_when_another_save_emoji_is_configured(
    services: Services, posted: RecordingPublisher
) -> None:
    service = services.make(save_emoji="bookmark")
    assert isinstance(await service.handle_reaction(
        reaction(posted.message_of(MINIMAX)), bot_user=BOT,
    ), Ignored)


# --- many people at once --------------------------------------------------------------------

STAYING = [f"U{n:03d}" for n in range(0, 20)]  # saved before, keep their save
LEAVING = [f"U{n:03d}" for n in range(20, 60)]  # saved before, remove it now
JOINING = [f"U{n:03d}" for n in range(60, 120)]  # save now
# 40 removals and 60 saves run at once: 100 reactions on five papers.


def _paper_of(user: str) -> str:
    return PICKS[int(user[1:]) % len(PICKS)]


def _expected() -> dict[str, list[str]]:
    expected: dict[str, list[str]] = {}
    for user in STAYING + JOINING:
        expected.setdefault(_paper_of(user), []).append(user)
    return {arxiv_id: sorted(users) for arxiv_id, users in expected.items()}


async def _react_at_once(service: Service, posted: RecordingPublisher) -> None:
    earlier = [reaction(posted.message_of(_paper_of(u)), u) for u in STAYING + LEAVING]
    await asyncio.gather(*(service.handle_reaction(e, bot_user=BOT) for e in earlier))
    now = [reaction(posted.message_of(_paper_of(u)), u, added=False) for u in LEAVING]
    now += [reaction(posted.message_of(_paper_of(u)), u) for u in JOINING]
    assert len(now) == 100
    await asyncio.gather(*(service.handle_reaction(e, bot_user=BOT) for e in now))


async def test_hundred_concurrent_reactions_leave_exactly_the_right_list(
    service: Service, posted: RecordingPublisher
) -> None:
    await _react_at_once(service, posted)
    assert await team_list(service) == _expected()


async def test_hundred_concurrent_reactions_leave_the_same_list_after_reopening(
    services: Services, posted: RecordingPublisher
) -> None:
    await _react_at_once(services.make(), posted)
    await services.reopen()
    assert await team_list(services.make()) == _expected()


async def test_hundred_concurrent_reactions_leave_every_store_file_valid_json(
    services: Services, posted: RecordingPublisher
) -> None:
    await _react_at_once(services.make(), posted)
    unreadable = []
    for path in sorted(services.data_dir.rglob("*.json")):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            unreadable.append(path.name)
    assert unreadable == []


def test_emoji_with_presentation_selector_is_the_save_emoji() -> None:
    assert normalise_emoji("📌\ufe0f") == "pushpin"


async def test_reaction_with_presentation_selector_saves(
    service: Service, posted: RecordingPublisher
) -> None:
    event = reaction(posted.message_of(MINIMAX), emoji="📌\ufe0f")
    reply = await service.handle_reaction(event, bot_user=BOT)
    assert isinstance(reply, SaveReply) and reply.saved
