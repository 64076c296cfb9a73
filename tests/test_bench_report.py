"""bench/_report.py: each benchmark rewrites only its own section of docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

from bench._report import replace_section, write_section


def test_section_is_appended_when_absent() -> None:
    updated = replace_section("# Benchmarks\n", "store", "new")
    assert updated == "# Benchmarks\n\n<!-- bench:store -->\nnew\n<!-- /bench:store -->\n"


def test_section_replaces_only_its_own() -> None:
    document = (
        "# B\n<!-- bench:picks -->\npicks\n<!-- /bench:picks -->\n"
        "<!-- bench:store -->\nold\n<!-- /bench:store -->\ntail\n"
    )
    assert replace_section(document, "store", "new") == (
        "# B\n<!-- bench:picks -->\npicks\n<!-- /bench:picks -->\n"
        "<!-- bench:store -->\nnew\n<!-- /bench:store -->\ntail\n"
    )


def test_docs_file_is_created_with_a_header(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "benchmarks.md"
    write_section("store", "figures", path=target)
    assert target.read_text().startswith("# Benchmarks\n")


def test_writing_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "benchmarks.md"
    write_section("picks", "figures", path=target)
    assert [p.name for p in tmp_path.iterdir()] == ["benchmarks.md"]
