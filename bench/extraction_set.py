"""Extraction quality on a set of real pages in the gold.jsonl format (``../shared/extract-dev``
and the held-out sets): one JSON object a line with ``file`` (a page under the set's folder),
``url``, ``title``, ``authors``, ``published`` (YYYY-MM-DD, the publisher's local date),
``language`` and optionally ``text``. Ours beside trafilatura ``bare_extraction``, per field, with
every miss listed.

    python -m bench.extraction --set ../shared/extract-dev [--misses] [--write]

Pages are read as UTF-8 (the set's README says so). Dates are compared on the day: exactly (UTC
day = gold day) and within a day (a publisher's local date may be the UTC day before or after).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.extraction import token_f1
from pipeline.dates import parse_datetime
from pipeline.extract import extract_page
from pipeline.textnorm import author_key

FETCHED_AT = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)  # after every page of the sets


@dataclass
class Reading:
    authors: list[str]
    published: dt.datetime | None
    title: str
    language: str
    text: str
    seconds: float = 0.0
    day: dt.date | None = None  # the publisher's calendar day, when the reader keeps it


@dataclass
class Tally:
    """Sums for one extractor over a set."""

    author_tp: int = 0
    author_got: int = 0
    author_want: int = 0
    authors_exact: int = 0
    date_exact: int = 0
    date_within_day: int = 0
    title_exact: int = 0
    title_folded: int = 0
    language: int = 0
    text_f1: list[float] = field(default_factory=list)
    n: int = 0
    slowest: float = 0.0
    misses: list[str] = field(default_factory=list)

    def row(self) -> dict[str, float | None]:
        p = self.author_tp / self.author_got if self.author_got else 1.0
        r = self.author_tp / self.author_want if self.author_want else 1.0
        n = max(self.n, 1)
        return {
            "authors P": p,
            "authors R": r,
            "authors F1": 2 * p * r / (p + r) if p + r else 0.0,
            "authors exact": self.authors_exact / n,
            "date (same day)": self.date_exact / n,
            "date (±1 day)": self.date_within_day / n,
            "title exact": self.title_exact / n,
            "title folded": self.title_folded / n,
            "language": self.language / n,
            "text F1": sum(self.text_f1) / len(self.text_f1) if self.text_f1 else None,
            "slowest page (s)": self.slowest,
        }


def fold(text: str) -> str:
    """Case, quotes, dashes and white space aside."""
    text = text.translate(str.maketrans("‘’“”–—", "''\"\"--"))
    return " ".join(re.findall(r"\w+", text.casefold()))


def ours(html: bytes, url: str) -> Reading:
    r = extract_page(html, url, content_type="text/html; charset=utf-8", fetched_at=FETCHED_AT)
    return Reading(
        [a.name for a in r.authors],
        r.published_at,
        r.title,
        r.language,
        r.text,
        day=r.published_day,
    )


def trafilatura_reading(html: bytes, url: str) -> Reading:
    import trafilatura

    doc = trafilatura.bare_extraction(html.decode("utf-8", "replace"), url=url, with_metadata=True)
    d: dict[str, Any] = (
        (doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)) if doc is not None else {}
    )
    authors = [a.strip() for a in re.split(r";|,| and ", d.get("author") or "") if a.strip()]
    return Reading(
        authors,
        parse_datetime(d.get("date")),
        d.get("title") or "",
        d.get("language") or "",
        d.get("text") or "",
    )


def score(gold: list[dict[str, Any]], folder: Path, read: Callable[[bytes, str], Reading]) -> Tally:
    t = Tally()
    for g in gold:
        html = (folder / g["file"]).read_bytes()
        t0 = time.perf_counter()
        got = read(html, g["url"])
        t.slowest = max(t.slowest, time.perf_counter() - t0)
        t.n += 1
        want_a = {author_key(a) for a in g.get("authors") or []}
        got_a = {author_key(a) for a in got.authors}
        t.author_tp += len(want_a & got_a)
        t.author_got += len(got_a)
        t.author_want += len(want_a)
        t.authors_exact += want_a == got_a
        want_d: str = g.get("published") or ""
        day = got.day or (got.published.astimezone(dt.UTC).date() if got.published else None)
        exact = (day is None and not want_d) or (day is not None and want_d == day.isoformat())
        near = exact or (
            day is not None
            and want_d != ""
            and abs((day - dt.date.fromisoformat(want_d[:10])).days) <= 1
        )
        t.date_exact += exact
        t.date_within_day += near
        t.title_exact += " ".join(got.title.split()) == " ".join((g.get("title") or "").split())
        t.title_folded += fold(got.title) == fold(g.get("title") or "")
        t.language += (got.language or "").split("-")[0] == (g.get("language") or "")
        if g.get("text"):
            t.text_f1.append(token_f1(got.text, g["text"]))
        problems = []
        if want_a != got_a:
            problems.append(f"authors {got.authors} ≠ {g.get('authors')}")
        if not exact:
            problems.append(f"date {day} ≠ {want_d or None}")
        if fold(got.title) != fold(g.get("title") or ""):
            problems.append(f"title {got.title!r} ≠ {g.get('title')!r}")
        if problems:
            t.misses.append(f"{g['id']} ({g.get('language')}): " + "; ".join(problems))
    return t


def evaluate(folder: Path) -> dict[str, Tally]:
    gold = [json.loads(line) for line in (folder / "gold.jsonl").read_text("utf-8").splitlines()]
    return {
        "mediawatch": score(gold, folder, ours),
        "trafilatura": score(gold, folder, trafilatura_reading),
    }


def markdown(folder: Path, result: dict[str, Tally], *, misses: bool = True) -> str:
    rows = {name: t.row() for name, t in result.items()}
    names = list(rows)
    lines = [
        f"`{folder.name}`: {result[names[0]].n} real pages (in the gold.jsonl format); "
        "ours beside trafilatura `bare_extraction` in the same run.",
        "",
        "| field | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for key in rows[names[0]]:
        cells = []
        for name in names:
            v = rows[name][key]
            cells.append("n/a" if v is None else f"{v:.3f}" if "(s)" not in key else f"{v:.2f}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    if misses:
        lines += ["", "Our misses (what we said ≠ what was right):", ""]
        lines += [f"- {m}" for m in result["mediawatch"].misses]
    return "\n".join(lines)
