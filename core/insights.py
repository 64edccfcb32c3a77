"""What the analysts' pages show about one entity, outlet or author: counts over time, top
outlets and authors, shares, the latest articles. Plain data; the web view draws it."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.readmodel import ArticleView, load_articles
from models import (
    Appearance,
    Article,
    ArticleAuthor,
    Author,
    CrawlRun,
    Mention,
    Outlet,
    WatchAlias,
    WatchEntity,
    read_session,
    utcnow,
)

LATEST = 15
TOP = 8


@dataclass
class Series:
    """Counts per time bucket, split by a label (an outlet): what a stacked chart draws."""

    unit: str  # "day" | "week" | "month"
    buckets: list[dt.date] = field(default_factory=list)
    by_label: dict[str, list[int]] = field(default_factory=dict)


def bucket_of(when: dt.datetime, unit: str) -> dt.date:
    d = when.date()
    if unit == "week":
        return d - dt.timedelta(days=d.weekday())
    if unit == "month":
        return d.replace(day=1)
    return d


def series(points: list[tuple[dt.datetime, str]], *, max_labels: int = 6) -> Series:
    """Bucket (time, label) points by day, week or month — whichever gives a readable chart —
    keeping the most frequent labels and folding the rest into "other"."""
    if not points:
        return Series("day")
    first, last = min(p[0] for p in points), max(p[0] for p in points)
    span = (last - first).days
    unit = "day" if span <= 62 else "week" if span <= 430 else "month"
    top = [label for label, _ in Counter(label for _, label in points).most_common(max_labels)]
    counts: dict[str, Counter[dt.date]] = defaultdict(Counter)
    for when, label in points:
        counts[label if label in top else "other"][bucket_of(when, unit)] += 1
    buckets = []
    b = bucket_of(first, unit)
    end = bucket_of(last, unit)
    while b <= end:
        buckets.append(b)
        if unit == "day":
            b += dt.timedelta(days=1)
        elif unit == "week":
            b += dt.timedelta(days=7)
        else:
            b = (b.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    labels = [*top, *(["other"] if "other" in counts else [])]
    return Series(unit, buckets, {lb: [counts[lb][x] for x in buckets] for lb in labels})


WHEN = func.coalesce(Article.published_at, Article.first_seen)


def _points(session: Session, article_filter: Any) -> list[Any]:
    """(article id, date, original outlet's slug) of the matching articles."""
    q = (
        select(Article.id, WHEN, Outlet.slug)
        .join(Appearance, Appearance.id == Article.original_appearance_id)
        .join(Outlet, Outlet.id == Appearance.outlet_id)
        .where(article_filter)
    )
    return list(session.execute(q))


def _latest(session: Session, article_filter: Any) -> list[ArticleView]:
    ids = list(
        session.scalars(
            select(Article.id)
            .where(article_filter)
            .order_by(WHEN.desc(), Article.id.desc())
            .limit(LATEST)
        )
    )
    return load_articles(session, ids)


def _top_authors(session: Session, article_ids: Any) -> list[tuple[int, str, int]]:
    return [
        (aid, name, n)
        for aid, name, n in session.execute(
            select(Author.id, Author.name, func.count())
            .join(ArticleAuthor, ArticleAuthor.author_id == Author.id)
            .where(ArticleAuthor.article_id.in_(article_ids))
            .group_by(Author.id, Author.name)
            .order_by(func.count().desc(), Author.name)
            .limit(TOP)
        )
    ]


@dataclass
class EntityOverview:
    id: int
    name: str
    kind: str
    wikidata: str
    aliases: list[tuple[str, str]]  # (text, language)
    articles: int
    opinion_share: float | None
    timeline: Series
    top_outlets: list[tuple[str, int]]
    top_authors: list[tuple[int, str, int]]
    co_mentioned: list[tuple[int, str, str, int]]
    latest: list[ArticleView]


def entity_overview(engine: Engine, entity_id: int) -> EntityOverview | None:
    with read_session(engine) as s:
        entity = s.get(WatchEntity, entity_id)
        if entity is None:
            return None
        mentioned = select(Mention.article_id).where(Mention.entity_id == entity_id)
        in_entity = Article.id.in_(mentioned)
        points = _points(s, in_entity)
        total = (
            s.scalar(
                select(func.count()).select_from(Mention).where(Mention.entity_id == entity_id)
            )
            or 0
        )
        opinion = s.scalar(select(func.count()).where(in_entity, Article.is_opinion)) or 0
        co = list(
            s.execute(
                select(WatchEntity.id, WatchEntity.name, WatchEntity.kind, func.count())
                .join(Mention, Mention.entity_id == WatchEntity.id)
                .where(Mention.article_id.in_(mentioned), WatchEntity.id != entity_id)
                .group_by(WatchEntity.id, WatchEntity.name, WatchEntity.kind)
                .order_by(func.count().desc(), WatchEntity.name)
                .limit(TOP)
            )
        )
        return EntityOverview(
            id=entity.id,
            name=entity.name,
            kind=entity.kind,
            wikidata=entity.wikidata_id,
            aliases=[
                (a.text, a.language)
                for a in s.scalars(select(WatchAlias).where(WatchAlias.entity_id == entity_id))
            ],
            articles=total,
            opinion_share=(opinion / total) if total else None,
            timeline=series([(when, slug) for _, when, slug in points]),
            top_outlets=Counter(slug for _, _, slug in points).most_common(TOP),
            top_authors=_top_authors(s, mentioned),
            co_mentioned=[(i, n, k, c) for i, n, k, c in co],
            latest=_latest(s, in_entity),
        )


@dataclass
class OutletOverview:
    slug: str
    name: str
    url: str
    enabled: bool
    articles: int
    with_author: float | None
    with_date: float | None
    last_success: dt.datetime | None
    timeline: Series
    runs: list[dict[str, Any]]
    latest: list[ArticleView]


def outlet_overview(engine: Engine, slug: str, days: int = 60) -> OutletOverview | None:
    with read_session(engine) as s:
        outlet = s.scalar(select(Outlet).where(Outlet.slug == slug))
        if outlet is None:
            return None
        appeared = select(Appearance.article_id).where(Appearance.outlet_id == outlet.id)
        on_outlet = Article.id.in_(appeared)
        total = (
            s.scalar(
                select(func.count())
                .select_from(Appearance)
                .where(Appearance.outlet_id == outlet.id)
            )
            or 0
        )
        with_author = (
            s.scalar(
                select(func.count(func.distinct(ArticleAuthor.article_id))).where(
                    ArticleAuthor.article_id.in_(appeared)
                )
            )
            or 0
        )
        with_date = (
            s.scalar(select(func.count()).where(on_outlet, Article.published_at.is_not(None))) or 0
        )
        since = utcnow() - dt.timedelta(days=days)
        firsts = s.execute(
            select(Appearance.first_seen).where(
                Appearance.outlet_id == outlet.id, Appearance.first_seen >= since
            )
        ).scalars()
        runs = [
            {
                "started_at": r.started_at,
                "status": r.status,
                "pages": r.pages,
                "new": r.new,
                "duplicates": r.duplicates,
                "errors": dict(r.errors or {}),
                "dropped": dict(r.dropped or {}),
            }
            for r in s.scalars(
                select(CrawlRun)
                .where(CrawlRun.outlet_id == outlet.id)
                .order_by(CrawlRun.id.desc())
                .limit(20)
            )
        ]
        last_success = s.scalar(
            select(func.max(CrawlRun.finished_at)).where(
                CrawlRun.outlet_id == outlet.id, CrawlRun.status == "ok"
            )
        )
        return OutletOverview(
            slug=outlet.slug,
            name=outlet.name,
            url=outlet.url,
            enabled=outlet.enabled,
            articles=total,
            with_author=with_author / total if total else None,
            with_date=with_date / total if total else None,
            last_success=last_success,
            timeline=series([(when, "new articles") for when in firsts]),
            runs=runs,
            latest=_latest(s, on_outlet),
        )


@dataclass
class AuthorOverview:
    id: int
    name: str
    is_organization: bool
    bio: str
    articles: int
    timeline: Series
    outlets: list[tuple[str, int]]
    latest: list[ArticleView]


def author_overview(engine: Engine, author_id: int) -> AuthorOverview | None:
    with read_session(engine) as s:
        author = s.get(Author, author_id)
        if author is None:
            return None
        written = select(ArticleAuthor.article_id).where(ArticleAuthor.author_id == author_id)
        by_author = Article.id.in_(written)
        points = _points(s, by_author)
        return AuthorOverview(
            id=author.id,
            name=author.name,
            is_organization=author.is_organization,
            bio=author.bio or "",
            articles=len(points),
            timeline=series([(when, slug) for _, when, slug in points]),
            outlets=Counter(slug for _, _, slug in points).most_common(TOP),
            latest=_latest(s, by_author),
        )
