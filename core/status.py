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
    latest_rows,
    read_session,
    utcnow,
)


def outlet_states(engine: Engine) -> dict[str, bool]:
    """Every outlet's slug → enabled."""
    with read_session(engine) as s:
        return dict(s.execute(select(Outlet.slug, Outlet.enabled)).all())


def _last_runs(session: Any) -> dict[int, CrawlRun]:
    return latest_rows(session, CrawlRun, CrawlRun.outlet_id)


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

    runs = latest_rows(session, JobRun, JobRun.job)
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
        outlets = _outlet_health(s, now)
        jobs = _jobs(s, settings, now)
    from core.health import assess

    health = {h.slug: h for h in assess(engine, settings.health, now)}
    for row in outlets:
        h = health.get(row["slug"])
        row["health"] = h.state if h else None  # disabled outlets are not assessed
        row["health_reason"] = h.reason if h else ""
    return {
        "database": engine.url.render_as_string(hide_password=True),
        "now": now,
        "counts": counts,
        "outlets": outlets,
        "jobs": jobs,
        "cluster": cluster_status(engine, settings.cluster.stalled_seconds),
    }


def cluster_status(engine: Engine, stalled_seconds: float) -> dict[str, Any] | None:
    """Distributed mode at a glance, from the task engine's tables: the workers (name, last
    heartbeat, alive, jobs running) and, per outlet, crawls queued / running (and where, since
    when) / failed with the last error; flag and digest jobs likewise. None on SQLite."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        if not conn.execute(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar():
            return None
        workers = [
            {
                "id": row.id,
                "name": row.name,
                "last_heartbeat": row.last_heartbeat,
                "alive": bool(row.alive),
                "running": row.running,
            }
            for row in conn.execute(
                text(
                    "SELECT w.id, w.last_heartbeat, l.holder AS name,"
                    " w.last_heartbeat > now() - make_interval(secs => :s) AS alive,"
                    " (SELECT count(*) FROM procrastinate_jobs j"
                    "   WHERE j.worker_id = w.id AND j.status = 'doing') AS running"
                    " FROM procrastinate_workers w"
                    " LEFT JOIN locks l ON l.name = 'worker:' || w.id::text"
                    " ORDER BY w.id"
                ),
                {"s": stalled_seconds},
            )
        ]
        names = {w["id"]: w["name"] or f"worker {w['id']}" for w in workers}
        jobs: dict[str, dict[str, Any]] = {}
        for row in conn.execute(
            text(
                "SELECT j.id, j.task_name, j.args, j.status::text AS status, j.worker_id,"
                " j.attempts, (SELECT max(e.at) FROM procrastinate_events e"
                "   WHERE e.job_id = j.id AND e.type = 'started') AS started_at"
                " FROM procrastinate_jobs j"
                " WHERE j.status IN ('todo', 'doing')"
                "  OR (j.status IN ('failed', 'aborted') AND j.id IN (SELECT job_id"
                "   FROM procrastinate_events WHERE at > now() - interval '1 day'))"
                " ORDER BY j.id"
            )
        ):
            task = row.task_name.removeprefix("mediawatch.").replace("crawl_outlet", "crawl")
            args = row.args or {}
            key = args.get("slug") or args.get("email") or ""
            name = f"{task}:{key}" if key else task
            entry = jobs.setdefault(
                name,
                {
                    "job": name,
                    "queued": 0,
                    "running": 0,
                    "failed_24h": 0,
                    "running_on": None,
                    "running_since": None,
                },
            )
            if row.status == "todo":
                entry["queued"] += 1
            elif row.status == "doing":
                entry["running"] += 1
                entry["running_on"] = names.get(row.worker_id, "a worker now gone")
                entry["running_since"] = row.started_at
            else:
                entry["failed_24h"] += 1
        last_errors = text(
            "SELECT r.job, r.error FROM job_runs r JOIN ("
            " SELECT job, max(id) AS id FROM job_runs WHERE status = 'failed'"
            " AND error <> '' GROUP BY job) last ON last.id = r.id"
        )
        errors = {str(job): str(error) for job, error in conn.execute(last_errors)}
        for name, entry in jobs.items():
            entry["last_error"] = errors.get(name, "")
    return {
        "workers": workers,
        "workers_alive": sum(1 for w in workers if w["alive"]),
        "jobs": sorted(jobs.values(), key=lambda j: str(j["job"])),
    }
