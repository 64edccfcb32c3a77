"""Op-ed detection. Each signal is a reason an analyst can read; the first that fires is stored."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.rules import DEFAULT_URL_PATTERNS, OPINION_SECTION_RE, OPINION_TYPES


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
