"""Plain-text and JSON renderings of platform-neutral results for the terminal.

Pure functions: results in, text (or JSON-ready dicts) out — no I/O, no terminal codes.
`paperboy digest`, `paperboy search` and the console adapter print what these return; the
JSON shape is the one scripts rely on (`digest --json`, `search --json`).
"""

from __future__ import annotations

from typing import Any

from bot.models import Digest, Paper, Pick, Summary

_AUTHORS_SHOWN = 3


def digest_header(digest: Digest) -> str:
    """ "Daily papers — Tue 12 May 2026 · 5 picks of 41" """
    when = digest.day.strftime("%a %d %b %Y")
    return f"Daily papers — {when} · {len(digest.picks)} picks of {digest.candidates}"


def render_digest(digest: Digest) -> str:
    """The whole digest as text: a header line, then one block per pick."""
    if not digest.picks:
        note = digest.note or "nothing new today"
        return f"Daily papers — {digest.day.strftime('%a %d %b %Y')}: {note}"
    blocks = [digest_header(digest)]
    blocks.extend(render_pick(pick) for pick in digest.picks)
    return "\n\n".join(blocks)


def render_pick(pick: Pick) -> str:
    """One paper: numbered title, TL;DR, reason, byline and links."""
    paper = pick.paper
    lines = [
        f"{pick.rank}. {paper.title}",
        f"   TL;DR: {pick.summary.text}",
        f"   Why: {pick.reason}",
        f"   {byline(paper)}",
        f"   {links_line(paper)}",
    ]
    return "\n".join(lines)


def byline(paper: Paper) -> str:
    """ "Ana Lee, Bo Chen, Cy Dee +4 · Caltech · ▲ 412 · ★ 1.2k · huggingface" """
    parts = [authors_short(paper.authors)]
    if paper.organization:
        parts.append(paper.organization)
    if paper.upvotes is not None:
        parts.append(f"▲ {paper.upvotes}")
    if paper.github_stars:
        parts.append(f"★ {_compact(paper.github_stars)}")
    parts.append(paper.source)
    return " · ".join(p for p in parts if p)


def links_line(paper: Paper) -> str:
    names = {"huggingface": "HF", "arxiv": "arXiv", "pdf": "PDF", "github": "GitHub",
             "project": "Project"}
    return " · ".join(f"{names[k]} {url}" for k, url in paper.links.as_dict().items())


def authors_short(authors: tuple[str, ...]) -> str:
    if not authors:
        return "unknown authors"
    shown = ", ".join(authors[:_AUTHORS_SHOWN])
    rest = len(authors) - _AUTHORS_SHOWN
    return f"{shown} +{rest}" if rest > 0 else shown


def paper_json(paper: Paper, summary: Summary | None) -> dict[str, Any]:
    """The JSON object scripts get for a paper (`digest --json`, `search --json`)."""
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
    out = paper_json(pick.paper, pick.summary)
    out["reason"] = pick.reason
    out["score"] = round(pick.score, 4)
    out["rank"] = pick.rank
    if channel is not None:
        out["channel"] = channel
    return out


def _compact(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)
