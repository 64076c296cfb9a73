"""The output guard on answers like the ones small real models give: what it cleans, what it
rejects (and why, as the short reason a batch counts), and numbers compared as numbers."""

from __future__ import annotations

import json

import pytest

from bot.models import Paper
from bot.summaries.guard import Rejected, guard
from tests.conftest import corpus_path

ABSTRACT = (
    "We present PolyGlot, a speech recognizer for over 1000 languages trained on 35.6% "
    "more data than prior work. It runs 2x faster on a 7B backbone with 1.5k hours of "
    "audio, and Recall@10 rises to 0.91."
)
PAPER = Paper(arxiv_id="2601.00001", title="PolyGlot: Speech Recognition for 1000 Languages",
              abstract=ABSTRACT, authors=("Ada Lovelace",))
CLEAN = "PolyGlot recognises speech in over 1000 languages."

# (answer as a model gave it, the TL;DR the guard keeps)
KEPT = [
    pytest.param(CLEAN, CLEAN, id="plain"),
    pytest.param("Sure! Here is a TL;DR of the paper:\n\n" + CLEAN, CLEAN, id="preamble"),
    pytest.param("Certainly. Here's a one-sentence summary: " + CLEAN, CLEAN,
                 id="preamble-certainly"),
    pytest.param("TL;DR: " + CLEAN, CLEAN, id="label"),
    pytest.param(CLEAN + "\n\nLet me know if you need anything else!", CLEAN, id="sign-off"),
    pytest.param(CLEAN + " I hope this helps.", CLEAN, id="sign-off-hope"),
    pytest.param("## TL;DR\n\n" + CLEAN, CLEAN, id="markdown-heading"),
    pytest.param("- **PolyGlot** recognises speech in over 1000 languages.", CLEAN,
                 id="markdown-bullet-bold"),
    pytest.param("* PolyGlot recognises speech.\n* It covers over 1000 languages.",
                 "PolyGlot recognises speech. It covers over 1000 languages.",
                 id="markdown-bullets"),
    pytest.param(CLEAN + "<|im_end|>\n<|im_start|>user\nThanks! What about", CLEAN,
                 id="chatml-leftover"),
    pytest.param("[INST] " + CLEAN + " [/INST]", CLEAN, id="llama-inst-tags"),
    pytest.param(CLEAN + "</s>", CLEAN, id="eos-token"),
    pytest.param("<think>The user wants a summary.</think>" + CLEAN, CLEAN, id="scratchpad"),
    pytest.param(f'"{CLEAN}"', CLEAN, id="quoted"),
    pytest.param("PolyGlot covers over 1,000 languages.",
                 "PolyGlot covers over 1,000 languages.", id="number-with-comma"),
    pytest.param("PolyGlot covers 1k languages.", "PolyGlot covers 1k languages.",
                 id="number-as-1k"),
    pytest.param("It trains on 35.6% more data.", "It trains on 35.6% more data.",
                 id="percentage"),
    pytest.param("It uses a 7 billion parameter backbone.",
                 "It uses a 7 billion parameter backbone.", id="7B-as-words"),
    pytest.param("Recall@10 rises to 0.91.", "Recall@10 rises to 0.91.",
                 id="metric-with-at-is-no-mention"),
]


@pytest.mark.parametrize(("answer", "kept"), KEPT)
def test_the_guard_keeps_the_tldr_of(answer: str, kept: str) -> None:
    assert guard(answer, PAPER) == kept


