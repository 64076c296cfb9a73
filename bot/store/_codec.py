"""Turn the store's values into plain JSON-ready dicts and back.

Pure: no I/O. Datetimes become ISO 8601 strings (keeping their UTC offset), dates ISO dates,
tuples lists. Readers ignore keys they do not know and default the ones that are missing, so
a file written by an older or newer Paperboy still loads. Used by bot.store.tinydb (and by
bench/store.py to build large data directories quickly); MemoryStore keeps objects as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.models import ChatRef, Paper, Saver, Summary
from bot.store import PostItem, PostRecord


def paper_to_dict(paper: Paper) -> dict[str, Any]:
    """Every field of `paper`, JSON-ready. The contract suite checks each one round-trips."""
    return {
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": list(paper.authors),
        "source": paper.source,
        "published_at": _datetime_to_str(paper.published_at),
        "featured_on": paper.featured_on.isoformat() if paper.featured_on else None,
        "upvotes": paper.upvotes,
        "ai_summary": paper.ai_summary,
        "ai_keywords": list(paper.ai_keywords),
        "github_repo": paper.github_repo,
        "github_stars": paper.github_stars,
        "project_page": paper.project_page,
        "thumbnail": paper.thumbnail,
        "organization": paper.organization,
        "categories": list(paper.categories),
        "num_comments": paper.num_comments,
        "withdrawn": paper.withdrawn,
    }


def paper_from_dict(data: dict[str, Any]) -> Paper:
    featured = data.get("featured_on")
    return Paper(
        arxiv_id=data["arxiv_id"],
        title=data["title"],
        abstract=data.get("abstract", ""),
        authors=tuple(data.get("authors") or ()),
        source=data.get("source", "huggingface"),
        published_at=_datetime_from_str(data.get("published_at")),
        featured_on=date.fromisoformat(featured) if featured else None,
        upvotes=data.get("upvotes"),
        ai_summary=data.get("ai_summary"),
        ai_keywords=tuple(data.get("ai_keywords") or ()),
        github_repo=data.get("github_repo"),
        github_stars=data.get("github_stars"),
        project_page=data.get("project_page"),
        thumbnail=data.get("thumbnail"),
        organization=data.get("organization"),
        categories=tuple(data.get("categories") or ()),
        num_comments=data.get("num_comments"),
        withdrawn=bool(data.get("withdrawn", False)),
    )


def summary_to_dict(summary: Summary) -> dict[str, Any]:
    return {"text": summary.text, "source": summary.source, "model": summary.model}


def summary_from_dict(data: dict[str, Any]) -> Summary:
    return Summary(text=data["text"], source=data["source"], model=data.get("model"))


def chatref_to_dict(ref: ChatRef) -> dict[str, Any]:
    return {
        "platform": ref.platform,
        "team": ref.team,
        "channel": ref.channel,
        "message": ref.message,
    }


def chatref_from_dict(data: dict[str, Any]) -> ChatRef:
    return ChatRef(
        platform=data["platform"],
        team=data["team"],
        channel=data["channel"],
        message=data.get("message"),
    )


def saver_to_dict(saver: Saver) -> dict[str, Any]:
    return {
        "user": saver.user,
        "saved_at": saver.saved_at.isoformat(),
        "where": chatref_to_dict(saver.where) if saver.where else None,
    }


def saver_from_dict(data: dict[str, Any]) -> Saver:
    where = data.get("where")
    return Saver(
        user=data["user"],
        saved_at=datetime.fromisoformat(data["saved_at"]),
        where=chatref_from_dict(where) if where else None,
    )


def item_to_dict(item: PostItem) -> dict[str, Any]:
    return {"key": item.key, "arxiv_id": item.arxiv_id, "message_id": item.message_id}


def item_from_dict(data: dict[str, Any]) -> PostItem:
    return PostItem(
        key=data["key"], arxiv_id=data.get("arxiv_id"), message_id=data.get("message_id")
    )


def post_to_dict(record: PostRecord) -> dict[str, Any]:
    return {
        "channel": chatref_to_dict(record.channel),
        "day": record.day.isoformat(),
        "status": record.status,
        "owner": record.owner,
        "claimed_at": record.claimed_at.isoformat(),
        "items": [item_to_dict(item) for item in record.items],
    }


def post_from_dict(data: dict[str, Any]) -> PostRecord:
    return PostRecord(
        channel=chatref_from_dict(data["channel"]),
        day=date.fromisoformat(data["day"]),
        status=data["status"],
        owner=data["owner"],
        claimed_at=datetime.fromisoformat(data["claimed_at"]),
        items=tuple(item_from_dict(item) for item in data.get("items") or ()),
    )


def _datetime_to_str(value: datetime | None) -> str | None:
    # isoformat keeps the UTC offset of an aware datetime, so the value reads back equal.
    return value.isoformat() if value else None


def _datetime_from_str(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
