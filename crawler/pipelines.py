"""The Scrapy seam: a thin adapter that runs pipeline.extract and pipeline.store off the reactor."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer
from twisted.internet.base import DelayedCall
from twisted.internet.threads import deferToThread

from crawler.extraction_pool import ExtractionFailed, ExtractionPool, default_workers
from crawler.items import PageItem
from crawler.profile import crawl_context
from pipeline.dates import parse_datetime
from pipeline.extract import Extracted, FeedHints, html_hash
from pipeline.fingerprint import Fingerprint
from pipeline.store import FetchInfo, StoreResult, mark_unchanged, store_pages

log = logging.getLogger(__name__)
WORKER = "crawler.extraction_worker"  # what the extraction workers run (imported there only)


def _reactor() -> Any:
    """The installed reactor (imported late: Scrapy installs it; its interface is not typed)."""
    from twisted.internet import reactor

    return reactor


@dataclass
class _Waiting:
    """An extracted page waiting for its batch to be stored; ``done`` fires with the item once
    it is (or fails with DropItem)."""

    item: PageItem
    page: Extracted
    fetch: FetchInfo
    fingerprint: Fingerprint | None
    done: defer.Deferred[PageItem]


class StorePipeline:
    """Extract each page in a worker process (crawler.extraction_pool), from a reactor thread,
    and store the extracted pages in batches, one transaction each, also from a thread: neither
    parsing nor a database write stalls the crawl. A batch is written when it holds ``[crawl]
    store_batch_pages`` pages, when its first page has waited ``store_batch_ms``, or as soon as
    no other page is on its way (none being downloaded or extracted): pages are grouped while
    more are coming, and the last page of a crawl, or a page of a slow one, is not kept waiting.
    A bad page is logged, counted and dropped; the others of its batch are stored. An item is
    done only when its page is committed, so a crawl killed mid-way loses at most the batch not
    yet written, which the next crawl fetches again."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.waiting: list[_Waiting] = []
        self.timer: DelayedCall | None = None
        self.writing: set[defer.Deferred[Any]] = set()
        self.extracting = 0  # pages handed to _extract and not yet back in the reactor

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def open_spider(self, spider: Any = None) -> None:
        context = crawl_context(self.crawler)
        self.rules = context.profile.extraction_rules()
        self.engine = context.engine
        self.outlet_id = context.profile.outlet_id
        self.threshold = context.crawl.near_duplicate_threshold
        self.batch_pages = context.crawl.store_batch_pages
        self.batch_seconds = context.crawl.store_batch_ms / 1000
        workers = context.crawl.workers
        self.pool = ExtractionPool(
            default_workers() if workers is None else workers,
            context.crawl.extract_timeout_seconds,
        )
        # The workers start while the spider fetches robots.txt, feeds and sitemaps.
        self.starting = deferToThread(self.pool.start, f"{WORKER}:ready")
        self.starting.addErrback(
            lambda f: log.warning("extraction workers did not start ahead: %s", f.value)
        )  # the first page starts them, or reports why it cannot

    async def close_spider(self, spider: Any = None) -> None:
        await maybe_deferred_to_future(self.starting)
        self._flush()
        while self.writing:
            await maybe_deferred_to_future(defer.DeferredList(list(self.writing)))
        self.pool.close()
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("mediawatch/extraction_pool_restarts", self.pool.restarts)

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"mediawatch/{key}")

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        """The item once its page is stored; DropItem when it is not an article or fails. A
        coroutine, as Scrapy asks of pipelines since 2.14 (a returned Deferred is deprecated and
        logged on every crawl); the work itself still runs on Deferreds, awaited here."""
        self.extracting += 1
        d = deferToThread(self._extract, item)
        d.addBoth(self._extracted)
        d.addCallback(self._enqueue, item)
        return await maybe_deferred_to_future(d)

    def _extracted(self, result: Any) -> Any:
        self.extracting -= 1
        if self.waiting and not self._more_coming():
            # This page may be dropped (not an article, a failure) and was the last one the open
            # batch waited for: written once this page is through _enqueue.
            _reactor().callLater(0, self._flush_unless_more_coming)
        return result

    def _more_coming(self) -> bool:
        """A page is being extracted, or a request is being downloaded."""
        engine = self.crawler.engine
        return self.extracting > 0 or bool(engine and getattr(engine.downloader, "active", None))

    def _flush_unless_more_coming(self) -> None:
        if not self._more_coming():
            self._flush()

    def _extract(self, item: PageItem) -> tuple[Extracted, FetchInfo, Fingerprint | None] | None:
        """In a reactor thread: the page extracted (None for a 304, handled here)."""
        self._inc("pages")
        if item.not_modified:
            mark_unchanged(self.engine, item.canonical_urls[-1], item.fetched_at)
            self._inc("unchanged")
            return None
        try:
            hints = FeedHints(
                title=item.hints.get("title") or "",
                published_at=parse_datetime(item.hints.get("published_at")),
                authors=list(item.hints.get("authors") or []),
                section=item.hints.get("section") or "",
            )
            page, fingerprint = self.pool.run_named(
                f"{WORKER}:extract_with_fingerprint",
                item.body,
                item.url,
                outlet=self.rules,
                hints=hints,
                fetched_at=item.fetched_at,
                content_type=item.content_type,
                threshold=self.threshold,
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
        return page, fetch, fingerprint

    def _enqueue(
        self, extracted: tuple[Extracted, FetchInfo, Fingerprint | None] | None, item: PageItem
    ) -> Any:
        """In the reactor: the page joins the open batch, written when full, when no other page is
        on its way, or when its time is up."""
        if extracted is None:
            return item
        done: defer.Deferred[PageItem] = defer.Deferred()
        self.waiting.append(_Waiting(item, *extracted, done))
        if len(self.waiting) >= self.batch_pages or not self._more_coming():
            self._flush()
        elif self.timer is None:
            self.timer = _reactor().callLater(self.batch_seconds, self._flush)
        return done

    def _flush(self) -> None:
        if self.timer is not None:
            if self.timer.active():
                self.timer.cancel()
            self.timer = None
        batch, self.waiting = self.waiting, []
        if not batch:
            return
        d: defer.Deferred[Any] = deferToThread(
            store_pages,
            self.engine,
            self.outlet_id,
            [(w.page, w.fetch) for w in batch],
            threshold=self.threshold,
            fingerprints=[w.fingerprint for w in batch],
        )
        d.addCallbacks(self._stored, self._failed, callbackArgs=(batch,), errbackArgs=(batch,))
        self.writing.add(d)
        d.addBoth(self._written, d)

    def _written(self, result: Any, d: defer.Deferred[Any]) -> Any:
        self.writing.discard(d)
        return result

    def _stored(self, results: list[StoreResult | Exception], batch: list[_Waiting]) -> None:
        for w, result in zip(batch, results, strict=True):
            if isinstance(result, StoreResult):
                self._inc(result.status)
                w.done.callback(w.item)
            else:
                self._drop(w, result)

    def _failed(self, failure: Any, batch: list[_Waiting]) -> None:
        for w in batch:
            self._drop(w, failure.value)

    def _drop(self, w: _Waiting, exc: BaseException) -> None:
        self._inc("error/store")
        log.error(
            "store failed: %s",
            exc,
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"outlet": w.item.outlet_slug, "url": w.item.url},
        )
        w.done.errback(DropItem(f"store failed: {exc}"))
