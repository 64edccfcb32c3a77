"""The background service: crawls, flagging and digests on their schedules (APScheduler 3).

``python scheduler.py [--config FILE]`` is the same as ``mediawatch run``.

* a crawl per enabled outlet every ``interval_minutes`` (with jitter), in its own OS process,
  killed and recorded as failed past ``[crawl].timeout_minutes``; flagging follows each crawl;
* flagging every ``[flag].interval_minutes``;
* each subscriber's digest on its cron, in its time zone;
* outlet health every ``[health].interval_minutes`` (changes mailed to ``[alerts].admins``).

On start the config is re-synced and whatever is overdue runs at once (an outlet never crawled,
or last crawled longer ago than its interval). One scheduler per database (a lease in ``locks``,
renewed every 30 s). SIGINT/SIGTERM stop it cleanly: running crawl processes are terminated and
their runs recorded.

Distributed mode (`mediawatch run --distributed` or ``[cluster] enabled``, PostgreSQL): the same
timetable enqueues the jobs for `mediawatch worker` processes on any machine (an ``Enqueuer``,
mediawatch.cluster) instead of running them; a second enqueuer waits in standby for the lease.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from alerts.health import run_health
from alerts.run import run_digests
from core.app import App
from core.crawl import CrawlProcess, crawl_recorded, stored_something
from core.jobs import run_flag
from core.sync import sync_config
from models import CrawlRun, Outlet, read_session, utcnow
from models.locks import acquire, holder_of, release

log = logging.getLogger("mediawatch.scheduler")
LEASE = dt.timedelta(seconds=90)
HEARTBEAT_SECONDS = 30

# Jobs get plain arguments (the config path); the App is built once per process.
_apps: dict[str, App] = {}
_running: set[CrawlProcess] = set()
_running_lock = threading.Lock()
_flag_lock = threading.Lock()
_stopping = threading.Event()


def _app(config: str) -> App:
    if config not in _apps:
        _apps[config] = App(config)
    return _apps[config]


def crawl_job(config: str, slug: str) -> None:
    """Crawl one outlet in a subprocess, then flag what it brought."""
    app = _app(config)
    if _stopping.is_set():
        return

    def started(proc: CrawlProcess) -> None:
        with _running_lock:
            _running.add(proc)

    def ended(proc: CrawlProcess) -> None:
        with _running_lock:
            _running.discard(proc)

    result = crawl_recorded(app, slug, started=started, ended=ended)
    if stored_something(result):
        flag_job(config)


def flag_job(config: str) -> None:
    if _stopping.is_set():
        return
    with _flag_lock:
        run_flag(_app(config))


def digest_job(config: str, email: str) -> None:
    if _stopping.is_set():
        return
    result = run_digests(_app(config), only=email)
    for line in result.lines:
        log.info(line)


class Enqueuer(Protocol):
    """Distributed mode: the timetable's jobs are deferred to the task engine for the workers
    (mediawatch.cluster.Cluster, handed in by `mediawatch run --distributed`), not run here."""

    def defer_crawl(self, slug: str) -> Any: ...
    def defer_flag(self) -> Any: ...
    def defer_digest(self, email: str) -> Any: ...
    def defer_health(self) -> Any: ...


def enqueue_job(defer: Callable[..., Any], *args: str) -> None:
    if not _stopping.is_set():
        log.info(defer(*args).describe())


def health_job(config: str) -> None:
    if _stopping.is_set():
        return
    result = run_health(_app(config))
    for line in result.lines:
        log.info(line)


def heartbeat_job(config: str, holder: str) -> None:
    if not acquire(_app(config).engine, "scheduler", holder, LEASE):
        log.error("lost the scheduler lease to another process: stopping")
        os.kill(os.getpid(), signal.SIGTERM)


def _last_crawls(app: App) -> dict[str, dt.datetime]:
    with read_session(app.engine) as s:
        return dict(
            s.execute(
                select(Outlet.slug, func.max(CrawlRun.started_at))
                .join(CrawlRun, CrawlRun.outlet_id == Outlet.id)
                .group_by(Outlet.slug)
            ).all()
        )


def build_scheduler(
    app: App, holder: str, *, enqueuer: Enqueuer | None = None
) -> BlockingScheduler:
    config = str(app.config_path.resolve())
    settings = app.settings
    crawl: Callable[..., None] = crawl_job
    flag: Callable[..., None] = flag_job
    digest: Callable[..., None] = digest_job
    health: Callable[..., None] = health_job
    if enqueuer is not None:
        crawl = lambda _config, slug: enqueue_job(enqueuer.defer_crawl, slug)  # noqa: E731
        flag = lambda _config: enqueue_job(enqueuer.defer_flag)  # noqa: E731
        digest = lambda _config, email: enqueue_job(enqueuer.defer_digest, email)  # noqa: E731
        health = lambda _config: enqueue_job(enqueuer.defer_health)  # noqa: E731
    sched = BlockingScheduler(
        timezone=dt.UTC,
        executors={"default": ThreadPoolExecutor(max_workers=settings.crawl.parallel_outlets + 3)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
    )
    now = utcnow()
    last = _last_crawls(app)
    with read_session(app.engine) as s:
        outlets = list(
            s.execute(select(Outlet.slug, Outlet.interval_minutes).where(Outlet.enabled))
        )
    for slug, interval in outlets:
        every = dt.timedelta(minutes=interval)
        due = last.get(slug)
        first = now if due is None or due + every <= now else due + every
        sched.add_job(
            crawl,
            IntervalTrigger(
                seconds=every.total_seconds(), jitter=int(min(120, every.total_seconds() * 0.1))
            ),
            args=[config, slug],
            id=f"crawl:{slug}",
            name=f"crawl {slug}",
            next_run_time=first,
            replace_existing=True,
        )
    sched.add_job(
        flag,
        IntervalTrigger(seconds=settings.flag.interval_minutes * 60),
        args=[config],
        id="flag",
        name="flag",
        next_run_time=now,
        replace_existing=True,
    )
    sched.add_job(
        health,
        IntervalTrigger(seconds=settings.health.interval_minutes * 60),
        args=[config],
        id="health",
        name="outlet health",
        next_run_time=now + dt.timedelta(minutes=1),
        replace_existing=True,
    )
    for sub in settings.subscribers:
        if sub.enabled:
            sched.add_job(
                digest,
                CronTrigger.from_crontab(sub.schedule, timezone=sub.timezone),
                args=[config, sub.email],
                id=f"digest:{sub.email}",
                name=f"digest {sub.email}",
                replace_existing=True,
            )
    sched.add_job(
        heartbeat_job,
        IntervalTrigger(seconds=HEARTBEAT_SECONDS),
        args=[config, holder],
        id="heartbeat",
        replace_existing=True,
    )

    def on_error(event: JobExecutionEvent) -> None:
        log.error("job %s failed: %r", event.job_id, event.exception)

    sched.add_listener(on_error, EVENT_JOB_ERROR)
    return sched


def stop_crawls() -> None:
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        proc.kill()


def _take_lease(app: App, holder: str, *, standby: bool) -> bool:
    """The scheduler's lease (one scheduler or enqueuer per database). In standby, wait for it
    (the active one died or stopped), until a signal; otherwise give up at once."""
    engine = app.engine
    said = False
    while not acquire(engine, "scheduler", holder, LEASE):
        other = holder_of(engine, "scheduler")
        who = f"{other[0]} (lease until {other[1]:%H:%M:%S} UTC)" if other else "another process"
        if not standby:
            print(f"error: a scheduler is already running on this database: {who}", file=sys.stderr)
            return False
        if not said:
            print(f"standby: the enqueuer {who} is active; waiting to take over", file=sys.stderr)
            said = True
        if _stopping.wait(min(HEARTBEAT_SECONDS, app.settings.cluster.heartbeat_seconds)):
            return False
    return True


def run(app: App, *, enqueuer: Enqueuer | None = None) -> int:
    """Run in the foreground until SIGINT/SIGTERM. Exit 1 if another scheduler holds the database.

    With an ``enqueuer`` (distributed mode), defer the jobs to it instead of running them; a
    second enqueuer waits in standby and takes over when the active one stops."""
    from core.logs import setup_logging

    distributed = enqueuer is not None
    if not logging.getLogger().handlers:
        setup_logging(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name in ("mediawatch", "core", "alerts"):
        logging.getLogger(name).setLevel(logging.INFO)
    engine = app.ready_engine()
    holder = f"{socket.gethostname()}:{os.getpid()}"
    sched: BlockingScheduler | None = None
    stoppers: list[threading.Thread] = []

    def shutdown(signum: int, _frame: Any) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        _stopping.set()
        stop_crawls()
        running = sched
        if running is not None:
            stopper = threading.Thread(target=lambda: running.shutdown(wait=True), daemon=True)
            stopper.start()
            stoppers.append(stopper)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if not _take_lease(app, holder, standby=distributed):
        return 0 if _stopping.is_set() else 1
    try:
        report = sync_config(engine, app.settings)
        log.info("config synced: %s", report.summary())
        sched = build_scheduler(app, holder, enqueuer=enqueuer)
        for job in sched.get_jobs():
            log.info("scheduled %s", job.name)
        what = "enqueuer (distributed mode)" if distributed else "scheduler"
        print(f"mediawatch {what} running ({holder}); Ctrl-C to stop", file=sys.stderr, flush=True)
        if not _stopping.is_set():
            sched.start()
        # The jobs still running end before this returns: the caller then closes what they use
        # (the cluster's connection pool, which a job opening it would otherwise wait on, 30 s).
        for stopper in stoppers:
            stopper.join()
        log.info("scheduler stopped")
        return 0
    finally:
        stop_crawls()
        release(engine, "scheduler", holder)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from core.app import SchemaError
    from core.errors import ConfigError

    parser = argparse.ArgumentParser(description="mediawatch scheduler (same as `mediawatch run`)")
    parser.add_argument(
        "--config", help="mediawatch.toml (default: $MEDIAWATCH_CONFIG or ./mediawatch.toml)"
    )
    args = parser.parse_args(argv)
    try:
        app = App(args.config)
        if app.settings.cluster.enabled:
            print(
                "error: [cluster] enabled = true: start the enqueuer with `mediawatch run` "
                "(this script runs the single-machine scheduler)",
                file=sys.stderr,
            )
            return 2
        return run(app)
    except ConfigError as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
