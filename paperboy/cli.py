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
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

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
from bot.health import STATUS_FILE, HealthMonitor, judge, read_status
from bot.health import describe as describe_status
from bot.running import serve
from bot.runtime import Runtime, open_runtime
from bot.schedule import local_today
from bot.search import backfill, open_index, rebuild_index
from bot.service import Service, describe_outcome
from bot.sources.http import make_client
from bot.summaries import instant_summary, probe
from paperboy import db_commands, jsonshape
from paperboy.health import health_endpoint
from paperboy.logs import LogFormat, mask_variables, setup_logging
from paperboy.parser import build_parser
from paperboy.shards import own_shards
from paperboy.wiring import (
    address,
    build_service,
    console_adapter,
    discord_adapter,
    discord_token,
    open_searcher,
    shared_discord_limit,
    slack_adapter,
    stop_on_signals,
    team_for,
)

log = logging.getLogger("paperboy")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STOPPED = 0, 1, 2, 130



def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_HANDLERS)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.debug, args.log_format)
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
            audiences = [daily.Audience(c, address(c, known)) for c in channels]
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
        team = await team_for(rt, args.team, required="in:saved" in query.lower())
        searcher = await open_searcher(rt, index_optional=True)
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
        platform, team = await team_for(rt, args.team, required=True)
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
    if channel.platform not in ("console", "slack", "discord"):
        raise UserInputError(f"#{channel.name}: unknown platform {channel.platform}")
    async with open_runtime(config) as rt:
        service = await build_service(rt)
        adapter: ChatAdapter
        if channel.platform == "slack":
            # Posting needs only the bot token: no Socket Mode connection, no HTTP server.
            adapter = slack_adapter(rt.config, service, serves=False)
        elif channel.platform == "discord":
            adapter = discord_adapter(service)
        else:
            adapter = await console_adapter(rt, service, channel, lines=None, banner=False)
        identity = await adapter.connect()
        try:
            targets = identity.targets([channel], adapter)
            if not targets:
                raise UserInputError(
                    f"#{channel.name} (id {channel.id}, team {channel.team}) is not a channel "
                    f"the {channel.platform} bot serves (its team is {identity.team})"
                )
            target = targets[0]
            day = args.date or service.local_today(channel)
            with stop_on_signals(service):
                outcome = await service.poster.post(target, day, force=args.force)
        finally:
            await adapter.close()
            await service.close()
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
    if platforms != ("console",):
        return await _run_chat(config, platforms)
    consoles = [c for c in config.channels if c.platform == "console"]
    channel = consoles[0] if consoles else ChannelConfig()
    async with open_runtime(config) as rt:
        service = await build_service(rt)
        adapters: list[ChatAdapter] = []
        if "discord" in platforms:
            adapters.append(discord_adapter(service))
        if "console" in platforms:
            from adapters.console.stdin import stdin_lines

            adapters.append(await console_adapter(
                rt, service, channel, lines=stdin_lines(asyncio.get_running_loop())))
        signalled = await _serve_bot(rt, service, adapters)
    return EXIT_STOPPED if signalled else EXIT_OK


async def _run_chat(config: Config, platforms: Sequence[str]) -> int:
    """`paperboy run` with chat tokens set: every platform whose token is set, together."""
    async with open_runtime(config) as rt:
        service = await build_service(rt)
        adapters: list[ChatAdapter] = []
        if "slack" in platforms:
            adapters.append(slack_adapter(rt.config, service))
        # Held while serving: a second process asking for one of these shards is refused.
        async with own_shards(rt.config, os.environ,
                              discord="discord" in platforms) as shards, \
                shared_discord_limit(rt.config) as gate:
            if "discord" in platforms:
                adapters.append(discord_adapter(service, shards, gate))
            signalled = await _serve_bot(rt, service, adapters)
    return EXIT_STOPPED if signalled else EXIT_OK


async def _serve_bot(rt: Runtime, service: Service, adapters: Sequence[ChatAdapter]) -> bool:
    """Serve until stopped, with /healthz when configured and status.json for `paperboy
    status`; True when a signal stopped it."""
    monitor = HealthMonitor(rt.config.storage.path)
    async with health_endpoint(rt.config.health, monitor):
        with stop_on_signals(service) as signalled:
            await serve(service, adapters, store=rt.store, health=monitor)
    return bool(signalled)


