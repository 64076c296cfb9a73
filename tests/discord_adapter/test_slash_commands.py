"""`/papers` slash commands through the real client: defer first, then one followup.

Each interaction arrives as the gateway sends it (INTERACTION_CREATE); the asserts read what
reached the fake Discord: the callback (the deferral), then the followup webhook call.
"""

from __future__ import annotations

import pytest

from bot import commands
from tests.discord_adapter.conftest import PICKS, Bot, invoke
from tests.fakes.discord_api import FakeDiscord, Interaction
from tests.fakes.hf_server import FakeHuggingFace

EPHEMERAL = 64
DEFERRED_WITH_MESSAGE = 5


async def test_command_is_deferred_before_it_is_answered(fake: FakeDiscord) -> None:
    await invoke(fake, "today")
    kinds = [path.rsplit("/", 1)[-1] for path in fake.paths("POST", "/api/v10/")
             if "/interactions/" in path or "/webhooks/" in path]
    assert kinds[0] == "callback"


async def test_deferral_says_the_bot_is_thinking(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "today")
    assert answered.callbacks[0]["type"] == DEFERRED_WITH_MESSAGE


async def test_command_is_deferred_privately_by_default(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "list")
    assert answered.callbacks[0]["data"]["flags"] & EPHEMERAL


async def test_shared_command_is_deferred_in_the_open(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "list", share=True)
    assert not answered.callbacks[0].get("data", {}).get("flags", 0) & EPHEMERAL


async def test_today_answers_with_one_embed_per_pick(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "today")
    assert len(answered.followups[0]["embeds"]) == len(PICKS)


async def test_today_reply_is_private(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "today")
    assert answered.followups[0]["flags"] & EPHEMERAL


async def test_search_finds_a_paper_by_its_words(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "search", query="2606.13392")
    assert "2606.13392" in answered.followups[0]["embeds"][0]["footer"]["text"]


async def test_malformed_paper_id_gets_the_one_line_explanation_and_usage(
    fake: FakeDiscord,
) -> None:
    answered = await invoke(fake, "save", paper="not-a-paper")
    assert answered.followups[0]["embeds"][0]["description"].startswith(
        "**'not-a-paper' is not an arXiv id")


async def test_save_by_command_puts_the_paper_on_the_guilds_list(bot: Bot) -> None:
    await invoke(bot.fake, "save", paper="2606.13392")
    saved = await bot.services.store.saved_papers("discord", "10")
    assert [e.paper.arxiv_id for e in saved] == ["2606.13392"]


async def test_export_answers_with_a_file(fake: FakeDiscord) -> None:
    await invoke(fake, "save", paper="2606.13392")
    answered = await invoke(fake, "export", format="csv")
    assert answered.followups[0]["files"][0]["name"].endswith(".csv")


async def test_exported_file_holds_the_saved_paper(fake: FakeDiscord) -> None:
    await invoke(fake, "save", paper="2606.13392")
    answered = await invoke(fake, "export", format="csv")
    assert "2606.13392" in answered.followups[0]["files"][0]["text"]


async def test_help_lists_every_command(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "help")
    assert answered.followups[0]["embeds"][0]["description"].count("`/papers ") == len(
        commands.COMMAND_NAMES)


async def test_settings_show_the_channels_schedule(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "settings")
    fields = {f["name"]: f["value"] for f in answered.followups[0]["embeds"][0]["fields"]}
    assert fields["Daily post"] == "09:00 UTC on mon, tue, wed, thu, fri"


async def _shared_today_failing(bot: Bot, hf_fake: FakeHuggingFace) -> Interaction:
    hf_fake.fail_next("/api/daily_papers", status=500, times=5)
    answered = await invoke(bot.fake, "today", share=True)
    await bot.fake.until(lambda: bool(answered.followups))
    return answered


async def test_failure_of_a_shared_command_removes_the_public_thinking_message(
    bot: Bot, hf_fake: FakeHuggingFace,
) -> None:
    answered = await _shared_today_failing(bot, hf_fake)
    assert answered.deleted_original


async def test_failure_of_a_shared_command_is_told_only_to_the_caller(
    bot: Bot, hf_fake: FakeHuggingFace,
) -> None:
    answered = await _shared_today_failing(bot, hf_fake)
    assert answered.followups[0]["flags"] & EPHEMERAL


async def test_failure_is_one_line_without_a_traceback(
    bot: Bot, hf_fake: FakeHuggingFace
) -> None:
    hf_fake.fail_next("/api/daily_papers", status=500, times=5)
    answered = await invoke(bot.fake, "today")
    assert answered.followups[0]["content"].startswith("Sorry, that failed: huggingface")


@pytest.mark.parametrize("subcommand", ["today", "list", "help", "settings"])
async def test_every_followup_pings_nobody(fake: FakeDiscord, subcommand: str) -> None:
    answered = await invoke(fake, subcommand)
    assert answered.followups[0]["allowed_mentions"] == {"parse": []}


async def test_a_refused_option_gets_the_help_of_its_own_subcommand(fake: FakeDiscord) -> None:
    answered = await invoke(fake, "save", paper="not-a-paper")
    shown = str(answered.followups[0]["embeds"])
    assert ("/papers save" in shown, "/papers search" in shown) == (True, False)


async def test_shared_export_is_deferred_in_the_open(fake: FakeDiscord) -> None:
    await invoke(fake, "save", paper="2606.13392")
    answered = await invoke(fake, "export", format="csv", share=True)
    assert not answered.callbacks[0].get("data", {}).get("flags", 0) & EPHEMERAL


async def test_shared_export_posts_the_file_for_the_channel(fake: FakeDiscord) -> None:
    await invoke(fake, "save", paper="2606.13392")
    answered = await invoke(fake, "export", format="csv", share=True)
    followup = answered.followups[0]
    assert (bool(followup.get("flags", 0) & EPHEMERAL), "2606.13392" in
            followup["files"][0]["text"]) == (False, True)
