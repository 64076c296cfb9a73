"""The `paperboy` command: parse arguments, run one use case, print, exit with a meaning.

Exit status: 0 success (an empty day included), 2 usage or configuration error, 1 an
upstream or store failure after retries, 130 stopped by Ctrl-C / SIGTERM. Errors are one
line on stderr; `--debug` adds the traceback. Output goes to stdout; progress and logs go to
stderr, so pipes stay clean. Each subcommand is one small async function; the work lives in
bot.* modules. This is the composition root: it builds the adapters that are started and
hands them to bot.running; the console adapter is imported only when it is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot import daily, export
from bot.config import (
    ChannelConfig,
    Config,
    describe_config,
    find_config_path,
    load_config,
    platforms_from_env,
)
from bot.errors import (
    ConfigError,
    PaperboyError,
    StoreError,
    UpstreamError,
    UserInputError,
)
from bot.events import ChatAdapter, SearchHitView, SearchReply
from bot.models import ChatRef
from bot.running import serve
from bot.runtime import Runtime, open_runtime
from bot.schedule import local_today
from bot.search import Searcher, backfill, open_index, rebuild_index
from bot.service import Service, describe_outcome
from bot.summarize import instant_summary
from paperboy import jsonshape

if TYPE_CHECKING:
    from adapters.console.adapter import ConsoleAdapter

log = logging.getLogger("paperboy")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 130
# Where the console kept its message counter before it had a history file.
LEGACY_COUNTER_KEY = "console:next_message"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.debug)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return asyncio.run(args.handler(args))
    except KeyboardInterrupt:
        return EXIT_STOPPED
    except (UserInputError, ConfigError) as exc:
        return _fail(exc, EXIT_USAGE, args.debug)
    except (UpstreamError, StoreError) as exc:
        return _fail(exc, EXIT_FAILED, args.debug)
    except PaperboyError as exc:
        return _fail(exc, EXIT_FAILED, args.debug)


def _fail(exc: BaseException, code: int, debug: bool) -> int:
    if debug:
        log.exception("failed")
    print(f"paperboy: {exc}", file=sys.stderr)
    return code


# --- subcommands ----------------------------------------------------------------------------


async def cmd_digest(args: argparse.Namespace) -> int:
    from adapters.console import render

    config = _config(args)
    channels = _select_channels(config, args.channel)
    day = args.date or _today(channels[0])
    if args.top is not None and args.top < 1:
        raise UserInputError("--top must be 1 or more")
    with _progress(args) as say:
        async with open_runtime(config, readonly_if_locked=True) as rt:
            candidates = await daily.fetch_candidates(
                day, channels, hf=rt.hf, arxiv=rt.arxiv,
                arxiv_categories=config.arxiv.categories, today=_today(channels[0]),
                store=rt.store, progress=say,
            )
            known = await rt.store.known_teams()
            audiences = [daily.Audience(c, _address(c, known)) for c in channels]
            digests = await daily.build_digests(
                candidates, audiences, store=rt.store, summarizer=rt.summarizer,
                top_n=args.top, progress=say,
            )
    if args.json:
        rows = [
            jsonshape.pick_json(p, channel=d.channel if len(digests) > 1 else None)
            for d in digests for p in d.picks
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    texts = []
    for digest in digests:
        body = render.render_digest(digest)
        texts.append(f"# {digest.channel}\n{body}" if len(digests) > 1 else body)
    print("\n\n".join(texts))
    return EXIT_OK


async def cmd_search(args: argparse.Namespace) -> int:
    from adapters.console import render

    config = _config(args)
    if not 1 <= args.limit <= 50:
        raise UserInputError("--limit must be between 1 and 50")
    query = " ".join(args.query)
    async with open_runtime(config, readonly_if_locked=True) as rt:
        team = await _team(rt, args.team, required="in:saved" in query.lower())
        searcher = await _searcher(rt)
        results = await searcher.search(query, limit=args.limit, team=team)
        await searcher.drain()
    if args.json:
        rows = []
        for hit in results.hits:
            row = jsonshape.paper_json(hit.paper, instant_summary(hit.paper))
            row.update(snippet=hit.snippet, match=hit.match, score=round(hit.score, 4))
            rows.append(row)
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        if results.note:
            # stdout stays one JSON array; a script still learns why it is empty or partial.
            print(results.note, file=sys.stderr)
    else:
        views = tuple(
            SearchHitView(h.paper, instant_summary(h.paper).text, h.snippet, h.match)
            for h in results.hits
        )
        note = results.note or (None if views else "no papers matched")
        print(render.render_search(SearchReply(query, views, note)))
    return EXIT_OK


async def cmd_backfill(args: argparse.Namespace) -> int:
    config = _config(args)
    async with open_runtime(config) as rt:
        index = await open_index(config.storage.path, rt.store)
        with _progress(args) as say:
            report = await backfill(
                rt.hf, rt.store, index, start=args.start, end=args.end, force=args.force,
                pause=config.huggingface.backfill_pause,
                progress=lambda month, n, total: say(f"Backfilling {month} ({n}/{total})"),
            )
    print(
        f"backfill: {len(report.months_done)} months fetched, "
        f"{len(report.months_skipped)} already done; "
        f"{report.papers_added} new papers, {report.papers_updated} updated"
    )
    return EXIT_OK


async def cmd_index_rebuild(args: argparse.Namespace) -> int:
    config = _config(args)
    async with open_runtime(config) as rt:
        index = await open_index(config.storage.path, rt.store)
        count = await rebuild_index(index, rt.store)
    print(f"search index rebuilt: {count} papers")
    return EXIT_OK


async def cmd_list(args: argparse.Namespace) -> int:
    config = _config(args)
    async with open_runtime(config, readonly_if_locked=True) as rt:
        platform, team = await _team(rt, args.team, required=True)
        entries = await rt.store.saved_papers(platform, team)
    if args.format == "json":
        rows = [jsonshape.saved_json(entry) for entry in entries]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(export.export(entries, args.format)[2], end="")
    return EXIT_OK


async def cmd_post(args: argparse.Namespace) -> int:
    config = _config(args)
    channels = _select_channels(config, args.channel)
    if len(channels) > 1:
        raise UserInputError("--channel NAME is required when several channels are configured")
    channel = channels[0]
    if channel.platform not in ("console", "discord"):
        raise UserInputError(
            f"#{channel.name} is a {channel.platform} channel; this build posts to the console "
            "and Discord only"
        )
    async with open_runtime(config) as rt:
        service = await _service(rt)
        adapter: ChatAdapter = (
            _discord(service) if channel.platform == "discord"
            else await _console(rt, service, channel, lines=None, banner=False)
        )
        identity = await adapter.connect()
        try:
            targets = identity.targets([channel], adapter)
            if not targets:
                raise UserInputError(f"#{channel.name} (id {channel.id}) is not a channel the "
                                     f"{channel.platform} bot can see")
            target = targets[0]
            day = args.date or service.local_today(channel)
            with _stop_on_signals(service):
                outcome = await service.poster.post(target, day, force=args.force)
        finally:
            await adapter.close()
    if outcome.status == "stopped":
        print(describe_outcome(outcome), file=sys.stderr)
        return EXIT_STOPPED
    if outcome.status == "already":
        print(f"#{channel.name}: already posted for {day.isoformat()} (use --force to re-post)")
    elif outcome.status == "empty":
        print(f"#{channel.name}: nothing to post for {day.isoformat()}: {outcome.note}",
              file=sys.stderr)
    return EXIT_OK


async def cmd_run(args: argparse.Namespace) -> int:
    config = _config(args)
    platforms = ("console",) if args.console else platforms_from_env(os.environ)
    unbuilt = [p for p in platforms if p not in ("console", "discord")]
    if unbuilt:
        raise UserInputError(
            f"tokens for {', '.join(unbuilt)} are set, but this build runs in the console "
            "and Discord only; start it with: paperboy run --console"
        )
    consoles = [c for c in config.channels if c.platform == "console"]
    channel = consoles[0] if consoles else ChannelConfig()
    async with open_runtime(config) as rt:
        service = await _service(rt)
        adapters: list[ChatAdapter] = []
        if "discord" in platforms:
            adapters.append(_discord(service))
        if "console" in platforms:
            from adapters.console.adapter import stdin_lines

            adapters.append(await _console(rt, service, channel,
                                           lines=stdin_lines(asyncio.get_running_loop())))
        with _stop_on_signals(service) as signalled:
            await serve(service, adapters, store=rt.store)
    return EXIT_STOPPED if signalled else EXIT_OK


async def cmd_discord_invite(args: argparse.Namespace) -> int:
    from adapters.discord.adapter import PERMISSIONS, application_id, invite_url

    app = args.application_id or await application_id(_discord_token())
    print(invite_url(app))
    print("\nThe link adds the bot with the /papers commands and these permissions:")
    for name, why in PERMISSIONS.items():
        print(f"  {name.replace('_', ' ').title():<22} {why}")
    return EXIT_OK


async def cmd_discord_sync(args: argparse.Namespace) -> int:
    from adapters.discord.adapter import sync_commands

    count = await sync_commands(_discord_token(), args.guild)
    where = f"guild {args.guild} (available now)" if args.guild else \
        "every server (Discord may take up to an hour to show them)"
    print(f"synced {count} command group to {where}")
    return EXIT_OK


async def cmd_config_check(args: argparse.Namespace) -> int:
    config = _config(args)
    print(describe_config(config, os.environ))
    print("config OK")
    return EXIT_OK


# --- helpers --------------------------------------------------------------------------------

@contextmanager
def _stop_on_signals(service: Service) -> Iterator[list[int]]:
    """Ctrl-C and SIGTERM ask the bot to stop between messages instead of killing it
    mid-message: the post in flight finishes its message and records it. Yields the
    signals received."""
    loop = asyncio.get_running_loop()
    signalled: list[int] = []

    def stop(signum: int) -> None:
        signalled.append(signum)
        log.warning("stopping (%s): finishing the message being sent",
                    signal.Signals(signum).name)
        service.poster.stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        yield signalled
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _searcher(rt: Runtime) -> Searcher:
    index = await open_index(rt.config.storage.path, rt.store)
    return Searcher(index, rt.store, rt.hf, rt.arxiv)


async def _service(rt: Runtime) -> Service:
    return Service(
        rt.config, store=rt.store, hf=rt.hf, arxiv=rt.arxiv, summarizer=rt.summarizer,
        searcher=await _searcher(rt),
    )


async def _console(
    rt: Runtime, service: Service, channel: ChannelConfig,
    lines: asyncio.Queue[str | None] | None, banner: bool = True,
) -> ConsoleAdapter:
    from adapters.console.adapter import ConsoleAdapter

    # Message numbers continue from before the terminal kept a history file.
    legacy = await rt.store.get_meta(LEGACY_COUNTER_KEY)
    return ConsoleAdapter(
        service, channel, history=rt.config.storage.path / "console" / "history.jsonl",
        lines=lines, first_number=int(legacy or 1), banner=banner,
    )


def _discord(service: Service) -> ChatAdapter:
    from adapters.discord.adapter import DiscordAdapter

    return DiscordAdapter(service, _discord_token())


def _discord_token() -> str:
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        raise ConfigError("not set: the bot token from the Discord Developer Portal "
                          "(Bot → Reset Token)", key="DISCORD_TOKEN")
    return token


async def _team(rt: Runtime, given: str | None, *, required: bool) -> tuple[str, str]:
    """The team a command is about: `--team PLATFORM:TEAM`, else the one team this bot
    serves. With several, the user must choose; `required` False lets a search without
    `in:saved` go on with the first."""
    if given is not None:
        platform, _, team = given.partition(":")
        if not team or platform not in ("console", "slack", "discord"):
            raise UserInputError(
                "--team is PLATFORM:TEAM, e.g. slack:T0123, discord:9876 or console:console"
            )
        return platform, team
    teams = await _served_teams(rt)
    if len(teams) > 1 and required:
        named = ", ".join(f"{p}:{t}" for p, t in teams)
        raise UserInputError(f"this bot serves several teams ({named}); choose one with --team")
    return teams[0] if teams else ("console", "console")


async def _served_teams(rt: Runtime) -> list[tuple[str, str]]:
    known = await rt.store.known_teams()
    teams: set[tuple[str, str]] = set()
    for channel in rt.config.channels:
        where = _address(channel, known)
        if where is not None:
            teams.add((where.platform, where.team))
    return sorted(teams)


def _address(channel: ChannelConfig, known: Sequence[tuple[str, str]]) -> ChatRef | None:
    """Where a configured channel lives when no adapter is connected to say: its own
    `team`, the console's one team, or the one team the store knows on its platform."""
    if channel.team is not None:
        return ChatRef(channel.platform, channel.team, channel.id)
    if channel.platform == "console":
        return ChatRef("console", "console", channel.id)
    teams = [team for platform, team in known if platform == channel.platform]
    return ChatRef(channel.platform, teams[0], channel.id) if len(teams) == 1 else None


