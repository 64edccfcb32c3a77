"""Running crawls: every outlet in its own OS process (Twisted's reactor cannot restart in one
process), a few at a time, each killed when it overruns ``[crawl].timeout_minutes``.

A crawl process can be started *held* (:func:`hold_crawls`): it loads Scrapy and the extraction
code, then waits for a word from the process that started it before it touches the database or
the network. `mediawatch crawl SLUG` starts its crawls so before it checks the outlets against the
database, which takes it about as long; a crawl it then turns down ends without a trace.

This module imports neither SQLAlchemy nor the models until a function needs them, so that a
command can start its crawl processes first.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from select import select as readable
from typing import IO, TYPE_CHECKING, Any

from core.app import App

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("mediawatch.crawl")
# Set in a crawl process's environment: the pid of the process that started it. The crawl stops
# itself when that process is gone (crawler.extensions.ParentWatch), so a worker killed with
# SIGKILL leaves no orphaned crawl behind to race the one that takes its job over.
PARENT_ENV = "MEDIAWATCH_PARENT_PID"
# Set in a held crawl process's environment: it waits for GO on its standard input before it
# crawls (crawler.__main__); anything else, or the input closed, and it ends at once.
HOLD_ENV = "MEDIAWATCH_HOLD"
GO = b"go\n"
# Set in a crawl process's environment: "1" when the crawl extracts in worker processes
# (``[crawl] workers`` not 0), else "0". The crawl process starts their forkserver first thing,
# before it has read the config itself (crawler.__main__).
WORKERS_ENV = "MEDIAWATCH_EXTRACT_IN_WORKERS"


@dataclass
class CrawlOutcome:
    slug: str
    status: str  # ok | failed | timeout | running
    returncode: int | None = None
    run: dict[str, object] | None = None
    log_path: Path | None = None


def crawl_command(slug: str) -> list[str]:
    """``scrapy crawl outlet -a outlet=SLUG``, through crawler.__main__, which starts the
    extraction workers' forkserver before it imports Scrapy."""
    return [sys.executable, "-m", "crawler", slug]


