"""What runs in an extraction worker (crawler.extraction_pool): a page's extraction and its text
fingerprint, the CPU work of a page, off the crawl process, which imports none of this (the
pool calls these functions by name). The pool's forkserver imports this module, and so loads
dateparser's dictionaries, once before it forks the workers (crawler.extraction_preload: with the
language model): each worker would otherwise load them on its first pages (dateparser's, ~0.3 s
of CPU per worker)."""

from __future__ import annotations

import datetime as dt

# Imported by pipeline.fingerprint, pipeline.structured and pipeline.extract.text on first use (a
# crawl process whose workers extract never needs them): here, once, for every worker.
import datasketch  # noqa: F401
import extruct  # noqa: F401

from pipeline import dates
from pipeline.extract import Extracted, FeedHints, OutletRules, extract_page
from pipeline.extract.text import load_trafilatura
from pipeline.fingerprint import Fingerprint
from pipeline.language import warm

# At import: in the forkserver, once for all the workers it forks.
load_trafilatura()
dates.warm()


def ready() -> None:
    """Nothing left to load once this module is imported (the extraction code, the language
    model): a worker that runs it is ready for pages."""
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
