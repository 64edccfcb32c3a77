"""Jobs the CLI and the scheduler share, each recorded in ``job_runs`` (start, end, status,
counts, error)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from mediawatch.app import App
from models import JobRun, in_transaction, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")


def record_job(
    engine: Engine, name: str, work: Callable[[], T], counts: Callable[[T], dict[str, Any]]
) -> T:
    """Run ``work`` and record it; a failure is recorded with its error, then re-raised."""
    run_id = in_transaction(engine, lambda s: _start(s, name), what=f"job {name} start")
    try:
        result = work()
    except Exception as exc:
        err = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        in_transaction(
            engine, lambda s: _finish(s, run_id, "failed", {}, err), what=f"job {name} end"
        )
        raise
    c = counts(result)
    status = "failed" if c.get("failed") else "ok"
    in_transaction(engine, lambda s: _finish(s, run_id, status, c, ""), what=f"job {name} end")
    return result


def _start(session: Any, name: str) -> int:
    run = JobRun(job=name, status="running")
    session.add(run)
    session.flush()
    return run.id


def _finish(session: Any, run_id: int, status: str, counts: dict[str, Any], error: str) -> None:
    run = session.get(JobRun, run_id)
    run.status, run.counts, run.error, run.finished_at = status, counts, error[:4000], utcnow()


def run_flag(app: App, *, all_: bool = False, progress: Console | None = None) -> dict[str, int]:
    from mediawatch.flagging import flag

    engine = app.ready_engine()
    if progress is None:
        report = record_job(
            engine, "flag", lambda: flag(engine, rematch_all=all_), lambda r: r.counts
        )
        return report.counts
    with Progress(
        TextColumn("flagging"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=progress,
        transient=True,
    ) as bar:
        task = bar.add_task("flag", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = record_job(
            engine,
            "flag",
            lambda: flag(engine, rematch_all=all_, progress=step),
            lambda r: r.counts,
        )
    return report.counts


def run_digests(
    app: App,
    *,
    dry_run: bool = False,
    out: Path | None = None,
    only: str | None = None,
    on_demand: bool = False,
) -> Any:
    """Send due digests. ``on_demand``: a person asked, so back-off after SMTP failures is
    ignored (the scheduler's runs keep it)."""
    from alerts.run import send_digests

    engine = app.ready_engine()
    if dry_run:
        return send_digests(engine, app.settings, dry_run=True, out=out, only=only)
    name = f"digest:{only}" if only else "digest"
    return record_job(
        engine,
        name,
        lambda: send_digests(
            engine, app.settings, dry_run=False, out=None, only=only, respect_backoff=not on_demand
        ),
        lambda r: r.counts,
    )
