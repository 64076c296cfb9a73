"""Golden output of adapters/console/render.py: the text and JSON `paperboy digest` prints.

Built from Digest/Pick/Paper values directly; every expected string is written out in full,
so a change to what a reader or a script sees shows up here as a diff.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

from adapters.console.render import (
    byline,
    digest_header,
    links_line,
    render_digest,
    render_pick,
)
from bot.display import authors_short
from bot.models import Digest, MatchesKeywords, Paper, Pick, ReasonPart, Summary, Upvotes
from paperboy.jsonshape import paper_json, pick_json

DAY = date(2026, 6, 12)

MSA = Paper(
    arxiv_id="2606.13392",
    title="MiniMax Sparse Attention",
    abstract="We present MiniMax Sparse Attention (MSA).",
    authors=("Xunhao Lai", "Weiqi Xu", "Yufeng Yang", "Qiaorui Chen", "Yang Xu"),
    published_at=datetime(2026, 6, 11, tzinfo=UTC),
    featured_on=DAY,
    upvotes=103,
    github_repo="https://github.com/MiniMax-AI/MSA",
    github_stars=1234,
    organization="MiniMax",
)
FUSION = Paper(
    arxiv_id="2606.12303",
    title="From 2D Grids to 1D Tokens",
    abstract="A 1D token interface for image fusion.",
    authors=("Yuchen Xian", "Yunqiu Xu"),
    upvotes=12,
    project_page="https://zju-xyc.github.io/1D-Fusion-Project-Page/",
)
MSA_TLDR = Summary("MSA makes long contexts cheap with blockwise sparsity.", "huggingface")


def _pick(paper: Paper = MSA, *, rank: int = 1, score: float = 2.5,
          reasons: tuple[ReasonPart, ...] = (MatchesKeywords(("attention",)), Upvotes(103, 1)),
          summary: Summary = MSA_TLDR) -> Pick:
    return Pick(paper=paper, score=score, rank=rank, reasons=reasons, summary=summary)


# --- text -----------------------------------------------------------------------------------


def test_render_pick_is_title_tldr_reason_byline_and_links() -> None:
    assert render_pick(_pick()) == (
        "1. MiniMax Sparse Attention\n"
        "   TL;DR: MSA makes long contexts cheap with blockwise sparsity.\n"
        "   Why: matches: attention · 103 upvotes, #1 today\n"
        "   Xunhao Lai, Weiqi Xu, Yufeng Yang +2 · MiniMax · ▲ 103 · ★ 1.2k · huggingface\n"
        "   HF https://huggingface.co/papers/2606.13392 · arXiv https://arxiv.org/abs/2606.13392"
        " · PDF https://arxiv.org/pdf/2606.13392 · GitHub https://github.com/MiniMax-AI/MSA"
    )


def test_render_digest_is_the_header_then_one_block_per_pick() -> None:
    second = _pick(FUSION, rank=2, score=1.1, reasons=(Upvotes(12, 2),),
                   summary=Summary("Images fused through 1D tokens.", "llm", "tiny"))
    digest = Digest(channel="console", day=DAY, picks=(_pick(), second), candidates=41)
    assert render_digest(digest) == (
        "Daily papers — Fri 12 Jun 2026 · 2 picks of 41\n"
        "\n"
        f"{render_pick(_pick())}\n"
        "\n"
        "2. From 2D Grids to 1D Tokens\n"
        "   TL;DR: Images fused through 1D tokens.\n"
        "   Why: 12 upvotes, #2 today\n"
        "   Yuchen Xian, Yunqiu Xu · ▲ 12 · huggingface\n"
        "   HF https://huggingface.co/papers/2606.12303 · arXiv https://arxiv.org/abs/2606.12303"
        " · PDF https://arxiv.org/pdf/2606.12303"
        " · Project https://zju-xyc.github.io/1D-Fusion-Project-Page/"
    )


def test_digest_header_says_1_pick_in_the_singular() -> None:
    digest = Digest(channel="console", day=DAY, picks=(_pick(),), candidates=49)
    assert digest_header(digest) == "Daily papers — Fri 12 Jun 2026 · 1 pick of 49"


def test_empty_digest_is_one_line_with_its_note() -> None:
    digest = Digest(channel="console", day=date(2026, 6, 13), picks=(), candidates=0,
                    note="Hugging Face publishes no Daily Papers on Saturdays")
    assert render_digest(digest) == (
        "Daily papers — Sat 13 Jun 2026: Hugging Face publishes no Daily Papers on Saturdays"
    )


def test_empty_digest_without_a_note_says_nothing_new_today() -> None:
    digest = Digest(channel="console", day=DAY, picks=(), candidates=30)
    assert render_digest(digest) == "Daily papers — Fri 12 Jun 2026: nothing new today"


# --- byline ---------------------------------------------------------------------------------


def test_byline_shows_three_authors_then_how_many_more() -> None:
    assert byline(replace(MSA, organization=None, github_stars=None)) == (
        "Xunhao Lai, Weiqi Xu, Yufeng Yang +2 · ▲ 103 · huggingface"
    )


def test_byline_with_exactly_three_authors_adds_no_count() -> None:
    assert authors_short(("Ana Lee", "Bo Chen", "Cy Dee")) == "Ana Lee, Bo Chen, Cy Dee"


def test_byline_with_four_authors_says_plus_1() -> None:
    assert authors_short(("Ana Lee", "Bo Chen", "Cy Dee", "Di Eng")) == (
        "Ana Lee, Bo Chen, Cy Dee +1"
    )


def test_byline_without_authors_says_unknown_authors() -> None:
    paper = replace(FUSION, authors=(), upvotes=None, source="arxiv")
    assert byline(paper) == "unknown authors · arxiv"


def test_byline_shows_zero_upvotes_but_not_unknown_ones() -> None:
    assert [byline(replace(FUSION, upvotes=n)) for n in (0, None)] == [
        "Yuchen Xian, Yunqiu Xu · ▲ 0 · huggingface",
        "Yuchen Xian, Yunqiu Xu · huggingface",
    ]


def test_byline_writes_stars_below_1000_in_full() -> None:
    assert byline(replace(FUSION, github_stars=999)) == (
        "Yuchen Xian, Yunqiu Xu · ▲ 12 · ★ 999 · huggingface"
    )


# --- links ----------------------------------------------------------------------------------


def test_links_line_lists_hf_arxiv_pdf_github_and_project_in_that_order() -> None:
    paper = replace(MSA, project_page="https://msa.example.org/")
    assert links_line(paper) == (
        "HF https://huggingface.co/papers/2606.13392 · arXiv https://arxiv.org/abs/2606.13392"
        " · PDF https://arxiv.org/pdf/2606.13392 · GitHub https://github.com/MiniMax-AI/MSA"
        " · Project https://msa.example.org/"
    )


def test_links_line_leaves_out_links_that_are_not_https() -> None:
    paper = replace(MSA, github_repo="http://github.com/MiniMax-AI/MSA",
                    project_page="javascript:alert(1)")
    assert links_line(paper) == (
        "HF https://huggingface.co/papers/2606.13392 · arXiv https://arxiv.org/abs/2606.13392"
        " · PDF https://arxiv.org/pdf/2606.13392"
    )


# --- JSON -----------------------------------------------------------------------------------


def test_paper_json_has_the_documented_shape() -> None:
    assert paper_json(MSA, MSA_TLDR) == {
        "id": "2606.13392",
        "title": "MiniMax Sparse Attention",
        "summary": "MSA makes long contexts cheap with blockwise sparsity.",
        "summary_source": "huggingface",
        "authors": ["Xunhao Lai", "Weiqi Xu", "Yufeng Yang", "Qiaorui Chen", "Yang Xu"],
        "upvotes": 103,
        "source": "huggingface",
        "published_at": "2026-06-11T00:00:00+00:00",
        "organization": "MiniMax",
        "github_stars": 1234,
        "links": {
            "huggingface": "https://huggingface.co/papers/2606.13392",
            "arxiv": "https://arxiv.org/abs/2606.13392",
            "pdf": "https://arxiv.org/pdf/2606.13392",
            "github": "https://github.com/MiniMax-AI/MSA",
        },
    }


def test_paper_json_without_a_summary_has_null_summary_and_source() -> None:
    row = paper_json(MSA, None)
    assert (row["summary"], row["summary_source"]) == (None, None)


def test_paper_json_of_an_arxiv_paper_has_nulls_for_what_hf_would_add() -> None:
    paper = Paper(arxiv_id="2606.00001", title="T", abstract="", authors=("A",), source="arxiv")
    row = paper_json(paper, None)
    assert [row[k] for k in ("upvotes", "published_at", "organization", "github_stars")] == [
        None, None, None, None
    ]


def test_pick_json_adds_reason_score_and_rank_to_the_paper() -> None:
    assert pick_json(_pick()) == {
        **paper_json(MSA, MSA_TLDR),
        "reason": "matches: attention · 103 upvotes, #1 today",
        "score": 2.5,
        "rank": 1,
    }


def test_pick_json_rounds_the_score_to_4_places() -> None:
    assert pick_json(_pick(score=1.234567))["score"] == 1.2346


def test_pick_json_names_the_channel_when_given() -> None:
    assert pick_json(_pick(), channel="nlp-papers")["channel"] == "nlp-papers"


def test_pick_json_has_no_channel_key_without_one() -> None:
    assert "channel" not in pick_json(_pick())


def test_pick_json_survives_a_json_round_trip() -> None:
    row = pick_json(_pick())
    assert json.loads(json.dumps(row, ensure_ascii=False)) == row
