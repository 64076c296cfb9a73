"""Turn a team's reading list into a file: BibTeX, Markdown or CSV.

Pure: no network, disk or clock. Takes `SavedPaper`s (newest first, as the store lists them)
and returns text; the adapter encodes it as UTF-8 and uploads it. It does not fetch, sort
or deduplicate the list — that is `bot.service`'s job — and it does not know any chat platform.
Called by `bot.service` (the `/papers export` use case) through `export()`.

Choices a reader may wonder about:
- BibTeX entries are `@misc` with `eprint`/`archivePrefix`/`primaryClass`, the shape arXiv
  itself exports and that Zotero imports as a preprint with its arXiv id. No `note` with
  upvotes: many styles print `note` in the bibliography.
- BibTeX text stays UTF-8 (Zotero, biber and modern LaTeX read it); only the ten LaTeX
  specials are escaped. Braces become `\\textbraceleft{}`/`\\textbraceright{}` rather than
  `\\{`: classic BibTeX counts `\\{` as a brace, so a stray one in a title would unbalance the
  entry. Words with inner capitals (`LLM`, `GPT-4`, `iPhone`) are wrapped in braces so that
  sentence-case styles keep them.
- Citation keys are `<lastname><year><firstword>` folded to ASCII (`casanova2026limits`),
  with a/b/c suffixes in arXiv-id order when several papers share one, and `arxiv<id>` when
  there is no usable author. The same list always yields the same keys, in any order.
- The year is `Paper.year`, else the year encoded in the arXiv id (2406.xxxxx → 2024),
  which is the first-submission year arXiv's own citations use.
- CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) get a
  leading `'`: the list holds titles typed by strangers and is opened in Excel.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from bot.models import Paper, SavedPaper

ExportFormat = Literal["bibtex", "markdown", "csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("bibtex", "markdown", "csv")

FILE_STEM = "paperboy-reading-list"
_FILES: dict[str, tuple[str, str]] = {
    "bibtex": ("bib", "application/x-bibtex"),
    "markdown": ("md", "text/markdown"),
    "csv": ("csv", "text/csv"),
}

CSV_COLUMNS = (
    "arxiv_id",
    "title",
    "authors",
    "year",
    "url",
    "pdf",
    "huggingface",
    "github",
    "project",
    "saved_by",
    "first_saved_at",
    "last_saved_at",
)

MARKDOWN_AUTHORS_SHOWN = 3


def export(entries: Sequence[SavedPaper], fmt: ExportFormat) -> tuple[str, str, str]:
    """The list as (filename, MIME type, text) in `fmt`. An unknown format is a bug here."""
    if fmt not in _FILES:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {EXPORT_FORMATS}")
    render = {"bibtex": to_bibtex, "markdown": to_markdown, "csv": to_csv}[fmt]
    extension, mime = _FILES[fmt]
    return f"{FILE_STEM}.{extension}", mime, render(entries)


# --- BibTeX ------------------------------------------------------------------------------

# Order matters only for the backslash, and a single pass with translate() avoids it.
_LATEX_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\textbraceleft{}",
        "}": r"\textbraceright{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
)

_TITLE_STOPWORDS = frozenset(
    {
        "a", "an", "the", "on", "of", "in", "for", "to", "and", "or", "with", "without",
        "towards", "toward", "via", "is", "are", "do", "does", "how", "what", "why", "when",
        "where", "can", "we", "you", "your", "our", "from", "at", "by", "as", "into", "beyond",
        "through",
    }
)

# Letters NFKD does not decompose into ASCII plus accents.
_ASCII_FOLD = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def to_bibtex(entries: Sequence[SavedPaper]) -> str:
    """One `@misc` entry per paper, in the order given, separated by blank lines."""
    keys = _cite_keys([entry.paper for entry in entries])
    blocks = [_bibtex_entry(key, entry.paper) for key, entry in zip(keys, entries, strict=True)]
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _bibtex_entry(key: str, paper: Paper) -> str:
    fields: list[tuple[str, str]] = [("title", _bibtex_title(paper.title))]
    authors = [_bibtex_name(name) for name in paper.authors if name.strip()]
    if authors:
        fields.append(("author", " and ".join(authors)))
    year = _year(paper)
    if year is not None:
        fields.append(("year", str(year)))
    fields.append(("eprint", _latex_escape(paper.arxiv_id)))
    fields.append(("archivePrefix", "arXiv"))
    if paper.categories:
        fields.append(("primaryClass", _latex_escape(paper.categories[0])))
    # URLs are verbatim in biblatex and hyperref; an abs link built from an id needs no escape.
    fields.append(("url", paper.links.arxiv))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}"


def _latex_escape(text: str) -> str:
    return " ".join(text.split()).translate(_LATEX_ESCAPES)


def _bibtex_title(title: str) -> str:
    words = []
    for word in title.split():
        escaped = word.translate(_LATEX_ESCAPES)
        words.append(f"{{{escaped}}}" if _has_inner_capital(word) else escaped)
    return " ".join(words)


def _has_inner_capital(word: str) -> bool:
    # "GPT-4", "LLMs", "3D", "iPhone" keep their case; "Vision-Language" may be lowered.
    return any(
        char.isupper() for part in re.split(r"[-/]", word) for char in part[1:]
    )


def _bibtex_name(name: str) -> str:
    escaped = _latex_escape(name)
    # BibTeX reads "A, B" as "Last, First" and splits on the word "and": a name holding
    # either is braced so that it stays one name ("{Google, Inc.}", "{Research and Co}").
    if "," in name or re.search(r"\band\b", name, re.IGNORECASE):
        return f"{{{escaped}}}"
    return escaped


def _cite_keys(papers: Sequence[Paper]) -> list[str]:
    """Unique keys aligned with `papers`, independent of their order."""
    base = [_base_key(paper) for paper in papers]
    # Suffixes go by arXiv id (then position, for a paper listed twice) so they are stable.
    order = sorted(range(len(papers)), key=lambda i: (papers[i].arxiv_id, i))
    groups: dict[str, list[int]] = defaultdict(list)
    for i in order:
        groups[base[i]].append(i)
    keys = list(base)
    for key, members in groups.items():
        if len(members) > 1:
            for n, i in enumerate(members):
                keys[i] = key + _letters(n)
    # A suffixed key can, very rarely, equal another paper's plain key; the id settles it.
    taken: set[str] = set()
    for i in order:
        if keys[i] in taken:
            fallback = _arxiv_key(papers[i].arxiv_id)
            keys[i] = next(
                candidate
                for n in range(len(papers) + 1)
                if (candidate := fallback + ("" if n == 0 else _letters(n))) not in taken
            )
        taken.add(keys[i])
    return keys


def _base_key(paper: Paper) -> str:
    first_author = next((name for name in paper.authors if name.strip()), "")
    last_name = _ascii_word(_last_name(first_author))
    if not last_name:
        return _arxiv_key(paper.arxiv_id)
    year = _year(paper)
    return f"{last_name}{year if year is not None else ''}{_first_significant_word(paper.title)}"


def _last_name(name: str) -> str:
    family = name.split(",", 1)[0]  # "Last, First" puts the family name first
    parts = family.split()
    return parts[-1] if parts else ""


def _first_significant_word(title: str) -> str:
    for raw in title.split():
        word = _ascii_word(raw)
        if word and word not in _TITLE_STOPWORDS:
            return word
    return ""


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().translate(_ASCII_FOLD))
    return "".join(char for char in folded if char.isascii() and char.isalnum())


def _arxiv_key(arxiv_id: str) -> str:
    return "arxiv" + re.sub(r"[^A-Za-z0-9.\-]", "_", arxiv_id)


def _letters(n: int) -> str:
    # 0 → a, 25 → z, 26 → aa: the author-year convention "Smith 2024a, 2024b".
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _year(paper: Paper) -> int | None:
    if paper.year is not None:
        return paper.year
    # New ids start with YYMM (since 0704); old ones end in YYMMNNN (since 1991).
    match = re.fullmatch(r"(\d{2})\d{2}\.\d{4,5}", paper.arxiv_id) or re.fullmatch(
        r"[a-z.\-]+/(\d{2})\d{5}", paper.arxiv_id
    )
    if not match:
        return None
    yy = int(match.group(1))
    return 1900 + yy if yy >= 91 else 2000 + yy


# --- Markdown ----------------------------------------------------------------------------

# The characters that change meaning inline in CommonMark/GFM text and link labels.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>|~#])")


def to_markdown(entries: Sequence[SavedPaper]) -> str:
    """A heading and one bullet per paper: linked title, authors, year, id, savers, links."""
    lines = ["# Paperboy reading list", ""]
    if not entries:
        lines.append("No papers saved yet.")
    for entry in entries:
        lines.extend(_markdown_entry(entry))
    return "\n".join(lines) + "\n"


def _markdown_entry(entry: SavedPaper) -> list[str]:
    paper = entry.paper
    facts = []
    if paper.authors:
        facts.append(_markdown_authors(paper.authors))
    year = _year(paper)
    if year is not None:
        facts.append(str(year))
    facts.append(f"arXiv:{paper.arxiv_id}")
    head = f"- **[{_markdown_escape(paper.title)}]({paper.links.arxiv})** — " + " · ".join(facts)
    saved = ", ".join(
        f"{_markdown_escape(saver.user)} ({saver.saved_at.date().isoformat()})"
        for saver in entry.savers
    )
    links = " · ".join(
        f"[{label}]({url})" for label, url in _link_labels(paper) if url is not None
    )
    detail = f"  Saved by {saved} · {links}" if saved else f"  {links}"
    return [head, detail]


def _markdown_authors(authors: tuple[str, ...]) -> str:
    shown = ", ".join(_markdown_escape(name) for name in authors[:MARKDOWN_AUTHORS_SHOWN])
    return shown + (" et al." if len(authors) > MARKDOWN_AUTHORS_SHOWN else "")


def _markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIALS.sub(r"\\\1", " ".join(text.split()))


def _link_labels(paper: Paper) -> list[tuple[str, str | None]]:
    links = paper.links
    return [
        ("Hugging Face", links.huggingface),
        ("arXiv", links.arxiv),
        ("PDF", links.pdf),
        ("GitHub", links.github),
        ("Project", links.project),
    ]


# --- CSV ---------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(entries: Sequence[SavedPaper]) -> str:
    """RFC 4180 text: a header row, then one row per paper, CRLF line endings."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow([_csv_cell(value) for value in _csv_row(entry)])
    return buffer.getvalue()


def _csv_row(entry: SavedPaper) -> list[str]:
    paper = entry.paper
    links = paper.links
    year = _year(paper)
    users = list(dict.fromkeys(saver.user for saver in entry.savers))
    return [
        paper.arxiv_id,
        paper.title,
        "; ".join(paper.authors),
        "" if year is None else str(year),
        links.arxiv,
        links.pdf,
        links.huggingface,
        links.github or "",
        links.project or "",
        "; ".join(users),
        entry.first_saved_at.isoformat() if entry.savers else "",
        entry.last_saved_at.isoformat() if entry.savers else "",
    ]


def _csv_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
