"""Where benchmark figures go: one section per benchmark in docs/benchmarks.md.

Each script owns the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` and
replaces only that; the file is rewritten whole (temp file + rename) so two benchmarks run
one after the other never leave it half-written. `machine()` is the line every section
starts its figures with.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
DOCS = PROJECT / "docs" / "benchmarks.md"
DOCS_HEADER = (
    "# Benchmarks\n\n"
    "Each section is written by the script it names (`.venv/bin/python bench/<name>.py`);\n"
    "rerun a script to refresh its section. Figures depend on the machine and its disk.\n"
)


def machine() -> str:
    """ "Linux 6.1 x86_64, 2 CPUs, Python 3.11.7" """
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def replace_section(document: str, name: str, section: str) -> str:
    """`document` with benchmark `name`'s section set to `section` (appended if absent)."""
    begin, end = markers(name)
    block = f"{begin}\n{section}\n{end}"
    start, stop = document.find(begin), document.find(end)
    if start != -1 and stop > start:
        return document[:start] + block + document[stop + len(end):]
    return document.rstrip("\n") + "\n\n" + block + "\n"


def write_section(name: str, section: str, path: Path = DOCS) -> None:
    """Replace benchmark `name`'s section of docs/benchmarks.md (creating the file)."""
    current = path.read_text(encoding="utf-8") if path.exists() else DOCS_HEADER
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(replace_section(current, name, section), encoding="utf-8")
    os.replace(temp, path)
