"""Discord renderings of the service's replies and of the daily post: embeds and short text.

Pure: results in, `Rendered` out (message text, `discord.Embed`s, an optional file) — no
network, no client. Every piece of outside text (titles, authors, TL;DRs, queries, user
ids) is escaped so it cannot format, mention anyone or mask a link, then cut at a word
boundary to Discord's limits (title 256, description 4,096, field name 256, value 1,024,
footer 2,048, author 256, 25 fields, 10 embeds and 6,000 characters per message in all):
discord.py does not check them and the API answers 400. Wording shared with other platforms
comes from bot.display; what a reply says comes from the service. The adapter sends what
these return; `post_marker` tells it how to recognise its own daily-post messages again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import discord
from discord.utils import escape_markdown

from bot import display
from bot.commands import CommandHelp
from bot.events import (
    DetailsReply,
    DigestReply,
    ErrorReply,
    FileReply,
    HelpReply,
    Ignored,
    ListReply,
    NoticeReply,
    Reply,
    SaveReply,
    SearchHitView,
    SearchReply,
    SettingsReply,
)
from bot.models import Digest, Paper, Pick

TITLE, DESCRIPTION, FIELD_NAME, FIELD_VALUE, FOOTER, AUTHOR = 256, 4096, 256, 1024, 2048, 256
FIELDS, EMBEDS, MESSAGE_TOTAL, CONTENT = 25, 10, 6000, 2000
SAVE_EMOJI = "📌"
COLOUR = discord.Colour(0xFFD21E)  # the Hugging Face yellow
TLDR_SHOWN = 300  # in replies listing several papers; the daily post shows it whole
_ZWSP = "\u200b"
# `<@id>`, `<@&role>`, `<#channel>`, `@everyone`: a zero-width space after `<` and `@` keeps
# the text readable and makes Discord see no mention, in content and embeds alike.
_MENTION_START = re.compile(r"([<@])")


@dataclass(frozen=True)
class Rendered:
    """One Discord message: text, embeds and an optional file (name, bytes)."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()
    file: tuple[str, bytes] | None = field(default=None)


# --- text ------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Outside text made inert: no markdown, no masked links, no mentions."""
    inert = escape_markdown(" ".join(text.split())).replace("](", "]\\(")
    return _MENTION_START.sub(rf"\1{_ZWSP}", inert)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a word boundary, with "…" when cut. An escape
    backslash left dangling by the cut is dropped with it, so the "…" is not escaped."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip().rstrip("\\") + "…"


def link(label: str, url: str) -> str:
    """A markdown link from our own label and an https URL (Paper.links keeps only those)."""
    return f"[{label}](<{url}>)" if url.startswith("https://") else label


# --- the daily post --------------------------------------------------------------------------


def header_prefix(day: date) -> str:
    """How every header and note of a day's post begins: also how the adapter recognises
    them in the channel after a crash."""
    return f"**Daily papers — {display.day_label(day)}**"


def pick_footer(arxiv_id: str) -> str:
    """The footer of a paper's message; the adapter finds the message again by it."""
    return f"arXiv {arxiv_id} · react {SAVE_EMOJI} to save"


def render_header(digest: Digest) -> Rendered:
    """ "**Daily papers — Fri 12 Jun 2026** · 5 picks of 41 · react 📌 to save" """
    picks = display.count(len(digest.picks), "pick")
    return Rendered(f"{header_prefix(digest.day)} · {picks} of {digest.candidates} · "
                    f"react {SAVE_EMOJI} to save")


def render_note(day: date, text: str) -> Rendered:
    """A one-line note instead of picks ("No new papers for Fri 12 Jun: …")."""
    return Rendered(clip(f"{header_prefix(day)} · {escape(text)}", CONTENT))


def render_notice(text: str) -> Rendered:
    """One plain line outside any daily post (an alert for the admin channel)."""
    return Rendered(clip(escape(text), CONTENT))


def render_pick(pick: Pick) -> Rendered:
    """One paper of the daily post: linked title, TL;DR, why, byline, signals, links."""
    paper = pick.paper
    lines = []
    if pick.summary is not None:
        lines.append(escape(pick.summary.text))
    lines.append(f"*Why:* {escape(pick.reason)}")
    embed = _paper_embed(paper, f"{pick.rank}. ", "\n\n".join(lines))
    embed.set_footer(text=clip(pick_footer(paper.arxiv_id), FOOTER))
    return Rendered(embeds=(fit_message(embed),))


def _paper_embed(paper: Paper, prefix: str, description: str) -> discord.Embed:
    embed = discord.Embed(
        title=clip(prefix + escape(paper.title), TITLE),
        url=paper.links.huggingface,
        description=clip(description, DESCRIPTION),
        colour=COLOUR,
    )
    embed.add_field(name="Authors", value=clip(byline(paper), FIELD_VALUE), inline=False)
    embed.add_field(name="Links", value=clip(links_line(paper), FIELD_VALUE), inline=False)
    if paper.image:
        embed.set_thumbnail(url=paper.image)
    return embed


