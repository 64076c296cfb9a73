"""100 people react 📌 at once, through the real Slack and Discord adapters: the team list
holds exactly who saved what, and the store on disk reads back the same.

Reproduce: .venv/bin/python -m pytest -q tests/faults/test_concurrent_reactions.py

Slack: 100 signed Events API callbacks POSTed concurrently to the real AsyncApp in HTTP mode
(tests/slack/conftest.py). Discord: 100 MESSAGE_REACTION_ADD gateway events sent by the fake
gateway to the real discord.py client (tests/fakes/discord_api.py), which handles each in its
own task. Both on a real TinyDB store, which is then closed and opened again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

from tests.discord_adapter.conftest import CHANNEL_ID, GUILD, Bot, papers_posted, post_today
from tests.fakes.discord_api import reaction_payload
from tests.service.conftest import CHANNEL, DAY, PICKS, TEAM, Services
from tests.slack.conftest import Running

PEOPLE = 100
# Whole-test bound while the saves land (a hung test fails, nothing waits on a timing).
SETTLE_SECONDS = 60


def _who_saves(prefix: str, first: int) -> dict[str, str]:
    """Person → the paper they save: 20 people on each of the five picks."""
    return {f"{prefix}{first + n}": PICKS[n % len(PICKS)] for n in range(PEOPLE)}


def _expected(saves: Mapping[str, str]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for person, paper in saves.items():
        wanted.setdefault(paper, set()).add(person)
    return wanted


async def _team_list(services: Services, platform: str, team: str) -> dict[str, set[str]]:
    return {entry.paper.arxiv_id: {s.user for s in entry.savers}
            for entry in await services.store.saved_papers(platform, team)}


async def _until_saved(services: Services, platform: str, team: str) -> None:
    # Discord answers a save with no message (only the first saver's ✅) and the store has
    # no change notification, so the list itself is read until it holds everyone.
    async def settled() -> None:
        while sum(map(len, (await _team_list(services, platform, team)).values())) < PEOPLE:  # noqa: ASYNC110 - nothing to wait on but the store
            await asyncio.sleep(0.05)
    await asyncio.wait_for(settled(), SETTLE_SECONDS)


def _every_store_file_is_valid_json(services: Services) -> list[str]:
    broken = []
    for path in services.data_dir.rglob("*.json"):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            broken.append(str(path))
    return broken


# --- Slack --------------------------------------------------------------------------------


async def test_slack_burst_saves_exactly_who_reacted(running: Running, services: Services) -> None:
    target = running.identity.targets([CHANNEL], running.adapter)[0]
    await running.adapter.service.poster.post(target, DAY)
    ts = {m["metadata"]["event_payload"]["key"]: m["ts"] for m in running.fake.posted(CHANNEL.id)}
    saves = _who_saves("U1", 1000)
    answers = await asyncio.gather(*(
        running.slack.reaction(ts[paper], user=person, event_id=f"Ev{person}")
        for person, paper in saves.items()))
    assert {a.status_code for a in answers} == {200}
    await running.fake.wait_until(lambda: len(running.fake.ephemerals) >= PEOPLE)
    assert await _team_list(services, "slack", TEAM) == _expected(saves)


async def test_slack_burst_leaves_a_store_that_reads_back_the_same(
    running: Running, services: Services
) -> None:
    target = running.identity.targets([CHANNEL], running.adapter)[0]
    await running.adapter.service.poster.post(target, DAY)
    ts = {m["metadata"]["event_payload"]["key"]: m["ts"] for m in running.fake.posted(CHANNEL.id)}
    saves = _who_saves("U1", 1000)
    await asyncio.gather(*(running.slack.reaction(ts[paper], user=person, event_id=f"Ev{person}")
                           for person, paper in saves.items()))
    await running.fake.wait_until(lambda: len(running.fake.ephemerals) >= PEOPLE)
    await services.reopen()
    assert (await _team_list(services, "slack", TEAM), _every_store_file_is_valid_json(services)) \
        == (_expected(saves), [])


# --- Discord ------------------------------------------------------------------------------


async def _discord_burst(bot: Bot) -> dict[str, str]:
    await post_today(bot)
    messages = {key: int(m["id"]) for key, m in papers_posted(bot.fake).items()}
    saves = _who_saves("", 5000)
    await asyncio.gather(*(
        bot.fake.dispatch("MESSAGE_REACTION_ADD",
                          reaction_payload(GUILD, CHANNEL_ID, messages[paper], "📌",
                                           user_id=int(person)))
        for person, paper in saves.items()))
    await _until_saved(bot.services, "discord", str(GUILD))
    return saves


async def test_discord_burst_saves_exactly_who_reacted(bot: Bot) -> None:
    saves = await _discord_burst(bot)
    assert await _team_list(bot.services, "discord", str(GUILD)) == _expected(saves)


async def test_discord_burst_marks_each_paper_once(bot: Bot) -> None:
    await _discord_burst(bot)
    await bot.fake.until(lambda: len(bot.fake.reactions) >= len(PICKS))
    assert sorted(message for _, message, emoji, _ in bot.fake.reactions if emoji == "✅") == \
        sorted(int(m["id"]) for m in papers_posted(bot.fake).values())


async def test_discord_burst_leaves_a_store_that_reads_back_the_same(bot: Bot) -> None:
    saves = await _discord_burst(bot)
    await bot.services.reopen()
    assert (await _team_list(bot.services, "discord", str(GUILD)),
            _every_store_file_is_valid_json(bot.services)) == (_expected(saves), [])
