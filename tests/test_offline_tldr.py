"""The offline TL;DR reads on its own: no back-reference openings, sentences parted where
the abstract forgot the space, a contribution sentence over a results-only one, and a
fitting contribution sentence over one too long to keep whole."""

from __future__ import annotations

import json

import pytest

from bot.models import Paper
from bot.summaries.offline import (
    extractive_tldr,
    has_glued_sentences,
    opens_with_back_reference,
    split_sentences,
    standalone_sentence,
)
from tests.conftest import corpus_path


def _paper(abstract: str, title: str = "MemoNav: Memory for Web Agents") -> Paper:
    return Paper(arxiv_id="2509.00001", title=title, abstract=abstract, authors=())


@pytest.mark.parametrize(("sentence", "standalone"), [
    ("To address this issue, we propose MemoNav, a memory module.",
     "We propose MemoNav, a memory module."),
    ("To this end, we introduce MemoNav.", "We introduce MemoNav."),
    ("Based on this observation, we design MemoNav.", "We design MemoNav."),
    ("However, we show that memory helps.", "We show that memory helps."),
    ("To tackle these, in this paper we introduce MemoNav.",
     "In this paper we introduce MemoNav."),
    ("These results suggest that memory helps.", None),
    ("It outperforms prior agents.", None),
    ("To address this, a memory module is added.", None),
    ("This paper introduces MemoNav.", "This paper introduces MemoNav."),
    ("We propose MemoNav.", "We propose MemoNav."),
])
def test_a_back_reference_is_rephrased_or_refused(sentence: str, standalone: str | None) -> None:
    assert standalone_sentence(sentence) == standalone


def test_the_tldr_never_opens_with_to_address_this() -> None:
    abstract = ("Web agents forget pages they visited. To address this issue, we propose "
                "MemoNav, a memory module that lets agents revisit pages.")
    assert extractive_tldr(_paper(abstract)).startswith("We propose MemoNav, a memory module")


def test_a_sentence_that_only_refers_back_is_not_the_opening() -> None:
    abstract = ("Agents browse the web for users. These agents, however, often forget what "
                "they saw and we propose nothing here. We introduce MemoNav.")
    assert not opens_with_back_reference(extractive_tldr(_paper(abstract)))


def test_sentences_glued_without_a_space_are_parted() -> None:
    abstract = "We build a new dataset.Our model learns from it. It runs on Node.js fast."
    assert split_sentences(abstract) == [
        "We build a new dataset.", "Our model learns from it.", "It runs on Node.js fast."
    ]
    assert not has_glued_sentences(extractive_tldr(_paper(abstract)))


def test_a_contribution_sentence_wins_over_a_results_only_one() -> None:
    abstract = ("Binary networks are cheap to run. Our binary model, while less accurate, "
                "achieves 35.6 points on ImageNet. Our method binarises weights and "
                "activations with a learned scale.")
    tldr = extractive_tldr(_paper(abstract, title="BiNet"))
    assert tldr.startswith("Our method binarises weights")


def test_a_contribution_sentence_too_long_to_keep_gives_way_to_one_that_fits() -> None:
    long = "We propose MemoNav, " + "a memory module that works for agents, " * 8 + "et cetera."
    abstract = f"{long} Our method stores each page in a small key-value cache."
    tldr = extractive_tldr(_paper(abstract))
    assert tldr.startswith("Our method stores each page")
    assert not tldr.endswith("…")


@pytest.mark.corpus
def test_no_corpus_tldr_opens_with_a_back_reference_or_glues_sentences() -> None:
    with corpus_path().open(encoding="utf-8") as lines:
        papers = [_paper(r["abstract"], r["title"]) for r in map(json.loads, lines)]
    bad = [p.title for p in papers
           if opens_with_back_reference(t := extractive_tldr(p)) or has_glued_sentences(t)]
    assert bad == []
