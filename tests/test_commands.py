"""Specification of the `/papers` grammar: what each text parses to, and each bad input's error."""

from __future__ import annotations

import unicodedata

import pytest

from bot.commands import (
    USAGE,
    Export,
    Help,
    List,
    Save,
    Search,
    Settings,
    Today,
    Unsave,
    build_export,
    build_help,
    build_save,
    build_search,
    build_unsave,
    help_text,
    parse_command,
)
from bot.errors import InvalidPaperId, UnknownCommand, UserInputError
from tests.conftest import refusal

# --- every subcommand ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("   \t ", Help()),
        ("help", Help()),
        ("help search", Help(topic="search")),
        ("today", Today(share=False)),
        ("today --share", Today(share=True)),
        ("search diffusion transformers", Search(query="diffusion transformers")),
        ("search diffusion --share", Search(query="diffusion", share=True)),
        ("save 2406.12345", Save(arxiv_id="2406.12345")),
        ("unsave 2406.12345", Unsave(arxiv_id="2406.12345")),
        ("list", List(share=False)),
        ("list --share", List(share=True)),
        ("export", Export(format="bibtex")),
        ("export bibtex", Export(format="bibtex")),
        ("export markdown", Export(format="markdown")),
        ("export csv", Export(format="csv")),
        ("settings", Settings()),
    ],
)
def test_each_subcommand_parses_to_its_command(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TODAY", Today()),
        ("Search Diffusion", Search(query="Diffusion")),
        ("HELP Search", Help(topic="search")),
        ("Export CSV", Export(format="csv")),
        ("list --SHARE", List(share=True)),
    ],
)
def test_command_words_are_case_insensitive(text: str, expected: object) -> None:
    assert parse_command(text) == expected


def test_search_query_keeps_the_users_case() -> None:
    assert parse_command("search LoRA for ViT").query == "LoRA for ViT"


@pytest.mark.parametrize("text", ["/papers today", "/PAPERS today", "  /papers   today  "])
def test_console_line_with_papers_prefix_parses_like_slack_text(text: str) -> None:
    assert parse_command(text) == Today()


def test_papers_prefix_alone_is_help() -> None:
    assert parse_command("/papers") == Help()


def test_search_query_whitespace_is_normalised() -> None:
    assert parse_command("search \t video\n  diffusion  ") == Search(query="video diffusion")


def test_share_flag_typed_on_a_phone_with_a_smart_dash_still_shares() -> None:
    assert parse_command("today —share") == Today(share=True)


def test_share_as_a_plain_word_is_part_of_the_search_query() -> None:
    assert parse_command("search share") == Search(query="share", share=False)


def test_share_in_the_middle_of_a_query_is_part_of_the_query() -> None:
    assert parse_command("search a --share b") == Search(query="a --share b")


@pytest.mark.parametrize(("word", "expected"), [("bib", "bibtex"), ("md", "markdown")])
def test_export_accepts_short_format_names(word: str, expected: str) -> None:
    assert parse_command(f"export {word}") == Export(format=expected)


# --- paper references ------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "2406.12345",
        "2406.12345v2",
        "arXiv:2406.12345v3",
        "https://arxiv.org/abs/2406.12345v2",
        "https://arxiv.org/pdf/2406.12345v1",
        "https://huggingface.co/papers/2406.12345",
        "https://www.alphaxiv.org/abs/2406.12345",
        "https://alphaxiv.org/overview/2406.12345v2",
        "<https://arxiv.org/abs/2406.12345>",
        "<https://arxiv.org/abs/2406.12345v2|arxiv.org/abs/2406.12345v2>",
        "<https://huggingface.co/papers/2406.12345|Scaling Laws for Video Diffusion Models>",
    ],
)
def test_save_accepts_ids_and_links_and_keeps_the_canonical_id(ref: str) -> None:
    assert parse_command(f"save {ref}") == Save(arxiv_id="2406.12345")


def test_save_keeps_old_style_ids_with_their_archive() -> None:
    assert parse_command("save hep-th/9901001v2") == Save(arxiv_id="hep-th/9901001")


def test_unsave_accepts_a_slack_wrapped_link() -> None:
    text = "unsave <https://arxiv.org/abs/2406.12345v4|the paper>"
    assert parse_command(text) == Unsave(arxiv_id="2406.12345")


def test_search_for_a_slack_wrapped_link_searches_the_bare_url() -> None:
    text = "search <https://arxiv.org/abs/2406.12345|arxiv.org/abs/2406.12345>"
    assert parse_command(text).query == "https://arxiv.org/abs/2406.12345"


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error_type"),
    [
        ("frobnicate", UnknownCommand),
        ("help frobnicate", UnknownCommand),
        ("help search save", UserInputError),
        ("save", InvalidPaperId),
        ("save not-an-id", InvalidPaperId),
        ("save 2406.12345 2406.12346", UserInputError),
        ("save 2406.12345 --share", UserInputError),
        ("unsave", InvalidPaperId),
        ("unsave https://example.com/2406.12345", InvalidPaperId),
        ("export pdf", UserInputError),
        ("export csv markdown", UserInputError),
        ("today now", UserInputError),
        ("list all", UserInputError),
        ("settings schedule", UserInputError),
        ("settings --share", UserInputError),
    ],
)
def test_bad_input_raises_the_exact_error_class(text: str, error_type: type) -> None:
    assert type(refusal(text)) is error_type


