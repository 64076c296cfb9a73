"""The offline TL;DR: the abstract's contribution sentence, made to stand on its own.

No network and no model: this is the last step of the TL;DR chain and the fallback for every
LLM failure, so it must read well by itself. It picks the sentence that says what the paper
contributes ("We propose …"), preferring it over one that only reports results ("Our model
achieves 35.6 …"), and never opens with a back-reference the reader never saw ("To address
this issue, we …" becomes "We …"; a sentence that cannot be rephrased so loses to another).
Sentences are split even where the abstract lacks the space after a full stop ("dataset.Our").
Used by bot.summaries.chain, bot.picks (a pick without a summary) and the search replies.
"""

from __future__ import annotations

import re

from bot.models import Paper, Summary

LIMIT = 300

# A sentence ends at . ! or ? (optionally closed by a quote or bracket) followed by space and
# something that can start a sentence. "3.5" never matches (no space after the dot).
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset({
    "e.g.", "i.e.", "al.", "vs.", "cf.", "fig.", "figs.", "eq.", "eqs.", "sec.", "secs.",
    "no.", "nos.", "approx.", "resp.", "ref.", "refs.", "tab.", "vol.", "pp.", "ca.", "dr.",
    "mr.", "ms.", "prof.", "inc.", "ltd.", "co.", "st.", "jr.", "viz.", "ch.", "app.", "def.",
    "thm.", "lem.", "prop.",
})
_INITIALS = re.compile(r"(?:[a-z]\.)+")  # "J." in "J. Smith", "u.s."
# Two sentences glued by a missing space: a lower-case word of two or more letters, the
# stop, then a capitalised word ("dataset.Our"). Not "Node.js", "e.g.The" (one letter before
# the stop) nor "arXiv.org" (lower case after it).
_GLUED = re.compile(r"(?<=[a-z]{2}[.!?])(?=[A-Z][a-z]+\b)")

# Openings that refer back to something the reader of a lone sentence never saw.
_BACKREF = re.compile(
    r"^(?:"
    r"to (?:this|that) end|"
    r"to (?:address|tackle|overcome|solve|mitigate|bridge|fill|close|remedy|alleviate|"
    r"resolve|handle|fix|avoid|counter|meet|answer)\b[^,]*?"
    r"\b(?:this|these|that|those|such|them|it|aforementioned|above)\b[^,]*|"
    r"(?:based on|building (?:on|upon)|motivated by|inspired by|guided by|given|following|"
    r"in (?:light|view) of|with) (?:this|these|that|those|such|the above)\b[^,]*|"
    r"in (?:response|this context|this regard|this setting|contrast|particular|addition)|"
    r"(?:therefore|thus|hence|consequently|accordingly|furthermore|moreover|additionally|"
    r"however|nevertheless|nonetheless|instead|meanwhile|then|finally|also|specifically|"
    r"as a result|to do so|for this (?:purpose|reason)|on (?:this|that) basis|"
    r"to (?:this|that) (?:aim|goal|purpose))"
    r")\b",
    re.I,
)
# "This method …", "These results …", "It …": a subject that points back. "This paper",
# "this work" and their kind name the paper itself and are fine.
_BACKREF_SUBJECT = re.compile(
    r"^(?:(?:this|these|those|such|the latter|the former)\s+(?!(?:paper|work|study|report|"
    r"article|survey|thesis|technical report|position paper|tutorial|note|letter)\b)\w+|"
    r"(?:it|they|its|their)\b)",
    re.I,
)
# What may follow a back-referring clause so that dropping the clause leaves a sentence.
_SUBJECT_AFTER = re.compile(
    r"^(?:we|our|here,? we|this (?:paper|work|study)|in this (?:paper|work|study))\b", re.I
)

# Cues that a sentence states what the paper does, with how strongly they say so.
_CONTRIBUTION = (
    (re.compile(r"\b(?:in this|this) (?:paper|work|study|report|article)\b", re.I), 3.0),
    (re.compile(r"\b(?:here,? we|we here)\b", re.I), 3.0),
    (
        re.compile(
            r"\bwe (?:\w+ )?(?:propose|introduce|present|develop|design|release|build|"
            r"describe|unveil|construct|curate|formulate|devise|contribute|open-source)",
            re.I,
        ),
        3.0,
    ),
    (
        re.compile(
            r"\bwe (?:\w+ )?(?:study|investigate|explore|examine|address|tackle|"
            r"analy[sz]e|train|generalize|extend)\b",
            re.I,
        ),
        2.0,
    ),
    (re.compile(r"\bour (?:\w+ )?(?:method|approach|model|framework|system|technique|"
                r"algorithm|pipeline|benchmark|dataset)\b", re.I), 1.5),
    # Results ("we show that …") say what was found, not what was made: the weakest cue.
    (re.compile(r"\bwe (?:\w+ )?(?:show|demonstrate|find)\b", re.I), 1.0),
)
# A results-only sentence: a verb of outcome with a figure, and no contribution verb.
_RESULT = re.compile(
    r"\b(?:achiev|outperform|improv|reach|attain|surpass|yield|obtain|score|gain|boost|"
    r"reduc|exceed|match|beat)\w*\b.*\d|\d.*\b(?:accuracy|points?|speed-?up|improvement)\b",
    re.I,
)
_MADE = re.compile(r"\b(?:propose|introduce|present|develop|design|release|build)\w*\b", re.I)
_RESULT_CAP = 0.5  # below every contribution cue: a results-only sentence wins only alone
_FITS_INSTEAD = 1.5  # the weakest cue that may stand in for a sentence too long to keep
_SHORT = 140  # a contribution sentence shorter than this takes the next one along


