"""Fill a data directory with history for benchmarks, by writing the store's own files.

Through the store's API, a year of posts for 500 channels would take hours of durable
writes; benchmarks need the files a long-running bot would have, in the store's layout
(bot.store._layout) and encoding (bot.store._codec), written once and copied per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.models import ChatRef, Paper, Saver
from bot.store import PostItem, PostRecord
from bot.store import _codec as codec
from bot.store._files import write_json_atomic
from bot.store._layout import list_file, paper_file, post_file

START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


def seed_list(
    data_dir: Path, team: tuple[str, str], listed: Sequence[Paper], where: ChatRef | None = None
) -> None:
    """`team`'s reading list holding `listed`, saved one minute apart by 40 users."""
    shards: dict[str, dict[str, object]] = {}
    for n, paper in enumerate(listed):
        saver = Saver(f"U{n % 40:03d}", START + timedelta(minutes=n), where)
        entry = {"paper": codec.paper_to_dict(paper), "savers": [codec.saver_to_dict(saver)]}
        shards.setdefault(list_file(*team, paper.arxiv_id), {})[paper.arxiv_id] = entry
    for relative, docs in shards.items():
        write_json_atomic(data_dir / relative, {"entries": docs})


def post_records(
    channel: ChatRef, papers: Sequence[Paper], first_day: date, days: int, per_day: int = 5
) -> list[PostRecord]:
    """`days` finished daily posts of a header and `per_day` papers, papers taken in turn."""
    records = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        ts = datetime.combine(day, START.timetz()).timestamp()
        items = [PostItem("header", None, f"{ts:.6f}")]
        for k in range(per_day):
            paper = papers[(d * per_day + k) % len(papers)]
            items.append(PostItem(paper.arxiv_id, paper.arxiv_id, f"{ts + k + 1:.6f}"))
        records.append(PostRecord(channel, day, "posted", "bench", START, tuple(items)))
    return records


def seed_posts(data_dir: Path, records: Sequence[PostRecord]) -> None:
    files: dict[str, dict[str, object]] = {}
    for record in records:
        claims = files.setdefault(post_file(record.channel, record.day), {})
        claims[record.day.isoformat()] = codec.post_to_dict(record)
    for relative, claims in files.items():
        write_json_atomic(data_dir / relative, {"claims": claims})


def seed_cache(data_dir: Path, papers: Sequence[Paper]) -> None:
    """The paper cache holding `papers` (what fetches over the months would have left)."""
    shards: dict[str, dict[str, object]] = {}
    for paper in papers:
        shards.setdefault(paper_file(paper.arxiv_id), {})[paper.arxiv_id] = (
            codec.paper_to_dict(paper)
        )
    for relative, docs in shards.items():
        write_json_atomic(data_dir / relative, {"papers": docs})


__all__ = ["START", "post_records", "seed_cache", "seed_list", "seed_posts"]
