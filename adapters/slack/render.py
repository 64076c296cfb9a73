"""Block Kit renderings of platform-neutral results for Slack.

Pure functions: results in, `Message`s out (a notification `text` plus `blocks`) — no I/O,
no Slack client. The adapter sends what these return. Two promises hold for every message:

* Outside text (titles, abstracts, authors, TL;DRs, echoed queries, reasons) is escaped
  (`&`, `<`, `>`), so `<!channel>`, `<@U123>` or `<https://evil|x>` in a title render as
  text and notify no one; only https URLs become links.
* Slack's limits are never exceeded: 3,000 characters per section text, 150 in a header,
  75 in a button, 50 blocks and about 12,000 characters per message. Overlong fields are
  cut at word boundaries with an ellipsis; a long list keeps the items that fit and says
  how many were left out.

Savers named in a reason are shown by display name (`names`, looked up by the adapter),
never as a mention that would ping them every morning. Shared wording pieces come from
bot.display so every platform reads alike. Not here: what a command does (bot.service).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import display
from bot.events import (
    DetailsReply,
    DigestReply,
    ErrorReply,
    FileReply,
    HelpReply,
    ListReply,
    NoticeReply,
    Reply,
    SaveReply,
    SearchReply,
    SettingsReply,
)
from bot.models import Digest, Paper, Pick, SimilarToSaved, clip

Block = dict[str, Any]

SECTION_MAX = 3000
HEADER_MAX = 150
BUTTON_MAX = 75
BLOCKS_MAX = 50
MESSAGE_MAX = 12000  # Slack's msg_blocks_too_long starts a little above this
TEXT_MAX = 3000  # the notification fallback: shown in push notifications, kept short
TITLE_MAX = 300
TLDR_MAX = 600
CODE_MAX = 2800  # an export shown inline, inside ``` fences, within one section

SAVE_ACTION = "paperboy_save"
ABSTRACT_ACTION = "paperboy_abstract"
LINK_ACTION = "paperboy_link"  # link buttons open a URL; Slack still sends an action


@dataclass(frozen=True)
class Message:
    """One Slack message: `text` is the plain fallback for notifications and screen readers."""

    text: str
    blocks: tuple[Block, ...]


def escape(text: str) -> str:
    """Slack's three control characters, escaped in that order: `&` first."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """`text` escaped, cut at a word boundary (with an ellipsis) so the escaped form fits
    `limit` characters. Cut before escaping so an entity (`&amp;`) is never split."""
    budget = limit
    while True:
        escaped = escape(clip(text, budget))
        if len(escaped) <= limit or budget <= 1:
            return escaped[:limit]
        budget -= len(escaped) - limit


def link(url: str, label: str) -> str:
    """`<url|label>` for an https URL; other schemes are shown as plain (escaped) text."""
    if url.startswith("https://") and not any(c in url for c in " <>|"):
        return f"<{url}|{label}>"
    return label


# --- the daily post ---------------------------------------------------------------------------


def header_message(digest: Digest, save_emoji: str) -> Message:
    """The first message of a daily post: a header and how to save."""
    title = display.digest_title(digest)
    return Message(
        fit(title, TEXT_MAX),
        (
            {"type": "header", "text": _plain(title, HEADER_MAX)},
            {"type": "context", "elements": [_mrkdwn(
                f"React :{save_emoji}: or press Save on a paper to add it to the team's list.")]},
        ),
    )


def note_message(text: str) -> Message:
    """A one-line daily-post note ("nothing new today")."""
    return Message(fit(text, TEXT_MAX), (_section(fit(text, SECTION_MAX)),))


def pick_message(pick: Pick, names: Mapping[str, str] | None = None) -> Message:
    """One paper of a daily post: linked title, TL;DR, reason, byline, link and Save buttons."""
    paper = pick.paper
    lines = [f"*{pick.rank}. {link(paper.links.huggingface, fit(paper.title, TITLE_MAX))}*"]
    if pick.summary is not None:
        lines.append(fit(pick.summary.text, TLDR_MAX))
    reason = reason_text(pick, names or {})
    if reason:
        lines.append(f"_Why:_ {fit(reason, 400)}")
    blocks: list[Block] = [
        _section("\n".join(lines)),
        {"type": "context", "elements": [_mrkdwn(fit(byline(paper), 1000))]},
        _paper_actions(paper),
    ]
    return Message(fit(f"{pick.rank}. {paper.title}", TITLE_MAX), tuple(blocks))


def reason_text(pick: Pick, names: Mapping[str, str]) -> str:
    """`Pick.reason`, with savers' user ids replaced by their display names."""
    reason = pick.reason
    for part in pick.reasons:
        if isinstance(part, SimilarToSaved):
            for user in part.savers:
                reason = reason.replace(user, names.get(user, "a teammate"))
    return reason


