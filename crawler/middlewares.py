"""Incremental crawling: known URLs are skipped, recent ones re-checked with conditional GET."""

from __future__ import annotations

import datetime as dt
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from sqlalchemy import Engine, select

from models import Appearance, Url, read_session
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

    def _engine(self, spider: Spider) -> Engine:
        engine: Engine = spider.engine  # type: ignore[attr-defined]
        return engine

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        if not request.meta.get("mw_article") or request.meta.get("mw_checked"):
            return None
        request.meta["mw_checked"] = True
        spider = spider or self.crawler.spider
        assert spider is not None
        url = canonicalize(request.url)
        with read_session(self._engine(spider)) as s:
            row = s.execute(
                select(
                    Appearance.etag,
                    Appearance.last_modified,
                    Appearance.published_at,
                    Appearance.first_seen,
                )
                .join(Url, Url.appearance_id == Appearance.id)
                .where(Url.url == url)
                .limit(1)
            ).first()
        if row is None:
            return None
        stats = self.crawler.stats
        assert stats is not None
        etag, last_modified, published_at, first_seen = row
        revisit = dt.timedelta(hours=spider.mw_settings.crawl.revisit_hours)  # type: ignore[attr-defined]
        recent = (published_at or first_seen) >= dt.datetime.now(dt.UTC) - revisit
        if not recent or not (etag or last_modified):
            stats.inc_value("mediawatch/skipped_known")
            raise IgnoreRequest(f"known URL {url}")
        if etag:
            request.headers[b"If-None-Match"] = etag.encode("latin-1")
        if last_modified:
            request.headers[b"If-Modified-Since"] = last_modified.encode("latin-1")
        stats.inc_value("mediawatch/conditional_get")
        return None
