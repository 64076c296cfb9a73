"""Plain-text renderings of platform-neutral results for the terminal.

Pure functions: results in, text out — no I/O, no terminal codes. The console adapter and
`paperboy digest` / `search` print what these return. Shared wording pieces (author lists,
counts) come from bot.display so every platform reads alike.
"""

from __future__ import annotations

import textwrap

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
    SearchReply,
    SettingsReply,
)
from bot.models import Digest, Paper, Pick, SavedPaper

CONSOLE_HELP = """Paperboy in the terminal. Type:
  /papers help                 the /papers commands (search, save, list, export, …)
  /post                        post today's picks for this channel now (once a day)
  /react N :pushpin:           save the paper in message [N]; /unreact N :pushpin: unsaves
  /more N                      the full abstract of the paper in message [N]
  /quit                        leave (Ctrl-D works too)"""
NOT_A_COMMAND = "Not a command: type /papers help, or /help for the console."
WIDTH = 100


def no_such_message(number: str) -> str:
    return f"There is no message [{number}]."


def wrap(text: str, width: int = WIDTH) -> str:
    """Long lines folded at word boundaries for a terminal; a URL is never split (it has no
    spaces, and long words are not broken). Indentation of continued lines is kept."""
    out = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        out.append(textwrap.fill(line, width, subsequent_indent=indent + "  ",
                                 break_long_words=False, break_on_hyphens=False)
                   if len(line) > width else line)
    return "\n".join(out)


def digest_header(digest: Digest) -> str:
    """ "Daily papers — Tue 12 May 2026 · 5 picks of 41" """
    return display.digest_title(digest)


def render_digest(digest: Digest) -> str:
    """The whole digest as text: a header line, then one block per pick."""
    if not digest.picks:
        note = digest.note or "nothing new today"
        return f"Daily papers — {display.day_label(digest.day)}: {note}"
    blocks = [digest_header(digest)]
    blocks.extend(render_pick(pick) for pick in digest.picks)
    return "\n\n".join(blocks)


def render_pick(pick: Pick) -> str:
    """One paper: numbered title, TL;DR, reason, byline and links."""
    paper = pick.paper
    lines = [f"{pick.rank}. {paper.title}"]
    if pick.summary is not None:
        lines.append(f"   TL;DR: {pick.summary.text}")
    lines += [
        f"   Why: {pick.reason}",
        f"   {byline(paper)}",
        f"   {links_line(paper)}",
    ]
    return "\n".join(lines)


def byline(paper: Paper) -> str:
    """ "Ana Lee, Bo Chen, Cy Dee +4 · Caltech · ▲ 412 · ★ 1.2k · huggingface" """
    return " · ".join([display.authors_short(paper.authors), *display.signals(paper)])


def links_line(paper: Paper) -> str:
    return " · ".join(
        f"{display.LINK_NAMES[k]} {url}" for k, url in paper.links.as_dict().items()
    )


# --- replies to commands --------------------------------------------------------------------


def render_reply(reply: Reply) -> str:
    """Any service reply as terminal text."""
    match reply:
        case HelpReply():
            return render_help(reply)
        case NoticeReply(text=text):
            return text
        case ErrorReply(message=message):
            return display.error_text(message)
        case DigestReply(digest=digest):
            return render_digest(digest)
        case SearchReply():
            return render_search(reply)
        case ListReply(entries=entries, total=total):
            return render_list(entries, total)
        case FileReply(filename=filename, content=content, count=count):
            return f"{filename} ({display.count(count, 'paper')})\n{content.rstrip()}"
        case SettingsReply():
            return render_settings(reply)
        case SaveReply():
            return render_save(reply)
        case DetailsReply():
            return render_details(reply)
        case Ignored(why=why):
            return f"Nothing to do: {why}."
    raise TypeError(f"no console rendering for {type(reply).__name__}")


def render_help(reply: HelpReply) -> str:
    """The usage, one command a line; after bad input, the one-line explanation first."""
    width = max(len(_syntax(h)) for h in reply.commands)
    lines = [reply.error] if reply.error else []
    lines += [f"/papers {_syntax(h).ljust(width)}  {h.summary}" for h in reply.commands]
    if reply.syntax:
        lines.append(reply.syntax)
    shareable = [h.name for h in reply.commands if h.shareable]
    if shareable:
        lines.append(f"Add --share to {_or_list(shareable)} to show the reply to the channel.")
    return "\n".join(lines)


def render_details(reply: DetailsReply) -> str:
    """A paper's abstract, as a reply in the thread of message [N]."""
    paper = reply.paper
    return (f"↳ in reply to [{reply.where.thread}] {paper.title}\n"
            f"   {display.authors_short(paper.authors, shown=10)}\n\n   {paper.abstract}")


def _syntax(command: CommandHelp) -> str:
    return f"{command.name} {command.args}".rstrip()


def _or_list(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


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
    head = f"Team reading list — {display.count(total, 'paper')}"
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
    return display.settings_text(reply)


def render_save(reply: SaveReply) -> str:
    return display.save_text(reply)