def _config(args: argparse.Namespace) -> Config:
    path = find_config_path(args.config, os.environ, Path.cwd())
    return load_config(path, os.environ)


def _select_channels(config: Config, name: str | None) -> list[ChannelConfig]:
    if name is None:
        return list(config.channels)
    channel = config.channel(name)
    if channel is None:
        known = ", ".join(c.name for c in config.channels)
        raise UserInputError(f"no channel named '{name}' (configured: {known})")
    return [channel]


def _today(channel: ChannelConfig) -> date:
    return local_today(channel, datetime.now(UTC))


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-05-12") from None


@contextmanager
def _progress(args: argparse.Namespace) -> Iterator[Callable[[str], None]]:
    """A spinner on a terminal; nothing when stderr is piped (scripts read clean output)."""
    if not sys.stderr.isatty() or args.debug:
        yield lambda message: log.info("%s", message)
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("Starting…") as status:
        yield lambda message: status.update(f"{message}…")


def _setup_logging(verbose: bool, debug: bool) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not debug:
        # httpx logs every request URL at INFO; useful only when debugging.
        logging.getLogger("httpx").setLevel(logging.WARNING)


def _common_options(default: object) -> argparse.ArgumentParser:
    # The same options work before or after the subcommand; SUPPRESS keeps a subcommand's
    # unset option from overwriting one given before it.
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--config", type=Path, default=default, help="config.toml to use")
    options.add_argument(
        "-v", "--verbose", action="store_true", default=default or False, help="log progress"
    )
    options.add_argument(
        "--debug", action="store_true", default=default or False,
        help="debug logs and tracebacks",
    )
    return options