def byline(paper: Paper) -> str:
    """ "Ana Lee, Bo Chen, Cy Dee +4 · Caltech · ▲ 412 · ★ 1.2k · huggingface" """
    return " · ".join([display.authors_short(paper.authors), *display.signals(paper)])


def _paper_actions(paper: Paper) -> Block:
    buttons: list[Block] = [
        {"type": "button", "text": _plain(display.LINK_NAMES[name], BUTTON_MAX), "url": url,
         "action_id": f"{LINK_ACTION}_{name}"}
        for name, url in paper.links.as_dict().items()
    ]
    buttons.append({"type": "button", "text": _plain("Save", BUTTON_MAX),
                    "action_id": SAVE_ACTION, "value": paper.arxiv_id, "style": "primary"})
    buttons.append({"type": "button", "text": _plain("Abstract", BUTTON_MAX),
                    "action_id": ABSTRACT_ACTION, "value": paper.arxiv_id})
    return {"type": "actions", "elements": buttons}


# --- replies --------------------------------------------------------------------------------


def render_reply(reply: Reply, names: Mapping[str, str] | None = None) -> Message:
    """Any service reply as a Slack message (the caller decides ephemeral or in channel)."""
    match reply:
        case HelpReply():
            return _text_message(help_text(reply))
        case NoticeReply(text=text):
            return _text_message(text)
        case ErrorReply(message=message):
            return _text_message(display.error_text(message))
        case DigestReply(digest=digest):
            return digest_message(digest, names or {})
        case SearchReply():
            return search_message(reply)
        case ListReply():
            return list_message(reply, names or {})
        case FileReply():
            return file_message(reply)
        case SettingsReply():
            return _text_message(settings_text(reply, names or {}))
        case SaveReply():
            return _text_message(save_text(reply))
        case DetailsReply():
            return details_message(reply)
    raise TypeError(f"no Slack rendering for {type(reply).__name__}")


def help_text(reply: HelpReply) -> str:
    lines = [reply.error] if reply.error else []
    lines += [f"/papers {h.name} {h.args}".rstrip() + f" — {h.summary}" for h in reply.commands]
    if reply.syntax:
        lines.append(reply.syntax)
    if any(h.shareable for h in reply.commands):
        lines.append("Add --share to show the reply to the channel.")
    return "\n".join(lines)


def digest_message(digest: Digest, names: Mapping[str, str]) -> Message:
    """`/papers today`: the header and every pick in one message."""
    if not digest.picks:
        note = digest.note or "nothing new today"
        return _text_message(f"Daily papers — {display.day_label(digest.day)}: {note}")
    head = display.digest_title(digest)
    items = [list(pick_message(pick, names).blocks[:2]) for pick in digest.picks]
    return _bounded(head, [{"type": "header", "text": _plain(head, HEADER_MAX)}], items)


def search_message(reply: SearchReply) -> Message:
    head = f"Search: {reply.query}"
    top: list[Block] = [_section(f"*Search:* {fit(reply.query, 300)}")]
    if reply.note:
        top.append({"type": "context", "elements": [_mrkdwn(fit(reply.note, 300))]})
    items = []
    for n, hit in enumerate(reply.hits, start=1):
        paper = hit.paper
        lines = [f"*{n}. {link(paper.links.huggingface, fit(paper.title, TITLE_MAX))}* "
                 f"`{escape(paper.arxiv_id)}`", fit(hit.summary, TLDR_MAX)]
        if hit.snippet:
            lines.append(f"_Match:_ {fit(hit.snippet, 400)}")
        lines.append(fit(byline(paper), 500))
        items.append([_section("\n".join(lines))])
    return _bounded(head, top, items)


