"""Where each piece of Paperboy's state lives in the data directory, as relative paths.

Pure path arithmetic, plus one job that touches files: `refile_old_lists`, which moves team
lists written in the earlier layout into this one (a writer calls it at open, under the
lock). Chat ids become path components that cannot leave their directory and map back to
exactly one id. Used by bot.store.tinydb and bench/store.py; see bot.store.tinydb for why
the data is split this way.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from bot.errors import StoreError
from bot.models import ChatRef
from bot.store._files import read_json, write_json_atomic

log = logging.getLogger(__name__)

# Caches can be fetched again; everything else is team state.
CACHE_DIRS = ("papers/", "summaries/")
# A channel's posts of a whole year: the layout before month files, still read.
YEAR_FILE = re.compile(r"/\d{4}\.json$", re.ASCII)

_NEW_STYLE_ID = re.compile(r"^(\d{4})\.\d{4,5}$", re.ASCII)
_LIST_SHARD = 500  # arXiv numbers per list file
_OLD_LIST_FILE = "[0-9][0-9][0-9][0-9]-*.json"  # <YYMM>-<number // 5000>.json


def month(arxiv_id: str) -> str:
    """The shard of a paper: its YYMM for new-style ids, "old" for `hep-th/9901001` style."""
    match = _NEW_STYLE_ID.match(arxiv_id)
    return match.group(1) if match else "old"


def paper_file(arxiv_id: str) -> str:
    return f"papers/{month(arxiv_id)}.json"


def summary_file(arxiv_id: str) -> str:
    return f"summaries/{month(arxiv_id)}.json"


def channel_dir(channel: ChatRef) -> str:
    return f"posts/{part(channel.platform)}/{part(channel.team)}/{part(channel.channel)}"


def post_file(channel: ChatRef, day: Any) -> str:
    """Where a channel's post record for `day` (a date) lives."""
    return f"{channel_dir(channel)}/{day.year:04d}-{day.month:02d}.json"


def year_file(channel: ChatRef, year: int) -> str:
    """Where an earlier version filed the channel's posts of `year`: read, never written."""
    return f"{channel_dir(channel)}/{year:04d}.json"


def team_dir(platform: str, team: str) -> str:
    return f"lists/{part(platform)}/{part(team)}"


def list_file(platform: str, team: str, arxiv_id: str) -> str:
    """Where a team's list entry for a paper lives."""
    return f"{team_dir(platform, team)}/{list_shard(arxiv_id)}"


def list_shard(arxiv_id: str) -> str:
    """The list file of a paper within its team's folder: `<YYMM>/<number // 500>.json`."""
    match = _NEW_STYLE_ID.match(arxiv_id)
    if not match:
        return "old.json"
    return f"{match.group(1)}/{int(arxiv_id[5:]) // _LIST_SHARD:03d}.json"


def part(text: str) -> str:
    """A path component that cannot escape its directory and maps back to one `text`."""
    if not text:
        return "%"
    return quote(text, safe="-_").replace(".", "%2E")


def unpart(name: str) -> str:
    """The `text` a path component made by `part` stands for."""
    return "" if name == "%" else unquote(name)


def refile_old_lists(data_dir: Path) -> None:
    """Refile list entries from `<YYMM>-<k>.json` files into `<YYMM>/<k>.json` ones.

    New files are written first and each old file is deleted after its entries are all
    in place, so a crash part-way leaves old files that the next writer refiles again
    (the new files then already hold the same entries). A corrupt old file stays where
    it is; listing the team then says so. Only the lock holder may call this.
    """
    lists = data_dir / "lists"
    for old in sorted(lists.glob(f"*/*/{_OLD_LIST_FILE}")) if lists.is_dir() else []:
        try:
            entries = (read_json(old) or {}).get("entries", {})
            by_file: dict[Path, dict[str, Any]] = {}
            for arxiv_id, entry in entries.items():
                by_file.setdefault(old.parent / list_shard(arxiv_id), {})[arxiv_id] = entry
            for target, moved in by_file.items():
                current = (read_json(target) or {}).get("entries", {})
                write_json_atomic(target, {"entries": {**moved, **current}}, backup=True)
            old.unlink()
        except (StoreError, OSError) as exc:
            log.warning("could not refile the list entries of %s: %s", old, exc)
            continue
        log.info("refiled %d list entries of %s into smaller files", len(entries), old)
