"""bench/RESULTS.md: its sections, each the numbers a benchmark wrote, then the notes written by
hand under them, which a new run keeps."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
# In a section, what follows this line (up to the next "## ") is written by hand — what the
# numbers mean, what changed — and a new run keeps it under its new numbers.
KEEP = "<!-- below: notes written by hand, kept by make bench -->"


def kept_notes(results: str) -> dict[str, str]:
    """Each section's hand-written notes (from ``KEEP`` on), by section title."""
    notes = {}
    for part in ("\n" + results).split("\n## ")[1:]:
        title, _, body = part.partition("\n")
        if KEEP in body:
            notes[title.strip()] = KEEP + body.split(KEEP, 1)[1].rstrip() + "\n"
    return notes


def section(title: str, body: str, kept: dict[str, str]) -> str:
    """A ``## title`` section: the benchmark's text, then the notes kept for it."""
    return f"## {title}\n\n{body}\n" + (f"\n{kept[title]}" if title in kept else "")


def write_section(title: str, body: str) -> None:
    """Put (or replace) one ``## title`` section in RESULTS.md, its notes kept."""
    text = RESULTS.read_text("utf-8") if RESULTS.exists() else "# Benchmark results\n"
    new = section(title, body, kept_notes(text)) + "\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: new, text)
    else:
        marker = "## Reading these numbers"
        text = text.replace(marker, new + marker) if marker in text else text + "\n" + new
    RESULTS.write_text(text, "utf-8")
