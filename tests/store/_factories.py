"""Small builders for the store tests: papers, savers and chat places with readable defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from bot.channel_setup import ChannelSetup
from bot.models import ChatRef, Paper, Saver

T0 = datetime(2025, 5, 12, 9, 0, tzinfo=UTC)
DAY = date(2025, 5, 12)
CHANNEL = ChatRef("slack", "T1", "C1")
OTHER_CHANNEL = ChatRef("slack", "T1", "C2")
DISCORD_CHANNEL = ChatRef("discord", "G1", "55")
# A channel set up from chat with every field away from its default.
SETUP = ChannelSetup(CHANNEL, "08:30", "Europe/Paris", ("mon", "fri"), "U1", T0, "U2",
                     ("diffusion",), ("survey",), 7)


def paper(arxiv_id: str = "2505.01234", **changes: object) -> Paper:
    """A paper with only the required fields set (plus any `changes`)."""
    fields: dict[str, object] = {
        "arxiv_id": arxiv_id,
        "title": f"Paper {arxiv_id}",
        "abstract": f"We study {arxiv_id}.",
        "authors": ("Ada Lovelace",),
    }
    fields.update(changes)
    return Paper(**fields)  # type: ignore[arg-type]


def full_paper(arxiv_id: str = "2505.01234") -> Paper:
    """A paper with every field set to something other than its default."""
    return Paper(
        arxiv_id=arxiv_id,
        title="Diffusion: é, 中文 and \"quotes\"",
        abstract="We present a method.\nIt works.",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper"),
        source="arxiv",
        published_at=datetime(2025, 5, 1, 17, 59, 13, 250000, tzinfo=timezone(timedelta(hours=2))),
        featured_on=date(2025, 5, 2),
        upvotes=412,
        ai_summary="A method that works.",
        ai_keywords=("diffusion", "video"),
        github_repo="https://github.com/example/repo",
        github_stars=1234,
        project_page="https://example.org/project",
        organization="Example Lab",
        categories=("cs.CL", "cs.LG"),
        num_comments=7,
        withdrawn=True,
        thumbnail="https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2505.01234.png",
    )


def saver(user: str, minutes: int = 0, where: ChatRef | None = None) -> Saver:
    """`user` saving `minutes` after T0."""
    return Saver(user=user, saved_at=T0 + timedelta(minutes=minutes), where=where)