def crawl_env(app: App) -> dict[str, str]:
    env = dict(os.environ)
    env["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    env["MEDIAWATCH_CONFIG"] = str(app.config_path.resolve())
    env[PARENT_ENV] = str(os.getpid())
    env[WORKERS_ENV] = "0" if app.settings.crawl.workers == 0 else "1"
    return env


def log_dir(app: App) -> Path:
    d = app.config_path.resolve().parent / "logs"
    d.mkdir(parents=True, exist_ok=True)
    return d


class CrawlProcess:
    """One crawl subprocess (`python -m crawler SLUG`) with its own log file and deadline. A
    held one (``held=True``) waits for :meth:`release` or :meth:`cancel`; its log is written
    beside the outlet's last one until it is released, so a crawl cancelled leaves that log as
    it was."""

    def __init__(self, app: App, slug: str, *, held: bool = False) -> None:
        self.app = app
        self.slug = slug
        self.log_path = log_dir(app) / f"crawl-{slug}.log"
        self.held_log_path = self.log_path.with_suffix(".held.log") if held else None
        self.started = time.monotonic()
        self.started_at = dt.datetime.now(dt.UTC)
        self.deadline = self.started + app.settings.crawl.timeout_minutes * 60
        self._log = (self.held_log_path or self.log_path).open("wb")
        env = crawl_env(app)
        if held:
            env[HOLD_ENV] = "1"
        self.proc = subprocess.Popen(
            crawl_command(slug),
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if held else subprocess.DEVNULL,
            cwd=app.config_path.resolve().parent,
            start_new_session=True,
        )
        self.timed_out = False

    def _tell(self, word: bytes) -> None:
        stdin: IO[bytes] | None = self.proc.stdin
        if stdin is None:
            return
        try:
            stdin.write(word)
            stdin.close()
        except (BrokenPipeError, OSError):
            pass  # it ended already: poll() tells how

    def release(self) -> None:
        """A held crawl goes on: its log becomes the outlet's log."""
        if self.held_log_path is not None:
            os.replace(self.held_log_path, self.log_path)
            self.held_log_path = None
        self._tell(GO)

    def cancel(self) -> None:
        """A held crawl ends without crawling; the outlet's last log stays as it was."""
        self._tell(b"")
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
        self._log.close()
        if self.held_log_path is not None:
            self.held_log_path.unlink(missing_ok=True)

    def poll(self) -> int | None:
        rc = self.proc.poll()
        if rc is None and time.monotonic() > self.deadline:
            self.kill()
            self.timed_out = True
            rc = self.proc.wait()
        if rc is not None:
            self._log.close()
        return rc

    def kill(self, sig: int = signal.SIGTERM) -> None:
        try:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def finish(self, engine: Engine) -> CrawlOutcome:
        """How the crawl went, once its process has ended (a run it left open is closed)."""
        rc = self.proc.returncode
        if self.timed_out or rc != 0:
            mark_abandoned(
                engine,
                self.slug,
                self.proc.pid,
                "timeout" if self.timed_out else f"crawl process exited {rc}",
            )
        run = latest_run(engine, self.slug, self.started_at)
        status = "timeout" if self.timed_out else (str(run["status"]) if run else "failed")
        if rc not in (0, None) and status == "ok":
            status = "failed"
        return CrawlOutcome(self.slug, status, rc, run, self.log_path)


def mark_abandoned(engine: Engine, slug: str, pid: int | None, message: str) -> int:
    """A crawl killed (timeout, SIGKILL) never closed its run row: close it as failed. With
    ``pid`` None, every run of the outlet still marked running (a worker on a machine that died
    left it so; the caller holds the outlet's lock). Returns how many rows were closed."""

    from sqlalchemy import select, update

    from models import CrawlRun, Outlet, in_transaction, utcnow

    def work(session: Any) -> int:
        outlet_id = select(Outlet.id).where(Outlet.slug == slug).scalar_subquery()
        query = update(CrawlRun).where(
            CrawlRun.outlet_id == outlet_id, CrawlRun.status == "running"
        )
        if pid is not None:
            query = query.where(CrawlRun.pid == pid)
        result = session.execute(
            query.values(status="failed", finished_at=utcnow(), message=message)
        )
        return int(result.rowcount or 0)

    return in_transaction(engine, work, what="close abandoned crawl run")


class CrawlInterrupted(Exception):
    """The crawl was stopped before it ended (shutdown); its process was terminated."""


def crawl_recorded(
    app: App,
    slug: str,
    *,
    interrupted: Callable[[], bool] = lambda: False,
    started: Callable[[CrawlProcess], None] | None = None,
    ended: Callable[[CrawlProcess], None] | None = None,
) -> dict[str, Any]:
    """Crawl one outlet in its own process and record it in ``job_runs`` as ``crawl:SLUG``;
    the counts come back. ``interrupted()`` is asked twice a second: when it says yes, the crawl
    process is terminated (it closes its run as failed) and :class:`CrawlInterrupted` raised.
    Used by the scheduler and by the distributed workers."""
    engine = app.engine

    def work() -> dict[str, Any]:
        proc = CrawlProcess(app, slug)
        log.info(
            "crawl started", extra={"outlet": slug, "pid": proc.proc.pid, "log": str(proc.log_path)}
        )
        if started is not None:
            started(proc)
        try:
            while proc.poll() is None:
                if interrupted():
                    proc.kill()
                    proc.poll()
                    proc.finish(engine)
                    raise CrawlInterrupted(f"crawl of {slug} interrupted")
                wait_any([proc], 0.5)
        finally:
            if ended is not None:
                ended(proc)
        outcome = proc.finish(engine)
        run = outcome.run or {}
        counts = {k: run.get(k, 0) for k in ("pages", "new", "duplicates", "updated", "unchanged")}
        log.log(
            logging.INFO if outcome.status == "ok" else logging.WARNING,
            "crawl ended",
            extra={
                "outlet": slug,
                "status": outcome.status,
                "seconds": round(time.monotonic() - proc.started, 1),
                **counts,
            },
        )
        return {**counts, "failed": int(outcome.status != "ok"), "status": outcome.status}

    from core.jobs import record_job

    return record_job(engine, f"crawl:{slug}", work, lambda r: r)


def stored_something(counts: dict[str, Any]) -> bool:
    """Did a crawl bring anything the flag job should look at?"""
    return bool(counts.get("new") or counts.get("updated") or counts.get("duplicates"))


def latest_run(engine: Engine, slug: str, since: dt.datetime) -> dict[str, object] | None:
    from sqlalchemy import select

    from models import CrawlRun, Outlet, read_session

    with read_session(engine) as s:
        run = s.scalars(
            select(CrawlRun)
            .join(Outlet)
            .where(Outlet.slug == slug, CrawlRun.started_at >= since - dt.timedelta(seconds=5))
            .order_by(CrawlRun.id.desc())
            .limit(1)
        ).first()
        if run is None:
            return None
        return {
            k: getattr(run, k)
            for k in (
                "id",
                "status",
                "pages",
                "new",
                "updated",
                "unchanged",
                "duplicates",
                "skipped_known",
                "errors",
                "dropped",
                "http_statuses",
                "message",
            )
        }


def enabled_slugs(engine: Engine) -> list[str]:
    from sqlalchemy import select

    from models import Outlet, read_session

    with read_session(engine) as s:
        return list(s.scalars(select(Outlet.slug).where(Outlet.enabled).order_by(Outlet.slug)))


def reasons(run: dict[str, object]) -> str:
    """'too_old 3, listing 2': what was not stored, and why, most frequent first."""
    counts: dict[str, int] = {}
    for key in ("dropped", "errors"):
        value = run.get(key)
        if isinstance(value, dict):
            for k, v in value.items():
                counts[k] = counts.get(k, 0) + int(v)
    known = run.get("skipped_known")
    if isinstance(known, int) and known:
        counts["known"] = known
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


ProgressCallback = Callable[[dict[str, str], dict[str, dict[str, object]]], None]


def hold_crawls(app: App, slugs: tuple[str, ...] | list[str]) -> dict[str, CrawlProcess]:
    """Start held crawl processes (see the module docstring) for the first ``[crawl]
    parallel_outlets`` of these outlets that the config names, before anything is checked
    against the database. :func:`run_crawls` releases them; whatever is not released must be
    cancelled."""
    named = {o.slug for o in app.settings.outlets}
    first = [s for s in dict.fromkeys(slugs) if s in named][: app.settings.crawl.parallel_outlets]
    return {s: CrawlProcess(app, s, held=True) for s in first}


def run_crawls(
    app: App,
    slugs: list[str],
    *,
    on_progress: ProgressCallback | None = None,
    held: dict[str, CrawlProcess] | None = None,
) -> dict[str, CrawlOutcome]:
    """Crawl the outlets (all enabled ones when ``slugs`` is empty), ``[crawl]
    parallel_outlets`` processes at a time. ``on_progress(states, runs)`` is called a few times
    a second with each outlet's state ("queued", "crawling 12s", "ok", "failed", "timeout") and
    its run counters so far (the crawl processes write them every few seconds). ``held``: crawl
    processes started ahead by :func:`hold_crawls`, released when their outlet's turn comes
    (those never used are cancelled)."""
    held = dict(held or {})
    try:
        return _run_crawls(app, slugs, on_progress, held)
    finally:
        for proc in held.values():
            proc.cancel()


def _run_crawls(
    app: App,
    slugs: list[str],
    on_progress: ProgressCallback | None,
    held: dict[str, CrawlProcess],
) -> dict[str, CrawlOutcome]:
    engine = app.ready_engine()
    targets = slugs or enabled_slugs(engine)
    parallel = app.settings.crawl.parallel_outlets
    pending = list(targets)
    running: list[CrawlProcess] = []
    outcomes: dict[str, CrawlOutcome] = {}
    states = {s: "queued" for s in targets}
    runs: dict[str, dict[str, object]] = {}
    last_poll = 0.0
    while pending or running:
        while pending and len(running) < parallel:
            slug = pending.pop(0)
            if slug in held:
                proc = held.pop(slug)
                proc.release()
            else:
                proc = CrawlProcess(app, slug)
            running.append(proc)
            states[slug] = "crawling"
        for proc in list(running):
            if proc.poll() is not None:
                running.remove(proc)
                outcome = proc.finish(engine)
                outcomes[proc.slug] = outcome
                states[proc.slug] = outcome.status
                runs[proc.slug] = outcome.run or {}
        poll = time.monotonic() - last_poll > 1.0
        for proc in running:
            states[proc.slug] = f"crawling {int(time.monotonic() - proc.started)}s"
            if poll:
                runs[proc.slug] = latest_run(engine, proc.slug, proc.started_at) or {}
        last_poll = time.monotonic() if poll else last_poll
        if on_progress is not None:
            on_progress(states, runs)
        if pending or running:
            wait_any(running, 0.25)
    return outcomes


def wait_any(procs: list[CrawlProcess], timeout: float) -> None:
    """Sleep until one of the crawl processes ends, at most ``timeout`` seconds (a crawl's end
    is noticed at once, not at the next tick)."""
    fds: list[int] = []
    try:
        for proc in procs:
            fds.append(os.pidfd_open(proc.proc.pid))
    except (AttributeError, OSError):  # no pidfd (not Linux ≥ 5.3), or a process already gone
        for fd in fds:
            os.close(fd)
        time.sleep(timeout)
        return
    try:
        readable(fds, [], [], timeout)
    finally:
        for fd in fds:
            os.close(fd)
