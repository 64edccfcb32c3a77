"""The admins' mail: outlets whose health changed (ok / degraded / silent), each change once.

The same exactly-once machinery as the digests: a lease per admin keeps two runs (two workers,
the scheduler and a person) from mailing at once, and a ``health_deliveries`` row per (admin,
change) is written only after the SMTP server accepted the mail; a refused send marks nothing
and is tried again on the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alerts.digest import ENV, Digest, one_line
from alerts.send import SendError, build_message, send
from core.app import App
from core.config import Settings
from core.health import record_changes, undelivered_events
from core.jobs import record_job
from models import HealthDelivery, Outlet, in_transaction, insert_ignore, read_session, utcnow
from models.locks import leased, run_holder

log = logging.getLogger(__name__)
LEASE = dt.timedelta(minutes=15)
# A change older than this is history, not news: an admin added today is not mailed last year's.
NEWS_FOR = dt.timedelta(days=7)


@dataclass
class HealthRunResult:
    changed: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"changed": 0, "sent": 0, "failed": 0, "skipped": 0}
    )


@dataclass
class Change:
    slug: str
    name: str
    previous: str
    state: str
    reason: str
    at: dt.datetime


def build_health_mail(changes: list[Change]) -> Digest:
    worse = sum(1 for c in changes if c.state != "ok")
    subject = one_line(
        f"mediawatch: {len(changes)} outlet health change{'s' if len(changes) != 1 else ''}"
        + (f" ({worse} need a look)" if worse else " (all back to ok)")
        + ": "
        + ", ".join(f"{c.slug} {c.state}" for c in changes[:4])
    )
    ctx = {"subject": subject, "changes": changes}
    return Digest(
        subject=subject,
        text=ENV.get_template("health.txt.j2").render(ctx),
        html=ENV.get_template("health.html.j2").render(ctx),
        article_ids=[],
    )


def _changes_for(session: Session, email: str, now: dt.datetime) -> tuple[list[int], list[Change]]:
    events = [e for e in undelivered_events(session, email) if e.at >= now - NEWS_FOR]
    names = {i: n for i, n in session.execute(select(Outlet.id, Outlet.name))}
    slugs = {i: s for i, s in session.execute(select(Outlet.id, Outlet.slug))}
    changes = [
        Change(slugs[e.outlet_id], names[e.outlet_id], e.previous, e.state, e.reason, e.at)
        for e in events
    ]
    return [e.id for e in events], changes


def notify_admins(engine: Engine, settings: Settings) -> HealthRunResult:
    """Mail every admin the health changes not mailed to them yet (one mail each)."""
    result = HealthRunResult()
    holder = run_holder()
    for email in settings.alerts.admins:
        with leased(engine, f"health-mail:{email}", LEASE, holder) as held:
            if not held:
                result.counts["skipped"] += 1
                result.lines.append(f"{email}: another run is mailing, skipped")
                continue
            _notify_one(engine, settings, email, result)
    return result


def _notify_one(engine: Engine, settings: Settings, email: str, result: HealthRunResult) -> None:
    now = utcnow()
    with read_session(engine) as s:
        event_ids, changes = _changes_for(s, email, now)
    if not changes:
        return
    msg = build_message(build_health_mail(changes), sender=settings.smtp.sender, to_email=email)
    try:
        send(settings.smtp, msg)
    except SendError as exc:
        log.warning("health mail not sent: %s", exc, extra={"admin": email})
        result.counts["failed"] += 1
        result.lines.append(f"{email}: NOT sent ({exc})")
        return

    def record(session: Session) -> None:
        for event_id in event_ids:
            insert_ignore(
                session,
                HealthDelivery,
                {
                    "email": email,
                    "event_id": event_id,
                    "sent_at": now,
                    "message_id": msg["Message-ID"][:300],
                },
                ["email", "event_id"],
            )

    in_transaction(engine, record, what="record health deliveries")
    result.counts["sent"] += 1
    result.lines.append(f"{email}: sent {len(changes)} change(s)")


def run_health(app: App) -> HealthRunResult:
    """The health job: assess every outlet, record the changes, mail the admins (recorded in
    ``job_runs`` as ``health``)."""
    engine = app.ready_engine()

    def work() -> HealthRunResult:
        changed = record_changes(engine, app.settings.health)
        for h in changed:
            log.warning(
                "outlet health changed",
                extra={"outlet": h.slug, "state": h.state, "reason": h.reason},
            )
        result = notify_admins(engine, app.settings)
        result.changed = [f"{h.slug}: {h.state}" for h in changed]
        result.counts["changed"] = len(changed)
        return result

    return record_job(engine, "health", work, lambda r: r.counts)