def extractive_tldr(paper: Paper, limit: int = LIMIT) -> str:
    """The abstract's contribution sentence (plus the next when both fit), at most `limit`
    characters, cut at a word boundary with "…" only when one sentence alone is longer.
    Falls back to the title; never empty."""
    sentences = split_sentences(paper.abstract)
    if not sentences:
        return trim(normalise(paper.title) or f"arXiv:{paper.arxiv_id}", limit)
    name = _paper_name(paper.title)
    standalone = [standalone_sentence(s) for s in sentences]
    scored: list[tuple[float, int]] = []
    for index, sentence in enumerate(standalone):
        if sentence is None:
            continue  # refers back and cannot be rephrased: never an opening
        score = max((weight for pattern, weight in _CONTRIBUTION if pattern.search(sentence)),
                    default=0.0)
        if is_results_only(sentence):
            score = min(score, _RESULT_CAP)
        if score and name and name in sentence:
            score += 0.5  # "We present Shap-E, …" names the contribution
        scored.append((-score, index))  # best first; the earliest of equals wins
    scored.sort()
    best = scored[0][1] if scored else 0
    if scored and len(standalone[best] or "") > limit:
        # A sentence too long to keep whole loses to another contribution sentence that
        # fits, rather than being cut mid-sentence.
        fits = [i for score, i in scored[1:]
                if -score >= _FITS_INSTEAD and len(standalone[i] or "") <= limit]
        if fits:
            best = fits[0]
    text = standalone[best] or sentences[best]
    if len(text) < _SHORT and best + 1 < len(sentences):
        joined = f"{text} {sentences[best + 1]}"
        if len(joined) <= limit:
            text = joined
    return trim(text, limit)


def standalone_sentence(sentence: str) -> str | None:
    """`sentence` as an opening a reader can follow without what came before: unchanged
    when it does not refer back; "To address this, we propose X" → "We propose X"; None
    when it refers back and cannot be rephrased ("These results suggest …")."""
    match = _BACKREF.match(sentence)
    if match is not None:
        rest = sentence[match.end():]
        comma = rest.find(",")
        if comma < 0:
            return None
        rest = rest[comma + 1:].strip()
        if not _SUBJECT_AFTER.match(rest):
            return None
        return rest[0].upper() + rest[1:]
    if _BACKREF_SUBJECT.match(sentence):
        return None
    return sentence


def opens_with_back_reference(text: str) -> bool:
    """Whether `text` opens by pointing at something said before it (for the benchmark)."""
    text = normalise(text)
    return bool(_BACKREF.match(text) or _BACKREF_SUBJECT.match(text))


def is_results_only(sentence: str) -> bool:
    """Whether `sentence` only reports results ("Our model achieves 35.6 …"): a verb of
    outcome with a figure, and no verb of making (for the ranking and the benchmark)."""
    return bool(_RESULT.search(sentence)) and not _MADE.search(sentence)


def instant_summary(paper: Paper) -> Summary:
    """A TL;DR without any network: Hugging Face's summary, else the extractive one.
    For answers that must come at once (search results), where an LLM has no place."""
    hf = normalise(paper.ai_summary)
    if hf:
        return Summary(text=whole_sentences(hf), source="huggingface")
    return Summary(text=extractive_tldr(paper), source="extractive")


def split_sentences(text: str) -> list[str]:
    """Sentences of normalised `text`, keeping "e.g.", "et al.", initials and decimals inside,
    and parting sentences glued without a space ("dataset.Our")."""
    text = _GLUED.sub(" ", normalise(text))
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start : match.start() + 1]
        last = head.rsplit(None, 1)[-1].lstrip("([{\"'“‘").lower() if head.strip() else ""
        if last in _ABBREVIATIONS or _INITIALS.fullmatch(last):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def has_glued_sentences(text: str) -> bool:
    """Whether `text` holds two sentences without a space between them (for the benchmark)."""
    return bool(_GLUED.search(normalise(text)))


def whole_sentences(text: str, limit: int = LIMIT) -> str:
    """The whole sentences of `text` that fit in `limit` (one at least, trimmed at a word
    boundary only when the first alone is longer)."""
    sentences = split_sentences(text)
    if not sentences:
        return ""
    kept = sentences[0]
    for sentence in sentences[1:]:
        if len(kept) + 1 + len(sentence) > limit:
            break
        kept = f"{kept} {sentence}"
    return trim(kept, limit)


def _paper_name(title: str) -> str | None:
    # "Shap-E: Generating …" → "Shap-E"; only short names, not a whole first clause.
    head, colon, _ = title.partition(":")
    head = head.strip()
    return head if colon and 0 < len(head) <= 30 else None


def normalise(text: str | None) -> str:
    return " ".join((text or "").split())


def trim(text: str, limit: int = LIMIT) -> str:
    """`text` with whitespace normalised, cut at the last word boundary before `limit`."""
    text = normalise(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]  # room for the ellipsis
    if text[limit - 1] != " ":
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip(" ,;:-–—([{") + "…"


__all__ = [
    "LIMIT", "extractive_tldr", "has_glued_sentences", "instant_summary", "is_results_only",
    "normalise",
    "opens_with_back_reference", "split_sentences", "standalone_sentence", "trim",
    "whole_sentences",
]