def byline(paper: Paper) -> str:
    """ "Ana Lee, Bo Chen, Cy Dee +4 · Caltech · ▲ 412 · ★ 1.2k · huggingface" """
    return " · ".join(escape(part) for part in
                      [display.authors_short(paper.authors), *display.signals(paper)])


def links_line(paper: Paper) -> str:
    return " · ".join(link(display.LINK_NAMES[name], url)
                      for name, url in paper.links.as_dict().items())


def fit_message(*embeds: discord.Embed) -> discord.Embed:
    """The first embed, its description shortened so that the message stays within
    Discord's 6,000 characters in all (the other parts are already clipped)."""
    first = embeds[0]
    over = sum(len(e) for e in embeds) - MESSAGE_TOTAL
    if over > 0 and first.description:
        first.description = clip(first.description, max(1, len(first.description) - over))
    return first


# --- replies to commands ---------------------------------------------------------------------


def render_reply(reply: Reply) -> Rendered | None:
    """Any service reply as one Discord message; None for `Ignored` (say nothing)."""
    match reply:
        case Ignored():
            return None
        case HelpReply():
            return Rendered(embeds=(render_help(reply),))
        case NoticeReply(text=text):
            return Rendered(clip(escape(text), CONTENT))
        case ErrorReply(message=message):
            return Rendered(clip(display.error_text(escape(message)), CONTENT))
        case DigestReply(digest=digest):
            return render_digest(digest)
        case SearchReply():
            return render_search(reply)
        case ListReply():
            return Rendered(embeds=(render_list(reply),))
        case FileReply(filename=filename, content=content, count=count):
            return Rendered(f"{escape(filename)} ({display.count(count, 'paper')})",
                            file=(filename, content.encode("utf-8")))
        case SettingsReply():
            return Rendered(embeds=(render_settings(reply),))
        case SaveReply():
            return Rendered(clip(render_save(reply), CONTENT))
        case DetailsReply():
            return render_details(reply)
    raise TypeError(f"no Discord rendering for {type(reply).__name__}")


def render_help(reply: HelpReply) -> discord.Embed:
    """The usage as an embed; after bad input the one-line explanation comes first."""
    lines = [f"**{escape(reply.error)}**", ""] if reply.error else []
    lines += [f"`/papers {_syntax(h)}` — {h.summary}" for h in reply.commands]
    if reply.syntax:
        lines.append(escape(reply.syntax))
    shareable = [h.name for h in reply.commands if h.shareable]
    if shareable:
        lines.append(f"Set `share` on {', '.join(shareable)} to show the reply to the channel.")
    return discord.Embed(title="Paperboy — /papers", description=clip("\n".join(lines),
                                                                      DESCRIPTION))


def _syntax(command: CommandHelp) -> str:
    return f"{command.name} {command.args}".rstrip()


def render_digest(digest: Digest) -> Rendered:
    """Today's picks as a reply: a header line and one compact embed per pick."""
    if not digest.picks:
        note = digest.note or "nothing new today"
        return Rendered(clip(f"{header_prefix(digest.day)}: {escape(note)}", CONTENT))
    embeds = []
    for pick in digest.picks:
        tldr = clip(escape(pick.summary.text), TLDR_SHOWN) if pick.summary else ""
        why = f"*Why:* {escape(pick.reason)}"
        embeds.append(_paper_embed(pick.paper, f"{pick.rank}. ",
                                   "\n\n".join(p for p in (tldr, why) if p)))
    return _many(render_header(digest).content or "", embeds)


def render_search(reply: SearchReply) -> Rendered:
    """Search results: the query (and a note when the search was partial), one embed each."""
    head = f"Search: {clip(escape(reply.query), 300)}"
    if reply.note:
        head += f" ({escape(reply.note)})"
    return _many(head, [_hit_embed(hit) for hit in reply.hits])


def _hit_embed(hit: SearchHitView) -> discord.Embed:
    parts = [clip(escape(hit.summary), TLDR_SHOWN)]
    if hit.snippet:
        parts.append(f"*Match:* {clip(escape(hit.snippet), TLDR_SHOWN)}")
    embed = _paper_embed(hit.paper, "", "\n\n".join(parts))
    embed.set_footer(text=f"arXiv {hit.paper.arxiv_id} · {hit.match}")
    return embed


def _many(content: str, embeds: list[discord.Embed]) -> Rendered:
    """At most 10 embeds and 6,000 characters: the rest is counted in the text, not sent."""
    kept: list[discord.Embed] = []
    total = 0
    for embed in embeds[:EMBEDS]:
        if total + len(embed) > MESSAGE_TOTAL:
            break
        kept.append(embed)
        total += len(embed)
    if len(kept) < len(embeds):
        content += f" · {len(embeds) - len(kept)} more not shown"
    return Rendered(clip(content, CONTENT), tuple(kept))


