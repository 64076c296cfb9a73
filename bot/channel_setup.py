"""A channel's daily post as set up from chat (`/papers subscribe`, `/papers settings …`).

Pure: a frozen dataclass and its JSON form, no I/O. The Store keeps one `ChannelSetup` per
channel as team state (`get_channel_setup`, `put_channel_setup`, `delete_channel_setup`,
`channel_setups`); bot.chat_settings changes it; bot.schedule turns it into a job. The JSON
form (`setup_to_dict` / `setup_from_dict`) is what the TinyDB store writes and what any other
store may keep in one column: readers ignore keys they do not know and default the missing
ones, so a file written by an older or newer Paperboy still loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.models import ChatRef

DEFAULT_TIME = "09:00"
DEFAULT_DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
DEFAULT_TOP_N = 5


@dataclass(frozen=True)
class ChannelSetup:
    """One channel's schedule and filters, chosen in chat.

    `channel` is the channel itself (no message); `time` is "HH:MM" in `timezone` (an IANA
    name); `days` are lower-case three-letter weekday names in week order. `subscriber` is
    the user who subscribed (who may change it besides the admins); `updated_by` and
    `updated_at` say who changed it last, and when (timezone-aware).
    """

    channel: ChatRef
    time: str
    timezone: str
    days: tuple[str, ...]
    subscriber: str
    updated_at: datetime
    updated_by: str
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    top_n: int = DEFAULT_TOP_N


def setup_to_dict(setup: ChannelSetup) -> dict[str, Any]:
    """Every field of `setup`, JSON-ready (the channel as platform/team/channel)."""
    return {
        "platform": setup.channel.platform,
        "team": setup.channel.team,
        "channel": setup.channel.channel,
        "time": setup.time,
        "timezone": setup.timezone,
        "days": list(setup.days),
        "keywords": list(setup.keywords),
        "exclude": list(setup.exclude),
        "top_n": setup.top_n,
        "subscriber": setup.subscriber,
        "updated_at": setup.updated_at.isoformat(),
        "updated_by": setup.updated_by,
    }


def setup_from_dict(data: dict[str, Any]) -> ChannelSetup:
    """The setup `setup_to_dict` wrote (unknown keys ignored, missing optional ones default)."""
    return ChannelSetup(
        channel=ChatRef(data["platform"], data["team"], data["channel"]),
        time=data.get("time", DEFAULT_TIME),
        timezone=data["timezone"],
        days=tuple(data.get("days") or DEFAULT_DAYS),
        keywords=tuple(data.get("keywords") or ()),
        exclude=tuple(data.get("exclude") or ()),
        top_n=int(data.get("top_n", DEFAULT_TOP_N)),
        subscriber=data["subscriber"],
        updated_at=datetime.fromisoformat(data["updated_at"]),
        updated_by=data.get("updated_by", data["subscriber"]),
    )


def setup_key(channel: ChatRef) -> tuple[str, str, str]:
    """The key a store files a setup under: the channel without message or thread."""
    return (channel.platform, channel.team, channel.channel)