@pytest.mark.parametrize(
    "text", ["frobnicate", "save nope", "export pdf", "today now", "help a b"]
)
def test_every_error_carries_the_usage(text: str) -> None:
    assert refusal(text).usage == USAGE


def test_unknown_command_names_the_word() -> None:
    assert str(refusal("frobnicate")) == "unknown command 'frobnicate'"


def test_unknown_command_close_to_a_real_one_suggests_it() -> None:
    assert str(refusal("serach diffusion")) == "unknown command 'serach' (did you mean 'search'?)"


@pytest.mark.parametrize("text", ["search", "search    ", "search --share"])
def test_search_without_words_is_left_to_the_query_grammar(text: str) -> None:
    # One check of a query, with one message: bot.search.query.parse_query.
    assert parse_command(text) == Search(query="", share=text.endswith("--share"))


def test_search_query_of_any_length_is_passed_on_whole() -> None:
    query = "a" * 5000
    assert parse_command(f"search {query}") == Search(query=query)


def test_share_flag_given_twice_does_not_leak_into_the_query() -> None:
    assert parse_command("search diffusion --share --share") == Search(
        query="diffusion", share=True
    )


def test_unknown_command_of_5000_characters_is_clipped() -> None:
    assert len(str(refusal("x" * 5000))) < 100


def test_malformed_id_is_echoed_clipped() -> None:
    assert "x" * 41 not in str(refusal("save " + "x" * 300))


def test_save_without_an_id_shows_an_example() -> None:
    expected = "save needs an arXiv id or link, e.g. /papers save 2406.12345"
    assert str(refusal("save")) == expected


def test_unknown_export_format_lists_the_formats() -> None:
    expected = "unknown export format 'pdf'; choose bibtex, markdown or csv"
    assert str(refusal("export pdf")) == expected


def test_share_on_a_command_that_cannot_share_says_where_it_works() -> None:
    expected = "--share works with today, search, list and export, not with settings"
    assert str(refusal("settings --share")) == expected


def test_a_shared_export_keeps_its_format() -> None:
    assert parse_command("export csv --share") == Export(format="csv", share=True)


def test_extra_arguments_are_named() -> None:
    assert str(refusal("today now")) == "today takes no arguments (got 'now')"


@pytest.mark.parametrize(
    "text",
    [
        "<@U024BE7LH>",
        "save <@U024BE7LH>",
        "save <!channel>",
        "export <!here>",
        "today <!subteam^S012AB3CD>",
        "<@&81384788765712384>",
        "save <@!80351110224678912>",
        "list @everyone",
        "help @here",
    ],
)
def test_mention_syntax_in_bad_input_cannot_ping_anyone(text: str) -> None:
    message = str(refusal(text))
    assert not any(char in message for char in "<>@")


@pytest.mark.parametrize(
    "text",
    ["frob\u202enicate", "save 2406\u200b.12345", "export bib\x1b[31mtex", "today \x07now"],
)
def test_error_messages_hold_no_control_or_invisible_characters(text: str) -> None:
    message = str(refusal(text))
    assert not any(unicodedata.category(char).startswith("C") for char in message)


@pytest.mark.parametrize("text", ["frobnicate", "save " + "x\n" * 100, "export a"])
def test_error_messages_are_one_line(text: str) -> None:
    assert "\n" not in str(refusal(text))


# --- builders for Discord options ------------------------------------------------------


def test_build_search_normalises_like_the_parser() -> None:
    assert build_search("  graph   neural\nnetworks ", share=True, limit=5) == Search(
        query="graph neural networks", share=True, limit=5
    )


@pytest.mark.parametrize("limit", [0, -1, 21])
def test_build_search_rejects_a_limit_out_of_range(limit: int) -> None:
    with pytest.raises(UserInputError):
        build_search("diffusion", limit=limit)


def test_build_save_accepts_a_discord_embed_suppressed_link() -> None:
    assert build_save("<https://arxiv.org/abs/2406.12345v2>") == Save(arxiv_id="2406.12345")


def test_build_unsave_rejects_a_malformed_id() -> None:
    with pytest.raises(InvalidPaperId):
        build_unsave("12345")


@pytest.mark.parametrize("fmt", [None, "", "  "])
def test_build_export_without_a_format_is_bibtex(fmt: str | None) -> None:
    assert build_export(fmt) == Export(format="bibtex")


def test_build_help_with_a_command_name_keeps_it_lower_case() -> None:
    assert build_help("Export") == Help(topic="export")


# --- usage -----------------------------------------------------------------------------


def test_usage_fits_in_twelve_lines() -> None:
    assert len(USAGE.splitlines()) <= 12


@pytest.mark.parametrize(
    "name", ["help", "today", "search", "save", "unsave", "list", "export", "settings"]
)
def test_usage_lists_every_command(name: str) -> None:
    assert f"/papers {name}" in USAGE


def test_usage_mentions_the_share_flag() -> None:
    assert "--share" in USAGE


def test_help_text_for_a_topic_is_its_usage_line() -> None:
    assert help_text("search") in USAGE.splitlines()


def test_help_text_without_a_topic_is_the_usage() -> None:
    assert help_text(None) == USAGE


@pytest.mark.parametrize("ref", ["２４０６.１２３４５", "٢٤٠٦.١٢٣٤٥"])
def test_ids_in_non_ascii_digits_are_refused(ref: str) -> None:
    with pytest.raises(InvalidPaperId):
        parse_command(f"save {ref}")
