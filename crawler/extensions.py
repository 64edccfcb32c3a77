"""One ``crawl_runs`` row per crawl: opened when the spider opens, filled from the stats at close."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from models import CrawlRun, in_transaction, utcnow


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


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        outlet_id = spider.outlet_id  # type: ignore[attr-defined]

        def work(session: Any) -> int:
            run = CrawlRun(outlet_id=outlet_id, pid=os.getpid(), status="running")
            session.add(run)
            session.flush()
            return run.id

        self.run_id = in_transaction(spider.engine, work, what="crawl run start")  # type: ignore[attr-defined]

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        assert self.crawler.stats is not None
        values = summarise(self.crawler.stats.get_stats(), reason)
        run_id = self.run_id

        def work(session: Any) -> None:
            run = session.get(CrawlRun, run_id)
            for key, value in values.items():
                setattr(run, key, value)
            run.finished_at = utcnow()

        in_transaction(spider.engine, work, what="crawl run end")  # type: ignore[attr-defined]
        spider.logger.info("crawl %s: %s", values["status"], {k: v for k, v in values.items() if v})
