"""The `paperboy` command's arguments: one subparser per subcommand, each naming its handler.

Pure argparse; the handlers are the `cmd_*` functions of paperboy/cli.py, passed in.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from pathlib import Path

Handler = Callable[[argparse.Namespace], Awaitable[int]]


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-05-12") from None


def common_options(default: object) -> argparse.ArgumentParser:
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
    options.add_argument(
        "--log-format", choices=("text", "json"), default=default or "text",
        help="logs as plain text (default) or one JSON object per line",
    )
    return options


def build_parser(handlers: Mapping[str, Handler]) -> argparse.ArgumentParser:
    """The whole command line; `handlers` maps each subcommand (e.g. "index_rebuild") to
    the coroutine function that runs it."""
    common = common_options(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="paperboy",
        description="The papers your team cares about, every morning, in Slack, Discord "
        "or the terminal.",
        parents=[common_options(None)],
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    digest = sub.add_parser(
        "digest", parents=[common], help="print today's picks once (read-only)",
        description="Print the day's picks for the configured channels. Marks nothing "
        "as posted.",
    )
    digest.add_argument("--date", type=parse_date, help="day to show (YYYY-MM-DD)")
    digest.add_argument("--channel", help="only this configured channel")
    digest.add_argument("--top", type=int, help="number of picks per channel (any N ≥ 1; "
                        "a large N gives the whole day)")
    digest.add_argument("--json", action="store_true", help="print one JSON array")
    digest.set_defaults(handler=handlers["digest"])

    config = sub.add_parser("config", parents=[common], help="configuration tools")
    config_sub = config.add_subparsers(title="config commands", metavar="ACTION")
    check = config_sub.add_parser(
        "check", parents=[common], help="validate the config and show effective settings"
    )
    check.set_defaults(handler=handlers["config_check"])

    summaries = sub.add_parser("summaries", parents=[common], help="LLM TL;DR tools")
    summaries_sub = summaries.add_subparsers(title="summaries commands", metavar="ACTION")
    probe = summaries_sub.add_parser(
        "test", parents=[common],
        help="send one TL;DR request to the configured LLM: latency, guard verdict, answer",
        description="Ask the [summaries] endpoint for one sample paper's TL;DR and show how "
        "long it took, whether the output guard accepted it, and the answer. The latency is "
        "kept for `config check`, which warns when the timeout is below it.",
    )
    probe.add_argument("--timeout", type=float, default=600.0,
                       help="seconds to wait for the answer (default 600: a CPU model is slow)")
    probe.set_defaults(handler=handlers["summaries_test"])

    run = sub.add_parser(
        "run", parents=[common], help="run the bot (the console when no tokens are set)",
        description="Run the bot: daily posts at each channel's time, /papers commands and "
        "save-by-reaction. With no Slack or Discord tokens it runs in this terminal.",
    )
    run.add_argument("--console", action="store_true", help="run in the terminal")
    run.set_defaults(handler=handlers["run"])

    status = sub.add_parser(
        "status", parents=[common], help="is the running bot well? (reads its status file)",
        description="Show what the running bot last reported: its heartbeat, each chat "
        "connection, the last fetch of papers, the next post per channel and the paused "
        "channels. Reads <data>/status.json only: the bot is not disturbed. Exit status 0 "
        "when healthy, 1 when not or not running.",
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=handlers["status"])

    post = sub.add_parser(
        "post", parents=[common], help="run one channel's daily post now (once per day)",
    )
    post.add_argument("--channel", help="the configured channel to post to")
    post.add_argument("--date", type=parse_date, help="day to post (YYYY-MM-DD)")
    post.add_argument("--force", action="store_true", help="post again even if already posted")
    post.set_defaults(handler=handlers["post"])

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
    search.set_defaults(handler=handlers["search"])

    fill = sub.add_parser(
        "backfill", parents=[common], help="fill the search index with past Daily Papers",
    )
    fill.add_argument("--from", dest="start", required=True, metavar="YYYY-MM")
    fill.add_argument("--to", dest="end", required=True, metavar="YYYY-MM")
    fill.add_argument("--force", action="store_true", help="fetch months already done")
    fill.set_defaults(handler=handlers["backfill"])

    index = sub.add_parser("index", parents=[common], help="search index tools")
    index_sub = index.add_subparsers(title="index commands", metavar="ACTION")
    rebuild = index_sub.add_parser(
        "rebuild", parents=[common], help="rebuild the search index from the paper cache"
    )
    rebuild.set_defaults(handler=handlers["index_rebuild"])

    discord = sub.add_parser("discord", parents=[common], help="Discord set-up")
    discord_sub = discord.add_subparsers(title="discord commands", metavar="ACTION")
    invite = discord_sub.add_parser(
        "invite", parents=[common], help="print the link that adds the bot to a server",
    )
    invite.add_argument("--application-id", type=int,
                        help="the application id (default: learnt with DISCORD_TOKEN)")
    invite.set_defaults(handler=handlers["discord_invite"])
    sync = discord_sub.add_parser(
        "sync", parents=[common], help="publish the /papers commands (once, after changes)",
        description="Publish the /papers slash commands to Discord: globally, or to one "
        "server with --guild (shown at once, for trying them out).",
    )
    sync.add_argument("--guild", type=int, help="only this server (guild id)")
    sync.set_defaults(handler=handlers["discord_sync"])

    listing = sub.add_parser("list", parents=[common], help="print a team's reading list")
    listing.add_argument("--team", help="PLATFORM:TEAM (default: the one team this bot "
                         "serves)")
    listing.add_argument(
        "--format", choices=("json", "markdown", "bibtex", "csv"), default="markdown"
    )
    listing.set_defaults(handler=handlers["list"])

    from paperboy.db_commands import add_db_parser

    add_db_parser(sub, common, handlers["db_upgrade"], handlers["db_import"],
                  handlers["db_export"])

    from paperboy.slack_commands import add_slack_parser

    add_slack_parser(sub, common, handlers["slack_forget"])
    return parser
