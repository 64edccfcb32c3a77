"""A digest run: for every subscriber, the flagged articles not yet delivered, sent once.

Exactly once per (subscriber, article): a per-subscriber lease keeps two runs from working on the
same subscriber; ``deliveries`` rows are written only after the SMTP server accepted the mail,
unique on (subscriber, article); when the server is down or refuses, nothing is marked and the
subscriber backs off (1, 2, 4 … minutes, at most 6 hours) before the next attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, and_, exists, select
from sqlalchemy.orm import Session, selectinload

from alerts.digest import DigestItem, EntityHit, build_digest
from alerts.send import SendError, build_message, send
from core.app import App
from core.config import Settings
from core.jobs import record_job
from core.readmodel import load_articles
from models import (
    Article,
    Delivery,
    Mention,
    Subscriber,
    in_transaction,
    insert_ignore,
    read_session,
    utcnow,
)
from models.locks import leased, run_holder

log = logging.getLogger(__name__)
NEW_SUBSCRIBER_LOOKBACK = dt.timedelta(days=7)
MAX_ITEMS = 200
LEASE = dt.timedelta(minutes=15)


@dataclass
class DigestRunResult:
    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"sent": 0, "articles": 0, "skipped": 0, "failed": 0, "previews": 0}
    )

    @property
    def failed(self) -> int:
        return self.counts["failed"]


def is_opinion_only(sub: Subscriber) -> bool:
    """Every subscription of this subscriber asks for op-eds only."""
    return bool(sub.subscriptions) and all(s.opinion_only for s in sub.subscriptions)


def due_items(session: Session, sub: Subscriber, *, limit: int = MAX_ITEMS) -> list[DigestItem]:
    """Flagged articles matching the subscriptions, not delivered to this subscriber yet."""
    entity_ids = {s.entity_id for s in sub.subscriptions if s.entity_id is not None}
    everything = any(s.entity_id is None for s in sub.subscriptions) or not sub.subscriptions
    opinion_only = is_opinion_only(sub)
    mention_filter = [] if everything else [Mention.entity_id.in_(entity_ids)]
    delivered = exists().where(
        and_(Delivery.subscriber_id == sub.id, Delivery.article_id == Article.id)
    )
    q = (
        select(Article)
        .where(
            ~delivered,
            Article.flagged_at.is_not(None),
            Article.first_seen >= sub.created_at - NEW_SUBSCRIBER_LOOKBACK,
        )
        .where(exists().where(Mention.article_id == Article.id, *mention_filter))
        .order_by(Article.published_at.desc().nulls_last(), Article.id)
        .limit(limit)
    )
    if opinion_only:
        q = q.where(Article.is_opinion)
    ids = list(session.scalars(q.with_only_columns(Article.id)))
    views = load_articles(session, ids, entity_ids=None if everything else entity_ids)
    items = []
    for view in views:
        original = view.original
        items.append(
            DigestItem(
                article_id=view.id,
                title=view.title,
                url=original.url if original else "",
                outlet=original.outlet_name if original else "",
                published_at=view.published_at,
                authors=[a.name for a in view.authors],
                is_opinion=view.is_opinion,
                also=[(a.outlet_name, a.url) for a in view.republications],
                entities=[EntityHit(m.entity, m.kind, m.snippet, m.count) for m in view.mentions],
            )
        )
    return items


def _safe_name(email: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", email)


def send_digests(
    engine: Engine,
    settings: Settings,
    *,
    dry_run: bool = False,
    out: Path | None = None,
    only: str | None = None,
    respect_backoff: bool = True,
) -> DigestRunResult:
    """Send every (or ``only`` one) subscriber the flagged articles not delivered yet.

    ``respect_backoff=False`` is a person asking now (``mediawatch digest``): a subscriber
    backing off after an SMTP failure is tried at once; the scheduler keeps the back-off.
    """
    result = DigestRunResult()
    holder = run_holder()
    with read_session(engine) as s:
        q = (
            select(Subscriber)
            .options(selectinload(Subscriber.subscriptions))
            .where(Subscriber.enabled)
        )
        if only:
            q = q.where(Subscriber.email == only)
        subscribers = list(s.scalars(q))
    for sub in subscribers:
        now = utcnow()
        if respect_backoff and not dry_run and sub.retry_after and sub.retry_after > now:
            result.counts["skipped"] += 1
            result.lines.append(
                f"{sub.email}: backing off until {sub.retry_after:%H:%M} UTC after {sub.failures} failure(s)"
            )
            continue
        # A dry run sends and marks nothing: it takes no lease.
        lease = nullcontext(True) if dry_run else leased(engine, f"digest:{sub.id}", LEASE, holder)
        with lease as held:
            if not held:
                result.counts["skipped"] += 1
                result.lines.append(f"{sub.email}: another digest run is sending, skipped")
                continue
            _one(engine, settings, sub, now, dry_run, out, result)
    return result


def _one(
    engine: Engine,
    settings: Settings,
    sub: Subscriber,
    now: dt.datetime,
    dry_run: bool,
    out: Path | None,
    result: DigestRunResult,
) -> None:
    # `sub` was loaded with its subscriptions by send_digests.
    with read_session(engine) as s:
        items = due_items(s, sub)
    digest = build_digest(
        sub.name, items, now=now, opinion_only=is_opinion_only(sub), timezone=sub.timezone or "UTC"
    )
    if digest is None:
        result.lines.append(f"{sub.email}: nothing new")
        return
    msg = build_message(digest, sender=settings.smtp.sender, to_email=sub.email, to_name=sub.name)
    if dry_run:
        target = out or Path("digest-preview")
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{_safe_name(sub.email)}.eml").write_bytes(bytes(msg))
        (target / f"{_safe_name(sub.email)}.html").write_text(digest.html, "utf-8")
        result.counts["previews"] += 1
        result.lines.append(
            f"{sub.email}: {len(items)} article(s) → {target / _safe_name(sub.email)}.html (dry run, nothing marked)"
        )
        return
    try:
        send(settings.smtp, msg)
    except SendError as exc:
        failures = sub.failures + 1
        wait = dt.timedelta(minutes=min(2 ** (failures - 1), 360))

        def backoff(session: Session) -> None:
            row = session.get(Subscriber, sub.id)
            assert row is not None
            row.failures, row.retry_after = failures, now + wait

        in_transaction(engine, backoff, what="digest backoff")
        log.warning(
            "digest not sent: %s",
            exc,
            extra={"subscriber": sub.email, "retry_in_minutes": int(wait.total_seconds() // 60)},
        )
        result.counts["failed"] += 1
        result.lines.append(f"{sub.email}: NOT sent ({exc}); retry in {wait}")
        return
    digest_id = msg["Message-ID"].strip("<>")

    def record(session: Session) -> None:
        for art_id in digest.article_ids:
            insert_ignore(
                session,
                Delivery,
                {
                    "subscriber_id": sub.id,
                    "article_id": art_id,
                    "digest_id": digest_id[:64],
                    "status": "sent",
                    "sent_at": now,
                    "message_id": msg["Message-ID"][:300],
                },
                ["subscriber_id", "article_id"],
            )
        row = session.get(Subscriber, sub.id)
        assert row is not None
        row.failures, row.retry_after = 0, None

    in_transaction(engine, record, what="record deliveries")
    result.counts["sent"] += 1
    result.counts["articles"] += len(digest.article_ids)
    result.lines.append(f"{sub.email}: sent {len(digest.article_ids)} article(s)")


def run_digests(
    app: App,
    *,
    dry_run: bool = False,
    out: Path | None = None,
    only: str | None = None,
    on_demand: bool = False,
) -> DigestRunResult:
    """Send due digests. ``on_demand``: a person asked, so back-off after SMTP failures is
    ignored (the scheduler's runs keep it)."""
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
