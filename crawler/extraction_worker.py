"""What runs in an extraction worker (crawler.extraction_pool): a page's extraction and its text
fingerprint, the CPU work of a page, off the crawl process, which imports none of this (the
pool calls these functions by name)."""

from __future__ import annotations

import datetime as dt

from pipeline.dedup import Fingerprint
from pipeline.extract import Extracted, FeedHints, OutletRules, extract_page
from pipeline.language import warm


def ready() -> None:
    """Load the extraction code (this module's imports) and the language model, about a second
    of work, before the first page comes."""
    warm()


def extract_with_fingerprint(
    body: bytes,
    url: str,
    *,
    outlet: OutletRules,
    hints: FeedHints,
    fetched_at: dt.datetime,
    content_type: str | None,
    threshold: float,
) -> tuple[Extracted, Fingerprint | None]:
    """The page extracted and, for an article, its fingerprint with the LSH band keys for the
    near-duplicate ``threshold`` (what pipeline.store would otherwise compute in the crawl)."""
    page = extract_page(
        body, url, outlet=outlet, hints=hints, fetched_at=fetched_at, content_type=content_type
    )
    return page, Fingerprint.of(page.text, threshold) if page.is_article else None
