"""The local tantivy index: ranking, authors, typos, filters, snippets, upserts, disk."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.search.index import MARKER_FILE, PaperIndex
from bot.search.query import parse_query
from tests.search.conftest import (
    DIT,
    FORWARD_FORWARD,
    MENTIONS_SPECULATIVE,
    RECENT,
    SMALL_SET,
    SPECULATIVE,
    paper,
)
from tests.store._factories import full_paper


def ids(index: PaperIndex, text: str, **kwargs: object) -> list[str]:
    return [hit.arxiv_id for hit in index.search(parse_query(text), 10, **kwargs)]  # type: ignore[arg-type]


def test_title_match_outranks_abstract_match(small_index: PaperIndex) -> None:
    found = ids(small_index, "speculative decoding")
    assert found.index(SPECULATIVE.arxiv_id) < found.index(MENTIONS_SPECULATIVE.arxiv_id)


def test_author_filter_finds_that_authors_papers(small_index: PaperIndex) -> None:
    assert ids(small_index, "author:hinton") == [FORWARD_FORWARD.arxiv_id]


def test_author_filter_narrows_a_word_search(small_index: PaperIndex) -> None:
    assert ids(small_index, "models author:peebles") == [DIT.arxiv_id]


def test_quoted_full_author_name_matches_the_full_name(small_index: PaperIndex) -> None:
    assert ids(small_index, 'author:"saining xie"') == [DIT.arxiv_id]


def test_full_name_filter_does_not_match_first_and_last_names_of_different_people(
    small_index: PaperIndex,
) -> None:
    assert ids(small_index, 'author:"ada turing"') == []


def test_plain_words_match_an_author_name(small_index: PaperIndex) -> None:
    assert ids(small_index, "hinton")[0] == FORWARD_FORWARD.arxiv_id


def test_misspelt_author_filter_still_finds_the_author(small_index: PaperIndex) -> None:
    assert ids(small_index, "author:hintn") == [FORWARD_FORWARD.arxiv_id]


def test_typos_still_find_the_paper(small_index: PaperIndex) -> None:
    assert ids(small_index, "difusion transformr")[0] == DIT.arxiv_id


def test_two_letter_typo_in_a_long_word_still_finds_the_paper(small_index: PaperIndex) -> None:
    assert ids(small_index, "specculatve")[0] == SPECULATIVE.arxiv_id


def test_a_correctly_spelt_word_is_not_replaced_by_a_neighbour(small_index: PaperIndex) -> None:
    # "passes" is in the index; "passed"/"pass" spellings must not drag in other papers.
    assert ids(small_index, "passes") == [FORWARD_FORWARD.arxiv_id]


def test_words_nobody_wrote_find_nothing(small_index: PaperIndex) -> None:
    assert ids(small_index, "zebrafish xylophone") == []


@pytest.mark.parametrize(
    "text",
    [
        '"speculative decoding',
        "speculative AND (decoding OR",
        "title:speculative",
        "speculative* decod~2 ^3",
        "[speculative TO decoding]",
        "speculative -decoding +draft",
        "\\speculative/ {decoding}",
        "NOT speculative",
        "speculative' OR '1'='1",
    ],
)
def test_engine_syntax_in_queries_is_searched_as_words(
    small_index: PaperIndex, text: str
) -> None:
    assert SPECULATIVE.arxiv_id in ids(small_index, text)


def test_since_filter_keeps_papers_published_from_that_month(small_index: PaperIndex) -> None:
    assert ids(small_index, "models since:2025-01") == [RECENT.arxiv_id]


def test_since_filter_day_excludes_earlier_papers(small_index: PaperIndex) -> None:
    assert ids(small_index, "models since:2025-01-09") == []


def test_since_falls_back_to_the_feature_day_without_a_publication_time() -> None:
    index = PaperIndex.in_memory()
    index.add([paper("2501.00001", "Latent models", published_at=None,
                     featured_on=date(2025, 1, 20))])
    assert ids(index, "latent since:2025-01-15") == ["2501.00001"]


def test_ids_restrict_the_search(small_index: PaperIndex) -> None:
    assert ids(small_index, "models", ids={DIT.arxiv_id}) == [DIT.arxiv_id]


def test_empty_ids_find_nothing(small_index: PaperIndex) -> None:
    assert ids(small_index, "models", ids=set()) == []


def test_an_id_word_among_others_ranks_that_paper_first(small_index: PaperIndex) -> None:
    assert ids(small_index, f"models {RECENT.arxiv_id}")[0] == RECENT.arxiv_id


def test_exact_id_query_returns_that_paper(small_index: PaperIndex) -> None:
    assert ids(small_index, "arxiv.org/abs/2212.09748v2") == [DIT.arxiv_id]


def test_snippet_highlights_the_matched_words(small_index: PaperIndex) -> None:
    hit = small_index.search(parse_query("draft"), 1)[0]
    assert "**draft**" in (hit.snippet or "")


def test_snippet_highlights_the_corrected_spelling(small_index: PaperIndex) -> None:
    hit = small_index.search(parse_query("latnt patches"), 1)[0]
    assert "**latent**" in (hit.snippet or "")


def test_snippet_marks_land_on_words_in_non_ascii_text() -> None:
    index = PaperIndex.in_memory()
    index.add([paper("2401.00009", "Über models", "Ünïcödé “naïve” diffusion — ok")])
    assert "**diffusion**" in (index.search(parse_query("diffusion"), 1)[0].snippet or "")


def test_snippet_falls_back_to_the_ai_summary(small_index: PaperIndex) -> None:
    hit = small_index.search(parse_query("generated"), 1)[0]
    assert "**generated**" in (hit.snippet or "")


def test_snippet_shows_the_matching_author_when_only_a_name_matched(
    small_index: PaperIndex,
) -> None:
    hit = small_index.search(parse_query("saining"), 1)[0]
    assert hit.snippet == "by **Saining Xie** and 1 other"


def test_stored_paper_round_trips_every_field() -> None:
    index = PaperIndex.in_memory()
    original = full_paper("2505.01234")
    index.add([original])
    assert index.get(["2505.01234"]) == {"2505.01234": original}


def test_hit_carries_the_stored_paper(small_index: PaperIndex) -> None:
    assert small_index.search(parse_query("hinton"), 1)[0].paper == FORWARD_FORWARD


def test_adding_a_paper_again_replaces_it() -> None:
    index = PaperIndex.in_memory()
    index.add([paper("2401.00001", "Old title about llamas")])
    index.add([paper("2401.00001", "New title about alpacas")])
    assert index.count() == 1


def test_replaced_paper_is_found_by_its_new_text_only() -> None:
    index = PaperIndex.in_memory()
    index.add([paper("2401.00001", "Old title about llamas")])
    index.add([paper("2401.00001", "New title about alpacas")])
    assert (ids(index, "alpacas"), ids(index, "llamas")) == (["2401.00001"], [])


def test_duplicates_within_one_batch_are_indexed_once() -> None:
    index = PaperIndex.in_memory()
    index.add([paper("2401.00001", "First"), paper("2401.00001", "Second")])
    assert index.count() == 1


def test_a_word_learnt_after_the_first_typo_is_corrected_to() -> None:
    index = PaperIndex.in_memory()
    index.add([paper("2401.00001", "Kangaroo models")])
    assert ids(index, "kangaro") == ["2401.00001"]  # builds the vocabulary
    index.add([paper("2401.00002", "Wombat burrows")])
    assert ids(index, "wombta") == ["2401.00002"]


def test_rebuild_replaces_everything(small_index: PaperIndex) -> None:
    small_index.rebuild([DIT])
    assert small_index.count() == 1


def test_get_ignores_unknown_ids(small_index: PaperIndex) -> None:
    assert list(small_index.get([DIT.arxiv_id, "2999.99999"])) == [DIT.arxiv_id]


def test_on_disk_index_survives_reopening(tmp_path: Path) -> None:
    PaperIndex.open(tmp_path / "index").add(SMALL_SET)
    reopened = PaperIndex.open(tmp_path / "index")
    assert ids(reopened, "difusion transformr")[0] == DIT.arxiv_id


def test_reopened_index_is_not_fresh_once_filled(tmp_path: Path) -> None:
    PaperIndex.open(tmp_path / "index").rebuild(SMALL_SET)
    assert PaperIndex.open(tmp_path / "index").fresh is False


def test_new_on_disk_index_is_fresh(tmp_path: Path) -> None:
    assert PaperIndex.open(tmp_path / "index").fresh is True


def test_index_of_another_schema_version_is_recreated_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    PaperIndex.open(tmp_path / "index").add(SMALL_SET)
    (tmp_path / "index" / MARKER_FILE).write_text(json.dumps({"schema": 0}))
    with caplog.at_level(logging.WARNING, logger="bot.search.index"):
        reopened = PaperIndex.open(tmp_path / "index")
    assert (reopened.count(), reopened.fresh) == (0, True)


def test_recreating_an_old_index_says_so_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    PaperIndex.open(tmp_path / "index").add(SMALL_SET)
    (tmp_path / "index" / MARKER_FILE).write_text(json.dumps({"schema": 0}))
    with caplog.at_level(logging.WARNING, logger="bot.search.index"):
        PaperIndex.open(tmp_path / "index")
    assert "recreating it" in caplog.text


def test_unreadable_index_files_are_recreated(tmp_path: Path) -> None:
    PaperIndex.open(tmp_path / "index").add(SMALL_SET)
    (tmp_path / "index" / "meta.json").write_text("{not json")
    assert PaperIndex.open(tmp_path / "index").count() == 0


def test_a_directory_of_other_files_is_moved_aside_not_wiped(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "notes.txt").write_text("mine")
    PaperIndex.open(tmp_path / "index")
    [aside] = tmp_path.glob("index.broken-*")
    assert (aside / "notes.txt").read_text() == "mine"


def test_papers_without_any_date_are_kept_out_of_since_searches() -> None:
    index = PaperIndex.in_memory()
    index.add([paper("2401.00001", "Undated models", published_at=None)])
    assert ids(index, "models since:2020-01") == []


def test_naive_publication_time_is_taken_as_utc() -> None:
    index = PaperIndex.in_memory()
    index.add([paper("2401.00001", "Midnight models",
                     published_at=datetime(2025, 1, 1, 0, 30))])
    assert ids(index, "models since:2025-01-01") == ["2401.00001"]


def test_aware_publication_time_is_compared_in_utc() -> None:
    from datetime import timedelta, timezone

    index = PaperIndex.in_memory()
    # 00:30 on Jan 1 at UTC+2 is still Dec 31 in UTC.
    index.add([paper("2401.00001", "Early models", published_at=datetime(
        2025, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))))])
    assert ids(index, "models since:2025-01-01") == []


def test_count_is_the_number_of_papers(small_index: PaperIndex) -> None:
    assert small_index.count() == len(SMALL_SET)


def test_published_at_is_stored_with_its_timezone() -> None:
    index = PaperIndex.in_memory()
    index.add([RECENT])
    assert index.get([RECENT.arxiv_id])[RECENT.arxiv_id].published_at == datetime(
        2025, 1, 8, 9, 0, tzinfo=UTC
    )


def test_missing_names_the_ids_the_index_lacks(small_index: PaperIndex) -> None:
    assert small_index.missing([DIT.arxiv_id, "2999.99999"]) == {"2999.99999"}


def test_missing_is_empty_when_every_id_is_indexed(small_index: PaperIndex) -> None:
    assert small_index.missing([DIT.arxiv_id, RECENT.arxiv_id]) == set()
