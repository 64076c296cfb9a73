"""The output guard: an LLM answer made into a plain TL;DR, or rejected with a short reason.

Small models do not follow instructions, so what they add around the TL;DR is cleaned away:
reasoning scratchpads, chat-template leftovers (`<|im_end|>`, `[INST]`), markdown headings,
bullets and emphasis, preambles ("Sure! Here is a TL;DR:") and sign-offs ("Let me know if
…"). What cannot be cleaned is rejected, and the paper falls back to the offline TL;DR:
an empty answer, a refusal ("I cannot summarize this paper."), a link or bare domain, any
platform's mention syntax (`<!channel>`, `<@U…>`, `<@&…>`, `@everyone`), a number the paper
does not contain (compared as numbers: 1,000 = 1000 = 1k; 35.6% = 35.6), or text in another
language than the abstract's (see `_language_mismatch`). A long answer keeps the whole
sentences that fit in 300 characters.

`Rejected.reason` is a short category, the same for every paper rejected for that cause, so
a batch logs counts ("2 refusal, 1 link") instead of one line per paper.
Pure: no I/O. Called by bot.summaries.chain and `paperboy summaries test`.
"""

from __future__ import annotations

import math
import re
import unicodedata

from bot.models import Paper
from bot.summaries.offline import LIMIT, normalise, split_sentences, whole_sentences


