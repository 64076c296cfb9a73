"""Slack payloads → Paperboy events, one short function per payload kind, chosen by table.

Pure: a payload (the JSON body Bolt hands a listener) in, a `CommandEvent`,
`ReactionEvent` or `ButtonPress` out, or None for a payload that is not the bot's to
handle (a reaction on a file, an unknown kind). The untouched payload is kept in `raw`.
Not here: deciding whether an event matters (bot.service) or answering it (adapter.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.events import CommandEvent, ReactionEvent
from bot.models import ChatRef

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class ButtonPress:
    """Someone pressed one of the bot's buttons (`action`) on the message `where`."""

    where: ChatRef
    user: str
    action: str
    value: str
    raw: Any = field(default=None, compare=False, repr=False)


def command(body: Payload) -> CommandEvent:
    """`/papers <text>` from a slash-command payload."""
    where = ChatRef("slack", body["team_id"], body["channel_id"])
    return CommandEvent(where, body["user_id"], body.get("text", ""), raw=body)


def _reaction(body: Payload, added: bool) -> ReactionEvent | None:
    event = body["event"]
    item = event.get("item", {})
    if item.get("type") != "message":
        return None  # a reaction on a file or file comment: never a paper message
    where = ChatRef("slack", _team(body), item["channel"], item["ts"])
    return ReactionEvent(where, event["user"], event["reaction"], added=added, raw=body)


def button(body: Payload) -> ButtonPress | None:
    """A press on one of a message's buttons (a `block_actions` payload)."""
    container = body.get("container", {})
    actions = body.get("actions") or ()
    if container.get("type") != "message" or not actions:
        return None
    where = ChatRef("slack", _team(body), container["channel_id"], container["message_ts"])
    action = actions[0]
    return ButtonPress(where, body["user"]["id"], action["action_id"],
                       action.get("value", ""), raw=body)


_EVENTS: dict[str, Callable[[Payload], ReactionEvent | None]] = {
    "reaction_added": lambda body: _reaction(body, added=True),
    "reaction_removed": lambda body: _reaction(body, added=False),
}


def event(body: Payload) -> ReactionEvent | None:
    """An Events API callback, or None for a kind the bot does not handle."""
    kind = body.get("event", {}).get("type", "")
    translate = _EVENTS.get(kind)
    return translate(body) if translate is not None else None


def _team(body: Payload) -> str:
    # Events carry `team_id`; interactivity payloads carry `team: {id}`.
    if "team_id" in body:
        return str(body["team_id"])
    return str(body["team"]["id"])


EVENT_TYPES = tuple(_EVENTS)

__all__ = ["EVENT_TYPES", "ButtonPress", "button", "command", "event"]
