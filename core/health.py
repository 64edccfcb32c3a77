"""Outlet health, computed from what we store: is each outlet `ok`, `degraded` or `silent`, and why.

The signals, per outlet (``[health]`` tunes every threshold; docs/outlets.md explains them):

* volume: new articles (first appearances) in the last 7 days against the weekly counts of the
  ``baseline_weeks`` before. Below mean − ``volume_sigmas`` σ (the Media Cloud rule), and the
  baseline at least ``min_weekly_articles`` a week: `degraded`;
* silence: the last ``silent_crawls`` finished crawls brought no new article: `silent` (not when
  they met a bot wall: that is a wall, not "no news");
* field shares: the share of last week's new articles with an author, with a date, that are
  op-eds; author or date share at or below ``share_drop`` × its baseline: `degraded` (a redesign
  that dropped the byline markup);
* errors: failed requests / requests of the last crawl above ``error_rate``; the last two crawls
  failed outright (no feed, sitemap or section page could be read): `degraded`;
* stale sources: a feed or sitemap still read by the crawls whose entries have not changed for
  ``stale_source_hours`` while the outlet publishes (new articles last week, or a baseline of at
  least ``min_weekly_articles``): `degraded`;
* bot walls: at least ``bot_wall_min`` answers of the last crawl were 403, 429 or a challenge
  page served with 200 (pipeline.botwall), or every discovery URL was behind one: `degraded`,
  reason "bot wall".

``assess`` computes it all; ``record_changes`` stores a ``health_events`` row when an outlet's
state changed, which `status`, `outlets health` and the admins' mail read.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, exists, func, select
from sqlalchemy.orm import Session

from core.config import HealthConfig
from models import (
    Appearance,
    Article,
    ArticleAuthor,
    CrawlRun,
    HealthEvent,
    Outlet,
    Source,
    in_transaction,
    latest_rows,
    read_session,
    utcnow,
)

OK, DEGRADED, SILENT = "ok", "degraded", "silent"
BOT_WALL_SUFFIXES = ("_http_403", "_http_429", "_bot_wall")


@dataclass
class OutletHealth:
    slug: str
    state: str
    reasons: list[str]
    new_7d: int
    weekly_baseline: float | None  # mean of the baseline weeks
    days_since_new: float | None
    author_share: float | None
    author_share_baseline: float | None
    date_share: float | None
    date_share_baseline: float | None
    opinion_share: float | None
    error_rate: float | None
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    last_error: str = ""
    bot_wall: int = 0
    stale_sources: list[str] = field(default_factory=list)
    since: dt.datetime | None = None  # when the outlet entered this state (recorded changes)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reason": self.reason}


def _share(
    session: Session, outlet_id: int, start: dt.datetime, end: dt.datetime
) -> tuple[int, int, int, int]:
    """(new articles, with an author, with a date, op-eds) first seen on the outlet in [start, end)."""
    has_author = exists().where(ArticleAuthor.article_id == Article.id)
    row = session.execute(
        select(
            func.count(),
            func.count().filter(has_author),
            func.count().filter(Article.published_at.is_not(None)),
            func.count().filter(Article.is_opinion),
        )
        .select_from(Appearance)
        .join(Article, Article.id == Appearance.article_id)
        .where(
            Appearance.outlet_id == outlet_id,
            Appearance.first_seen >= start,
            Appearance.first_seen < end,
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _weekly(session: Session, outlet_id: int, now: dt.datetime, weeks: int) -> list[int]:
    """New articles per 7-day window, the most recent first: [last week, the week before, …]
    (one query: a filtered count per window)."""
    bounds = [now - dt.timedelta(days=7 * w) for w in range(weeks + 2)]
    first_seen = Appearance.first_seen
    row = session.execute(
        select(
            *(
                func.count().filter(first_seen >= bounds[w + 1], first_seen < bounds[w])
                for w in range(weeks + 1)
            )
        ).where(
            Appearance.outlet_id == outlet_id,
            first_seen >= bounds[-1],
            first_seen < now,
        )
    ).one()
    return [int(n) for n in row]


def _assess_one(
    session: Session, outlet: Outlet, cfg: HealthConfig, now: dt.datetime
) -> OutletHealth:
    weeks = _weekly(session, outlet.id, now, cfg.baseline_weeks)
    last_week, baseline = weeks[0], weeks[1:]
    runs = list(
        session.scalars(
            select(CrawlRun)
            .where(CrawlRun.outlet_id == outlet.id, CrawlRun.status != "running")
            .order_by(CrawlRun.id.desc())
            .limit(max(cfg.silent_crawls, 2))
        )
    )
    last_new = session.scalar(
        select(func.max(Appearance.first_seen)).where(Appearance.outlet_id == outlet.id)
    )
    week_ago = now - dt.timedelta(days=7)
    base_start = week_ago - dt.timedelta(days=7 * cfg.baseline_weeks)
    n, authored, dated, opinions = _share(session, outlet.id, week_ago, now)
    bn, b_authored, b_dated, _ = _share(session, outlet.id, base_start, week_ago)
    health = OutletHealth(
        slug=outlet.slug,
        state=OK,
        reasons=[],
        new_7d=last_week,
        weekly_baseline=round(statistics.fmean(baseline), 2) if baseline else None,
        days_since_new=round((now - last_new).total_seconds() / 86400, 1) if last_new else None,
        author_share=_ratio(authored, n),
        author_share_baseline=_ratio(b_authored, bn),
        date_share=_ratio(dated, n),
        date_share_baseline=_ratio(b_dated, bn),
        opinion_share=_ratio(opinions, n),
        error_rate=None,
    )
    degraded: list[str] = []
    if runs:
        last = runs[0]
        errors = {k: int(v) for k, v in (last.errors or {}).items()}
        failed_requests = sum(errors.values())
        requests = failed_requests + last.pages
        health.errors_by_kind = errors
        health.error_rate = _ratio(failed_requests, requests)
        health.last_error = next((r.message for r in runs if r.message), "")
        health.bot_wall = sum(v for k, v in errors.items() if k.endswith(BOT_WALL_SUFFIXES))
        # A wall: many refused or challenged answers, or every discovery URL behind one (the
        # crawl could read no feed, sitemap or section page, and a wall is why).
        walled = health.bot_wall >= cfg.bot_wall_min or (
            health.bot_wall > 0 and last.status == "failed"
        )
        if walled:
            degraded.append(
                f"bot wall: {health.bot_wall} answers refused or challenged (403/429/challenge "
                "page) in the last crawl"
            )
        elif health.error_rate is not None and health.error_rate > cfg.error_rate:
            top = max(errors.items(), key=lambda kv: kv[1])[0] if errors else "?"
            degraded.append(
                f"{failed_requests} of {requests} requests failed in the last crawl (mostly {top})"
            )
        if len(runs) >= 2 and all(r.status == "failed" for r in runs[:2]):
            degraded.append(f"the last 2 crawls failed: {runs[0].message or 'nothing readable'}")
    # Feeds and sitemaps still read by the crawls but listing the same entries for too long,
    # on an outlet that publishes (this week, or in its baseline).
    stale_after = now - dt.timedelta(hours=cfg.stale_source_hours)
    publishes = last_week > 0 or (
        bool(baseline) and statistics.fmean(baseline) >= cfg.min_weekly_articles
    )
    for src in session.scalars(
        select(Source).where(
            Source.outlet_id == outlet.id,
            Source.last_checked_at >= stale_after,
            Source.last_changed_at < stale_after,
        )
    ):
        days = (now - src.last_changed_at).total_seconds() / 86400
        health.stale_sources.append(src.url)
        if publishes:
            degraded.append(
                f"{src.kind} {src.url} has listed the same {src.entries} entries for "
                f"{days:.1f} days while the outlet publishes"
            )
    # Volume: the Media Cloud rule, on outlets with a meaningful baseline.
    if len(baseline) >= 2 and statistics.fmean(baseline) >= cfg.min_weekly_articles:
        mean, sd = statistics.fmean(baseline), statistics.pstdev(baseline)
        floor = mean - cfg.volume_sigmas * sd
        if last_week < floor:
            degraded.append(
                f"volume: {last_week} new articles last week, below the "
                f"{cfg.baseline_weeks}-week baseline {mean:.1f} − {cfg.volume_sigmas}σ = {floor:.1f}"
            )
    # Field shares: a redesign that lost the byline or the date markup.
    for name, now_share, base_share in (
        ("author", health.author_share, health.author_share_baseline),
        ("date", health.date_share, health.date_share_baseline),
    ):
        if (
            now_share is not None
            and base_share
            and n >= cfg.min_articles_for_share
            and bn >= cfg.min_articles_for_share
            and now_share <= cfg.share_drop * base_share
        ):
            degraded.append(
                f"{name} share fell to {now_share:.0%} of new articles (baseline {base_share:.0%})"
            )
    quiet = runs[: cfg.silent_crawls]
    walled = any(r.startswith("bot wall") for r in degraded)
    if (
        len(quiet) >= cfg.silent_crawls
        and all(r.new == 0 and r.updated == 0 and r.duplicates == 0 for r in quiet)
        and not walled
    ):
        since = f"last new article {health.days_since_new} days ago" if last_new else "never any"
        health.state = SILENT
        health.reasons = [f"no new article in the last {len(quiet)} crawls ({since})", *degraded]
    elif degraded:
        health.state = DEGRADED
        health.reasons = degraded
    return health


def assess(engine: Engine, cfg: HealthConfig, now: dt.datetime | None = None) -> list[OutletHealth]:
    """Every enabled outlet's health now, with the time it entered that state when recorded."""
    now = now or utcnow()
    with read_session(engine) as s:
        outlets = list(s.scalars(select(Outlet).where(Outlet.enabled).order_by(Outlet.slug)))
        result = [_assess_one(s, o, cfg, now) for o in outlets]
        current = _current_events(s)
        ids = {o.slug: o.id for o in outlets}
        for h in result:
            event = current.get(ids[h.slug])
            if event is not None and event.state == h.state:
                h.since = event.at
        return result


