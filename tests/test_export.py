"""Specification of the reading-list files: BibTeX read back by bibtexparser, CSV by the csv
module, Markdown checked for its links and escapes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from bot.export import CSV_COLUMNS, export, to_bibtex, to_csv, to_markdown
from bot.models import ChatRef, Paper, SavedPaper, Saver

SPECIAL_TITLE = r"Q&A at 100% cost: $\alpha$-nets_v2 {draft} #1 ~ x^2 \ back"


def _saver(user: str, day: int, hour: int = 9) -> Saver:
    return Saver(
        user=user,
        saved_at=datetime(2026, 6, day, hour, 30, tzinfo=UTC),
        where=ChatRef("slack", "T0001", "C0PAPERS", f"17812{day:02d}000.000100"),
    )


LIMITS = Paper(
    arxiv_id="2606.00467",
    title=(
        "On the Limits of LLM Adaptability: Impact of Model-Internalized Priors on "
        "Annotation Task Performance"
    ),
    abstract="Large Language Models (LLMs) are increasingly used for zero-shot annotation.",
    authors=("Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez"),
    published_at=datetime(2026, 5, 30, tzinfo=UTC),
    featured_on=date(2026, 6, 12),
    upvotes=14,
    categories=("cs.CL", "cs.AI"),
)
ATTENTION = Paper(
    arxiv_id="1706.03762",
    title="Attention Is All You Need",
    abstract="The dominant sequence transduction models are based on complex recurrent ...",
    authors=(
        "Ashish Vaswani",
        "Noam Shazeer",
        "Niki Parmar",
        "Jakob Uszkoreit",
        "Llion Jones",
        "Aidan N. Gomez",
        "Łukasz Kaiser",
        "Illia Polosukhin",
    ),
    source="arxiv",
    published_at=datetime(2017, 6, 12, tzinfo=UTC),
    upvotes=412,
    github_repo="https://github.com/tensorflow/tensor2tensor",
    project_page="https://tensorflow.github.io/tensor2tensor/",
    categories=("cs.CL", "cs.LG"),
)
SPECIAL = Paper(
    arxiv_id="2501.01234",
    title=SPECIAL_TITLE,
    abstract="A title built to break exporters.",
    authors=(
        "Zoë Müller-Lüdenscheidt",
        "Google, Inc.",
        "Research and Development Team",
        "AT&T Labs_Research",
    ),
    published_at=datetime(2025, 1, 2, tzinfo=UTC),
)
DIFFUSION_B = Paper(
    arxiv_id="2405.00002",
    title="Diffusion Models Beat GANs on Video",
    abstract="...",
    authors=("Wei Zhang", "Li Wang"),
    published_at=datetime(2024, 5, 1, tzinfo=UTC),
    categories=("cs.CV",),
)
DIFFUSION_A = Paper(
    arxiv_id="2405.00001",
    title="Diffusion Transformers for Everything",
    abstract="...",
    authors=("Wei Zhang",),
    published_at=datetime(2024, 5, 1, tzinfo=UTC),
    categories=("cs.CV",),
)
ANONYMOUS = Paper(
    arxiv_id="2401.00001",
    title="A Report With No Listed Authors",
    abstract="...",
    authors=(),
)
OLD = Paper(
    arxiv_id="hep-th/9901001",
    title="Strings on the Brane",
    abstract="...",
    authors=("Juan Maldacena",),
    source="arxiv",
)

ENTRIES = (
    SavedPaper(LIMITS, (_saver("U024BE7LH", 12), _saver("U0G9QF9C6", 12, 11))),
    SavedPaper(ATTENTION, (_saver("U0G9QF9C6", 11), _saver("U024BE7LH", 12, 8))),
    SavedPaper(SPECIAL, (_saver("U024BE7LH", 10),)),
    SavedPaper(DIFFUSION_B, (_saver("U024BE7LH", 9),)),
    SavedPaper(DIFFUSION_A, (_saver("U0G9QF9C6", 8),)),
    SavedPaper(ANONYMOUS, (_saver("U024BE7LH", 7),)),
    SavedPaper(OLD, (_saver("U024BE7LH", 6),)),
)


def _latex_decoder() -> LatexNodes2Text:
    # pylatexenc knows every escape the exporter writes except these three text macros.
    context = get_default_latex_context_db()
    context.add_context_category(
        "paperboy-test",
        prepend=True,
        macros=[
            MacroTextSpec("textbraceleft", "{"),
            MacroTextSpec("textbraceright", "}"),
            MacroTextSpec("textasciicircum", "^"),
        ],
    )
    return LatexNodes2Text(latex_context=context)


def _parse(text: str) -> bibtexparser.Library:
    return bibtexparser.parse_string(text)


def _decoded(text: str) -> bibtexparser.Library:
    return bibtexparser.parse_string(
        text, append_middleware=[LatexDecodingMiddleware(decoder=_latex_decoder())]
    )


def _authors(text: str, key: str) -> list[str]:
    # Split on "and" first, as BibTeX does, then decode each name (braces go last).
    library = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors()])
    names = library.entries_dict[key].fields_dict["author"].value
    return [_latex_decoder().latex_to_text(name) for name in names]


def _field(library: bibtexparser.Library, key: str, name: str) -> object:
    return library.entries_dict[key].fields_dict[name].value


# --- BibTeX ----------------------------------------------------------------------------


def test_bibtex_parses_without_failed_blocks() -> None:
    assert _parse(to_bibtex(ENTRIES)).failed_blocks == []


def test_bibtex_has_one_entry_per_paper() -> None:
    assert len(_parse(to_bibtex(ENTRIES)).entries) == len(ENTRIES)


def test_bibtex_entries_are_misc() -> None:
    assert {entry.entry_type for entry in _parse(to_bibtex(ENTRIES)).entries} == {"misc"}


def test_bibtex_keys_are_unique() -> None:
    keys = [entry.key for entry in _parse(to_bibtex(ENTRIES)).entries]
    assert len(set(keys)) == len(keys)


def test_bibtex_keys_are_the_same_on_every_run() -> None:
    # A literal, not two calls compared: keys that depended on hash seeds or set order
    # would differ between processes while agreeing within one.
    keys = [entry.key for entry in _parse(to_bibtex(ENTRIES)).entries]
    assert keys == [
        "casanova2026limits", "vaswani2017attention", "mullerludenscheidt2025qa",
        "zhang2024diffusionb", "zhang2024diffusiona", "arxiv2401.00001", "maldacena1999strings",
    ]


def test_bibtex_keys_do_not_depend_on_list_order() -> None:
    forward = {e.fields_dict["eprint"].value: e.key for e in _parse(to_bibtex(ENTRIES)).entries}
    backward = {
        e.fields_dict["eprint"].value: e.key for e in _parse(to_bibtex(ENTRIES[::-1])).entries
    }
    assert forward == backward


def test_bibtex_keeps_the_list_order() -> None:
    eprints = [e.fields_dict["eprint"].value for e in _parse(to_bibtex(ENTRIES)).entries]
    assert eprints == [entry.paper.arxiv_id for entry in ENTRIES]


@pytest.mark.parametrize(
    ("paper", "key"),
    [
        (LIMITS, "casanova2026limits"),
        (ATTENTION, "vaswani2017attention"),
        (SPECIAL, "mullerludenscheidt2025qa"),
        (ANONYMOUS, "arxiv2401.00001"),
        (OLD, "maldacena1999strings"),
    ],
)
def test_bibtex_key_is_author_year_first_significant_word(paper: Paper, key: str) -> None:
    library = _parse(to_bibtex(ENTRIES))
    assert library.entries_dict[key].fields_dict["eprint"].value == paper.arxiv_id


@pytest.mark.parametrize(
    ("paper", "key"), [(DIFFUSION_A, "zhang2024diffusiona"), (DIFFUSION_B, "zhang2024diffusionb")]
)
def test_colliding_bibtex_keys_get_suffixes_in_arxiv_id_order(paper: Paper, key: str) -> None:
    library = _parse(to_bibtex(ENTRIES))
    assert library.entries_dict[key].fields_dict["eprint"].value == paper.arxiv_id


def test_a_lone_paper_gets_no_suffix() -> None:
    library = _parse(to_bibtex([SavedPaper(DIFFUSION_B, (_saver("U1", 1),))]))
    assert library.entries[0].key == "zhang2024diffusion"


def test_bibtex_joins_plain_authors_with_and_in_order() -> None:
    library = _parse(to_bibtex(ENTRIES))
    expected = "Etienne Casanova and Rafal Kocielnik and R. Michael Alvarez"
    assert _field(library, "casanova2026limits", "author") == expected


def test_bibtex_authors_split_back_in_order() -> None:
    authors = _authors(to_bibtex(ENTRIES), "vaswani2017attention")
    assert authors == list(ATTENTION.authors)


def test_bibtex_names_with_a_comma_or_and_stay_one_author_each() -> None:
    authors = _authors(to_bibtex(ENTRIES), "mullerludenscheidt2025qa")
    assert authors == list(SPECIAL.authors)


def test_bibtex_name_with_a_comma_is_not_read_as_last_comma_first() -> None:
    library = bibtexparser.parse_string(
        to_bibtex(ENTRIES), append_middleware=[SeparateCoAuthors(), SplitNameParts()]
    )
    google = _field(library, "mullerludenscheidt2025qa", "author")[1]  # type: ignore[index]
    assert google.first == []


def test_bibtex_escapes_latex_specials_in_names() -> None:
    author = _field(_parse(to_bibtex(ENTRIES)), "mullerludenscheidt2025qa", "author")
    assert str(author).endswith(r" and AT\&T Labs\_Research")


def test_bibtex_keeps_non_ascii_names_as_utf8() -> None:
    assert "Zoë Müller-Lüdenscheidt" in to_bibtex(ENTRIES)


def test_bibtex_title_with_every_latex_special_survives_the_round_trip() -> None:
    library = _decoded(to_bibtex(ENTRIES))
    assert _field(library, "mullerludenscheidt2025qa", "title") == SPECIAL_TITLE


def test_bibtex_escapes_each_latex_special_in_the_title() -> None:
    title = _field(_parse(to_bibtex(ENTRIES)), "mullerludenscheidt2025qa", "title")
    expected = (
        r"{Q\&A} at 100\% cost: \$\textbackslash{}alpha\$-nets\_v2 "
        r"\textbraceleft{}draft\textbraceright{} \#1 \textasciitilde{} x\textasciicircum{}2 "
        r"\textbackslash{} back"
    )
    assert title == expected


def test_bibtex_braces_balance_as_classic_bibtex_counts_them() -> None:
    # BibTeX counts \{ as a brace too, so every brace in the file must pair up.
    depth = 0
    lowest = 0
    for char in to_bibtex(ENTRIES):
        depth += {"{": 1, "}": -1}.get(char, 0)
        lowest = min(lowest, depth)
    assert (depth, lowest) == (0, 0)


def test_bibtex_protects_acronyms_from_lowercasing() -> None:
    title = _field(_parse(to_bibtex(ENTRIES)), "casanova2026limits", "title")
    assert "{LLM}" in str(title)


def test_bibtex_leaves_ordinary_capitalised_words_unbraced() -> None:
    title = _field(_parse(to_bibtex(ENTRIES)), "vaswani2017attention", "title")
    assert title == "Attention Is All You Need"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("eprint", "2606.00467"),
        ("archivePrefix", "arXiv"),
        ("primaryClass", "cs.CL"),
        ("year", "2026"),
        ("url", "https://arxiv.org/abs/2606.00467"),
    ],
)
def test_bibtex_entry_carries_arxiv_fields(field: str, value: str) -> None:
    assert _field(_parse(to_bibtex(ENTRIES)), "casanova2026limits", field) == value


def test_bibtex_omits_primary_class_when_categories_are_unknown() -> None:
    entry = _parse(to_bibtex(ENTRIES)).entries_dict["arxiv2401.00001"]
    assert "primaryClass" not in entry.fields_dict


def test_bibtex_omits_author_when_there_is_none() -> None:
    entry = _parse(to_bibtex(ENTRIES)).entries_dict["arxiv2401.00001"]
    assert "author" not in entry.fields_dict


def test_bibtex_year_falls_back_to_the_year_in_an_old_style_id() -> None:
    assert _field(_parse(to_bibtex(ENTRIES)), "maldacena1999strings", "year") == "1999"


def test_bibtex_of_an_empty_list_is_empty() -> None:
    assert to_bibtex([]) == ""


# --- Markdown --------------------------------------------------------------------------


def test_markdown_starts_with_a_heading() -> None:
    assert to_markdown(ENTRIES).startswith("# Paperboy reading list\n")


def test_markdown_links_the_title_to_arxiv() -> None:
    assert "[Attention Is All You Need](https://arxiv.org/abs/1706.03762)" in to_markdown(ENTRIES)


def test_markdown_shows_three_authors_then_et_al() -> None:
    assert "Ashish Vaswani, Noam Shazeer, Niki Parmar et al." in to_markdown(ENTRIES)


def test_markdown_shows_all_of_three_authors_without_et_al() -> None:
    line = "Etienne Casanova, Rafal Kocielnik, R. Michael Alvarez · 2026 · arXiv:2606.00467"
    assert line in to_markdown(ENTRIES)


def test_markdown_shows_who_saved_and_when() -> None:
    assert "Saved by U0G9QF9C6 (2026-06-11), U024BE7LH (2026-06-12)" in to_markdown(ENTRIES)


def test_markdown_shows_github_and_project_links() -> None:
    expected = (
        "[GitHub](https://github.com/tensorflow/tensor2tensor) · "
        "[Project](https://tensorflow.github.io/tensor2tensor/)"
    )
    assert expected in to_markdown(ENTRIES)


def test_markdown_escapes_markdown_specials_in_titles() -> None:
    paper = Paper(
        arxiv_id="2502.00001",
        title="Learning *fast* [and] slow_ <b>`x`</b> | ~y~",
        abstract="...",
        authors=("Ada Lovelace",),
    )
    expected = r"[Learning \*fast\* \[and\] slow\_ \<b\>\`x\`\</b\> \| \~y\~]"
    assert expected in to_markdown([SavedPaper(paper, (_saver("U1", 1),))])


def test_markdown_of_an_empty_list_says_so() -> None:
    assert "No papers saved yet." in to_markdown([])


# --- CSV -------------------------------------------------------------------------------

TRICKY = Paper(
    arxiv_id="2503.00042",
    title='Commas, "Quotes"\nand Newlines',
    abstract="...",
    authors=("Ana Silva", "Bo Chen"),
    published_at=datetime(2025, 3, 1, tzinfo=UTC),
)
TRICKY_ENTRY = SavedPaper(TRICKY, (_saver("U024BE7LH", 3), _saver("U0G9QF9C6", 4)))


def _rows(entries: tuple[SavedPaper, ...] | list[SavedPaper]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(to_csv(entries), newline="")))


def test_csv_starts_with_the_header_row_and_crlf() -> None:
    assert to_csv(ENTRIES).startswith(",".join(CSV_COLUMNS) + "\r\n")


def test_csv_ends_records_with_crlf() -> None:
    assert to_csv(ENTRIES).count("\r\n") == len(ENTRIES) + 1


def test_csv_has_one_row_per_paper() -> None:
    assert len(_rows(ENTRIES)) == len(ENTRIES)


def test_csv_title_with_comma_quote_and_newline_reads_back_unchanged() -> None:
    assert _rows([TRICKY_ENTRY])[0]["title"] == TRICKY.title


def test_csv_joins_authors_with_semicolons() -> None:
    assert _rows([TRICKY_ENTRY])[0]["authors"] == "Ana Silva; Bo Chen"


def test_csv_joins_savers_with_semicolons() -> None:
    assert _rows([TRICKY_ENTRY])[0]["saved_by"] == "U024BE7LH; U0G9QF9C6"


def test_csv_names_each_saver_once() -> None:
    twice = SavedPaper(TRICKY, (_saver("U024BE7LH", 3), _saver("U024BE7LH", 5)))
    assert _rows([twice])[0]["saved_by"] == "U024BE7LH"


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("first_saved_at", datetime(2026, 6, 3, 9, 30, tzinfo=UTC)),
        ("last_saved_at", datetime(2026, 6, 4, 9, 30, tzinfo=UTC)),
    ],
)
def test_csv_save_times_are_iso_8601(column: str, expected: datetime) -> None:
    assert datetime.fromisoformat(_rows([TRICKY_ENTRY])[0][column]) == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("arxiv_id", "1706.03762"),
        ("year", "2017"),
        ("url", "https://arxiv.org/abs/1706.03762"),
        ("pdf", "https://arxiv.org/pdf/1706.03762"),
        ("huggingface", "https://huggingface.co/papers/1706.03762"),
        ("github", "https://github.com/tensorflow/tensor2tensor"),
        ("project", "https://tensorflow.github.io/tensor2tensor/"),
    ],
)
def test_csv_row_has_the_paper_fields(column: str, expected: str) -> None:
    assert _rows(ENTRIES)[1][column] == expected


def test_csv_leaves_missing_links_empty() -> None:
    assert _rows([TRICKY_ENTRY])[0]["github"] == ""


def test_csv_defuses_a_title_a_spreadsheet_would_run_as_a_formula() -> None:
    paper = Paper(
        arxiv_id="2504.00001", title='=HYPERLINK("http://x","y")', abstract="", authors=()
    )
    assert _rows([SavedPaper(paper, (_saver("U1", 1),))])[0]["title"].startswith("'=")


# --- export() --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "filename", "mime"),
    [
        ("bibtex", "paperboy-reading-list.bib", "application/x-bibtex"),
        ("markdown", "paperboy-reading-list.md", "text/markdown"),
        ("csv", "paperboy-reading-list.csv", "text/csv"),
    ],
)
def test_export_names_the_file_and_its_type(fmt: str, filename: str, mime: str) -> None:
    assert export(ENTRIES, fmt)[:2] == (filename, mime)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fmt", "render"), [("bibtex", to_bibtex), ("markdown", to_markdown), ("csv", to_csv)]
)
def test_export_content_is_the_formats_rendering(fmt: str, render: object) -> None:
    assert export(ENTRIES, fmt)[2] == render(ENTRIES)  # type: ignore[arg-type,operator]


def test_export_of_an_unknown_format_is_a_bug() -> None:
    with pytest.raises(ValueError):
        export(ENTRIES, "pdf")  # type: ignore[arg-type]
