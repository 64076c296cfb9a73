"""Measure the offline TL;DR over every paper of the corpus, next to the first sentence.

For each of the 8,036 papers of ../shared/data, makes the offline TL;DR
(`bot.summaries.offline.extractive_tldr`) and the baseline a naive summariser gives — the
abstract's first sentence (up to the first ". " before a capital), cut at 300 characters
at a word boundary — and counts, for each, the share of TL;DRs that:
- open with a back-reference the reader never saw ("To address this issue, we …",
  "These results …"; `offline.opens_with_back_reference`);
- are cut mid-sentence (end without . ! or ?, e.g. with the "…" of a cut);
- are over 300 characters;
- hold glued sentences ("dataset.Our": a stop with no space before a capitalised word);
- open with a results-only sentence ("Our model achieves 35.6 …"; `offline.is_results_only`).
Hugging Face's own `ai_summary` (an LLM's, where the paper has one) is shown for reference,
and the LLM output guard is run on it: the share of real LLM TL;DRs it would throw away.
`--extra LABEL=FILE.py` adds a row for another `extractive_tldr` (e.g. an older version
taken from git) without touching the code under test.

Prints a markdown table and rewrites its own section of docs/benchmarks.md (between
`<!-- bench:tldr -->` markers) unless --no-docs. Exit status 2 when the corpus is absent.
Run: .venv/bin/python bench/tldr.py [--no-docs] [--extra "before=/tmp/old.py"]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:  # run as a script, only bench/ is on the path
    sys.path.insert(0, str(PROJECT))

from bench._corpus import CORPUS, load_corpus  # noqa: E402
from bench._report import machine, write_section  # noqa: E402
from bot.models import Paper  # noqa: E402
from bot.summaries.guard import Rejected, guard  # noqa: E402
from bot.summaries.offline import (  # noqa: E402
    extractive_tldr,
    has_glued_sentences,
    is_results_only,
    normalise,
    opens_with_back_reference,
    split_sentences,
    trim,
)

Tldr = Callable[[Paper], str]
_FIRST_STOP = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
COLUMNS = ("back-reference opening", "cut mid-sentence", "over 300 chars", "glued sentences",
           "results-only opening")


def first_sentence(paper: Paper) -> str:
    """The baseline: the abstract up to its first ". " before a capital, cut at 300."""
    text = normalise(paper.abstract) or normalise(paper.title)
    return trim(_FIRST_STOP.split(text, maxsplit=1)[0], 300)


def hf_summary(paper: Paper) -> str:
    return normalise(paper.ai_summary)


def measure(papers: Sequence[Paper], tldr: Tldr) -> tuple[int, list[int], float, float]:
    """(papers with a TL;DR, count per COLUMN, mean length, µs per paper)."""
    counts = [0] * len(COLUMNS)
    made = 0
    length = 0
    started = time.perf_counter()
    for paper in papers:
        text = tldr(paper)
        if not text:
            continue
        made += 1
        length += len(text)
        first = split_sentences(text)[0] if text else ""
        flags = (
            opens_with_back_reference(text),
            text[-1] not in ".!?",
            len(text) > 300,
            has_glued_sentences(text),
            is_results_only(first),
        )
        for index, flag in enumerate(flags):
            counts[index] += flag
    elapsed = time.perf_counter() - started
    return made, counts, length / max(made, 1), elapsed / max(len(papers), 1) * 1e6


def guard_on_hf(papers: Sequence[Paper]) -> tuple[int, Counter[str]]:
    """How many of Hugging Face's own TL;DRs (real LLM answers) the guard rejects, by why."""
    reasons: Counter[str] = Counter()
    checked = 0
    for paper in papers:
        if not paper.ai_summary:
            continue
        checked += 1
        try:
            guard(paper.ai_summary, paper)
        except Rejected as exc:
            reasons[exc.reason] += 1
    return checked, reasons


def _load_extra(spec: str) -> tuple[str, Tldr]:
    label, _, path = spec.partition("=")
    module_spec = importlib.util.spec_from_file_location("extra_tldr", path)
    if module_spec is None or module_spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return label, module.extractive_tldr


def render(
    rows: list[tuple[str, int, list[int], float, float]], total: int,
    guarded: tuple[int, Counter[str]],
) -> str:
    load = os.getloadavg()[0]
    lines = [
        "## Offline TL;DR over the whole corpus (`bench/tldr.py`)",
        "",
        f"Measured {date.today().isoformat()} on {machine()}; 1-minute load average "
        f"{load:.1f}.",
        "Command: `.venv/bin/python bench/tldr.py --extra \"offline before=/tmp/old.py\"` "
        "(the extra row: `extractive_tldr` of the offline TL;DR before these rules, "
        "`git show 743c12c:bot/summarize.py > /tmp/old.py`).",
        f"All {total:,} corpus papers (../shared/data). Share of TL;DRs that open with a "
        "back-reference (\"To address this issue, we …\", \"These results …\"), are cut "
        "mid-sentence (no final . ! ?), are over 300 characters, hold glued sentences "
        "(\"dataset.Our\"), or open with a results-only sentence. The baseline is the "
        "abstract's first sentence cut at 300 characters; Hugging Face's `ai_summary` (an "
        "LLM's) is for reference, over the papers that have one. The back-reference and "
        "glued columns use the rules the offline TL;DR itself follows, so its zeros show "
        "those rules hold on every paper, not that they catch every back-reference.",
        "",
        "| TL;DR | papers | " + " | ".join(COLUMNS) + " | mean chars | µs per paper |",
        "|---|---:|" + "---:|" * len(COLUMNS) + "---:|---:|",
    ]
    for label, made, counts, mean, micros in rows:
        shares = " | ".join(f"{c / made:.1%} ({c:,})" for c in counts)
        lines.append(f"| {label} | {made:,} | {shares} | {mean:.0f} | {micros:.0f} |")
    checked, reasons = guarded
    why = ", ".join(f"{count} {reason}" for reason, count in reasons.most_common()) or "none"
    lines += [
        "",
        f"The LLM output guard (`bot.summaries.guard`) run on Hugging Face's {checked:,} "
        f"`ai_summary` TL;DRs — real LLM answers it should keep — rejects "
        f"{sum(reasons.values())} ({sum(reasons.values()) / max(checked, 1):.2%}): {why}.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--extra", action="append", default=[],
                        help="LABEL=FILE.py: another extractive_tldr to measure")
    args = parser.parse_args(argv)
    papers = load_corpus(CORPUS)
    tldrs: list[tuple[str, Tldr]] = [("first sentence (baseline)", first_sentence)]
    tldrs += [_load_extra(spec) for spec in args.extra]
    tldrs += [("offline TL;DR", extractive_tldr), ("Hugging Face ai_summary", hf_summary)]
    rows = [(label, *measure(papers, tldr)) for label, tldr in tldrs]
    section = render(rows, len(papers), guard_on_hf(papers))
    print(section)
    if not args.no_docs:
        write_section("tldr", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