# (answer, the reason the batch counts)
REJECTED = [
    pytest.param("I cannot summarize this paper.", "refusal", id="refusal"),
    pytest.param("I'm sorry, but I can't help with that request.", "refusal",
                 id="refusal-sorry"),
    pytest.param("As an AI language model, I do not have access to the full paper.",
                 "refusal", id="refusal-as-an-ai"),
    pytest.param("Unfortunately, I am unable to provide a summary.", "refusal",
                 id="refusal-unable"),
    pytest.param("PolyGlot is at https://example.org/polyglot.", "link", id="url"),
    pytest.param("Data: huggingface.co/datasets/polyglot/speech.", "link", id="bare-domain"),
    pytest.param("PolyGlot (see github.com/poly/glot) covers 1000 languages.", "link",
                 id="bare-domain-github"),
    pytest.param("See www.polyglot.ai for more.", "link", id="www"),
    pytest.param("<!channel> " + CLEAN, "mention", id="slack-channel"),
    pytest.param(CLEAN + " <!here>", "mention", id="slack-here"),
    pytest.param("<@U024BE7LH> " + CLEAN, "mention", id="slack-user"),
    pytest.param("<!subteam^S012AB3CD> " + CLEAN, "mention", id="slack-user-group"),
    pytest.param("@everyone " + CLEAN, "mention", id="everyone"),
    pytest.param(CLEAN + " @here", "mention", id="here"),
    pytest.param("<@&123456789012345678> " + CLEAN, "mention", id="discord-role"),
    pytest.param("<@!123456789012345678> " + CLEAN, "mention", id="discord-user"),
    pytest.param("PolyGlot covers over 2000 languages.", "number not in the paper",
                 id="invented-number"),
    pytest.param("PolyGlot is 36% better.", "number not in the paper",
                 id="rounded-percentage"),
    pytest.param("PolyGlot covers 10k languages.", "number not in the paper",
                 id="scaled-number"),
    pytest.param(
        "PolyGlot est un système de reconnaissance vocale pour plus de mille langues, "
        "entraîné sur davantage de données.", "other language", id="french"),
    pytest.param("PolyGlot ist ein Spracherkenner für mehr als tausend Sprachen mit mehr "
                 "Daten und schnellerem Training.", "other language", id="german"),
    pytest.param("PolyGlot 是一个支持一千多种语言的语音识别系统。", "other language", id="chinese"),
    pytest.param("", "empty answer", id="empty"),
    pytest.param("<|im_end|>", "empty answer", id="only-template-tokens"),
    pytest.param("## TL;DR", "empty answer", id="only-a-heading"),
]


@pytest.mark.parametrize(("answer", "reason"), REJECTED)
def test_the_guard_rejects(answer: str, reason: str) -> None:
    with pytest.raises(Rejected) as rejected:
        guard(answer, PAPER)
    assert rejected.value.reason == reason


LONG = (
    "PolyGlot recognises speech in over 1000 languages. It trains on 35.6% more data than "
    "prior work. It runs 2x faster on a 7B backbone. It uses 1.5k hours of audio for the "
    "smallest languages. The authors release the model and the recipes so that others can "
    "reproduce every result."
)


def test_a_long_answer_keeps_the_whole_sentences_that_fit() -> None:
    kept = guard(LONG, PAPER)
    assert len(kept) <= 300
    assert LONG.startswith(kept)
    assert kept.endswith(".")


def test_an_answer_cut_by_the_token_limit_loses_its_unfinished_sentence() -> None:
    cut = "PolyGlot recognises speech in over 1000 languages. It trains on more data and"
    assert guard(cut, PAPER, truncated=True) == "PolyGlot recognises speech in over 1000 " \
        "languages."


def test_a_single_sentence_over_the_limit_is_cut_at_a_word() -> None:
    sentence = "PolyGlot " + "is a model for the speech of the world and " * 8 + "more."
    kept = guard(sentence, PAPER)
    assert len(kept) <= 300
    assert kept.endswith("…")
    assert sentence.startswith(kept[:-1])
    assert sentence[len(kept) - 1] == " "


def test_an_english_answer_to_a_non_english_abstract_is_not_judged_by_english_words() -> None:
    paper = Paper(arxiv_id="2601.00002", title="Ein Modell",
                  abstract="Wir stellen ein Modell für die Spracherkennung vor, das auf "
                           "vielen Sprachen trainiert wurde.", authors=())
    assert guard("Ein Modell für die Spracherkennung in vielen Sprachen.", paper)


@pytest.mark.corpus
def test_the_guard_accepts_nearly_every_real_llm_tldr_of_the_corpus() -> None:
    # Hugging Face's ai_summary is an LLM's TL;DR of the same abstract: real answers the
    # guard must not throw away (a few cite numbers the abstract does not have).
    rejected = []
    with corpus_path().open(encoding="utf-8") as lines:
        for record in map(json.loads, lines):
            if not record.get("ai_summary"):
                continue
            paper = Paper(arxiv_id=record["arxiv_id"], title=record["title"],
                          abstract=record["abstract"], authors=())
            try:
                guard(record["ai_summary"], paper)
            except Rejected as exc:
                rejected.append((record["arxiv_id"], exc.reason))
    assert len(rejected) <= 10, rejected
