"""Jobs the CLI and the scheduler share, each recorded in ``job_runs`` (start, end, status,
counts, error)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine

from core.app import App
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


def run_flag(
    app: App, *, all_: bool = False, progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """The flag job, recorded in ``job_runs``; ``progress(done, total)`` as it goes."""
    from core.flagging import flag

    engine = app.ready_engine()
    report = record_job(
        engine,
        "flag",
        lambda: flag(engine, rematch_all=all_, progress=progress),
        lambda r: r.counts,
    )
    return report.counts
