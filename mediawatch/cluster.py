"""Distributed mode: outlet crawls, flagging and digests as Procrastinate jobs on the production
PostgreSQL, taken by `mediawatch worker` processes on any number of machines.

The unit of work is "crawl one outlet" (Scrapy stays as it is inside it). The guarantees come from
the task engine, not from code of ours:

* an outlet is never queued twice (``queueing_lock`` = the outlet) and never crawled by two
  workers at once, nor more than ``[cluster] per_host`` outlets of one host at once (``lock`` =
  one of ``per_host`` slots of the outlet's host: jobs sharing a lock run one after another);
* flagging runs one at a time (``lock`` "flag"), each subscriber's digest and the outlet-health
  check likewise;
* a worker that stops sending heartbeats (SIGKILL, a machine gone) is declared dead after
  ``[cluster] stalled_seconds``; any live worker then hands its running jobs back to the queue
  (``retry_job``) and another worker takes them. The orphaned crawl process stops itself
  (crawler.extensions.ParentWatch); every page it stored is whole (one transaction per page);
* SIGTERM drains: running crawls get ``[cluster] drain_seconds`` to finish, then are terminated
  and handed back to the queue (retried on another worker).

`mediawatch run --distributed` is the enqueuer: the scheduler's timetable (scheduler.py), with jobs
that defer instead of running; the scheduler's lease keeps one active per database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import threading
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.app import App
from core.errors import UsageFailure

if TYPE_CHECKING:
    from procrastinate.job_context import JobContext
    from sqlalchemy import Engine

log = logging.getLogger("mediawatch.cluster")

QUEUE = "mediawatch"
CRAWL_TASK = "mediawatch.crawl_outlet"
FLAG_TASK = "mediawatch.flag"
DIGEST_TASK = "mediawatch.digest"
HEALTH_TASK = "mediawatch.health"
# `locks` rows naming Procrastinate's worker ids: "worker:<id>" held by "<host>:<pid>".
WORKER_LEASE = "worker:"
# Crawls asked for by a person (`outlets crawl-now`) go before the timetable's.
NOW_PRIORITY = 10


def require_postgresql(app: App, what: str) -> None:
    """Distributed mode shares one PostgreSQL between machines: refuse anything else (exit 2)."""
    url = app.settings.database_url
    if not url.startswith("postgresql"):
        scheme = url.split(":", 1)[0]
        raise UsageFailure(
            f"{what} needs PostgreSQL, and [database] url in {app.config_path} is {scheme}. "
            "Distributed mode shares one PostgreSQL database between machines; on one machine, "
            "`mediawatch run` runs everything with SQLite."
        )


def conninfo(engine: Engine) -> str:
    """The libpq form of the SQLAlchemy URL (Procrastinate talks to psycopg directly)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def host_lock(url: str, slug: str, per_host: int) -> str:
    """The lock of an outlet's crawls: one of ``per_host`` slots of its host. An outlet always
    falls in the same slot, so it is never crawled twice at once; a host never has more than
    ``per_host`` crawls at once (outlets sharing a slot wait for each other)."""
    host = (urlsplit(url).hostname or slug).lower()
    slot = zlib.crc32(slug.encode()) % per_host if per_host > 1 else 0
    return f"host:{host}:{slot}"


@dataclass
class Deferred:
    what: str
    job_id: int | None  # None: the same job was already queued

    def describe(self) -> str:
        if self.job_id is None:
            return f"{self.what}: already queued"
        return f"{self.what}: queued as job {self.job_id}"


