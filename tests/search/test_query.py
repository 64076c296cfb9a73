"""The search grammar: words, filters, scopes, exact ids, and the inputs it refuses."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import UserInputError
from bot.search.query import MAX_QUERY_CHARS, REMOTE_QUERY_CHARS, parse_query


def test_plain_words_are_kept_in_order() -> None:
    assert parse_query("speculative decoding draft model").words == (
        "speculative", "decoding", "draft", "model",
    )


def test_edge_punctuation_is_stripped_but_inner_punctuation_kept() -> None:
    assert parse_query("(GPT-4o), 'rag'!").words == ("GPT-4o", "rag")


def test_engine_syntax_in_user_text_is_just_words() -> None:
    assert parse_query('foo AND (bar) OR baz* ~2 ^3 [x TO y]').words == (
        "foo", "AND", "bar", "OR", "baz", "2", "3", "x", "TO", "y",
    )


def test_author_filter_takes_a_bare_name() -> None:
    assert parse_query("author:hinton forward").authors == ("hinton",)


def test_author_filter_takes_a_quoted_full_name() -> None:
    assert parse_query('author:"Geoffrey Hinton" forward').authors == ("Geoffrey Hinton",)


def test_author_filter_is_not_a_plain_word() -> None:
    assert parse_query("author:hinton forward").words == ("forward",)


def test_filter_keys_are_case_insensitive() -> None:
    assert parse_query("Author:Hinton x").authors == ("Hinton",)


def test_since_month_means_the_first_day_of_that_month() -> None:
    assert parse_query("diffusion since:2025-01").since == date(2025, 1, 1)


def test_since_day_is_taken_as_is() -> None:
    assert parse_query("diffusion since:2025-01-15").since == date(2025, 1, 15)


@pytest.mark.parametrize("value", ["2025-13", "2025-02-30", "yesterday", "2025", "25-01"])
def test_since_with_a_bad_date_is_refused(value: str) -> None:
    with pytest.raises(UserInputError, match="since:"):
        parse_query(f"diffusion since:{value}")


@pytest.mark.parametrize(("word", "scope"), [("in:saved", "saved"), ("in:posted", "posted")])
def test_in_word_sets_the_scope(word: str, scope: str) -> None:
    assert parse_query(f"diffusion {word}").scope == scope


def test_unknown_scope_is_refused() -> None:
    with pytest.raises(UserInputError, match="in:"):
        parse_query("diffusion in:everywhere")


def test_unknown_key_is_searched_as_words() -> None:
    assert parse_query("title:diffusion").words == ("title:diffusion",)


@pytest.mark.parametrize(
    ("text", "arxiv_id"),
    [
        ("2406.12345", "2406.12345"),
        ("2406.12345v2", "2406.12345"),
        ("arxiv.org/abs/2406.12345v2", "2406.12345"),
        ("https://arxiv.org/pdf/2406.12345v1.pdf", "2406.12345"),
        ("https://huggingface.co/papers/2406.12345", "2406.12345"),
        ("https://www.alphaxiv.org/abs/2406.12345", "2406.12345"),
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("  <https://arxiv.org/abs/2406.12345>  ", "2406.12345"),
    ],
)
def test_an_id_or_paper_link_alone_is_an_exact_lookup(text: str, arxiv_id: str) -> None:
    assert parse_query(text).exact_id == arxiv_id


def test_an_id_among_other_words_is_not_an_exact_lookup() -> None:
    assert parse_query("2406.12345 diffusion").exact_id is None


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_query_is_refused(text: str) -> None:
    with pytest.raises(UserInputError, match="Type some words"):
        parse_query(text)


@pytest.mark.parametrize("text", ["???", "!!! ... ---", '""', "* ~ ^ : ( )", "🚀"])
def test_punctuation_only_query_is_refused(text: str) -> None:
    with pytest.raises(UserInputError, match="no words"):
        parse_query(text)


def test_filters_without_words_are_refused() -> None:
    with pytest.raises(UserInputError, match="no words"):
        parse_query("since:2025-01 in:saved")


def test_author_filter_alone_is_a_search() -> None:
    assert parse_query("author:hinton").authors == ("hinton",)


def test_overlong_query_is_refused_without_echoing_it() -> None:
    with pytest.raises(UserInputError) as caught:
        parse_query("diffusion " * 500)
    assert "diffusion" not in str(caught.value)


def test_overlong_query_message_is_one_line() -> None:
    with pytest.raises(UserInputError) as caught:
        parse_query("x" * 5000)
    assert "\n" not in str(caught.value)


def test_query_at_the_limit_is_accepted() -> None:
    assert len(parse_query("a" * MAX_QUERY_CHARS).words[0]) == MAX_QUERY_CHARS


def test_refusals_carry_the_usage() -> None:
    with pytest.raises(UserInputError) as caught:
        parse_query("")
    assert caught.value.usage is not None and "author:" in caught.value.usage


def test_remote_text_joins_words_and_author_names() -> None:
    assert parse_query('draft model author:"Yaniv Leviathan" since:2023-01').remote_text == (
        "draft model Yaniv Leviathan"
    )


def test_remote_text_is_trimmed_to_the_upstream_limit() -> None:
    query = parse_query(" ".join(["tokenizer"] * 45))  # 449 characters
    assert len(query.remote_text) <= REMOTE_QUERY_CHARS


def test_remote_text_is_trimmed_at_a_word_boundary() -> None:
    query = parse_query(" ".join(["tokenizer"] * 45))
    assert query.remote_text.split(" ")[-1] == "tokenizer"
