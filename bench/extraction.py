"""Extraction quality on a folder of cases (``CASE/page.html``, ``meta.json``, ``expected.json``),
ours beside plain trafilatura ``bare_extraction`` on the same pages.

    python -m bench.extraction tests/fixtures/extract

Per field: authors (set F1 on normalised names), published date (same UTC day; a correct "no
date" counts), title (exact after whitespace), text (token F1), is_opinion (accuracy), page type
(non-article pages recognised). Trafilatura has no op-ed flag or page type: "n/a".
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.results import write_section
from pipeline.dates import parse_datetime
from pipeline.encoding import decode_html
from pipeline.extract import extract_page
from pipeline.textnorm import author_key

FIELDS = ("authors", "published", "title", "text", "is_opinion", "page_type")


@dataclass
class Case:
    name: str
    html: bytes
    url: str
    content_type: str | None
    fetched_at: dt.datetime
    expected: dict[str, Any]

    @property
    def is_article(self) -> bool:
        return self.expected.get("page_type", "article") == "article"


def load_cases(folder: Path) -> list[Case]:
    cases = []
    for d in sorted(p for p in folder.iterdir() if (p / "expected.json").exists()):
        meta = json.loads((d / "meta.json").read_text("utf-8"))
        cases.append(
            Case(
                d.name,
                (d / "page.html").read_bytes(),
                meta["url"],
                meta.get("content_type"),
                dt.datetime.fromisoformat(meta.get("fetched_at", "2024-06-01T00:00:00+00:00")),
                json.loads((d / "expected.json").read_text("utf-8")),
            )
        )
    return cases


def _tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.casefold()))


def token_f1(got: str, want: str) -> float:
    g, w = _tokens(got), _tokens(want)
    if not g and not w:
        return 1.0
    overlap = sum((g & w).values())
    if not overlap:
        return 0.0
    p, r = overlap / sum(g.values()), overlap / sum(w.values())
    return 2 * p * r / (p + r)


def set_f1(got: list[str], want: list[str]) -> float:
    g, w = {author_key(x) for x in got}, {author_key(x) for x in want}
    if not g and not w:
        return 1.0
    if not g or not w:
        return 0.0
    tp = len(g & w)
    if not tp:
        return 0.0
    p, r = tp / len(g), tp / len(w)
    return 2 * p * r / (p + r)


def same_day(got: dt.datetime | None, want: str | None) -> float:
    if want is None:
        return 1.0 if got is None else 0.0
    return 1.0 if got is not None and got.astimezone(dt.UTC).date().isoformat() == want else 0.0


@dataclass
class Scores:
    per_field: dict[str, list[float]] = field(default_factory=lambda: {f: [] for f in FIELDS})
    per_case: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, case: str, name: str, value: float | None) -> None:
        if value is None:
            return
        self.per_field[name].append(value)
        self.per_case.setdefault(case, {})[name] = value

    def mean(self, name: str) -> float | None:
        vals = self.per_field[name]
        return sum(vals) / len(vals) if vals else None


def score_ours(cases: list[Case]) -> Scores:
    s = Scores()
    for c in cases:
        r = extract_page(c.html, c.url, content_type=c.content_type, fetched_at=c.fetched_at)
        s.add(
            c.name,
            "page_type",
            1.0 if r.page_type == c.expected.get("page_type", "article") else 0.0,
        )
        if not c.is_article:
            continue
        e = c.expected
        s.add(c.name, "authors", set_f1([a.name for a in r.authors], e["authors"]))
        s.add(c.name, "published", same_day(r.published_at, e["published_at"]))
        s.add(
            c.name,
            "title",
            1.0 if " ".join(r.title.split()) == " ".join(e["title"].split()) else 0.0,
        )
        s.add(c.name, "text", token_f1(r.text, e["text"]))
        s.add(c.name, "is_opinion", 1.0 if r.is_opinion == e["is_opinion"] else 0.0)
    return s


def score_trafilatura(cases: list[Case]) -> Scores:
    import trafilatura

    s = Scores()
    for c in cases:
        if not c.is_article:
            continue
        _, html = decode_html(c.html, c.content_type)
        doc = trafilatura.bare_extraction(html, url=c.url, with_metadata=True)
        d: dict[str, Any] = (
            (doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)) if doc is not None else {}
        )
        authors = [a.strip() for a in re.split(r";|,| and ", d.get("author") or "") if a.strip()]
        e = c.expected
        s.add(c.name, "authors", set_f1(authors, e["authors"]))
        s.add(c.name, "published", same_day(parse_datetime(d.get("date")), e["published_at"]))
        s.add(
            c.name,
            "title",
            1.0
            if " ".join((d.get("title") or "").split()) == " ".join(e["title"].split())
            else 0.0,
        )
        s.add(c.name, "text", token_f1(d.get("text") or "", e["text"]))
    return s


def report(folder: Path) -> dict[str, dict[str, float | None]]:
    cases = load_cases(folder)
    ours, theirs = score_ours(cases), score_trafilatura(cases)
    return {
        "mediawatch": {f: ours.mean(f) for f in FIELDS},
        "trafilatura": {f: theirs.mean(f) for f in FIELDS},
        "_cases": {"n": float(len(cases)), "articles": float(sum(c.is_article for c in cases))},
    }


def markdown_table(result: dict[str, dict[str, float | None]]) -> str:
    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    lines = ["| field | mediawatch | trafilatura bare_extraction |", "|---|---|---|"]
    for f in FIELDS:
        lines.append(f"| {f} | {fmt(result['mediawatch'][f])} | {fmt(result['trafilatura'][f])} |")
    n = result["_cases"]
    lines.append(f"\n{int(n['n'] or 0)} cases, {int(n['articles'] or 0)} of them articles.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if "--set" in args:
        # A set of real pages in the gold.jsonl format (bench/extraction_set.py).
        from bench import extraction_set

        folder = Path(args[args.index("--set") + 1])
        table = extraction_set.markdown(folder, extraction_set.evaluate(folder))
        print(table)
        if "--write" in args:
            write_section(f"Extraction quality on real pages ({folder.name})", table)
        return 0
    folder = Path(args[0]) if args else Path("tests/fixtures/extract")
    if "--cases" in args:
        cases = load_cases(folder)
        ours = score_ours(cases)
        for name, vals in ours.per_case.items():
            bad = {k: round(v, 2) for k, v in vals.items() if v < 1.0}
            if bad:
                print(f"{name}: {bad}")
    print(markdown_table(report(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
