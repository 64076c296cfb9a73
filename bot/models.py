"""The platform-neutral things Paperboy talks about: papers, picks, digests, saves.

Pure data: frozen dataclasses, standard library only — no I/O, no globals, no chat SDK.
Sources build `Paper`s, `bot.summarize` adds `Summary`s, `bot.picks` turns them into `Pick`s
and a `Digest`; adapters only ever render these. Sequences are tuples so that every value is
hashable and safe to share between channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

PaperSource = Literal["huggingface", "arxiv"]
SummarySource = Literal["huggingface", "llm", "extractive"]
Platform = Literal["slack", "discord", "console"]

ARXIV_ABS = "https://arxiv.org/abs/"
ARXIV_PDF = "https://arxiv.org/pdf/"
HF_PAPERS = "https://huggingface.co/papers/"


@dataclass(frozen=True)
class Links:
    """Where a reader can go from a paper. Every URL is https; absent ones are None."""

    huggingface: str
    arxiv: str
    pdf: str
    github: str | None = None
    project: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The links that exist, in display order (HF, arXiv, PDF, GitHub, project)."""
        pairs = {
            "huggingface": self.huggingface,
            "arxiv": self.arxiv,
            "pdf": self.pdf,
            "github": self.github,
            "project": self.project,
        }
        return {name: url for name, url in pairs.items() if url}


@dataclass(frozen=True)
class Paper:
    """One paper, identified by its version-less arXiv id (`2406.12345`, `hep-th/9901001`).

    `source` says where this record came from. Optional fields are None (or empty) when the
    upstream did not say; `upvotes` and `github_stars` are snapshots that keep rising upstream.
    """

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    source: PaperSource = "huggingface"
    published_at: datetime | None = None
    featured_on: date | None = None
    upvotes: int | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    organization: str | None = None
    categories: tuple[str, ...] = ()
    num_comments: int | None = None
    withdrawn: bool = False

    @property
    def links(self) -> Links:
        return Links(
            huggingface=HF_PAPERS + self.arxiv_id,
            arxiv=ARXIV_ABS + self.arxiv_id,
            pdf=ARXIV_PDF + self.arxiv_id,
            github=_https_or_none(self.github_repo),
            project=_https_or_none(self.project_page),
        )

    @property
    def year(self) -> int | None:
        when = self.published_at or self.featured_on
        return when.year if when else None


@dataclass(frozen=True)
class Summary:
    """A TL;DR of at most 300 characters and which step of the chain produced it."""

    text: str
    source: SummarySource
    model: str | None = None


@dataclass(frozen=True)
class Pick:
    """A paper chosen for a channel: its TL;DR, score and the human reason it was chosen."""

    paper: Paper
    summary: Summary
    score: float
    reason: str
    rank: int


@dataclass(frozen=True)
class Digest:
    """One channel's picks for one day, ready for any adapter to render.

    `candidates` is how many papers were considered (the "of 41" in "5 picks of 41");
    `note` explains an empty digest ("no Daily Papers batch on Saturdays").
    """

    channel: str
    day: date
    picks: tuple[Pick, ...]
    candidates: int
    note: str | None = None


@dataclass(frozen=True)
class ChatRef:
    """Where something lives in a chat: platform, team (workspace / guild), channel, message.

    `message` is the platform's message id (Slack `ts`, Discord snowflake, console number)
    and is None when the reference is to the channel itself.
    """

    platform: Platform
    team: str
    channel: str
    message: str | None = None


@dataclass(frozen=True)
class Saver:
    """Who saved a paper to the team list, when, and from which message."""

    user: str
    saved_at: datetime
    where: ChatRef | None = None


@dataclass(frozen=True)
class SavedPaper:
    """An entry of a team's reading list: a snapshot of the paper and everyone who saved it.

    The snapshot keeps the list independent of the paper cache, which may be rebuilt.
    """

    paper: Paper
    savers: tuple[Saver, ...] = field(default_factory=tuple)

    @property
    def first_saved_at(self) -> datetime:
        return min(s.saved_at for s in self.savers)

    @property
    def last_saved_at(self) -> datetime:
        return max(s.saved_at for s in self.savers)


def _https_or_none(url: str | None) -> str | None:
    # Links reach chat messages as buttons: anything but https is dropped, never shown.
    if url and url.startswith("https://") and " " not in url:
        return url
    return None
