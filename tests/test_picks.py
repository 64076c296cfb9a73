"""Specification of a channel's daily picks: filters, score, reasons, de-duplication, notes."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime

from bot.config import ChannelConfig
from bot.models import REASON_MAX, MatchesKeywords, Paper, SavedPaper, Saver
from bot.picks import SIMILAR_RECENT, dedupe, prepare, rank
from tests.conftest import corpus_path

DAY = date(2025, 9, 30)


def _paper(
    arxiv_id: str,
    title: str = "A study of things",
    abstract: str = "We study things.",
    *,
    upvotes: int | None = 10,
    **fields: object,
) -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=fields.pop("authors", ("Ada Lovelace",)),  # type: ignore[arg-type]
        upvotes=upvotes,
        **fields,  # type: ignore[arg-type]
    )


def _channel(**fields: object) -> ChannelConfig:
    return ChannelConfig(name="papers", **fields)  # type: ignore[arg-type]


def _ids(digest) -> list[str]:
    return [p.paper.arxiv_id for p in digest.picks]


def _saved(paper: Paper, user: str = "ana", *others: str) -> SavedPaper:
    savers = [Saver(user=user, saved_at=datetime(2025, 9, 1, 9, tzinfo=UTC))]
    savers += [Saver(user=o, saved_at=datetime(2025, 9, 2, 9, tzinfo=UTC)) for o in others]
    return SavedPaper(paper=paper, savers=tuple(savers))


# --- top_n and ordering --------------------------------------------------------------------


def test_top_n_limits_the_number_of_picks() -> None:
    papers = [_paper(f"2509.0000{i}", upvotes=i) for i in range(1, 8)]
    digest = rank(papers, _channel(top_n=3), day=DAY)
    assert len(digest.picks) == 3


def test_top_n_argument_overrides_the_channel_setting() -> None:
    papers = [_paper(f"2509.0000{i}", upvotes=i) for i in range(1, 8)]
    digest = rank(papers, _channel(top_n=3), day=DAY, top_n=5)
    assert len(digest.picks) == 5


def test_without_other_signals_the_most_upvoted_papers_come_first() -> None:
    papers = [_paper("2509.00001", upvotes=5), _paper("2509.00002", upvotes=80),
              _paper("2509.00003", upvotes=20)]
    digest = rank(papers, _channel(), day=DAY)
    assert _ids(digest) == ["2509.00002", "2509.00003", "2509.00001"]


def test_pick_ranks_are_one_based_and_consecutive() -> None:
    papers = [_paper(f"2509.0000{i}", upvotes=i) for i in range(1, 4)]
    digest = rank(papers, _channel(), day=DAY)
    assert [p.rank for p in digest.picks] == [1, 2, 3]


def test_equal_scores_break_on_upvotes_then_id() -> None:
    papers = [_paper("2509.00009", upvotes=7), _paper("2509.00001", upvotes=7),
              _paper("2509.00005", upvotes=9)]
    digest = rank(papers, _channel(), day=DAY)
    assert _ids(digest) == ["2509.00005", "2509.00001", "2509.00009"]


def test_ranking_does_not_depend_on_input_order() -> None:
    papers = [
        _paper(f"2509.{i:05d}", f"Paper {i} on diffusion" if i % 3 else f"Paper {i}",
               upvotes=i % 4)
        for i in range(30)
    ]
    shuffled = papers[:]
    random.Random(7).shuffle(shuffled)
    channel = _channel(top_n=10, keywords=("diffusion",))
    assert _ids(rank(papers, channel, day=DAY)) == _ids(rank(shuffled, channel, day=DAY))


def test_ranking_a_prepared_batch_equals_ranking_the_papers() -> None:
    papers = [_paper(f"2509.{i:05d}", f"Video model {i}", upvotes=i) for i in range(12)]
    channel = _channel(keywords=("video",), top_n=6)
    assert rank(prepare(papers), channel, day=DAY) == rank(papers, channel, day=DAY)


def test_digest_carries_channel_name_day_and_candidate_count() -> None:
    digest = rank([_paper("2509.00001"), _paper("2509.00002")], _channel(), day=DAY)
    assert (digest.channel, digest.day, digest.candidates) == ("papers", DAY, 2)


# --- filters ----------------------------------------------------------------------------------


def test_min_upvotes_drops_papers_below_it() -> None:
    papers = [_paper("2509.00001", upvotes=49), _paper("2509.00002", upvotes=50)]
    digest = rank(papers, _channel(min_upvotes=50), day=DAY)
    assert _ids(digest) == ["2509.00002"]


def test_min_upvotes_keeps_arxiv_papers_that_have_no_upvotes() -> None:
    arxiv_only = _paper("2509.00003", upvotes=None, source="arxiv", categories=("cs.CL",))
    digest = rank([arxiv_only], _channel(min_upvotes=50), day=DAY)
    assert _ids(digest) == ["2509.00003"]


def test_exclude_drops_a_whole_word_match_in_the_title() -> None:
    papers = [_paper("2509.00001", "A Survey of Agents"), _paper("2509.00002", "Agents")]
    digest = rank(papers, _channel(exclude=("survey",)), day=DAY)
    assert _ids(digest) == ["2509.00002"]


def test_exclude_is_case_insensitive_and_matches_the_abstract() -> None:
    papers = [_paper("2509.00001", abstract="We release a new BENCHMARK for agents.")]
    digest = rank(papers, _channel(exclude=("Benchmark",)), day=DAY)
    assert digest.picks == ()


def test_exclude_matches_hugging_face_keywords() -> None:
    papers = [_paper("2509.00001", ai_keywords=("medical imaging", "segmentation"))]
    digest = rank(papers, _channel(exclude=("medical imaging",)), day=DAY)
    assert digest.picks == ()


def test_exclude_never_matches_inside_another_word() -> None:
    papers = [_paper("2509.00001", "Latent Diffusion for Video")]
    digest = rank(papers, _channel(exclude=("fusion",)), day=DAY)
    assert _ids(digest) == ["2509.00001"]


def test_exclude_phrase_needs_its_words_in_order() -> None:
    papers = [_paper("2509.00001", "Imaging for medical students")]
    digest = rank(papers, _channel(exclude=("medical imaging",)), day=DAY)
    assert _ids(digest) == ["2509.00001"]


def test_withdrawn_papers_are_dropped() -> None:
    papers = [_paper("2509.00001", withdrawn=True), _paper("2509.00002")]
    digest = rank(papers, _channel(), day=DAY)
    assert _ids(digest) == ["2509.00002"]


def test_categories_drop_arxiv_papers_outside_them() -> None:
    papers = [
        _paper("2509.00001", upvotes=None, source="arxiv", categories=("cs.CV",)),
        _paper("2509.00002", upvotes=None, source="arxiv", categories=("cs.LG", "cs.CL")),
    ]
    digest = rank(papers, _channel(categories=("cs.CL",)), day=DAY)
    assert _ids(digest) == ["2509.00002"]


def test_categories_let_hugging_face_papers_through() -> None:
    digest = rank([_paper("2509.00001")], _channel(categories=("cs.CL",)), day=DAY)
    assert _ids(digest) == ["2509.00001"]


def test_posted_papers_are_never_picked_again() -> None:
    papers = [_paper("2509.00001", upvotes=500), _paper("2509.00002", upvotes=1)]
    digest = rank(papers, _channel(), posted=frozenset({"2509.00001"}), day=DAY)
    assert _ids(digest) == ["2509.00002"]


def test_v2_of_a_posted_paper_is_not_new() -> None:
    papers = [_paper("2509.00001v2", upvotes=500), _paper("2509.00002", upvotes=1)]
    digest = rank(papers, _channel(), posted=frozenset({"2509.00001"}), day=DAY)
    assert _ids(digest) == ["2509.00002"]


# --- de-duplication -----------------------------------------------------------------------


def test_same_paper_from_both_sources_is_one_candidate() -> None:
    hf = _paper("2509.00001", upvotes=40)
    arxiv = _paper("2509.00001v1", upvotes=None, source="arxiv", categories=("cs.CL",))
    digest = rank([arxiv, hf], _channel(), day=DAY)
    assert digest.candidates == 1


def test_dedupe_keeps_the_hugging_face_record() -> None:
    hf = _paper("2509.00001", upvotes=40)
    arxiv = _paper("2509.00001v1", upvotes=None, source="arxiv", categories=("cs.CL",))
    (kept,) = dedupe([arxiv, hf])
    assert (kept.source, kept.upvotes) == ("huggingface", 40)


def test_dedupe_gives_the_hugging_face_record_the_arxiv_categories() -> None:
    hf = _paper("2509.00001", upvotes=40)
    arxiv = _paper("2509.00001", upvotes=None, source="arxiv", categories=("cs.CL",))
    (kept,) = dedupe([hf, arxiv])
    assert kept.categories == ("cs.CL",)


# --- score and reasons ------------------------------------------------------------------------


def test_keyword_in_title_outranks_a_more_upvoted_paper() -> None:
    papers = [_paper("2509.00001", "Scaling laws for RL", upvotes=300),
              _paper("2509.00002", "Video diffusion with sparse attention", upvotes=12)]
    digest = rank(papers, _channel(keywords=("diffusion",)), day=DAY)
    assert _ids(digest)[0] == "2509.00002"


def test_keyword_reason_lists_the_matched_keywords() -> None:
    papers = [_paper("2509.00002", "Video Diffusion Models", upvotes=0)]
    digest = rank(papers, _channel(keywords=("diffusion", "video", "robotics")), day=DAY)
    assert digest.picks[0].reason == "matches: diffusion, video"


def test_keywords_match_plural_and_singular() -> None:
    papers = [_paper("2509.00002", "Agents that browse", upvotes=0)]
    digest = rank(papers, _channel(keywords=("agent",)), day=DAY)
    assert digest.picks[0].reason == "matches: agent"


def test_title_match_counts_more_than_abstract_match() -> None:
    papers = [
        _paper("2509.00001", "Robots", "We train diffusion policies.", upvotes=10),
        _paper("2509.00002", "Diffusion policies", "We train robots.", upvotes=10),
    ]
    digest = rank(papers, _channel(keywords=("diffusion",)), day=DAY)
    assert _ids(digest) == ["2509.00002", "2509.00001"]


def test_hugging_face_keywords_count_as_topic_matches() -> None:
    papers = [_paper("2509.00001", upvotes=10),
              _paper("2509.00002", upvotes=10, ai_keywords=("mixture of experts",))]
    digest = rank(papers, _channel(keywords=("Mixture of Experts",)), day=DAY)
    assert _ids(digest)[0] == "2509.00002"


def test_author_match_is_case_insensitive_and_boosts() -> None:
    papers = [_paper("2509.00001", upvotes=200),
              _paper("2509.00002", upvotes=3, authors=("Ana Ruiz", "Yann LeCun"))]
    digest = rank(papers, _channel(authors=("yann lecun",)), day=DAY)
    assert _ids(digest)[0] == "2509.00002"


def test_author_reason_names_the_author_as_written_on_the_paper() -> None:
    papers = [_paper("2509.00002", upvotes=0, authors=("Ana Ruiz", "Yann LeCun"))]
    digest = rank(papers, _channel(authors=("yann lecun",)), day=DAY)
    assert digest.picks[0].reason == "by Yann LeCun"


def test_upvote_reason_names_the_place_of_the_day() -> None:
    papers = [_paper("2509.00001", upvotes=412), _paper("2509.00002", upvotes=40)]
    digest = rank(papers, _channel(), day=DAY)
    assert digest.picks[0].reason == "412 upvotes, #1 today"


def test_strongest_signal_comes_first_in_the_reason() -> None:
    papers = [_paper("2509.00001", "Diffusion for video", upvotes=412,
                     authors=("Yann LeCun",))]
    channel = _channel(keywords=("diffusion", "video"), authors=("Yann LeCun",))
    reason = rank(papers, channel, day=DAY).picks[0].reason
    assert reason == "matches: diffusion, video · by Yann LeCun · 412 upvotes, #1 today"


def test_arxiv_paper_without_signals_says_where_it_is_new() -> None:
    papers = [_paper("2509.00001", upvotes=None, source="arxiv", categories=("cs.CL",))]
    digest = rank(papers, _channel(categories=("cs.CL",)), day=DAY)
    assert digest.picks[0].reason == "new on arXiv in cs.CL"


def test_reasons_stay_short_with_many_matches() -> None:
    words = [f"topic{i}" for i in range(40)]
    papers = [_paper("2509.00001", " ".join(words), upvotes=5)]
    digest = rank(papers, _channel(keywords=tuple(words)), day=DAY)
    assert len(digest.picks[0].reason) <= REASON_MAX


# --- similarity to the team's saved list ----------------------------------------------------

SAVED_TOKENIZER = _paper(
    "2401.00001",
    "Byte-level tokenizer-free language modelling with patch entropy",
    "We remove the tokenizer: bytes are grouped into patches by next-byte entropy, and a "
    "latent transformer models the patches. Patch entropy segmentation matches "
    "tokenizer-based models at scale.",
)
CANDIDATE_TOKENIZER = _paper(
    "2509.00002",
    "Entropy patches for tokenizer-free byte models",
    "Tokenizer-free byte-level language models group bytes into patches using entropy. "
    "We study patch entropy segmentation for multilingual text.",
    upvotes=2,
)
UNRELATED = _paper(
    "2509.00001",
    "Quadruped locomotion from video",
    "A robot dog learns to walk on ice from internet videos of animals.",
    upvotes=90,
)


def test_paper_similar_to_a_saved_one_is_boosted() -> None:
    digest = rank([UNRELATED, CANDIDATE_TOKENIZER], _channel(),
                  saved=[_saved(SAVED_TOKENIZER)], day=DAY)
    assert _ids(digest)[0] == "2509.00002"


def test_similarity_reason_names_the_saved_paper_and_who_saved_it() -> None:
    digest = rank([CANDIDATE_TOKENIZER], _channel(), saved=[_saved(SAVED_TOKENIZER, "ana")],
                  day=DAY)
    assert digest.picks[0].reason.startswith(
        "similar to 'Byte-level tokenizer-free language modelling…' (saved by ana)"
    )


def test_similarity_reason_counts_other_savers() -> None:
    saved = [_saved(SAVED_TOKENIZER, "ana", "bo", "cy")]
    digest = rank([CANDIDATE_TOKENIZER], _channel(), saved=saved, day=DAY)
    assert "(saved by ana +2)" in digest.picks[0].reason


def test_only_the_most_recent_saves_shape_the_picks() -> None:
    # The list comes newest first; a save older than the SIMILAR_RECENT newest is not used.
    newer = [_saved(replace(UNRELATED, arxiv_id=f"2508.{n:05d}")) for n in range(SIMILAR_RECENT)]
    digest = rank([CANDIDATE_TOKENIZER], _channel(), saved=[*newer, _saved(SAVED_TOKENIZER)],
                  day=DAY)
    assert "similar to" not in digest.picks[0].reason


def test_unrelated_saved_papers_do_not_boost() -> None:
    digest = rank([UNRELATED, CANDIDATE_TOKENIZER], _channel(),
                  saved=[_saved(UNRELATED)], day=DAY)
    assert "similar to" not in digest.picks[0].reason + digest.picks[1].reason


def test_a_saved_candidate_is_not_similar_to_itself() -> None:
    digest = rank([CANDIDATE_TOKENIZER], _channel(), saved=[_saved(CANDIDATE_TOKENIZER)],
                  day=DAY)
    assert "similar to" not in digest.picks[0].reason


def test_saved_similarity_on_real_papers_prefers_the_same_topic() -> None:
    with corpus_path().open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    day = [r for r in records if r["daily_date"] == "2024-10-10"]
    candidates = [_paper(r["arxiv_id"], r["title"], r["abstract"], upvotes=r["upvotes"])
                  for r in day]
    # A team that saved three earlier papers about preference optimisation for alignment.
    saved_titles = {
        "Self-Play Preference Optimization for Language Model Alignment",
        "Iterative Reasoning Preference Optimization",
        "LiPO: Listwise Preference Optimization through Learning-to-Rank",
    }
    saved = [_saved(_paper(r["arxiv_id"], r["title"], r["abstract"])) for r in records
             if r["title"] in saved_titles]
    digest = rank(candidates, _channel(top_n=1), saved=saved, day=DAY)
    # Without the list the day's top paper is "Aria" (111 upvotes); with it, this one (16).
    assert digest.picks[0].paper.title == (
        "Self-Boosting Large Language Models with Synthetic Preference Data"
    )


# --- summaries are not ranking's job ---------------------------------------------------------


def test_rank_leaves_the_tldr_to_the_summariser() -> None:
    # Ranking is cheap and pure; the TL;DR chain runs once for the union of all picks.
    digest = rank([_paper("2509.00001")], _channel(), day=DAY)
    assert digest.picks[0].summary is None


# --- reasons as parts ------------------------------------------------------------------------


def test_reason_parts_name_the_matched_keywords() -> None:
    paper = _paper("2509.00001", title="Diffusion for video")
    digest = rank([paper], _channel(keywords=("diffusion",)), day=DAY)
    assert MatchesKeywords(("diffusion",)) in digest.picks[0].reasons


def test_reason_sentence_is_made_from_the_parts() -> None:
    paper = _paper("2509.00001", title="Diffusion for video")
    pick = rank([paper], _channel(keywords=("diffusion",)), day=DAY).picks[0]
    assert pick.reason.startswith(pick.reasons[0].text())


# --- notes on empty days -------------------------------------------------------------------


def test_no_candidates_note_says_no_papers_today() -> None:
    digest = rank([], _channel(), day=DAY)
    assert digest.note == "no papers today"


def test_everything_posted_note_counts_them() -> None:
    papers = [_paper(f"2509.0000{i}") for i in range(3)]
    posted = frozenset(p.arxiv_id for p in papers)
    digest = rank(papers, _channel(), posted=posted, day=DAY)
    assert digest.note == "all 3 already posted"


def test_everything_filtered_note_names_the_filters_that_dropped_papers() -> None:
    papers = [_paper("2509.00001", upvotes=3), _paper("2509.00002", "A survey", upvotes=90)]
    digest = rank(papers, _channel(min_upvotes=50, exclude=("survey", "benchmark")), day=DAY)
    assert digest.note == "nothing matched the filters (min_upvotes 50, exclude: survey)"


def test_filtered_note_also_counts_posted_papers() -> None:
    papers = [_paper("2509.00001", upvotes=3), _paper("2509.00002", upvotes=90)]
    digest = rank(papers, _channel(min_upvotes=50), posted=frozenset({"2509.00002"}), day=DAY)
    assert digest.note == "nothing matched the filters (min_upvotes 50); 1 already posted"


def test_a_digest_with_picks_has_no_note() -> None:
    digest = rank([_paper("2509.00001")], _channel(), day=DAY)
    assert digest.note is None