async def cmd_status(args: argparse.Namespace) -> int:
    config = _config(args)
    report = read_status(config.storage.path)
    if report is None:
        print(f"paperboy: no status in {config.storage.path / STATUS_FILE}: the bot has not "
              "run with this data directory (start it with `paperboy run`)", file=sys.stderr)
        return EXIT_FAILED
    report = judge(report, datetime.now(UTC))
    print(json.dumps(report, indent=2) if args.json else describe_status(report))
    return EXIT_OK if report["healthy"] else EXIT_FAILED


async def cmd_discord_invite(args: argparse.Namespace) -> int:
    from adapters.discord.adapter import PERMISSIONS, application_id, invite_url

    app = args.application_id or await application_id(discord_token())
    print(invite_url(app))
    print("\nThe link adds the bot with the /papers commands and these permissions:")
    for name, why in PERMISSIONS.items():
        print(f"  {name.replace('_', ' ').title():<22} {why}")
    return EXIT_OK


async def cmd_discord_sync(args: argparse.Namespace) -> int:
    from adapters.discord.adapter import sync_commands

    count = await sync_commands(discord_token(), args.guild)
    where = f"guild {args.guild} (available now)" if args.guild else \
        "every server (Discord may take up to an hour to show them)"
    print(f"synced {count} command group to {where}")
    return EXIT_OK


async def cmd_config_check(args: argparse.Namespace) -> int:
    config = _config(args)
    print(describe_config(config, os.environ))
    speed = probe.measured(config.storage.path, config.summaries)
    for warning in probe.speed_warnings(config, speed):
        print(f"warning: {warning}")
    print("config OK")
    return EXIT_OK


async def cmd_summaries_test(args: argparse.Namespace) -> int:
    config = _config(args)
    summaries = config.summaries
    if not summaries.llm_enabled:
        raise UserInputError("no LLM configured: set [summaries] base_url and model first")
    if not args.timeout > 0:
        raise UserInputError("--timeout must be a positive number of seconds")
    endpoint = dataclasses.replace(summaries, timeout=args.timeout)
    async with make_client(timeout=args.timeout) as http:
        result = await probe.probe(
            endpoint, api_key=os.environ.get(summaries.api_key_env) or None, http=http
        )
    print(f"endpoint: {summaries.base_url} (model {summaries.model})")
    print(f"latency: {result.seconds:.1f}s (per-paper timeout {summaries.timeout:g}s)")
    print(f"guard: {result.verdict}")
    if result.answer is not None:
        print(f"answer: {' '.join(result.answer.split())}")
    if result.tldr is not None:
        print(f"tldr: {result.tldr}")
    if result.answer is not None:  # a measured answer, even one the guard refused
        try:
            probe.record(config.storage.path, summaries, result.seconds)
        except OSError as exc:
            log.warning("could not keep the measured latency in %s: %s",
                        config.storage.path, exc.strerror or exc)
        speed = probe.measured(config.storage.path, summaries)
        for warning in probe.speed_warnings(config, speed):
            print(f"warning: {warning}")
    return EXIT_OK if result.verdict == "accepted" else EXIT_FAILED


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    for line in await db_commands.db_upgrade(_config(args)):
        print(line)
    return EXIT_OK


async def cmd_slack_forget(args: argparse.Namespace) -> int:
    from paperboy.slack_commands import slack_forget

    for line in await slack_forget(_config(args), args.team, with_list=args.with_list):
        print(line)
    return EXIT_OK


async def cmd_db_import(args: argparse.Namespace) -> int:
    for line in await db_commands.db_import(_config(args), args.source):
        print(line)
    return EXIT_OK


async def cmd_db_export(args: argparse.Namespace) -> int:
    for line in await db_commands.db_export(_config(args), args.target):
        print(line)
    return EXIT_OK


# --- helpers --------------------------------------------------------------------------------

def _config(args: argparse.Namespace) -> Config:
    path = find_config_path(args.config, os.environ, Path.cwd())
    config = load_config(path, os.environ)
    mask_variables([config.summaries.api_key_env] if config.summaries.api_key_env else [])
    return config


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


def _setup_logging(verbose: bool, debug: bool, log_format: LogFormat = "text") -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    setup_logging(level, log_format)


_HANDLERS = {
    "digest": cmd_digest, "search": cmd_search, "backfill": cmd_backfill,
    "index_rebuild": cmd_index_rebuild, "list": cmd_list, "post": cmd_post, "run": cmd_run,
    "config_check": cmd_config_check, "status": cmd_status, "discord_invite": cmd_discord_invite,
    "discord_sync": cmd_discord_sync, "summaries_test": cmd_summaries_test,
    "db_upgrade": cmd_db_upgrade, "db_import": cmd_db_import, "slack_forget": cmd_slack_forget,
    "db_export": cmd_db_export,
}


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
