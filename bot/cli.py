"""The `paperboy` command: parse arguments, run one use case, print, exit with a meaning.

Exit status: 0 success (an empty day included), 2 usage or configuration error, 1 an
upstream or store failure after retries. Errors are one line on stderr; `--debug` adds the
traceback. Output goes to stdout; progress and logs go to stderr, so pipes stay clean.
Each subcommand is one small async function; the work lives in bot.* modules.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.console import render
from bot import daily
from bot.config import ChannelConfig, Config, describe_config, find_config_path, load_config
from bot.errors import (
    ConfigError,
    PaperboyError,
    StoreError,
    UpstreamError,
    UserInputError,
)
from bot.runtime import open_runtime

log = logging.getLogger("paperboy")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
        return 130
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
    config = _config(args)
    channels = _select_channels(config, args.channel)
    day = args.date or _today(channels[0].timezone)
    if args.top is not None and not 1 <= args.top <= 25:
        raise UserInputError("--top must be between 1 and 25")
    with _progress(args) as say:
        async with open_runtime(config, readonly_if_locked=True) as rt:
            candidates = await daily.fetch_candidates(
                day, channels, hf=rt.hf, arxiv=rt.arxiv,
                arxiv_categories=config.arxiv.categories, today=_today(channels[0].timezone),
                progress=say,
            )
            digests = await daily.build_digests(
                candidates, channels, store=rt.store, summarizer=rt.summarizer,
                top_n=args.top, progress=say,
            )
    if args.json:
        rows = [
            render.pick_json(p, channel=d.channel if len(digests) > 1 else None)
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


async def cmd_config_check(args: argparse.Namespace) -> int:
    config = _config(args)
    print(describe_config(config, os.environ))
    print("config OK")
    return EXIT_OK


# --- helpers --------------------------------------------------------------------------------


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


def _today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


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
    digest.add_argument("--top", type=int, help="number of picks (1-25)")
    digest.add_argument("--json", action="store_true", help="print one JSON array")
    digest.set_defaults(handler=cmd_digest)

    config = sub.add_parser("config", parents=[common], help="configuration tools")
    config_sub = config.add_subparsers(title="config commands", metavar="ACTION")
    check = config_sub.add_parser(
        "check", parents=[common], help="validate the config and show effective settings"
    )
    check.set_defaults(handler=cmd_config_check)
    return parser


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
