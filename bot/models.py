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
    thumbnail: str | None = None  # Hugging Face's social card image, when it has one

    @property
    def image(self) -> str | None:
        """The thumbnail as a link a chat may show: https only, else None."""
        return _https_or_none(self.thumbnail)

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


# --- why a paper was picked: structured, so a renderer can show a saver's name without
# pinging them or link a saved paper; `Pick.reason` is the plain sentence made from them.
REASON_MAX = 120
_SAVED_TITLE_MAX = 48


@dataclass(frozen=True)
class ByAuthors:
    """The channel follows these authors of the paper."""

    names: tuple[str, ...]

    def text(self) -> str:
        return "by " + ", ".join(self.names)


@dataclass(frozen=True)
class MatchesKeywords:
    """The channel's keywords found in the title, abstract or HF keywords."""

    terms: tuple[str, ...]

    def text(self) -> str:
        return "matches: " + ", ".join(self.terms)


@dataclass(frozen=True)
class SimilarToSaved:
    """Close to a paper on the team list; `savers` are user ids, earliest saver first."""

    title: str
    arxiv_id: str
    savers: tuple[str, ...]

    def text(self) -> str:
        title = clip(self.title, _SAVED_TITLE_MAX)
        if not self.savers:
            return f"similar to '{title}' (saved)"
        others = f" +{len(self.savers) - 1}" if len(self.savers) > 1 else ""
        return f"similar to '{title}' (saved by {self.savers[0]}{others})"


@dataclass(frozen=True)
class Upvotes:
    """Community signal; `day_rank` is the paper's place in the day's batch when in the top 3."""

    count: int
    day_rank: int | None = None

    def text(self) -> str:
        text = f"{self.count} upvote" + ("" if self.count == 1 else "s")
        return text + (f", #{self.day_rank} today" if self.day_rank else "")


@dataclass(frozen=True)
class NewIn:
    """No channel-specific signal: the paper is simply new in its source."""

    source: PaperSource
    category: str | None = None

    def text(self) -> str:
        if self.source == "arxiv":
            return f"new on arXiv in {self.category}" if self.category else "new on arXiv"
        return "new on Hugging Face Daily Papers"


ReasonPart = ByAuthors | MatchesKeywords | SimilarToSaved | Upvotes | NewIn


@dataclass(frozen=True)
class Pick:
    """A paper chosen for a channel: score, rank, why it was chosen and its TL;DR.

    `reasons` are strongest first. `summary` is None until bot.daily attaches the TL;DR
    (ranking is pure and cheap; summarising only the picks is the expensive part)."""

    paper: Paper
    score: float
    rank: int
    reasons: tuple[ReasonPart, ...]
    summary: Summary | None = None

    @property
    def reason(self) -> str:
        """The reasons as one plain sentence of at most REASON_MAX characters."""
        texts = [part.text() for part in self.reasons]
        if not texts:
            return ""
        sentence = clip(texts[0], REASON_MAX)
        for text in texts[1:]:
            if len(sentence) + len(_SEPARATOR) + len(text) <= REASON_MAX:
                sentence += _SEPARATOR + text
        return sentence


_SEPARATOR = " · "


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
    and is None when the reference is to the channel itself. `thread` is the message id of
    the thread's parent when `message` lives in (or a reply goes to) a thread.
    """

    platform: Platform
    team: str
    channel: str
    message: str | None = None
    thread: str | None = None

    @property
    def channel_ref(self) -> ChatRef:
        """The channel itself (no message, no thread)."""
        return ChatRef(self.platform, self.team, self.channel)


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


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def _https_or_none(url: str | None) -> str | None:
    # Links reach chat messages as buttons: anything but https is dropped, never shown.
    if url and url.startswith("https://") and " " not in url:
        return url
    return None
