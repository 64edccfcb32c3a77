"""Analysts' search: full-text (SQLite FTS5 / PostgreSQL tsvector) combined with filters.

Every piece of user text reaches the database as a bound parameter. For FTS5, whose query
language would otherwise interpret quotes, ``NEAR`` or ``*``, the text is first turned into a
list of quoted terms and phrases.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Float, Integer, and_, func, literal_column, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from core.readmodel import load_articles
from core.textquery import TextQuery, TextQueryError
from models import (
    Appearance,
    Article,
    ArticleAuthor,
    Author,
    Mention,
    Outlet,
    WatchAlias,
    WatchEntity,
    read_session,
    utcnow,
)
from pipeline.textnorm import author_key, lookup_key

CSV_COLUMNS = [
    "id",
    "published_at",
    "outlet",
    "title",
    "authors",
    "entities",
    "is_opinion",
    "language",
    "url",
    "appearances",
]


def csv_row(row: dict[str, Any]) -> list[Any]:
    """A search row (the JSON shape) as the CSV_COLUMNS (lists joined by "; ")."""
    return [
        row["id"],
        row["published_at"] or "",
        row["outlet"],
        row["title"],
        "; ".join(row["authors"]),
        "; ".join(row["entities"]),
        int(row["is_opinion"]),
        row["language"],
        row["url"],
        " ".join(f"{a['outlet']}:{a['url']}" for a in row["appearances"]),
    ]


PG_DOCUMENT = "articles.search_vector"  # a stored generated tsvector column (migration 0002)


class QueryError(ValueError):
    pass


def parse_when(
    value: str | None, *, end_of_day: bool = False, now: dt.datetime | None = None
) -> dt.datetime | None:
    """ISO date/datetime, or relative: ``7d``, ``12h``, ``2w``, ``today``, ``yesterday``."""
    if not value:
        return None
    try:
        when = _parse_when(value, end_of_day=end_of_day, now=now or utcnow())
    except (OverflowError, OSError):
        when = None
    if when is None or not (EARLIEST <= when <= LATEST):
        raise QueryError(
            f"date out of range: {value!r} (between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d})"
        )
    return when


EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def _parse_when(value: str, *, end_of_day: bool, now: dt.datetime) -> dt.datetime | None:
    v = value.strip().lower()
    m = re.fullmatch(r"(\d+)\s*([hdwm])", v)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {
            "h": dt.timedelta(hours=n),
            "d": dt.timedelta(days=n),
            "w": dt.timedelta(weeks=n),
            "m": dt.timedelta(days=30 * n),
        }[unit]
        return now - delta
    if v in ("today", "yesterday"):
        day = now.date() - dt.timedelta(days=1 if v == "yesterday" else 0)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        return start + dt.timedelta(days=1) if end_of_day else start
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            d = dt.date.fromisoformat(v)
            start = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
            return start + dt.timedelta(days=1) if end_of_day else start
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(
            f"not a date: {value!r} (use 2024-03-05, 2024-03-05T10:00, 7d, 12h, 2w, today)"
        ) from None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _clean(value: str | None) -> str:
    """User text without control characters (PostgreSQL refuses NUL in text parameters)."""
    return "".join(ch for ch in (value or "") if ch.isprintable() or ch == " ").strip()


def fts5_query(user_text: str) -> str:
    """User text → an FTS5 MATCH expression (see core.textquery for the syntax)."""
    return TextQuery.parse(user_text).fts5()


@dataclass
class Query:
    text: str = ""
    actors: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)
    author: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    opinion: bool | None = None
    language: str | None = None
    limit: int = 50
    offset: int = 0  # for pages: skip this many

    @classmethod
    def build(
        cls,
        *,
        text: str = "",
        actors: Any = (),
        places: Any = (),
        outlets: Any = (),
        author: str | None = None,
        since: str | None = None,
        until: str | None = None,
        opinion: bool | None = None,
        language: str | None = None,
        limit: int = 50,
    ) -> Query:
        q = cls(
            text=_clean(text),
            actors=[_clean(a) for a in actors],
            places=[_clean(p) for p in places],
            outlets=[_clean(o).lower() for o in outlets],  # slugs are lower case
            author=_clean(author) or None,
            since=parse_when(since),
            until=parse_when(until, end_of_day=True),
            opinion=opinion or None,
            language=_clean(language).lower() or None,
            limit=limit,
        )
        if q.since and q.until and q.since > q.until:
            raise QueryError("--since is after --until")
        try:
            TextQuery.parse(q.text)
        except TextQueryError as exc:
            raise QueryError(str(exc)) from None
        return q


@dataclass
class SearchOutcome:
    rows: list[dict[str, Any]]
    total: int  # all matches, of which ``rows`` are the first ``limit``
    warnings: list[str] = field(default_factory=list)  # unknown names, with the closest known


def entity_ids(session: Any, name: str, kind: str) -> set[int]:
    """Entities of this kind whose name or any alias is ``name``, compared by lookup key (case
    in every script, diacritics, Arabic letter variants: the same on both dialects)."""
    key = lookup_key(name)
    by_name = select(WatchEntity.id).where(WatchEntity.kind == kind, WatchEntity.key == key)
    by_alias = (
        select(WatchEntity.id)
        .join(WatchAlias, WatchAlias.entity_id == WatchEntity.id)
        .where(WatchEntity.kind == kind, WatchAlias.key == key)
    )
    return set(session.scalars(by_name.union(by_alias)))


def closest(name: str, known: list[str], n: int = 3) -> str:
    """ " (closest: A, B)" for a warning, or "" when nothing is close."""
    by_key = {lookup_key(k): k for k in known}
    near = difflib.get_close_matches(lookup_key(name), list(by_key), n=n, cutoff=0.5)
    return f" (closest: {', '.join(by_key[k] for k in near)})" if near else ""


def unknown_names(session: Any, q: Query, groups: list[set[int]]) -> list[str]:
    """A warning for every filter value that names nothing we know (``groups``: the entity ids
    each actor, then each place, resolved to)."""
    warnings = []
    named = [("actor", a) for a in q.actors] + [("place", p) for p in q.places]
    for (kind, name), ids in zip(named, groups, strict=True):
        if not ids:
            known = list(session.scalars(select(WatchEntity.name).where(WatchEntity.kind == kind)))
            warnings.append(f"no tracked {kind} is named {name!r}{closest(name, known)}")
    slugs = list(session.scalars(select(Outlet.slug))) if q.outlets else []
    for slug in q.outlets:
        if slug not in slugs:
            warnings.append(f"no outlet {slug!r}{closest(slug, slugs)}")
    if q.author and session.scalar(select(func.count()).where(_author_filter(q.author))) == 0:
        names = list(session.scalars(select(Author.name).limit(5000)))
        warnings.append(f"no author matches {q.author!r}{closest(q.author, names)}")
    return warnings


def _author_filter(name: str) -> ColumnElement[bool]:
    key = author_key(name)
    pattern = "%" + key.replace("%", "").replace("_", "") + "%"
    return or_(Author.key == key, Author.key.like(pattern))


RANK_WINDOW = 1000  # text matches are ranked among the most recent this many


def run_search(engine: Engine, q: Query) -> list[dict[str, Any]]:
    """Article rows for the query (see :func:`search`)."""
    return search(engine, q, count=False).rows


def search(engine: Engine, q: Query, *, count: bool = True) -> SearchOutcome:
    """Article rows for the query, how many matched in all, and warnings for names that match
    nothing. With TEXT: the most relevant among the RANK_WINDOW most recent matches (a monitoring
    archive is read newest first; this bounds the cost of ranking a common word over a large
    archive). Without: newest first."""
    dialect = engine.dialect.name
    when = func.coalesce(Article.published_at, Article.first_seen)
    conds: list[ColumnElement[bool]] = []
    with read_session(engine) as s:
        groups = [entity_ids(s, a, "actor") for a in q.actors] + [
            entity_ids(s, p, "place") for p in q.places
        ]
        warnings = unknown_names(s, q, groups) if count else []
    if any(not g for g in groups):
        # A name that is no tracked entity of that kind matches nothing.
        return SearchOutcome([], 0, warnings)
    for group in groups:
        conds.append(Article.id.in_(select(Mention.article_id).where(Mention.entity_id.in_(group))))
    if q.outlets:
        conds.append(
            Article.id.in_(
                select(Appearance.article_id)
                .join(Outlet, Outlet.id == Appearance.outlet_id)
                .where(Outlet.slug.in_(q.outlets))
            )
        )
    if q.author:
        conds.append(
            Article.id.in_(
                select(ArticleAuthor.article_id)
                .join(Author, Author.id == ArticleAuthor.author_id)
                .where(_author_filter(q.author))
            )
        )
    if q.since:
        conds.append(when >= q.since)
    if q.until:
        conds.append(when < q.until)
    if q.opinion:
        conds.append(Article.is_opinion.is_(True))
    if q.language:
        conds.append(Article.language == q.language)
    text_query = TextQuery.parse(q.text)
    if not text_query:
        matches = select(Article.id.label("id"), when.label("at")).where(and_(True, *conds))
        stmt = select(Article.id).where(and_(True, *conds)).order_by(when.desc(), Article.id.desc())
        stmt = stmt.limit(q.limit).offset(q.offset)
    else:
        if dialect == "sqlite":
            fts = (
                text(
                    "SELECT rowid AS id, bm25(articles_fts, 10.0, 3.0, 1.0) AS rank FROM articles_fts WHERE articles_fts MATCH :match"
                )
                .bindparams(match=text_query.fts5())
                .columns(id=Integer, rank=Float)
                .subquery("fts")
            )
            # bm25: lower is better; negate so that both dialects sort "higher is better".
            inner = select(
                Article.id.label("id"), (-fts.c.rank).label("score"), when.label("at")
            ).join(fts, fts.c.id == Article.id)
        else:
            tsq = func.to_tsquery(literal_column("'simple'::regconfig"), text_query.tsquery())
            doc: ColumnElement[Any] = literal_column(PG_DOCUMENT)
            inner = select(
                Article.id.label("id"), func.ts_rank(doc, tsq).label("score"), when.label("at")
            ).where(doc.op("@@")(tsq))
        matches = inner.where(and_(True, *conds))
        window = (
            matches.order_by(when.desc(), Article.id.desc()).limit(RANK_WINDOW).subquery("recent")
        )
        stmt = (
            select(window.c.id)
            .order_by(window.c.score.desc(), window.c.at.desc(), window.c.id.desc())
            .limit(q.limit)
            .offset(q.offset)
        )
    with read_session(engine) as s:
        ids = list(s.scalars(stmt))
        total = q.offset + len(ids)
        if count and (len(ids) == q.limit or (q.offset and not ids)):
            total = s.scalar(select(func.count()).select_from(matches.subquery())) or total
        return SearchOutcome(describe(s, ids), total, warnings)


def describe(session: Any, ids: list[int]) -> list[dict[str, Any]]:
    """The contract row for each article id (DESIGN.md: search --format json), in order."""
    return [view.contract() for view in load_articles(session, ids)]


def article_detail(engine: Engine, article_id: int) -> dict[str, Any] | None:
    """`mediawatch show ID --format json`: the search row, with the text, every appearance
    (original marked) and every mention."""
    with read_session(engine) as s:
        views = load_articles(s, [article_id], with_text=True)
    if not views:
        return None
    view = views[0]
    return {
        **view.contract(),
        "lead": view.lead,
        "modified_at": view.modified_at,
        "first_seen": view.first_seen,
        "opinion_reason": view.opinion_reason,
        "text": view.text,
        "appearances": [
            {
                "outlet": a.outlet,
                "url": a.url,
                "first_seen": a.first_seen,
                "published_at": a.published_at,
                "is_original": a.is_original,
            }
            for a in view.appearances
        ],
        "mentions": [
            {
                "entity": m.entity,
                "kind": m.kind,
                "count": m.count,
                "in_title": m.in_title,
                "snippet": m.snippet,
            }
            for m in view.mentions
        ],
    }
