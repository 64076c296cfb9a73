"""`paperboy discord invite | sync` and `paperboy post` to a Discord channel, in process.

`paperboy.cli.main` runs in a worker thread (it starts its own event loop) while the fake
Discord serves on the test's loop; discord.py is pointed at the fake for the whole process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from adapters.discord.adapter import invite_permissions
from bot import commands
from paperboy.cli import main
from tests.discord_adapter.conftest import CHANNEL_ID, PICKS
from tests.fakes import FakeServer
from tests.fakes.discord_api import APP_ID, TOKEN, FakeDiscord, Guild
from tests.fakes.hf_server import FakeHuggingFace

EXPECTED_PERMISSIONS = 1024 | 2048 | 16384 | 65536 | 64  # view, send, embed, history, react


pytestmark = pytest.mark.usefixtures("cli_workdir")


async def _paperboy(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


def _invite_query(out: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(out.splitlines()[0]).query)


async def test_invite_asks_for_exactly_the_permissions_the_bot_uses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _paperboy("discord", "invite", "--application-id", "42")
    assert _invite_query(capsys.readouterr().out)["permissions"] == [str(EXPECTED_PERMISSIONS)]


async def test_invite_adds_the_bot_and_its_slash_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _paperboy("discord", "invite", "--application-id", "42")
    assert _invite_query(capsys.readouterr().out)["scope"] == ["bot applications.commands"]


async def test_invite_explains_each_permission_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _paperboy("discord", "invite", "--application-id", "42")
    assert len(capsys.readouterr().out.splitlines()) == 3 + 5


async def test_invite_learns_the_application_id_from_the_token(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    await _paperboy("discord", "invite")
    assert _invite_query(capsys.readouterr().out)["client_id"] == [str(APP_ID)]


async def test_invalid_token_exits_2(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "not-the-token")
    assert await _paperboy("discord", "sync") == 2


async def test_invalid_token_is_said_in_one_line(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "not-the-token-sekrit")
    await _paperboy("discord", "sync")
    assert capsys.readouterr().err.count("\n") == 1


async def test_invalid_token_is_never_shown(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "not-the-token-sekrit")
    await _paperboy("discord", "sync")
    assert "sekrit" not in capsys.readouterr().err


async def test_missing_token_exits_2() -> None:
    assert await _paperboy("discord", "sync") == 2


async def test_sync_to_one_guild_publishes_the_papers_group_there(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    await _paperboy("discord", "sync", "--guild", "10")
    synced = fake_discord.synced[f"/api/v10/applications/{APP_ID}/guilds/10/commands"]
    assert [c["name"] for c in synced] == ["papers"]


async def test_synced_group_has_every_subcommand_of_the_grammar(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    await _paperboy("discord", "sync")
    synced = fake_discord.synced[f"/api/v10/applications/{APP_ID}/commands"]
    assert sorted(o["name"] for o in synced[0]["options"]) == [
        "export", "help", "list", "save", "search", "settings", "subscribe", "today", "unsave",
        "unsubscribe"]


async def test_synced_subcommands_offer_share_exactly_where_the_grammar_does(
    fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    await _paperboy("discord", "sync")
    synced = fake_discord.synced[f"/api/v10/applications/{APP_ID}/commands"]
    offering = {sub["name"] for sub in synced[0]["options"]
                if any(o["name"] == "share" for o in sub.get("options", []))}
    assert offering == {h.name for h in commands.HELP if h.shareable}


@contextmanager
def _serving(*servers: FakeServer) -> Iterator[None]:
    """Run fake servers on a loop in another thread, so that `main` can own the main
    thread (it installs signal handlers, which only the main thread may)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def call(coro: Coroutine[object, object, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, loop).result(10)

    try:
        for server in servers:
            call(server.start())
        yield
    finally:
        for server in servers:
            call(server.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_post_to_a_discord_channel_sends_the_days_picks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sample_items: list[dict[str, object]],
) -> None:
    guild = Guild(10, {CHANNEL_ID: "papers"}, invite_permissions().value)
    discord_fake = FakeDiscord([guild])
    hf = FakeHuggingFace(batches={"2026-06-12": sample_items})
    with _serving(discord_fake, hf):
        discord_fake.patch(monkeypatch)
        (tmp_path / "config.toml").write_text(
            f'[storage]\npath = "{tmp_path / "data"}"\n'
            f'[sources.huggingface]\nbase_url = "{hf.base_url}"\n'
            f'[[channels]]\nname = "papers"\nplatform = "discord"\nid = "{CHANNEL_ID}"\n',
            encoding="utf-8")
        monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
        main(["post", "--channel", "papers", "--date", "2026-06-12"])
    assert len(discord_fake.messages[CHANNEL_ID]) == 1 + len(PICKS)


def _run_with_revoked_token(monkeypatch: pytest.MonkeyPatch) -> int:
    discord_fake = FakeDiscord([Guild(10, {CHANNEL_ID: "papers"})])
    with _serving(discord_fake):
        discord_fake.patch(monkeypatch)
        monkeypatch.setenv("DISCORD_TOKEN", "revoked-token")
        return main(["run"])


def test_run_with_an_invalid_token_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run_with_revoked_token(monkeypatch) == 2


def test_run_with_an_invalid_token_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    _run_with_revoked_token(monkeypatch)
    assert capsys.readouterr().err.count("\n") == 1
