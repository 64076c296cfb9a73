"""The same behaviours on real text: the first 600 papers of the ../shared/data corpus."""

from __future__ import annotations

from datetime import date

import pytest

from bot.models import Paper
from bot.search.index import PaperIndex
from bot.search.query import parse_query
from tests.search.conftest import corpus_papers

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def corpus() -> list[Paper]:
    return corpus_papers()


@pytest.fixture(scope="module")
def corpus_index(corpus: list[Paper]) -> PaperIndex:
    index = PaperIndex.in_memory()
    index.add(corpus)
    return index


def sample(corpus: list[Paper]) -> list[Paper]:
    return corpus[::20]  # 30 papers spread over the slice


def top_ids(index: PaperIndex, text: str, limit: int = 10) -> list[str]:
    return [hit.arxiv_id for hit in index.search(parse_query(text), limit)]


def misspell(title: str) -> str:
    # Drop the second letter of every word of 6+ letters: "diffusion" → "dffusion".
    return " ".join(w[0] + w[2:] if len(w) >= 6 and w.isalpha() else w for w in title.split())


def test_every_paper_is_found_first_by_its_title(
    corpus: list[Paper], corpus_index: PaperIndex
) -> None:
    misses = [p.arxiv_id for p in sample(corpus) if top_ids(corpus_index, p.title)[:1] != [
        p.arxiv_id]]
    assert misses == []


def test_misspelt_titles_still_find_the_paper_in_the_top_three(
    corpus: list[Paper], corpus_index: PaperIndex
) -> None:
    misses = [
        p.arxiv_id for p in sample(corpus)
        if p.arxiv_id not in top_ids(corpus_index, misspell(p.title), 3)
    ]
    assert misses == []


def test_first_author_filter_finds_the_paper(
    corpus: list[Paper], corpus_index: PaperIndex
) -> None:
    misses = [
        p.arxiv_id for p in sample(corpus)
        if p.arxiv_id not in top_ids(corpus_index, f'author:"{p.authors[0]}"', 50)
    ]
    assert misses == []


def test_author_filter_returns_only_that_authors_papers(
    corpus: list[Paper], corpus_index: PaperIndex
) -> None:
    name = sample(corpus)[3].authors[0]
    hits = corpus_index.search(parse_query(f'author:"{name}"'), 50)
    assert hits, f"no paper by {name}: the filter would hold vacuously"
    assert all(name in hit.paper.authors for hit in hits)


def test_typo_query_finds_diffusion_transformer_papers(corpus_index: PaperIndex) -> None:
    title = corpus_index.search(parse_query("difusion transformr"), 1)[0].paper.title.lower()
    assert "diffusion transformer" in title


def test_since_filter_holds_on_real_dates(corpus_index: PaperIndex) -> None:
    hits = corpus_index.search(parse_query("language models since:2023-06-15"), 50)
    assert min(h.paper.published_at.date() for h in hits if h.paper.published_at) >= date(
        2023, 6, 15
    )


def test_every_paper_is_found_by_its_id(corpus: list[Paper], corpus_index: PaperIndex) -> None:
    misses = [p.arxiv_id for p in sample(corpus)
              if top_ids(corpus_index, f"https://arxiv.org/abs/{p.arxiv_id}v1") != [p.arxiv_id]]
    assert misses == []


def test_snippets_of_real_abstracts_highlight_query_words(corpus_index: PaperIndex) -> None:
    hits = corpus_index.search(parse_query("instruction tuning"), 10)
    assert hits, "no hit for 'instruction tuning': the check would hold vacuously"
    assert all("**" in (hit.snippet or "") for hit in hits)
