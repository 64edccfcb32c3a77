"""The one spider: configured by an outlet's row (synced from mediawatch.toml).

It discovers and fetches; it does not parse articles (pipeline.extract does, in the item
pipeline). ``scrapy crawl outlet -a outlet=SLUG``; the config comes from ``MEDIAWATCH_CONFIG``
(or ``./mediawatch.toml``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from pydantic import BaseModel, Field
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.context import engine_for, settings_for
from crawler.discovery import (
    Entry,
    MalformedDocument,
    UnsafeXML,
    is_pagination,
    looks_like_sitemap,
    parse_feed,
    parse_sitemap,
)
from crawler.items import PageItem
from crawler.profile import load_context
from pipeline.botwall import bot_wall_reason
from pipeline.dedup import known_urls
from pipeline.urls import canonicalize

MAX_SITEMAP_DEPTH = 3


class OutletArgs(BaseModel):
    """Spider arguments, validated (``-a outlet=SLUG``)."""

    outlet: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")


class OutletSpider(scrapy.Spider):
    name = "outlet"
    # 304 (conditional GET) and gone pages reach the callback: they are outcomes, not errors.
    handle_httpstatus_list: ClassVar[list[int]] = [304, 404, 410]

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        crawl = settings_for(os.environ.get("MEDIAWATCH_CONFIG")).crawl
        settings.setdict(
            {
                "USER_AGENT": crawl.user_agent,
                "ROBOTSTXT_OBEY": crawl.obey_robots,
                "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
                "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
                "DOWNLOAD_TIMEOUT": crawl.download_timeout_seconds,
                "DOWNLOAD_MAXSIZE": crawl.download_maxsize_bytes,
                "RETRY_TIMES": crawl.retry_times,
            },
            priority="spider",
        )

    def __init__(self, outlet: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.args = OutletArgs(outlet=outlet)
        self.slug = self.args.outlet
        # Feeds and sitemaps read by this crawl: url -> (kind, fingerprint of entries, count).
        self.sources: dict[str, tuple[str, str, int]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> OutletSpider:
        spider: OutletSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup()
        return spider

    def _on_dropped(self, request: scrapy.Request, spider: scrapy.Spider) -> None:
        # A redirect that comes back to a URL already requested is dropped by the duplicate
        # filter, without an errback: that is a redirect loop.
        if request.meta.get("redirect_urls"):
            self._stat(f"error/{request.meta.get('mw_kind', 'request')}_redirect_loop")

    def setup(self) -> None:
        self.crawler.signals.connect(self._on_dropped, signal=signals.request_dropped)
        config = os.environ.get("MEDIAWATCH_CONFIG")
        self.context = load_context(engine_for(config), settings_for(config).crawl, self.slug)
        self.profile = self.context.profile
        self.oldest = self.context.oldest

    # --- discovery ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        for url in self.profile.feeds:
            yield scrapy.Request(
                url,
                self.parse_feed,
                errback=self.on_error,
                dont_filter=True,
                meta={"mw_kind": "feed"},
            )
        for url in self.profile.sitemaps:
            yield scrapy.Request(
                url,
                self.parse_sitemap,
                errback=self.on_error,
                dont_filter=True,
                meta={"mw_kind": "sitemap", "depth_sm": 0},
            )
        for url in self.profile.sections:
            yield scrapy.Request(
                url,
                self.parse_section,
                errback=self.on_error,
                dont_filter=True,
                meta={"mw_kind": "section", "page": 1},
            )

    def _stat(self, key: str, n: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"mediawatch/{key}", n)

    def _ok(self, response: Response, kind: str) -> bool:
        if response.status >= 400:
            self._stat(f"error/{kind}_http_{response.status}")
            self.logger.warning(
                "%s returned %s",
                kind,
                response.status,
                extra={"outlet": self.slug, "url": response.url},
            )
            return False
        if self._bot_wall(response, kind):
            return False
        self._stat(f"discovery/{kind}_ok")
        return True

    def _bot_wall(self, response: Response, kind: str) -> bool:
        """A challenge or block page instead of the content: counted as a bot wall (outlet
        health tells it from "no news"), never stored."""
        reason = bot_wall_reason(response.body, response.status)
        if reason is None:
            return False
        self._stat(f"error/{kind}_bot_wall")
        self.logger.warning(
            "%s is behind a bot wall: %s",
            kind,
            reason,
            extra={"outlet": self.slug, "url": response.url},
        )
        return True

    def _read_source(self, url: str, kind: str, entries: list[Entry]) -> None:
        """Note what this feed or sitemap lists (the run's recorder stores whether it changed
        since the last crawl: outlet health spots a feed that stopped updating)."""
        listed = "\n".join(sorted(e.url for e in entries))
        digest = hashlib.sha256(listed.encode("utf-8", "replace")).hexdigest()
        self.sources[url] = (kind, digest, len(entries))

    def _refused(self, kind: str, exc: Exception, url: str) -> None:
        """A feed or sitemap that is unsafe (declares entities) or is no feed/sitemap at all."""
        self._stat(f"error/{kind}_{'unsafe' if isinstance(exc, UnsafeXML) else 'malformed'}")
        self.logger.warning("%s skipped: %s", kind, exc, extra={"outlet": self.slug, "url": url})

    def parse_feed(self, response: Response) -> Iterator[Any]:
        if not self._ok(response, "feed"):
            return
        if looks_like_sitemap(response.body):
            yield from self.parse_sitemap(response)
            return
        try:
            entries, problem = parse_feed(
                response.body,
                response.url,
                (response.headers.get(b"Content-Type") or b"").decode("latin-1"),
            )
        except (UnsafeXML, MalformedDocument) as exc:
            self._refused("feed", exc, response.url)
            return
        self._read_source(response.url, "feed", entries)
        if problem:
            self._stat("error/feed_malformed")
            self.logger.warning(
                "feed has errors, using what parses: %s",
                problem,
                extra={"outlet": self.slug, "url": response.url},
            )
        yield from self.article_requests(entries, response.url, "feed")

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        if not self._ok(response, "sitemap"):
            return
        try:
            kind, entries = parse_sitemap(response.body)
        except (UnsafeXML, MalformedDocument) as exc:
            self._refused("sitemap", exc, response.url)
            return
        self._read_source(response.url, "sitemap", entries)
        depth = response.meta.get("depth_sm", 0)
        if kind == "index":
            if depth >= MAX_SITEMAP_DEPTH:
                return
            for e in entries:
                if self._too_old(e.published_at):
                    continue
                url = response.urljoin(e.url)
                if self._own(url):
                    yield scrapy.Request(
                        url,
                        self.parse_sitemap,
                        errback=self.on_error,
                        meta={"mw_kind": "sitemap", "depth_sm": depth + 1},
                    )
            return
        yield from self.article_requests(entries, response.url, "sitemap")

    def parse_section(self, response: Response) -> Iterator[Any]:
        if not self._ok(response, "section"):
            return
        page = response.meta.get("page", 1)
        next_pages = set(
            response.css("link[rel=next]::attr(href), a[rel=next]::attr(href)").getall()
        )
        listed: list[Entry] = []
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip())
            if not url.startswith(("http://", "https://")) or not self._own(url):
                continue
            if self._is_article(url):
                listed.append(Entry(url))
            elif is_pagination(url) and urlsplit(url).path.startswith(
                urlsplit(response.url).path.split("page/")[0]
            ):
                next_pages.add(url)
        yield from self.article_requests(listed, response.url, "section")
        if page < self.context.crawl.section_max_pages:
            for href in next_pages:
                yield scrapy.Request(
                    response.urljoin(href),
                    self.parse_section,
                    errback=self.on_error,
                    meta={"mw_kind": "section", "page": page + 1},
                )

    # --- articles ----------------------------------------------------------------------------

    def _own(self, url: str) -> bool:
        return self.profile.owns(url)

    def _is_article(self, url: str) -> bool:
        return self.profile.is_article_url(url)

    def _too_old(self, when: dt.datetime | None) -> bool:
        return bool(self.oldest and when and when < self.oldest)

    def article_requests(
        self, entries: list[Entry], source_url: str, via: str
    ) -> Iterator[scrapy.Request]:
        """Requests for the article URLs a feed, sitemap or section page lists. Whether each is
        known is asked once for the whole list (one look-up per document, not one per URL), in
        the shared database (no per-process cache, so several crawls stay consistent): a known
        URL is skipped, unless its article is recent (``revisit_hours``), then re-checked with a
        conditional GET."""
        wanted: list[tuple[Entry, str, str]] = []
        for entry in entries:
            seen_as = urljoin(source_url, entry.url.strip()).split("#")[0]
            url = canonicalize(seen_as)
            if not self._own(url):
                self._stat("skipped/offsite")
            elif not self._is_article(url):
                self._stat("skipped/not_article_url")
            elif self._too_old(entry.published_at):
                self._stat("skipped/too_old")
            else:
                wanted.append((entry, seen_as, url))
        if not wanted:
            return
        known = known_urls(self.context.engine, [url for _, _, url in wanted])
        revisit = dt.timedelta(hours=self.context.crawl.revisit_hours)
        recent_after = dt.datetime.now(dt.UTC) - revisit
        for entry, seen_as, url in wanted:
            headers: dict[str, str] = {}
            if url in known:
                k = known[url]
                if k.seen < recent_after or not (k.etag or k.last_modified):
                    self._stat("skipped_known")
                    continue
                if k.etag:
                    headers["If-None-Match"] = k.etag
                if k.last_modified:
                    headers["If-Modified-Since"] = k.last_modified
                self._stat("conditional_get")
            yield scrapy.Request(
                url,
                self.parse_article,
                errback=self.on_error,
                headers=headers or None,
                meta={
                    "mw_kind": "article",
                    "hints": entry.hints(),
                    "via": via,
                    # The spelling the feed/sitemap/section gave (tracking parameters and all):
                    # the request goes to the canonical one, the store records both.
                    "seen_as": seen_as,
                    "mw_canonical": url,  # what the known-URL check and the store compare
                },
            )

    def parse_article(self, response: Response) -> Iterator[PageItem]:
        status = response.status
        if status in (404, 410):
            self._stat(f"error/article_http_{status}")
            return
        if status != 304 and self._bot_wall(response, "article"):
            return
        headers = response.headers
        redirects = list(response.meta.get("redirect_urls", []))
        requested = redirects[0] if redirects else response.url
        yield PageItem(
            outlet_slug=self.slug,
            requested_url=requested,
            url=response.url,
            status=status,
            body=b"" if status == 304 else response.body,
            content_type=(headers.get(b"Content-Type") or b"").decode("latin-1"),
            etag=(headers.get(b"ETag") or b"").decode("latin-1"),
            last_modified=(headers.get(b"Last-Modified") or b"").decode("latin-1"),
            redirect_urls=redirects,
            seen_as=response.meta.get("seen_as", ""),
            canonical_urls=[
                response.meta.get("mw_canonical") or canonicalize(requested),
                *(canonicalize(u) for u in [*redirects[1:], response.url]),
            ],
            hints=response.meta.get("hints", {}),
        )

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        kind = request.meta.get("mw_kind", "request") if request is not None else "request"
        if failure.check(HttpError):
            response = getattr(failure.value, "response", None)
            status = response.status if response is not None else "unknown"
            self._stat(f"error/{kind}_http_{status}")
        elif failure.check(IgnoreRequest):
            if "max redirections" not in str(failure.value):
                return  # a known URL or robots.txt: counted where it was decided
            self._stat(f"error/{kind}_redirect_loop")
        else:
            self._stat(f"error/{kind}_{failure.type.__name__ if failure.type else 'unknown'}")
        self.logger.warning(
            "%s failed: %s",
            kind,
            failure.getErrorMessage(),
            extra={"outlet": self.slug, "url": request.url if request is not None else ""},
        )
