"""bench/RESULTS.md: a benchmark's new numbers replace its old ones; the notes written by hand
under them stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import results


def test_a_new_run_keeps_the_notes_under_the_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(
        "# Benchmark results\n\n## Crawl\n\n| rate | 10 |\n\n"
        f"{results.KEEP}\n\nWhat 10 means.\n\n## Other\n\nold other\n\n## Reading these numbers\n",
        "utf-8",
    )
    monkeypatch.setattr(results, "RESULTS", path)
    results.write_section("Crawl", "| rate | 12 |")
    results.write_section("Other", "new other")
    text = path.read_text("utf-8")
    assert "| rate | 12 |" in text and "| rate | 10 |" not in text
    assert text.index("| rate | 12 |") < text.index("What 10 means.") < text.index("## Other")
    assert "new other" in text and "old other" not in text
    assert text.count(results.KEEP) == 1 and text.rstrip().endswith("## Reading these numbers")
