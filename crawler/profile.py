"""One outlet's rules, built once per crawl from its database row (synced from mediawatch.toml),
and what every Scrapy component of that crawl shares: the profile, the engine, the [crawl]
settings. Components get it with :func:`crawl_context` in their ``from_crawler``/``open_spider``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy import Engine, select

from core.config import CrawlConfig
from crawler.discovery import DEFAULT_ARTICLE_RE
from models import Outlet, read_session
from pipeline.extract import OutletRules
from pipeline.urls import same_site


@dataclass(frozen=True)
class OutletProfile:
    outlet_id: int
    slug: str
    name: str
    url: str
    language: str = ""
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    article_patterns: tuple[re.Pattern[str], ...] = ()
    opinion_patterns: tuple[str, ...] = ()
    author_selector: str = ""
    date_selector: str = ""
    body_selector: str = ""
    extra_domains: tuple[str, ...] = ()
    other_outlet_urls: tuple[str, ...] = ()  # a rel=canonical under one: a republication

    @classmethod
    def from_row(cls, row: Outlet, other_outlet_urls: list[str]) -> OutletProfile:
        sel: dict[str, Any] = dict(row.selectors or {})
        extra = sel.get("extra_domains") or []
        if isinstance(extra, str):  # rows synced before 0.2 joined them with commas
            extra = [d for d in extra.split(",") if d]
        return cls(
            outlet_id=row.id,
            slug=row.slug,
            name=row.name,
            url=row.url,
            language=row.language,
            feeds=tuple(row.feeds),
            sitemaps=tuple(row.sitemaps),
            sections=tuple(row.sections),
            article_patterns=tuple(re.compile(p) for p in row.article_patterns),
            opinion_patterns=tuple(row.opinion_patterns),
            author_selector=sel.get("author", ""),
            date_selector=sel.get("date", ""),
            body_selector=sel.get("body", ""),
            extra_domains=tuple(extra),
            other_outlet_urls=tuple(other_outlet_urls),
        )

    @property
    def site_urls(self) -> list[str]:
        """URLs whose sites are this outlet's own (its home, feeds, sitemaps, extra domains)."""
        return [
            self.url,
            *self.feeds,
            *self.sitemaps,
            *self.sections,
            *(f"http://{d}/" for d in self.extra_domains),
        ]

    def owns(self, url: str) -> bool:
        return any(same_site(url, u) for u in self.site_urls)

    def is_article_url(self, url: str) -> bool:
        if self.article_patterns:
            return any(rx.search(url) for rx in self.article_patterns)
        return bool(DEFAULT_ARTICLE_RE.search(url))

    def extraction_rules(self) -> OutletRules:
        return OutletRules(
            name=self.name,
            url=self.url,
            language=self.language,
            opinion_patterns=list(self.opinion_patterns),
            author_selector=self.author_selector,
            date_selector=self.date_selector,
            body_selector=self.body_selector,
            other_outlet_urls=list(self.other_outlet_urls),
        )


@dataclass(frozen=True)
class CrawlContext:
    profile: OutletProfile
    engine: Engine
    crawl: CrawlConfig

    @property
    def oldest(self) -> dt.datetime | None:
        """Feed and sitemap entries older than this are not fetched (None: no limit)."""
        days = self.crawl.max_article_age_days
        return dt.datetime.now(dt.UTC) - dt.timedelta(days=days) if days else None


def load_context(engine: Engine, crawl: CrawlConfig, slug: str) -> CrawlContext:
    with read_session(engine) as s:
        row = s.scalar(select(Outlet).where(Outlet.slug == slug))
        if row is None:
            raise ValueError(f"unknown outlet {slug!r}: run `mediawatch outlets sync`")
        others = list(s.scalars(select(Outlet.url).where(Outlet.slug != slug)))
        profile = OutletProfile.from_row(row, others)
    return CrawlContext(profile, engine, crawl)


def crawl_context(crawler: Crawler) -> CrawlContext:
    """The context of the outlet spider this crawler runs (NotConfigured for any other)."""
    context = getattr(crawler.spider, "context", None)
    if not isinstance(context, CrawlContext):
        raise NotConfigured("not an outlet crawl")
    return context