class Rejected(Exception):
    """An answer that cannot be used; `reason` is a short category safe to log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason
        self.detail = detail


# --- cleaning -----------------------------------------------------------------------------

_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)  # a reasoning scratchpad
# Everything from an end-of-turn token on is the model talking to itself.
_END_OF_TURN = re.compile(
    r"<\|(?:im_end|eot_id|end|endoftext|end_of_text)\|>|</s>|<end_of_turn>|\[/?INST\]\s*$", re.I
)
_TEMPLATE_TOKEN = re.compile(
    r"<\|[a-z_]+\|>|</?s>|<(?:start|end)_of_turn>(?:model|user)?|\[/?INST\]|<<\/?SYS>>|"
    r"^\s*(?:assistant|model)\s*:?\s*$",
    re.I | re.M,
)
_HEADING = re.compile(r"^\s*#{1,6}\s+.*$", re.M)  # "## TL;DR": a title, not the summary
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,2}[.)])\s+", re.M)
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)|`")
_INTERJECTION = re.compile(
    r"^(?:sure|certainly|of course|okay|ok|absolutely|great|alright|here you go|no problem)"
    r"\b[!,.]*\s*",
    re.I,
)
_PREAMBLE = re.compile(
    r"^(?:here(?:'s| is| are)\b[^:.!]*[:.!]|"
    r"(?:the |a |my )?(?:tl;?\s*dr|summary|short summary|one-sentence summary)"
    r"(?: of (?:the|this) (?:paper|abstract))?(?: is)?\s*[:\-–—.]|"
    r"in (?:short|summary)\s*[:,])\s*",
    re.I,
)
_SIGN_OFF = re.compile(
    r"\b(?:let me know|hope (?:this|that|it) helps|feel free|happy to help|"
    r"would you like|if you (?:have|need|want|would like)|glad to help)\b",
    re.I,
)
_QUOTES = "\"'“”‘’«»"

# --- rejections ---------------------------------------------------------------------------

_REFUSAL = re.compile(
    r"(?:^|[.!?]\s+)(?:sorry\b|unfortunately,? i\b|i apologi[sz]e|"
    r"i(?:'m| am)? (?:sorry|unable|not able|cannot|can't|can not|won't|will not|do not|don't)\b)|"
    r"\bas an ai\b|\bas a (?:large )?language model\b|"
    r"\b(?:cannot|can't|unable to) (?:summari[sz]e|provide|help|access|assist)\b",
    re.I,
)
_URL = re.compile(r"https?://|www\.|\]\(|\bftp://", re.I)
_DOMAIN = re.compile(
    r"\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\."
    r"(?:com|org|net|io|ai|co|dev|app|edu|gov|info|xyz|ly|gl|gg|cn|de|uk|fr|jp|ru|site|"
    r"page|tech|cloud)\b(?:/\S*)?",
    re.I,
)
# Slack (<!channel>, <!here>, <!subteam^S…>, <@U…>, <#C…>), Discord (<@123>, <@!123>,
# <@&role>, <#123>) and the bare forms every platform expands (@everyone, @here, @channel,
# @someone). "Recall@10" is a metric, not a mention: the @ must not follow a word character.
_MENTION = re.compile(r"<[!@#][^>\s]*>|(?<![\w@])@[A-Za-z][\w.-]*")
_NUMBER = re.compile(
    # "2D"/"3D" name a kind of data, not a quantity: not numbers here.
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![dD]\b)"
    r"(?P<suffix>[\s-]?(?:[kKmMbB]|thousand|million|billion|trillion)\b)?",
)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9,
          "trillion": 1e12}


def guard(answer: str, paper: Paper, limit: int = LIMIT, *, truncated: bool = False) -> str:
    """`answer` cleaned into a TL;DR of whole sentences within `limit`, or Rejected.
    `truncated`: the server stopped the answer at its token limit, so a last sentence
    without its full stop is unfinished and dropped (kept with "…" when it is the only one)."""
    text = clean(answer)
    if not text:
        raise Rejected("empty answer")
    if truncated and text[-1] not in ".!?…\"'”’)":
        sentences = split_sentences(text)
        text = " ".join(sentences[:-1]) if len(sentences) > 1 else f"{text}…"
    if _REFUSAL.search(text):
        raise Rejected("refusal")
    if _URL.search(text) or _DOMAIN.search(text):
        raise Rejected("link", _first(_URL, text) or _first(_DOMAIN, text))
    if _MENTION.search(text):
        raise Rejected("mention", _first(_MENTION, text))
    invented = numbers_not_in(text, f"{paper.title} {paper.abstract}")
    if invented:
        raise Rejected("number not in the paper", ", ".join(invented[:3]))
    if _language_mismatch(text, paper.abstract):
        raise Rejected("other language")
    return whole_sentences(text, limit)


def clean(answer: str) -> str:
    """The answer without scratchpad, template tokens, markdown, preamble or sign-off."""
    text = _THINKING.sub(" ", answer)
    end = _END_OF_TURN.search(text)
    if end is not None and text[: end.start()].strip():
        text = text[: end.start()]
    text = _TEMPLATE_TOKEN.sub(" ", text)
    text = _HEADING.sub("", text)
    # A bulleted answer: each item becomes a sentence of its own.
    lines = [_EMPHASIS.sub("", _BULLET.sub("", line)).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    text = " ".join([*(_end_sentence(line) for line in lines[:-1]), *lines[-1:]])
    text = normalise(text)
    for _ in range(3):  # "Sure! Here is a TL;DR: Summary: …"
        before = text
        text = _INTERJECTION.sub("", text)
        text = _PREAMBLE.sub("", text)
        if text == before:
            break
    sentences = [s for s in split_sentences(text) if not _SIGN_OFF.search(s)]
    text = " ".join(sentences)
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    return text


def numbers_not_in(text: str, source: str) -> list[str]:
    """The numbers of `text` whose value `source` does not contain (as written in `text`)."""
    known = {_key(value) for _, value in _numbers(source)}
    return [written for written, value in _numbers(text) if _key(value) not in known]


def _numbers(text: str) -> list[tuple[str, float]]:
    found = []
    for match in _NUMBER.finditer(text):
        value = float(match["num"].replace(",", ""))
        suffix = (match["suffix"] or "").strip(" -").lower()
        found.append((match.group(0).strip(), value * _SCALE.get(suffix, 1.0)))
    return found


def _key(value: float) -> float:
    # Equal as numbers whatever their spelling: 1,000 / 1000 / 1k / 1.0k → 1000.0.
    return float(f"{value:.6g}") if math.isfinite(value) else value


# --- language ------------------------------------------------------------------------------

# Telling languages apart by their commonest function words: an English abstract is ~30% of
# them (the corpus median; 1% of abstracts fall under 21%), and a French, German, Spanish,
# Portuguese or Italian answer is mostly the other list's words. Terse English TL;DRs can be
# low in English function words (5% of Hugging Face's are under 14%), so a Latin-script
# answer counts as another language only when the foreign words outnumber the English ones.
_STOPWORDS = frozenset({
    "the", "a", "an", "of", "and", "or", "to", "in", "on", "for", "with", "by", "from", "as",
    "at", "is", "are", "was", "were", "be", "been", "this", "that", "these", "those", "it",
    "its", "we", "our", "their", "which", "who", "can", "not", "than", "into", "also", "such",
    "using", "based", "via", "while", "both", "each", "more", "most", "only", "over", "under",
    "between", "through", "how", "what", "when", "where",
})
_FOREIGN_STOPWORDS = frozenset({
    # French
    "le", "les", "des", "du", "et", "est", "une", "pour", "dans", "qui", "sur", "avec", "par",
    "plus", "nous", "ce", "cette", "sont", "au", "aux", "ou", "pas", "mais",
    # German
    "der", "die", "das", "und", "ist", "mit", "für", "ein", "eine", "einen", "von", "zu",
    "den", "dem", "auf", "im", "nicht", "sich", "wir", "werden", "wird", "auch", "als", "mehr",
    # Spanish, Portuguese, Italian
    "el", "los", "las", "y", "es", "con", "para", "una", "del", "por", "que", "se", "su",
    "o", "em", "um", "uma", "não", "il", "di", "della", "per", "sono", "gli", "nel",
})
_WORD = re.compile(r"[^\W\d_]+")


def _latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin / len(letters)


def _stopword_share(text: str, words: frozenset[str] = _STOPWORDS) -> float:
    found = [w.lower() for w in _WORD.findall(text)]
    return sum(w in words for w in found) / len(found) if found else 0.0


def _language_mismatch(text: str, abstract: str) -> bool:
    """Whether `text` is in another language than `abstract`: a different script (Latin
    against CJK or Cyrillic), or, when the abstract is English (≥ 15% English stopwords), an
    answer of six words or more whose French/German/Spanish/Portuguese/Italian function
    words are at least 10% of it and outnumber its English ones."""
    if not normalise(abstract):
        return False
    abstract_latin = _latin_share(abstract) >= 0.5
    if (_latin_share(text) >= 0.5) != abstract_latin:
        return True
    english = abstract_latin and _stopword_share(abstract) >= 0.15
    if not english or len(_WORD.findall(text)) < 6:
        return False
    foreign = _stopword_share(text, _FOREIGN_STOPWORDS)
    return foreign >= 0.10 and foreign > _stopword_share(text)


def _first(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    return match.group(0)[:40] if match else ""


def _end_sentence(line: str) -> str:
    return line if line[-1] in ".!?:;…\"'”’)" else f"{line}."


__all__ = ["Rejected", "clean", "guard", "numbers_not_in"]