def list_message(reply: ListReply, names: Mapping[str, str]) -> Message:
    if not reply.entries:
        return _text_message("Your team's reading list is empty: react to a paper or press "
                             "Save to add it.")
    head = f"Team reading list — {display.count(reply.total, 'paper')}"
    if reply.total > len(reply.entries):
        head += f" (newest {len(reply.entries)} shown; /papers export for all)"
    items = []
    for n, entry in enumerate(reply.entries, start=1):
        savers = sorted({names.get(s.user, s.user) for s in entry.savers})
        when = entry.last_saved_at.date().isoformat()
        paper = entry.paper
        items.append([_section(
            f"*{n}. {link(paper.links.arxiv, fit(paper.title, TITLE_MAX))}*\n"
            f"saved by {fit(', '.join(savers), 300)} on {when}")])
    return _bounded(head, [_section(f"*{fit(head, 300)}*")], items)


def file_message(reply: FileReply) -> Message:
    """An export shown in the reply: the file's content as a code block when it fits, else
    a short summary that says how to get the file."""
    what = f"{reply.filename} ({display.count(reply.count, 'paper')})"
    body = reply.content.rstrip().replace("```", "'''")
    if len(escape(body)) <= CODE_MAX:
        return Message(escape(what), (_section(f"*{escape(what)}*"),
                              _section(f"```{escape(body)}```")))
    return _text_message(
        f"{what} is too long to show here: run `paperboy list --format "
        f"{_format_of(reply.filename)}` where the bot runs to get the file.")


def file_comment(reply: FileReply) -> str:
    """The comment of an uploaded export."""
    return f"{reply.filename} ({display.count(reply.count, 'paper')})"


def details_message(reply: DetailsReply) -> Message:
    """A paper's abstract, shown privately to whoever asked."""
    paper = reply.paper
    title = f"*{link(paper.links.arxiv, fit(paper.title, TITLE_MAX))}*"
    authors = fit(display.authors_short(paper.authors, shown=10), 600)
    return Message(fit(paper.title, TITLE_MAX), (
        _section(f"{title}\n{authors}"),
        _section(fit(paper.abstract, SECTION_MAX)),
    ))


def settings_text(reply: SettingsReply, names: Mapping[str, str] | None = None) -> str:
    # A display name, never a mention: a settings reply must not ping the subscriber.
    known = names or {}
    return display.settings_text(reply, lambda user: known.get(user, "a teammate"))


def save_text(reply: SaveReply) -> str:
    return display.save_text(reply, clip(reply.paper.title, TITLE_MAX))


# --- building blocks --------------------------------------------------------------------------


def _text_message(text: str) -> Message:
    """Plain outside-derived text in one section, escaped and within the limits."""
    return Message(fit(text, TEXT_MAX), (_section(fit(text, SECTION_MAX)),))


def _bounded(head: str, top: list[Block], items: list[list[Block]]) -> Message:
    """`top`, then as many whole items as fit in 50 blocks and MESSAGE_MAX characters, then
    a line saying how many were left out."""
    blocks = list(top)
    size = sum(_size(b) for b in blocks)
    room_blocks, room_chars = BLOCKS_MAX - 1, MESSAGE_MAX - 200  # the "left out" line
    shown = 0
    for item in items:
        item_size = sum(_size(b) for b in item)
        if len(blocks) + len(item) > room_blocks or size + item_size > room_chars:
            break
        blocks += item
        size += item_size
        shown += 1
    if shown < len(items):
        left = len(items) - shown
        blocks.append({"type": "context", "elements": [_mrkdwn(
            f"{display.count(left, 'more result')} not shown: narrow the search, or "
            "/papers export for the whole list.")]})
    return Message(fit(head, TEXT_MAX), tuple(blocks))


def _size(block: Block) -> int:
    """Characters of text a block carries (what Slack's message-size limit counts)."""
    total = 0
    if "text" in block and isinstance(block["text"], dict):
        total += len(block["text"].get("text", ""))
    for element in block.get("elements", ()):
        text = element.get("text")
        total += len(text.get("text", "") if isinstance(text, dict) else text or "")
        total += len(element.get("url", ""))
    return total


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_MAX]}}


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int) -> Block:
    # plain_text is not parsed for mentions, but Slack still counts its characters.
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _format_of(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1]
    return {"bib": "bibtex", "md": "markdown"}.get(suffix, suffix)


__all__ = [
    "ABSTRACT_ACTION", "BLOCKS_MAX", "BUTTON_MAX", "HEADER_MAX", "LINK_ACTION", "MESSAGE_MAX",
    "SAVE_ACTION", "SECTION_MAX", "Message", "byline", "details_message", "digest_message",
    "escape", "file_comment", "file_message", "fit", "header_message", "link", "list_message",
    "note_message", "pick_message", "reason_text", "render_reply", "search_message",
]
