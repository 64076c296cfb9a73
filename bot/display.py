"""Small text helpers every renderer shares: author lists, counts, compact numbers, dates.

Pure. Each adapter's `render.py` builds its own layout (terminal text, Block Kit, embeds)
from these pieces, so "Ana Lee, Bo Chen, Cy Dee +4", "5 picks of 41" and "1.2k" read the
same on every platform. Escaping for a platform's markup is the renderer's job, not this.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.events import SaveReply, SettingsReply
from bot.models import Digest, Paper

AUTHORS_SHOWN = 3
LINK_NAMES = {"huggingface": "HF", "arxiv": "arXiv", "pdf": "PDF", "github": "GitHub",
              "project": "Project"}


def authors_short(authors: tuple[str, ...], shown: int = AUTHORS_SHOWN) -> str:
    """ "Ana Lee, Bo Chen, Cy Dee +4" """
    if not authors:
        return "unknown authors"
    names = ", ".join(authors[:shown])
    rest = len(authors) - shown
    return f"{names} +{rest}" if rest > 0 else names


def count(n: int, noun: str) -> str:
    """ "1 pick", "5 picks" """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def compact(n: int) -> str:
    """ "950", "1.2k", "12.3k" """
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def day_label(day: date) -> str:
    """ "Tue 12 May 2026" """
    return day.strftime("%a %d %b %Y")


def digest_title(digest: Digest) -> str:
    """ "Daily papers — Tue 12 May 2026 · 5 picks of 41" """
    picks = count(len(digest.picks), "pick")
    return f"Daily papers — {day_label(digest.day)} · {picks} of {digest.candidates}"


def signals(paper: Paper) -> list[str]:
    """The paper's facts after its authors: organization, upvotes, stars, source."""
    parts = []
    if paper.organization:
        parts.append(paper.organization)
    if paper.upvotes is not None:
        parts.append(f"▲ {paper.upvotes}")
    if paper.github_stars:
        parts.append(f"★ {compact(paper.github_stars)}")
    parts.append(paper.source)
    return parts


# Where a channel's settings come from, as `/papers settings` says it ({file}: config.toml).
SOURCES = {
    "config": "settings from {file}",
    "chat": "set up from chat",
    "chat over config": "set from chat, over {file}",
}


def settings_text(reply: SettingsReply, name_of: Callable[[str], str] = str) -> str:
    """A channel's schedule and filters, one fact a line (plain text for every platform);
    what a command just changed first. `name_of` shows a user id as the platform can."""
    channel = reply.channel
    head = [reply.note] if reply.note else []
    if channel is None:
        return "\n".join([*head, "This channel has no daily post; /papers subscribe starts "
                                  "one, /papers today uses the defaults."])
    lines = [
        *head,
        f"{_label(reply)}: daily post at {channel.time} {channel.timezone} on "
        f"{', '.join(channel.days) or 'no days'}",
        "next post: " + (reply.next_run.strftime("%a %d %b %Y %H:%M %Z")
                         if reply.next_run else "none scheduled"),
        f"top {channel.top_n}, min upvotes {channel.min_upvotes}, when empty: {channel.on_empty}",
    ]
    for label, values in (("keywords", channel.keywords), ("exclude", channel.exclude),
                          ("authors", channel.authors), ("categories", channel.categories)):
        if values:
            lines.append(f"{label}: {', '.join(values)}")
    lines.append(f"save emoji: :{reply.save_emoji}:")
    lines.append(source_line(reply, name_of))
    return "\n".join(lines)


def _label(reply: SettingsReply) -> str:
    # A channel set up from chat has no name of its own: its id would only confuse.
    assert reply.channel is not None
    return "This channel" if reply.source == "chat" else f"#{reply.channel.name}"


def source_line(reply: SettingsReply, name_of: Callable[[str], str] = str) -> str:
    """ "set up from chat by Ana; admins and Ana may change it" """
    line = SOURCES[reply.source].format(file=reply.config_file)
    if reply.subscriber is not None:
        name = name_of(reply.subscriber)
        line += f" by {name}; admins and {name} may change it"
    elif reply.source == "config":
        line += "; admins may override it from chat"
    return line


def error_text(message: str) -> str:
    """An ErrorReply's line; `message` as the platform escapes it."""
    return f"Sorry, that failed: {message}"


def save_text(reply: SaveReply, title: str | None = None) -> str:
    """What a save or unsave did, in one line; `title` is the paper's, as the platform
    fits it."""
    title = reply.paper.title if title is None else title
    others = f" ({reply.savers} people saved it)" if reply.savers > 1 else ""
    if reply.saved:
        verb = "Saved" if reply.changed else "Already saved"
        return f"{verb} '{title}' to the team list{others}"
    if not reply.changed:
        return f"You had not saved '{title}'"
    return f"Removed your save of '{title}'" + (
        f" ({reply.savers} still saved it)" if reply.savers else ""
    )


__all__ = [
    "AUTHORS_SHOWN", "LINK_NAMES", "SOURCES", "authors_short", "compact", "count", "day_label",
    "digest_title", "error_text", "save_text", "settings_text", "signals", "source_line",
]
