"""What the spider hands to the pipeline: one fetched article page, not yet parsed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PageItem:
    outlet_slug: str
    requested_url: str
    url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    redirect_urls: list[str] = field(default_factory=list)
    seen_as: str = ""  # the spelling discovery met (before canonicalisation)
    # Canonical forms of the requested, final and redirect URLs, computed once by the spider.
    canonical_urls: list[str] = field(default_factory=list)
    hints: dict[str, Any] = field(default_factory=dict)
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def not_modified(self) -> bool:
        return self.status == 304
