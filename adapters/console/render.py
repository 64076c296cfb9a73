"""Plain-text and JSON renderings of platform-neutral results for the terminal.

Pure functions: results in, text (or JSON-ready dicts) out — no I/O, no terminal codes.
`paperboy digest`, `paperboy search` and the console adapter print what these return; the
JSON shape is the one scripts rely on (`digest --json`, `search --json`).
"""

from __future__ import annotations

from typing import Any

from bot.events import (
    DigestReply,
    ErrorReply,
    FileReply,
    HelpReply,
    ListReply,
    Reply,
    SaveReply,
    SearchReply,
    SettingsReply,
)
from bot.models import Digest, Paper, Pick, SavedPaper, Summary

_AUTHORS_SHOWN = 3


def digest_header(digest: Digest) -> str:
    """ "Daily papers — Tue 12 May 2026 · 5 picks of 41" """
    when = digest.day.strftime("%a %d %b %Y")
    return f"Daily papers — {when} · {_count(len(digest.picks), 'pick')} of {digest.candidates}"


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


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _compact(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


# --- replies to commands --------------------------------------------------------------------


def render_reply(reply: Reply) -> str:
    """Any service reply as terminal text."""
    match reply:
        case HelpReply(usage=usage, error=error):
            return f"{error}\n{usage}" if error else usage
        case ErrorReply(message=message):
            return f"Sorry, that failed: {message}"
        case DigestReply(digest=digest):
            return render_digest(digest)
        case SearchReply():
            return render_search(reply)
        case ListReply(entries=entries, total=total):
            return render_list(entries, total)
        case FileReply(filename=filename, content=content, count=count):
            return f"{filename} ({_count(count, 'paper')})\n{content.rstrip()}"
        case SettingsReply():
            return render_settings(reply)
        case SaveReply():
            return render_save(reply)
    raise TypeError(f"no console rendering for {type(reply).__name__}")


def render_search(reply: SearchReply) -> str:
    lines = [f"Search: {reply.query}"]
    if reply.note:
        lines.append(f"({reply.note})")
    for n, hit in enumerate(reply.hits, start=1):
        paper = hit.paper
        lines.append("")
        lines.append(f"{n}. {paper.title}  [{paper.arxiv_id}, {hit.match}]")
        lines.append(f"   TL;DR: {hit.summary}")
        if hit.snippet:
            lines.append(f"   Match: {hit.snippet}")
        lines.append(f"   {byline(paper)}")
        lines.append(f"   {links_line(paper)}")
    return "\n".join(lines)


def render_list(entries: tuple[SavedPaper, ...], total: int) -> str:
    if not entries:
        return "Your team's reading list is empty: react :pushpin: on a paper to save it."
    head = f"Team reading list — {_count(total, 'paper')}"
    if total > len(entries):
        head += f" (newest {len(entries)} shown; /papers export for all)"
    lines = [head]
    for n, entry in enumerate(entries, start=1):
        who = ", ".join(sorted({s.user for s in entry.savers}))
        when = entry.last_saved_at.date().isoformat()
        lines.append(f"{n}. {entry.paper.title} [{entry.paper.arxiv_id}]")
        lines.append(f"   saved by {who} on {when} · {entry.paper.links.arxiv}")
    return "\n".join(lines)


def render_settings(reply: SettingsReply) -> str:
    channel = reply.channel
    if channel is None:
        return "This channel has no daily post configured; /papers today uses the defaults."
    lines = [
        f"#{channel.name}: daily post at {channel.time} {channel.timezone} on "
        f"{', '.join(channel.days) or 'no days'}",
        f"top {channel.top_n}, min upvotes {channel.min_upvotes}, when empty: {channel.on_empty}",
    ]
    for label, values in (("keywords", channel.keywords), ("exclude", channel.exclude),
                          ("authors", channel.authors), ("categories", channel.categories)):
        if values:
            lines.append(f"{label}: {', '.join(values)}")
    lines.append(f"save emoji: :{reply.save_emoji}:")
    return "\n".join(lines)


def render_save(reply: SaveReply) -> str:
    title = reply.paper.title
    others = f" ({reply.savers} people saved it)" if reply.savers > 1 else ""
    if reply.saved:
        verb = "Saved" if reply.changed else "Already saved"
        return f"{verb} '{title}' to the team list{others}"
    if not reply.changed:
        return f"You had not saved '{title}'"
    return f"Removed your save of '{title}'" + (
        f" ({reply.savers} still saved it)" if reply.savers else ""
    )