def _parser() -> argparse.ArgumentParser:
    common = _common_options(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="paperboy",
        description="The papers your team cares about, every morning, in Slack, Discord "
        "or the terminal.",
        parents=[_common_options(None)],
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    digest = sub.add_parser(
        "digest", parents=[common], help="print today's picks once (read-only)",
        description="Print the day's picks for the configured channels. Marks nothing "
        "as posted.",
    )
    digest.add_argument("--date", type=_parse_date, help="day to show (YYYY-MM-DD)")
    digest.add_argument("--channel", help="only this configured channel")
    digest.add_argument("--top", type=int, help="number of picks per channel (any N ≥ 1; "
                        "a large N gives the whole day)")
    digest.add_argument("--json", action="store_true", help="print one JSON array")
    digest.set_defaults(handler=cmd_digest)

    config = sub.add_parser("config", parents=[common], help="configuration tools")
    config_sub = config.add_subparsers(title="config commands", metavar="ACTION")
    check = config_sub.add_parser(
        "check", parents=[common], help="validate the config and show effective settings"
    )
    check.set_defaults(handler=cmd_config_check)

    run = sub.add_parser(
        "run", parents=[common], help="run the bot (the console when no tokens are set)",
        description="Run the bot: daily posts at each channel's time, /papers commands and "
        "save-by-reaction. With no Slack or Discord tokens it runs in this terminal.",
    )
    run.add_argument("--console", action="store_true", help="run in the terminal")
    run.set_defaults(handler=cmd_run)

    post = sub.add_parser(
        "post", parents=[common], help="run one channel's daily post now (once per day)",
    )
    post.add_argument("--channel", help="the configured channel to post to")
    post.add_argument("--date", type=_parse_date, help="day to post (YYYY-MM-DD)")
    post.add_argument("--force", action="store_true", help="post again even if already posted")
    post.set_defaults(handler=cmd_post)

    search = sub.add_parser(
        "search", parents=[common], help="search papers (local index + Hugging Face)",
        description="Search every paper the bot has seen, merged with Hugging Face's search. "
        "An arXiv id or link finds that paper. Words: author:NAME, since:2025-01, "
        "in:saved, in:posted.",
    )
    search.add_argument("query", nargs="+", help="words, an arXiv id or a paper link")
    search.add_argument("--limit", type=int, default=10, help="results (1-50, default 10)")
    search.add_argument("--team", help="team whose list in:saved searches (PLATFORM:TEAM)")
    search.add_argument("--json", action="store_true", help="print one JSON array")
    search.set_defaults(handler=cmd_search)

    fill = sub.add_parser(
        "backfill", parents=[common], help="fill the search index with past Daily Papers",
    )
    fill.add_argument("--from", dest="start", required=True, metavar="YYYY-MM")
    fill.add_argument("--to", dest="end", required=True, metavar="YYYY-MM")
    fill.add_argument("--force", action="store_true", help="fetch months already done")
    fill.set_defaults(handler=cmd_backfill)

    index = sub.add_parser("index", parents=[common], help="search index tools")
    index_sub = index.add_subparsers(title="index commands", metavar="ACTION")
    rebuild = index_sub.add_parser(
        "rebuild", parents=[common], help="rebuild the search index from the paper cache"
    )
    rebuild.set_defaults(handler=cmd_index_rebuild)

    discord = sub.add_parser("discord", parents=[common], help="Discord set-up")
    discord_sub = discord.add_subparsers(title="discord commands", metavar="ACTION")
    invite = discord_sub.add_parser(
        "invite", parents=[common], help="print the link that adds the bot to a server",
    )
    invite.add_argument("--application-id", type=int,
                        help="the application id (default: learnt with DISCORD_TOKEN)")
    invite.set_defaults(handler=cmd_discord_invite)
    sync = discord_sub.add_parser(
        "sync", parents=[common], help="publish the /papers commands (once, after changes)",
        description="Publish the /papers slash commands to Discord: globally, or to one "
        "server with --guild (shown at once, for trying them out).",
    )
    sync.add_argument("--guild", type=int, help="only this server (guild id)")
    sync.set_defaults(handler=cmd_discord_sync)

    listing = sub.add_parser("list", parents=[common], help="print a team's reading list")
    listing.add_argument("--team", help="PLATFORM:TEAM (default: the one team this bot "
                         "serves)")
    listing.add_argument(
        "--format", choices=("json", "markdown", "bibtex", "csv"), default="markdown"
    )
    listing.set_defaults(handler=cmd_list)
    return parser


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
