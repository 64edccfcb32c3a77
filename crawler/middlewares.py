"""Incremental crawling: known URLs are skipped, recent ones re-checked with conditional GET."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.profile import crawl_context
from models import read_session
from pipeline.dedup import known_appearance
from pipeline.urls import canonicalize


class KnownUrlMiddleware:
    """For article requests: a URL stored before (any spelling, after canonicalisation) is not
    fetched again, unless its article is recent (``[crawl].revisit_hours``); then it is fetched
    with If-None-Match / If-Modified-Since from the stored ETag / Last-Modified.

    One indexed lookup per request against the shared database, no per-process cache, so several
    crawler processes (or hosts) stay consistent.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownUrlMiddleware:
        if not crawler.settings.getbool("MEDIAWATCH_INCREMENTAL", True):
            raise NotConfigured("MEDIAWATCH_INCREMENTAL is off")
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        if not request.meta.get("mw_article") or request.meta.get("mw_checked"):
            return None
        request.meta["mw_checked"] = True
        context = crawl_context(self.crawler)
        url = request.meta.get("mw_canonical") or canonicalize(request.url)
        with read_session(context.engine) as s:
            known = known_appearance(s, [url])
        if known is None:
            return None
        stats = self.crawler.stats
        assert stats is not None
        revisit = dt.timedelta(hours=context.crawl.revisit_hours)
        recent = (known.published_at or known.first_seen) >= dt.datetime.now(dt.UTC) - revisit
        if not recent or not (known.etag or known.last_modified):
            stats.inc_value("mediawatch/skipped_known")
            raise IgnoreRequest(f"known URL {url}")
        if known.etag:
            request.headers[b"If-None-Match"] = known.etag.encode("latin-1")
        if known.last_modified:
            request.headers[b"If-Modified-Since"] = known.last_modified.encode("latin-1")
        stats.inc_value("mediawatch/conditional_get")
        return None
