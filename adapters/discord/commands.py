"""The `/papers` slash commands: one `app_commands.Group` whose subcommands follow the grammar.

Each subcommand only names its options (Discord checks their types, the `limit` range and
the export choice before we see them) and hands the adapter a builder of the typed command
(`bot.commands.build_*`, which applies the grammar's own checks). The adapter defers, runs
the builder, calls the service and renders: nothing here answers an interaction. The
descriptions come from the grammar's help (`bot.commands.HELP`), so they read as everywhere.
Not here: syncing the tree (only `paperboy discord sync` does, never at start).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot import commands
from bot.channel_grammar import MAX_TOP
from bot.export import EXPORT_FORMATS

Build = Callable[[], commands.Command]
# (interaction, whether the reply is shown to the channel, the typed command's builder)
Run = Callable[[discord.Interaction, bool, Build], Awaitable[None]]

SHARE = "show the reply to the channel (default: only you see it)"
_SUMMARY = {h.name: h.summary for h in commands.HELP}


def papers_group(run: Run) -> app_commands.Group:
    """The `papers` group; `run` handles every invocation."""
    group = app_commands.Group(name="papers", description="Research papers for this server",
                               guild_only=True)

    @group.command(name="help", description=_SUMMARY["help"])
    @app_commands.describe(command="a command to explain")
    @app_commands.choices(command=[app_commands.Choice(name=n, value=n)
                                   for n in commands.COMMAND_NAMES])
    async def help_(interaction: discord.Interaction, command: str | None = None) -> None:
        await run(interaction, False, lambda: commands.build_help(command))

    @group.command(name="today", description=_SUMMARY["today"])
    @app_commands.describe(share=SHARE)
    async def today(interaction: discord.Interaction, share: bool = False) -> None:
        await run(interaction, share, lambda: commands.Today(share=share))

    @group.command(name="search", description=_SUMMARY["search"])
    @app_commands.describe(query="words, an arXiv id or a paper link",
                           limit="how many results", share=SHARE)
    async def search(
        interaction: discord.Interaction,
        query: str,
        limit: app_commands.Range[int, 1, commands.MAX_SEARCH_LIMIT] | None = None,
        share: bool = False,
    ) -> None:
        await run(interaction, share,
                  lambda: commands.build_search(query, share=share, limit=limit))

    @group.command(name="save", description=_SUMMARY["save"])
    @app_commands.describe(paper="an arXiv id or link, e.g. 2406.12345")
    async def save(interaction: discord.Interaction, paper: str) -> None:
        await run(interaction, False, lambda: commands.build_save(paper))

    @group.command(name="unsave", description=_SUMMARY["unsave"])
    @app_commands.describe(paper="an arXiv id or link, e.g. 2406.12345")
    async def unsave(interaction: discord.Interaction, paper: str) -> None:
        await run(interaction, False, lambda: commands.build_unsave(paper))

    @group.command(name="list", description=_SUMMARY["list"])
    @app_commands.describe(share=SHARE)
    async def list_(interaction: discord.Interaction, share: bool = False) -> None:
        await run(interaction, share, lambda: commands.List(share=share))

    @group.command(name="export", description=_SUMMARY["export"])
    @app_commands.describe(format="the file format (default: bibtex)", share=SHARE)
    @app_commands.choices(format=[app_commands.Choice(name=f, value=f) for f in EXPORT_FORMATS])
    async def export(interaction: discord.Interaction, format: str | None = None,
                     share: bool = False) -> None:
        await run(interaction, share, lambda: commands.build_export(format, share=share))

    @group.command(name="settings", description=_SUMMARY["settings"])
    @app_commands.describe(
        keywords_add="boost papers matching these (comma-separated)",
        keywords_remove="stop boosting these (comma-separated)",
        exclude_add="drop papers matching these (comma-separated)",
        exclude_remove="stop dropping these (comma-separated)",
        keywords_clear="remove every keyword", exclude_clear="remove every exclude word",
        top="at most this many picks a day",
        time="post time, 24-hour HH:MM", timezone="IANA timezone, e.g. Europe/Paris",
        days="posting days, e.g. mon-fri or mon,wed,fri",
    )
    async def settings(
        interaction: discord.Interaction,
        keywords_add: str | None = None,
        keywords_remove: str | None = None,
        exclude_add: str | None = None,
        exclude_remove: str | None = None,
        top: app_commands.Range[int, 1, MAX_TOP] | None = None,
        time: str | None = None,
        timezone: str | None = None,
        days: str | None = None,
        keywords_clear: bool = False,
        exclude_clear: bool = False,
    ) -> None:
        await run(interaction, False, lambda: commands.build_settings(
            keywords_add=keywords_add, keywords_remove=keywords_remove,
            exclude_add=exclude_add, exclude_remove=exclude_remove, top=top, time=time,
            timezone=timezone, days=days, keywords_clear=keywords_clear,
            exclude_clear=exclude_clear))

    @group.command(name="subscribe", description=_SUMMARY["subscribe"])
    @app_commands.describe(time="post time, 24-hour HH:MM (default 09:00)",
                           timezone="IANA timezone, e.g. Europe/Paris",
                           days="posting days, e.g. mon-fri (the default)")
    async def subscribe(interaction: discord.Interaction, time: str | None = None,
                        timezone: str | None = None, days: str | None = None) -> None:
        await run(interaction, False, lambda: commands.build_subscribe(time, timezone, days))

    @group.command(name="unsubscribe", description=_SUMMARY["unsubscribe"])
    async def unsubscribe(interaction: discord.Interaction) -> None:
        await run(interaction, False, commands.Unsubscribe)

    return group


__all__ = ["Build", "Run", "papers_group"]