class Cluster:
    """The Procrastinate app of one mediawatch configuration, with the tasks registered."""

    def __init__(self, app: App) -> None:
        import procrastinate

        require_postgresql(app, "distributed mode")
        self.app = app
        self.engine = app.ready_engine()
        self.settings = app.settings.cluster
        self.procrastinate = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=conninfo(self.engine))
        )
        self._register()
        self._open = False  # a worker opens it asynchronously; the CLI and the enqueuer do here
        # The enqueuer's jobs run in several threads: the first ones after it starts, or takes
        # over, would otherwise open the connection pool twice at once (one of them then waited
        # 30 s and failed with PoolTimeout).
        self._opening = threading.Lock()

    def close(self) -> None:
        if self._open:
            self.procrastinate.close()
            self._open = False

    # -- the tasks -------------------------------------------------------------------------

    def _register(self) -> None:
        from procrastinate import RetryStrategy
        from procrastinate.exceptions import JobAborted

        # Only a crawl handed back at shutdown is retried (at once, elsewhere); a crawl that
        # failed waits for its next turn in the timetable like in single-machine mode.
        handed_back = RetryStrategy(retry_exceptions={JobAborted})
        task = self.procrastinate.task
        self.crawl_task = task(name=CRAWL_TASK, queue=QUEUE, pass_context=True, retry=handed_back)(
            self._crawl_outlet
        )
        self.flag_task = task(name=FLAG_TASK, queue=QUEUE, pass_context=True)(self._flag)
        self.digest_task = task(name=DIGEST_TASK, queue=QUEUE, pass_context=True)(self._digest)
        self.health_task = task(name=HEALTH_TASK, queue=QUEUE, pass_context=True)(self._health)

    def _crawl_outlet(self, context: JobContext, slug: str) -> dict[str, Any]:
        from procrastinate.exceptions import JobAborted

        from core.crawl import CrawlInterrupted, crawl_recorded, mark_abandoned, stored_something
        from core.status import outlet_states

        enabled = outlet_states(self.engine).get(slug)
        if not enabled:
            log.info("crawl skipped", extra={"outlet": slug, "reason": "removed or disabled"})
            return {"skipped": "removed or disabled"}
        # We hold the outlet's lock: a run still marked running was left by a worker that died.
        if closed := mark_abandoned(self.engine, slug, None, "its worker stopped responding"):
            log.warning("closed runs of a dead worker", extra={"outlet": slug, "runs": closed})
        try:
            counts = crawl_recorded(self.app, slug, interrupted=context.should_abort)
        except CrawlInterrupted as exc:
            raise JobAborted(str(exc)) from None
        if stored_something(counts):
            self.defer_flag()
        return counts

    def _flag(self, context: JobContext) -> dict[str, int]:
        from core.jobs import run_flag

        return run_flag(self.app)

    def _digest(self, context: JobContext, email: str) -> list[str]:
        from alerts.run import run_digests

        return run_digests(self.app, only=email).lines

    def _health(self, context: JobContext) -> list[str]:
        from alerts.health import run_health

        result = run_health(self.app)
        return result.changed + result.lines

    # -- deferring -------------------------------------------------------------------------

    def _defer(
        self, task: Any, what: str, *, lock: str, queueing_lock: str, **kwargs: Any
    ) -> Deferred:
        from procrastinate.exceptions import AlreadyEnqueued

        priority = kwargs.pop("priority", 0)
        with self._opening:
            if not self._open:
                self.procrastinate.open()
                self._open = True
        try:
            job_id = task.configure(
                lock=lock, queueing_lock=queueing_lock, priority=priority
            ).defer(**kwargs)
        except AlreadyEnqueued:
            return Deferred(what, None)
        return Deferred(what, job_id)

    def defer_crawl(self, slug: str, *, now: bool = False) -> Deferred:
        from core.outlets import enabled_outlet_url

        url = enabled_outlet_url(self.engine, slug)
        return self._defer(
            self.crawl_task,
            f"crawl {slug}",
            lock=host_lock(url, slug, self.settings.per_host),
            queueing_lock=f"crawl:{slug}",
            priority=NOW_PRIORITY if now else 0,
            slug=slug,
        )

    def defer_flag(self) -> Deferred:
        return self._defer(self.flag_task, "flag", lock="flag", queueing_lock="flag")

    def defer_digest(self, email: str) -> Deferred:
        return self._defer(
            self.digest_task,
            f"digest {email}",
            lock=f"digest:{email}",
            queueing_lock=f"digest:{email}",
            email=email,
        )

    def defer_health(self) -> Deferred:
        return self._defer(self.health_task, "health", lock="health", queueing_lock="health")

    # -- the worker ------------------------------------------------------------------------

    def run_worker(self, concurrency: int | None = None) -> None:
        """Take jobs until SIGINT/SIGTERM (which drain: see the module's docstring)."""
        asyncio.run(self._run_worker(concurrency))

    async def _run_worker(self, concurrency: int | None) -> None:
        from procrastinate.worker import Worker

        cfg = self.settings
        name = f"{socket.gethostname()}:{os.getpid()}"
        worker = Worker(
            app=self.procrastinate,
            queues=[QUEUE],
            name=name,
            concurrency=concurrency or cfg.concurrency or self.app.settings.crawl.parallel_outlets,
            update_heartbeat_interval=cfg.heartbeat_seconds,
            stalled_worker_timeout=cfg.stalled_seconds,
            shutdown_graceful_timeout=cfg.drain_seconds,
            delete_jobs="successful",
            install_signal_handlers=True,
        )
        self._open = True  # deferring from the tasks goes through the worker's pool
        async with self.procrastinate.open_async():
            named: list[int] = []
            upkeep = asyncio.create_task(self._upkeep(worker, name, named), name="mw-upkeep")
            try:
                await worker.run()
            finally:
                upkeep.cancel()
                await asyncio.gather(upkeep, return_exceptions=True)
                for worker_id in named:
                    await asyncio.to_thread(self._name_worker, worker_id, name, release=True)

    async def _upkeep(self, worker: Any, name: str, named: list[int]) -> None:
        """Every few seconds: say which machine and process this worker is (`status` shows it
        beside Procrastinate's worker id and heartbeat), and hand the running jobs of dead
        workers back to the queue."""
        manager = self.procrastinate.job_manager
        every = max(1.0, min(self.settings.heartbeat_seconds, self.settings.stalled_seconds / 4))
        while True:
            await asyncio.sleep(every)
            try:
                if worker.worker_id is not None:
                    await asyncio.to_thread(self._name_worker, worker.worker_id, name)
                    if worker.worker_id not in named:
                        named.append(worker.worker_id)
                stalled = await manager.get_stalled_jobs(
                    seconds_since_heartbeat=self.settings.stalled_seconds
                )
                for job in stalled:
                    try:
                        await manager.retry_job(job)
                    except Exception as exc:  # another worker was quicker
                        log.debug("stalled job not retried", extra={"job": job.id, "why": str(exc)})
                        continue
                    log.warning(
                        "job of a dead worker handed back",
                        extra={
                            "job": job.id,
                            "task": job.task_name,
                            "task_kwargs": job.task_kwargs,
                        },
                    )
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not stop the worker
                log.warning("worker upkeep failed", exc_info=True)

    def _name_worker(self, worker_id: int, name: str, *, release: bool = False) -> None:
        from models.locks import acquire
        from models.locks import release as release_lock

        if release:
            release_lock(self.engine, f"{WORKER_LEASE}{worker_id}", name)
        else:
            ttl = dt.timedelta(seconds=self.settings.stalled_seconds)
            acquire(self.engine, f"{WORKER_LEASE}{worker_id}", name, ttl)
