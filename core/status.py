"""`mediawatch status` and `outlets list`: what ran, what is due, how healthy each outlet is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, and_, exists, func, select

from core.config import Settings
from models import (
    Appearance,
    Article,
    ArticleAuthor,
    Author,
    Base,
    CrawlRun,
    Delivery,
    JobRun,
    Mention,
    Outlet,
    read_session,
    utcnow,
)


def outlet_states(engine: Engine) -> dict[str, bool]:
    """Every outlet's slug → enabled."""
    with read_session(engine) as s:
        return dict(s.execute(select(Outlet.slug, Outlet.enabled)).all())


def _last_runs(session: Any) -> dict[int, CrawlRun]:
    latest = (
        select(CrawlRun.outlet_id, func.max(CrawlRun.id).label("id"))
        .group_by(CrawlRun.outlet_id)
        .subquery()
    )
    runs = session.scalars(select(CrawlRun).join(latest, CrawlRun.id == latest.c.id))
    return {r.outlet_id: r for r in runs}


def outlet_rows(engine: Engine) -> list[dict[str, Any]]:
    with read_session(engine) as s:
        counts = dict(
            s.execute(
                select(Appearance.outlet_id, func.count()).group_by(Appearance.outlet_id)
            ).all()
        )
        last = _last_runs(s)
        rows = []
        for o in s.scalars(select(Outlet).order_by(Outlet.slug)):
            run = last.get(o.id)
            rows.append(
                {
                    "slug": o.slug,
                    "name": o.name,
                    "url": o.url,
                    "language": o.language,
                    "enabled": o.enabled,
                    "feeds": o.feeds,
                    "sitemaps": o.sitemaps,
                    "sections": o.sections,
                    "interval_minutes": o.interval_minutes,
                    "articles": counts.get(o.id, 0),
                    "last_crawl_status": run.status if run else None,
                    "last_crawl_at": run.started_at.isoformat(timespec="seconds") if run else None,
                }
            )
        return rows


def _outlet_health(session: Any, now: dt.datetime) -> list[dict[str, Any]]:
    ok_runs = dict(
        session.execute(
            select(CrawlRun.outlet_id, func.max(CrawlRun.finished_at))
            .where(CrawlRun.status == "ok")
            .group_by(CrawlRun.outlet_id)
        ).all()
    )
    last = _last_runs(session)
    has_author = exists().where(ArticleAuthor.article_id == Article.id)
    out = []
    for o in session.scalars(select(Outlet).order_by(Outlet.slug)):
        base = select(func.count()).select_from(Appearance).where(Appearance.outlet_id == o.id)
        total = session.scalar(base) or 0
        new_24h = (
            session.scalar(base.where(Appearance.first_seen >= now - dt.timedelta(days=1))) or 0
        )
        new_7d = (
            session.scalar(base.where(Appearance.first_seen >= now - dt.timedelta(days=7))) or 0
        )
        joined = base.join(Article, Article.id == Appearance.article_id)
        no_author = session.scalar(joined.where(~has_author)) or 0
        no_date = session.scalar(joined.where(Article.published_at.is_(None))) or 0
        run = last.get(o.id)
        out.append(
            {
                "slug": o.slug,
                "enabled": o.enabled,
                "articles": total,
                "new_24h": new_24h,
                "new_7d": new_7d,
                "missing_author": round(no_author / total, 3) if total else None,
                "missing_date": round(no_date / total, 3) if total else None,
                "last_ok_crawl": ok_runs.get(o.id),
                "last_run": {
                    "status": run.status,
                    "started_at": run.started_at,
                    "pages": run.pages,
                    "new": run.new,
                    "errors": sum(run.errors.values()) if run.errors else 0,
                    "errors_by_kind": dict(run.errors or {}),
                    "dropped": dict(run.dropped or {}),
                    "skipped_known": run.skipped_known,
                }
                if run
                else None,
                "next_crawl": _next_crawl(o, run, now),
            }
        )
    return out


def _next_crawl(outlet: Outlet, run: CrawlRun | None, now: dt.datetime) -> dt.datetime | None:
    if not outlet.enabled:
        return None
    if run is None:
        return now
    return max(now, run.started_at + dt.timedelta(minutes=outlet.interval_minutes))


def _jobs(session: Any, settings: Settings, now: dt.datetime) -> list[dict[str, Any]]:
    from apscheduler.triggers.cron import CronTrigger

    latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    runs = {
        r.job: r for r in session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id))
    }
    jobs = []
    flag_run = runs.get("flag")
    flag_next = (
        now
        if flag_run is None
        else max(now, flag_run.started_at + dt.timedelta(minutes=settings.flag.interval_minutes))
    )
    jobs.append(_job_row("flag", flag_run, flag_next))
    for sub in settings.subscribers:
        if not sub.enabled:
            continue
        trig = CronTrigger.from_crontab(sub.schedule, timezone=sub.timezone)
        nxt = trig.get_next_fire_time(None, now)
        name = f"digest:{sub.email}"
        jobs.append(_job_row(name, runs.get(name), nxt))
    for name, r in sorted(runs.items()):
        if name != "flag" and not any(j["job"] == name for j in jobs):
            jobs.append(_job_row(name, r, None))
    return jobs


def _job_row(name: str, run: JobRun | None, nxt: dt.datetime | None) -> dict[str, Any]:
    return {
        "job": name,
        "last_status": run.status if run else None,
        "last_started_at": run.started_at if run else None,
        "last_counts": run.counts if run else {},
        "last_error": run.error if run else "",
        "next_run": nxt,
    }


def collect_status(engine: Engine, settings: Settings) -> dict[str, Any]:
    now = utcnow()
    with read_session(engine) as s:
        counts = {
            t.name: s.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
            if t.name
            in {
                "articles",
                "appearances",
                "urls",
                "authors",
                "mentions",
                "watch_entities",
                "subscribers",
                "deliveries",
                "crawl_runs",
                "job_runs",
                "outlets",
            }
        }
        counts["articles_unflagged"] = (
            s.scalar(select(func.count()).select_from(Article).where(Article.flagged_at.is_(None)))
            or 0
        )
        counts["organisation_authors"] = (
            s.scalar(select(func.count()).select_from(Author).where(Author.is_organization)) or 0
        )
        counts["articles_with_mentions"] = (
            s.scalar(select(func.count(func.distinct(Mention.article_id)))) or 0
        )
        counts["deliveries_24h"] = (
            s.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(and_(Delivery.sent_at >= now - dt.timedelta(days=1)))
            )
            or 0
        )
        return {
            "database": engine.url.render_as_string(hide_password=True),
            "now": now,
            "counts": counts,
            "outlets": _outlet_health(s, now),
            "jobs": _jobs(s, settings, now),
        }
