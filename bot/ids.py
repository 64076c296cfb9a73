"""Canonical arXiv ids: the one identity a paper has across sources, versions and links.

Pure. `canonical_id("2406.12345v2") == "2406.12345"`; old-style ids keep their archive
(`hep-th/9901001`). `parse_paper_ref` also accepts arXiv, Hugging Face and alphaxiv URLs.
Used by the sources, search, commands and the store — everything that compares papers.
"""

from __future__ import annotations

import re

from bot.errors import InvalidPaperId

_NEW = r"\d{4}\.\d{4,5}"
_OLD = r"[a-z][a-z.\-]*[a-z]/\d{7}"
_ID = rf"(?P<id>{_NEW}|{_OLD})(?P<version>v\d+)?"
# ASCII: "２４０６.１２３４５" in full-width digits is not an arXiv id.
_BARE = re.compile(rf"^(?:arxiv:)?{_ID}$", re.IGNORECASE | re.ASCII)
_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?"
    r"(?:arxiv\.org/(?:abs|pdf|html)|huggingface\.co/papers|(?:www\.)?alphaxiv\.org/(?:abs|overview))"
    rf"/{_ID}(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE | re.ASCII,
)


def canonical_id(arxiv_id: str) -> str:
    """The version-less id of a bare arXiv id. Raises InvalidPaperId for anything else."""
    match = _BARE.match(arxiv_id.strip())
    if not match:
        raise InvalidPaperId(f"'{_clip(arxiv_id)}' is not an arXiv id (like 2406.12345)")
    return _normalise(match.group("id"))


def parse_paper_ref(text: str) -> str:
    """The canonical id named by a bare id or an arXiv / Hugging Face / alphaxiv URL."""
    stripped = text.strip().strip("<>")
    match = _BARE.match(stripped) or _URL.match(stripped)
    if not match:
        raise InvalidPaperId(
            f"'{_clip(text)}' is not an arXiv id or paper link "
            "(try 2406.12345 or https://arxiv.org/abs/2406.12345)"
        )
    return _normalise(match.group("id"))


def looks_like_paper_ref(text: str) -> bool:
    """True when `text` is exactly one arXiv id or paper URL (used to route exact lookups)."""
    stripped = text.strip().strip("<>")
    return bool(_BARE.match(stripped) or _URL.match(stripped))


def version_of(arxiv_id: str) -> int | None:
    """The version number in `2406.12345v3` (3), or None for a version-less id."""
    match = _BARE.match(arxiv_id.strip())
    if not match or not match.group("version"):
        return None
    return int(match.group("version")[1:])


def _normalise(raw: str) -> str:
    # Old-style archives are lower case on arXiv; new-style ids have no letters.
    return raw.lower()


def _clip(text: str, limit: int = 60) -> str:
    # Error messages echo user input back into chat: keep it short and mention-proof.
    one_line = " ".join(text.split()).translate(_NEUTRAL)
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


_NEUTRAL = str.maketrans({"<": "‹", ">": "›", "@": "＠"})