def render_list(reply: ListReply) -> discord.Embed:
    """The team list, newest first: title (linked), arXiv id, who saved it and when."""
    if not reply.entries:
        return discord.Embed(description=f"Your team's reading list is empty: react "
                                         f"{SAVE_EMOJI} on a paper to save it.")
    title = f"Team reading list — {display.count(reply.total, 'paper')}"
    if reply.total > len(reply.entries):
        title += f" (newest {len(reply.entries)}; /papers export for all)"
    lines = []
    for n, entry in enumerate(reply.entries, start=1):
        # Savers are Discord user ids: shown as mentions, which never ping (the client
        # allows no mentions) yet read as names.
        who = ", ".join(f"<@{user}>" for user in sorted({s.user for s in entry.savers})
                        if user.isdigit())
        when = entry.last_saved_at.date().isoformat()
        paper = entry.paper
        lines.append(f"{n}. {link(clip(escape(paper.title), 200), paper.links.arxiv)} "
                     f"`{paper.arxiv_id}` — {who or 'saved'} on {when}")
    return discord.Embed(title=clip(title, TITLE), description=_lines(lines), colour=COLOUR)


def _lines(lines: list[str]) -> str:
    """As many whole lines as fit in a description, and how many did not."""
    text = ""
    for n, line in enumerate(lines):
        more = f"\n… and {len(lines) - n} more"
        if len(text) + len(line) + 1 + len(more) > DESCRIPTION:
            return text + more
        text += ("\n" if text else "") + line
    return text


def render_settings(reply: SettingsReply) -> discord.Embed:
    channel = reply.channel
    note = escape(reply.note) if reply.note else None
    if channel is None:
        return discord.Embed(description=clip("\n".join(filter(None, [note, (
            "This channel has no daily post; /papers subscribe starts one, /papers today "
            "uses the defaults.")])), DESCRIPTION))
    title = "This channel" if reply.source == "chat" else f"#{escape(channel.name)}"
    embed = discord.Embed(title=clip(title, TITLE), colour=COLOUR,
                          description=clip(note, DESCRIPTION) if note else None)
    days = ", ".join(channel.days) or "no days"
    embed.add_field(name="Daily post", value=clip(
        f"{channel.time} {escape(channel.timezone)} on {days}", FIELD_VALUE), inline=False)
    next_run = (reply.next_run.strftime("%a %d %b %Y %H:%M %Z") if reply.next_run
                else "none scheduled")
    embed.add_field(name="Next post", value=next_run, inline=False)
    embed.add_field(name="Picks", value=f"top {channel.top_n}, min upvotes "
                    f"{channel.min_upvotes}, when empty: {channel.on_empty}", inline=False)
    for label, values in (("Keywords", channel.keywords), ("Exclude", channel.exclude),
                          ("Authors", channel.authors), ("Categories", channel.categories)):
        if values:
            embed.add_field(name=label, value=clip(escape(", ".join(values)), FIELD_VALUE),
                            inline=False)
    # A mention shows the subscriber's name; the client sends with no allowed mentions,
    # so it never pings them.
    embed.add_field(name="Set up", value=clip(display.source_line(
        reply, lambda user: f"<@{user}>" if user.isdigit() else escape(user)), FIELD_VALUE),
        inline=False)
    embed.set_footer(text=f"save emoji: :{reply.save_emoji}:")
    return embed


def render_save(reply: SaveReply) -> str:
    title = f"'{clip(escape(reply.paper.title), 200)}'"
    others = f" ({reply.savers} people saved it)" if reply.savers > 1 else ""
    if reply.saved:
        verb = "Saved" if reply.changed else "Already saved"
        return f"{verb} {title} to the team list{others}"
    if not reply.changed:
        return f"You had not saved {title}"
    still = f" ({reply.savers} still saved it)" if reply.savers else ""
    return f"Removed your save of {title}{still}"


def render_details(reply: DetailsReply) -> Rendered:
    """A paper's abstract, as a reply to the message that carried the paper."""
    paper = reply.paper
    embed = discord.Embed(title=clip(escape(paper.title), TITLE), url=paper.links.arxiv,
                          description=clip(escape(paper.abstract), DESCRIPTION))
    embed.set_author(name=clip(display.authors_short(paper.authors, shown=10), AUTHOR))
    return Rendered(embeds=(fit_message(embed),))


__all__ = [
    "Rendered", "byline", "clip", "escape", "fit_message", "header_prefix", "link",
    "links_line", "pick_footer", "render_details", "render_digest", "render_header",
    "render_help", "render_list", "render_note", "render_notice", "render_pick", "render_reply",
    "render_save", "render_search", "render_settings",
]
