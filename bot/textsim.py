"""Tokens, whole-word phrase matching and TF-IDF cosine for short scientific texts.

One job: turn titles, abstracts, keywords and names into comparable tokens, cheaply. Pure
and standard-library only; it knows nothing about papers, channels or scores (that is
`bot.picks`) and nothing about search indexes (that is `bot.search`).

- `tokens("Diffusion-based LLMs")` → `["diffusion", "based", "llm"]`: lower case, split on
  anything that is not a letter or digit, a light plural fold ("llms" → "llm",
  "studies" → "study") so that a channel keyword "agent" matches "agents".
- `Text` keeps one field's tokens as a set and as a space-joined sequence, so a one-word
  keyword is a set lookup and a phrase ("video generation") is one substring search of
  " video generation " — whole words only, never "confusion" for "fusion".
- `term_counts` + `tfidf` + `cosine` compare documents by their distinctive words.

Why this shape: `bot.picks` ranks ~50 papers for hundreds of channels; every candidate is
tokenised once and each channel's keywords are matched by set lookups and C-level substring
searches, which keeps a channel's ranking in the tens of microseconds.
Called by bot.picks (and usable by search and benchmarks).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+")

# Words that say nothing about a paper's topic: English function words plus the
# boilerplate every abstract shares ("we propose a novel method … results show").
_STOPWORDS = """
    a about above across after again against all also although among an and any are as at
    be been before being between both but by can could did do does doing done due during
    each either etc even ever every few for from further had has have having here how however
    i if in into is it its itself just large less like made make many may more most much must
    new no nor not novel of off often on once one only or other our ours out over own paper
    per propose proposed provide rather re same several should show shows shown since so some
    still such than that the their them then there these they this those through thus to too
    two under until up upon us use used uses using very via was we well were what when where
    whether which while who whom why will with within without work would yet you your
    approach approaches based demonstrate existing framework method methods model models
    present result results significantly state study task tasks art achieve achieves
"""


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """A lower-case word with a light English plural fold ("llms" → "llm")."""
    # A full stemmer would conflate far more ("generative"/"generation"); keywords are
    # chosen by people, who expect plural and singular to match and little else.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# Compared after folding, like every token ("shows" → "show").
STOPWORDS = frozenset(fold(word) for word in _STOPWORDS.split())


def tokens(text: str) -> list[str]:
    """The folded word tokens of `text`, in order."""
    return [fold(word) for word in _WORD.findall(text.lower())]


def phrase(text: str) -> tuple[str, ...]:
    """A keyword or exclude term as the token sequence it must match ("" → ())."""
    return tuple(tokens(text))


def normalise_name(name: str) -> str:
    """An author name for comparison: no accents, no dots, case-folded, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace(".", " ").casefold().split())


@dataclass(frozen=True)
class Text:
    """One field's tokens, ready for whole-word phrase lookups."""

    words: frozenset[str]
    joined: str  # " tok tok tok " — phrase boundaries are the spaces

    @classmethod
    def of(cls, parts: Iterable[str]) -> Text:
        """Tokenise each part separately so that a phrase never spans two of them
        (two ai_keywords side by side are not a phrase)."""
        pieces = [tokens(part) for part in parts]
        words = frozenset(w for piece in pieces for w in piece)
        joined = " " + " | ".join(" ".join(piece) for piece in pieces if piece) + " "
        return cls(words=words, joined=joined)

    def contains(self, words: tuple[str, ...]) -> bool:
        """True when the phrase occurs as whole consecutive words."""
        if not words:
            return False
        if len(words) == 1:
            return words[0] in self.words
        if words[0] not in self.words:  # cheap rejection before the substring search
            return False
        return " " + " ".join(words) + " " in self.joined


def term_counts(text: str, *, title: str = "") -> dict[str, int]:
    """Content-word counts of a document; title words count twice (they name the topic)."""
    # Count raw words first (in C), then fold and filter each distinct word once through a
    # memo: this is the hot loop when a channel brings a saved list of unseen papers.
    counts: dict[str, int] = {}
    for word, n in Counter(_WORD.findall(text.lower())).items():
        key = _CONTENT.get(word)
        if key is None:
            key = _content_word(word)
        if key:
            counts[key] = counts.get(key, 0) + n
    for word in _WORD.findall(title.lower()):
        key = _CONTENT.get(word)
        if key is None:
            key = _content_word(word)
        if key:
            counts[key] = counts.get(key, 0) + 2
    return counts


def tfidf(
    counts: Mapping[str, int], idf: Mapping[str, float], default_idf: float
) -> dict[str, float]:
    """A unit-length TF-IDF vector (sublinear term frequency). `default_idf` weighs words
    the reference collection has never seen — the rarest, so the most distinctive."""
    vector = {
        word: (1.0 + math.log(count)) * idf.get(word, default_idf)
        for word, count in counts.items()
    }
    norm = math.sqrt(sum(w * w for w in vector.values()))
    if norm == 0.0:
        return {}
    return {word: w / norm for word, w in vector.items()}


def idf_table(documents: Iterable[Iterable[str]]) -> tuple[dict[str, float], float]:
    """Smoothed inverse document frequencies of a small collection, and the value for an
    unseen word. Each document is an iterable of its distinct words."""
    df: Counter[str] = Counter()
    n = 0
    for words in documents:
        n += 1
        df.update(set(words))
    idf = {word: math.log((n + 1) / (count + 1)) + 1.0 for word, count in df.items()}
    return idf, math.log(n + 1) + 1.0


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two unit-length sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(word, 0.0) for word, w in a.items())


# raw lower-case word → its folded form, or "" when it carries no topic. Bounded: cleared
# when it grows past _CONTENT_MAX (a long-running bot sees an open vocabulary).
_CONTENT: dict[str, str] = {}
_CONTENT_MAX = 200_000


def _content_word(word: str) -> str:
    folded = fold(word)
    key = folded if len(folded) > 1 and folded not in STOPWORDS and not folded.isdigit() else ""
    if len(_CONTENT) >= _CONTENT_MAX:
        _CONTENT.clear()
    _CONTENT[word] = key
    return key


__all__ = [
    "STOPWORDS",
    "Text",
    "cosine",
    "fold",
    "idf_table",
    "normalise_name",
    "phrase",
    "term_counts",
    "tfidf",
    "tokens",
]
