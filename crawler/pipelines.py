"""The Scrapy seam: a thin adapter that runs pipeline.extract and pipeline.store off the reactor."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from twisted.internet.threads import deferToThread

from crawler.extraction_pool import ExtractionFailed, ExtractionPool, default_workers
from crawler.items import PageItem
from crawler.profile import crawl_context
from pipeline.dates import parse_datetime
from pipeline.extract import FeedHints, extract_page, html_hash
from pipeline.store import FetchInfo, mark_unchanged, store_page

log = logging.getLogger(__name__)


class StorePipeline:
    """Extract each page in a worker process (crawler.extraction_pool) and store it, from a
    reactor thread: neither parsing nor a database write stalls the crawl. Each page is one
    transaction; a bad page is logged, counted and dropped."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        context = crawl_context(self.crawler)
        self.rules = context.profile.extraction_rules()
        self.engine = context.engine
        self.outlet_id = context.profile.outlet_id
        self.threshold = context.crawl.near_duplicate_threshold
        workers = context.crawl.workers
        self.pool = ExtractionPool(
            default_workers() if workers is None else workers,
            context.crawl.extract_timeout_seconds,
        )

    def close_spider(self, spider: Any = None) -> None:
        self.pool.close()
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("mediawatch/extraction_pool_restarts", self.pool.restarts)

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"mediawatch/{key}")

    def process_item(self, item: Any, spider: Any = None) -> Any:
        return deferToThread(self._handle, item)

    def _handle(self, item: PageItem) -> PageItem:
        self._inc("pages")
        if item.not_modified:
            mark_unchanged(self.engine, item.canonical_urls[-1], item.fetched_at)
            self._inc("unchanged")
            return item
        try:
            hints = FeedHints(
                title=item.hints.get("title") or "",
                published_at=parse_datetime(item.hints.get("published_at")),
                authors=list(item.hints.get("authors") or []),
                section=item.hints.get("section") or "",
            )
            page = self.pool.run(
                extract_page,
                item.body,
                item.url,
                outlet=self.rules,
                hints=hints,
                fetched_at=item.fetched_at,
                content_type=item.content_type,
            )
        except ExtractionFailed as exc:
            self._inc("error/extract_worker")
            log.warning(
                "extraction failed: %s", exc, extra={"outlet": item.outlet_slug, "url": item.url}
            )
            raise DropItem(f"extraction failed: {exc}") from exc
        except Exception as exc:
            self._inc("error/extract")
            log.exception("extraction failed", extra={"outlet": item.outlet_slug, "url": item.url})
            raise DropItem(f"extraction failed: {exc}") from exc
        if not page.is_article:
            self._inc(f"dropped/{page.page_type}")
            raise DropItem(f"not an article ({page.page_type}): {item.url}")
        fetch = FetchInfo(
            requested_url=item.requested_url,
            final_url=item.url,
            redirect_urls=item.redirect_urls,
            seen_urls=[item.seen_as] if item.seen_as else [],
            canonical_urls=set(item.canonical_urls),
            status=item.status,
            etag=item.etag,
            last_modified=item.last_modified,
            html_hash=html_hash(item.body),
            fetched_at=item.fetched_at,
        )
        try:
            result = store_page(self.engine, self.outlet_id, page, fetch, threshold=self.threshold)
        except Exception as exc:
            self._inc("error/store")
            log.exception("store failed", extra={"outlet": item.outlet_slug, "url": item.url})
            raise DropItem(f"store failed: {exc}") from exc
        self._inc(result.status)
        return item
