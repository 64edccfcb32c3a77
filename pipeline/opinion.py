"""Op-ed detection. Each signal is a reason an analyst can read; the first that fires is stored."""

from __future__ import annotations

import re
from collections.abc import Iterable

OPINION_TYPES = {"OpinionNewsArticle"}
# Section / category names that mean opinion, in the languages we watch.
OPINION_SECTION_RE = re.compile(
    r"^(?:opinions?|op-?eds?|op\.ed|comment(?:ary|aries)?|views?|viewpoints?|columns?|columnists?|"
    r"analysis|editorials?|perspectives?|ideas|blogs?|guest (?:column|post)s?|commentaires?|tribune|"
    r"мнени[ея]|колонк[аи]|колумнисты|комментари[йи]|аналитика|точка зрения|авторская колонка|блоги?|"
    r"رأي|آراء|الرأي|مقالات|مقال|أعمدة|كتاب|كتّاب|تحليل|تحليلات|وجهة نظر|قضايا وآراء)$",
    re.IGNORECASE,
)
DEFAULT_URL_PATTERNS = (
    r"/opinions?/",
    r"/op-?eds?/",
    r"/comment(?:ary)?/",
    r"/columns?/",
    r"/columnists?/",
    r"/views?/",
    r"/analysis/",
    r"/editorials?/",
    r"/blogs?/",
    r"/ideas/",
    r"/perspectives?/",
    r"/mneniya?/",
    r"/opinion-",
    r"/kolonki?/",
    r"/articles-opinion",
    r"/araa/",
    r"/ara[a2]/",
)


def section_is_opinion(section: str) -> bool:
    return any(
        OPINION_SECTION_RE.match(part.strip())
        for part in re.split(r"[/>|,»›]", section)
        if part.strip()
    )


def opinion_reason(
    *,
    schema_types: Iterable[str],
    sections: Iterable[str],
    url: str,
    outlet_patterns: Iterable[str] = (),
    disclaimer: bool = False,
    author_bio: bool = False,
) -> str:
    """Why this page is an op-ed ("" when nothing says so)."""
    for t in schema_types:
        if t in OPINION_TYPES:
            return f"schema:{t}"
    for s in sections:
        if s and section_is_opinion(s):
            return f"section:{s.strip()}"
    for p in outlet_patterns:
        if re.search(p, url):
            return f"url:{p}"
    for p in DEFAULT_URL_PATTERNS:
        if re.search(p, url, re.IGNORECASE):
            return f"url:{p}"
    if disclaimer:
        return "disclaimer"
    if author_bio:
        return "author-bio"
    return ""
