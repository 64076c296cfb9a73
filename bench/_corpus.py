"""Load the offline corpus of real Daily Papers into `bot.models.Paper` objects for benchmarks.

One job: read ../shared/data/hf-daily-papers-2023-05_2025-11.jsonl (a flattened export of the
Hugging Face daily_papers API, described in ../shared/data/README.md) and build Papers the way
the Hugging Face source does: version-less id, whitespace-normalised text, organisation's
display name. It does not fetch, cache or sample; each benchmark picks what it needs.

A benchmark without its data must say so rather than time nothing: when the file is absent
`load_corpus` exits with a message naming the path (status 2). Used by bench/*.py.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.models import Paper

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT.parent / "shared" / "data" / "hf-daily-papers-2023-05_2025-11.jsonl"


def load_corpus(path: Path | str | None = None) -> list[Paper]:
    """Every paper in the corpus, in file order. Exits (status 2) when the file is absent."""
    source = Path(path) if path is not None else CORPUS
    if not source.is_file():
        print(
            f"corpus not found: {source}\n"
            "benchmarks need ../shared/data beside the project (see ../shared/data/README.md)",
            file=sys.stderr,
        )
        sys.exit(2)
    with source.open(encoding="utf-8") as lines:
        return [paper_from_record(json.loads(line)) for line in lines if line.strip()]


def paper_from_record(record: dict[str, Any]) -> Paper:
    """One flattened corpus record as a Paper (source "huggingface")."""
    organization = record.get("organization") or {}
    return Paper(
        arxiv_id=record["arxiv_id"],
        title=_clean(record["title"]),
        abstract=_clean(record.get("abstract", "")),
        authors=tuple(record.get("authors", ())),
        source="huggingface",
        published_at=_timestamp(record.get("published_at")),
        featured_on=date.fromisoformat(record["daily_date"]) if record.get("daily_date") else None,
        upvotes=record.get("upvotes"),
        ai_summary=record.get("ai_summary"),
        ai_keywords=tuple(k for k in record.get("ai_keywords", ()) if k and k.strip()),
        github_repo=record.get("github_repo"),
        github_stars=record.get("github_stars"),
        project_page=record.get("project_page"),
        organization=organization.get("fullname") or organization.get("name"),
        num_comments=record.get("num_comments"),
        withdrawn=bool(record.get("withdrawn_at")),
    )


def busiest_days(papers: list[Paper]) -> list[tuple[date, int]]:
    """Feature days with their paper counts, busiest first (ties: earlier day first)."""
    counts = Counter(p.featured_on for p in papers if p.featured_on)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _clean(text: str) -> str:
    return " ".join(text.split())


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    # The export writes "2023-05-03T23:59:13.000Z"; fromisoformat reads "Z" from 3.11 on.
    return datetime.fromisoformat(value)