def _current_events(session: Session) -> dict[int, HealthEvent]:
    return latest_rows(session, HealthEvent, HealthEvent.outlet_id)


def record_changes(
    engine: Engine, cfg: HealthConfig, now: dt.datetime | None = None
) -> list[OutletHealth]:
    """Assess every outlet and store a ``health_events`` row for each whose state changed (an
    outlet seen for the first time counts as a change only when it is not ok). One transaction.
    Returns the outlets that changed."""
    now = now or utcnow()
    states = assess(engine, cfg, now)

    def work(session: Session) -> list[OutletHealth]:
        current = _current_events(session)
        ids = {s: i for s, i in session.execute(select(Outlet.slug, Outlet.id))}
        changed = []
        for h in states:
            before = current.get(ids[h.slug])
            previous = before.state if before is not None else OK
            if previous == h.state and (before is not None or h.state == OK):
                continue
            session.add(
                HealthEvent(
                    outlet_id=ids[h.slug], state=h.state, previous=previous, reason=h.reason, at=now
                )
            )
            h.since = now
            changed.append(h)
        return changed

    return in_transaction(engine, work, what="record outlet health")


def undelivered_events(session: Session, email: str) -> list[HealthEvent]:
    """Health changes not yet mailed to this admin, oldest first."""
    from models import HealthDelivery

    delivered = exists().where(
        and_(HealthDelivery.email == email, HealthDelivery.event_id == HealthEvent.id)
    )
    return list(session.scalars(select(HealthEvent).where(~delivered).order_by(HealthEvent.id)))
