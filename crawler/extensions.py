"""One ``crawl_runs`` row per crawl: opened when the spider opens, filled from the stats at close."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from sqlalchemy import select
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread

from crawler.profile import crawl_context
from models import CrawlRun, Source, in_transaction, utcnow


def summarise(stats: dict[str, Any], reason: str) -> dict[str, Any]:
    """Counters for the crawl_runs row, and whether the outlet could be crawled at all."""
    errors: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    http: Counter[str] = Counter()
    for key, value in stats.items():
        if not isinstance(value, int):
            continue
        if key.startswith("mediawatch/error/"):
            errors[key.removeprefix("mediawatch/error/")] += value
        elif key.startswith("mediawatch/dropped/"):
            dropped[key.removeprefix("mediawatch/dropped/")] += value
        elif key.startswith("mediawatch/skipped/"):
            # URLs not fetched, and why (too old, not an article URL, off-site): an empty
            # crawl must explain itself (crawl table, `status`).
            dropped[key.removeprefix("mediawatch/skipped/")] += value
        elif key.startswith("downloader/response_status_count/"):
            http[key.rsplit("/", 1)[-1]] += value
        elif key == "robotstxt/forbidden":
            dropped["robots_forbidden"] += value
        # Scrapy's downloader/exception_* and retry/* count attempts, retries included; the
        # spider's errback counts each request that finally failed, once (mediawatch/error/*).
    discovered = sum(v for k, v in stats.items() if k.startswith("mediawatch/discovery/"))
    # Failed: interrupted, or no feed, sitemap or section page could be read (host down, every
    # discovery URL failing). Faults of single pages are counted, and the run is still ok.
    status = "failed" if reason != "finished" or discovered == 0 else "ok"
    return {
        "status": status,
        "pages": stats.get("mediawatch/pages", 0),
        "new": stats.get("mediawatch/new", 0),
        "updated": stats.get("mediawatch/updated", 0),
        "unchanged": stats.get("mediawatch/unchanged", 0),
        "duplicates": stats.get("mediawatch/duplicate", 0),
        "skipped_known": stats.get("mediawatch/skipped_known", 0),
        "errors": dict(errors),
        "dropped": dict(dropped),
        "http_statuses": dict(http),
        "message": "" if reason == "finished" else f"closed: {reason}",
    }


def record_sources(
    session: Any, outlet_id: int, sources: dict[str, tuple[str, str, int]], now: dt.datetime
) -> None:
    """Each feed and sitemap read: checked now; changed now if what it lists changed."""
    known = {s.url: s for s in session.scalars(select(Source).where(Source.outlet_id == outlet_id))}
    for url, (kind, digest, entries) in sources.items():
        row = known.get(url)
        if row is None:
            session.add(
                Source(
                    outlet_id=outlet_id,
                    url=url,
                    kind=kind,
                    content_hash=digest,
                    entries=entries,
                    first_seen=now,
                    last_changed_at=now,
                    last_checked_at=now,
                )
            )
            continue
        if row.content_hash != digest:
            row.content_hash, row.last_changed_at = digest, now
        row.entries, row.last_checked_at = entries, now


PROGRESS_SECONDS = 3.0


class CrawlRunRecorder:
    """Opens the run's row when the spider opens, writes its counters every few seconds while
    it runs (the live crawl table and `status` read them) and closes it with the final ones."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        self.progress: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        context = crawl_context(self.crawler)
        self.engine = context.engine
        outlet_id = context.profile.outlet_id

        def work(session: Any) -> int:
            run = CrawlRun(outlet_id=outlet_id, pid=os.getpid(), status="running")
            session.add(run)
            session.flush()
            return run.id

        self.run_id = in_transaction(self.engine, work, what="crawl run start")
        # In a thread: a busy database must not stall the reactor.
        self.progress = LoopingCall(deferToThread, self._write_progress, spider)
        self.progress.start(PROGRESS_SECONDS, now=False)

    def _write_progress(self, spider: Spider) -> None:
        if self.run_id is None or self.crawler.stats is None:
            return
        values = summarise(self.crawler.stats.get_stats(), "finished")
        values.pop("status")
        values.pop("message")
        run_id = self.run_id

        def work(session: Any) -> None:
            run = session.get(CrawlRun, run_id)
            if run is not None and run.status == "running":
                for key, value in values.items():
                    setattr(run, key, value)

        try:
            in_transaction(self.engine, work, attempts=2, what="crawl run progress")
        except Exception:  # progress is a courtesy: never stop a crawl for it
            spider.logger.debug("crawl progress not written", exc_info=True)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.progress is not None and self.progress.running:
            self.progress.stop()
        if self.run_id is None:
            return
        assert self.crawler.stats is not None
        values = summarise(self.crawler.stats.get_stats(), reason)
        run_id = self.run_id

        sources: dict[str, tuple[str, str, int]] = dict(getattr(spider, "sources", {}))
        outlet_id = crawl_context(self.crawler).profile.outlet_id

        def work(session: Any) -> None:
            run = session.get(CrawlRun, run_id)
            for key, value in values.items():
                setattr(run, key, value)
            run.finished_at = utcnow()
            record_sources(session, outlet_id, sources, run.finished_at)

        in_transaction(self.engine, work, what="crawl run end")
        spider.logger.info("crawl %s: %s", values["status"], {k: v for k, v in values.items() if v})


class ParentWatch:
    """Stops the crawl when the process that started it is gone.

    A worker killed with SIGKILL cannot stop its crawl process (it runs in its own session), and
    another worker will soon take the outlet over. Twice a second the crawl checks that its
    parent (``MEDIAWATCH_PARENT_PID``) is still its parent; when it is not, the spider is closed
    ("orphaned": the run is recorded as failed, every stored page is whole) and, should closing
    hang, the process exits after ``HARD_EXIT_SECONDS``."""

    HARD_EXIT_SECONDS = 20.0

    def __init__(self, crawler: Crawler, parent: int) -> None:
        self.crawler = crawler
        self.parent = parent
        self.check: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ParentWatch:
        from scrapy.exceptions import NotConfigured

        from core.crawl import PARENT_ENV

        value = os.environ.get(PARENT_ENV, "")
        if not value.isdigit():
            raise NotConfigured("not started by mediawatch")
        ext = cls(crawler, int(value))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.check = LoopingCall(self._check, spider)
        self.check.start(0.5, now=True)

    def spider_closed(self, spider: Spider) -> None:
        if self.check is not None and self.check.running:
            self.check.stop()

    def _check(self, spider: Spider) -> None:
        if os.getppid() == self.parent:
            return
        from twisted.internet import reactor as _reactor

        reactor: Any = _reactor
        assert self.check is not None
        self.check.stop()
        spider.logger.warning(
            "the process that started this crawl (pid %s) is gone: stopping", self.parent
        )
        reactor.callLater(self.HARD_EXIT_SECONDS, os._exit, 3)
        assert self.crawler.engine is not None
        self.crawler.engine.close_spider(spider, "orphaned")
