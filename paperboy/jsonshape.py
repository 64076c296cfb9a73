"""The JSON shapes scripts rely on: `digest --json`, `search --json`, `list --format json`.

Pure: models in, JSON-ready dicts out. The field names are a public contract (the README
lists them); change them only on purpose.
"""

from __future__ import annotations

from typing import Any

from bot.models import Paper, Pick, SavedPaper, Summary
from bot.summaries import instant_summary


def paper_json(paper: Paper, summary: Summary | None) -> dict[str, Any]:
    """The JSON object scripts get for a paper."""
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "summary": summary.text if summary else None,
        "summary_source": summary.source if summary else None,
        "authors": list(paper.authors),
        "upvotes": paper.upvotes,
        "source": paper.source,
        "published_at": paper.published_at.isoformat() if paper.published_at else None,
        "organization": paper.organization,
        "github_stars": paper.github_stars,
        "links": paper.links.as_dict(),
    }


def pick_json(pick: Pick, channel: str | None = None) -> dict[str, Any]:
    """A paper plus why, how well and where it was picked."""
    out = paper_json(pick.paper, pick.summary)
    out["reason"] = pick.reason
    out["score"] = round(pick.score, 4)
    out["rank"] = pick.rank
    if channel is not None:
        out["channel"] = channel
    return out


def saved_json(entry: SavedPaper) -> dict[str, Any]:
    """A team-list entry: the paper (with the TL;DR search would show) and its savers."""
    out = paper_json(entry.paper, instant_summary(entry.paper))
    out["saved_by"] = [
        {"user": s.user, "saved_at": s.saved_at.isoformat()} for s in entry.savers
    ]
    return out


__all__ = ["paper_json", "pick_json", "saved_json"]
