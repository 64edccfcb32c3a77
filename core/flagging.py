"""The flag job: match stored articles against the watchlist and keep ``mentions`` current.

What is matched:

* articles never matched (``flagged_at`` NULL: new, or whose text changed) — against everything;
* when entities changed since the archive was last matched (their alias hash differs from
  ``applied_hash``) — the archive, against only those entities; a disabled entity's mentions go;
* ``--all`` — everything against everything.

Each batch is one transaction. An article whose text changed while we were matching it keeps
``flagged_at`` NULL (guarded by ``updated_at``), so a concurrent crawl never loses a re-match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, selectinload

from core.matchercache import MatcherCache, watchlist_fingerprint
from models import Article, Mention, WatchEntity, in_transaction, read_session, utcnow
from pipeline.flag import MATCHER_VERSION, AliasSpec, Matcher, mentions_in

BATCH = 200


def entity_hash(entity: WatchEntity) -> str:
    """What the archive must be re-matched for when it changes: kind and aliases."""
    parts = [
        entity.kind,
        *sorted(f"{a.text}\x1f{a.language}\x1f{int(a.case_sensitive)}" for a in entity.aliases),
    ]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()[:32]


def load_aliases(session: Session, entity_ids: set[int] | None = None) -> list[AliasSpec]:
    q = select(WatchEntity).options(selectinload(WatchEntity.aliases)).where(WatchEntity.enabled)
    if entity_ids is not None:
        q = q.where(WatchEntity.id.in_(entity_ids))
    return [
        AliasSpec(e.id, a.text, a.language, a.case_sensitive)
        for e in session.scalars(q)
        for a in e.aliases
    ]


@dataclass
class FlagReport:
    counts: dict[str, int] = field(
        default_factory=lambda: {"articles": 0, "flagged": 0, "mentions": 0, "rematched": 0}
    )


def _match_batch(
    engine: Engine, matcher: Matcher, ids: list[int], only: set[int] | None, report: FlagReport
) -> None:
    """Match one batch of articles; ``only`` limits which entities' mentions are replaced."""
    with read_session(engine) as s:
        rows = s.execute(
            select(Article.id, Article.title, Article.text, Article.updated_at).where(
                Article.id.in_(ids)
            )
        ).all()
    results = [(r[0], r[3], mentions_in(matcher, r[1] or "", r[2] or "")) for r in rows]
    now = utcnow()

    def work(session: Session) -> None:
        for art_id, seen_update, found in results:
            q = delete(Mention).where(Mention.article_id == art_id)
            if only is not None:
                q = q.where(Mention.entity_id.in_(only))
            session.execute(q)
            for em in found:
                session.add(
                    Mention(
                        article_id=art_id,
                        entity_id=em.entity_id,
                        count=em.count,
                        offsets=em.offsets,
                        in_title=em.in_title,
                        snippet=em.snippet,
                        matched=em.matched[:300],
                        matcher_version=MATCHER_VERSION,
                        created_at=now,
                    )
                )
            report.counts["mentions"] += len(found)
            report.counts["flagged"] += bool(found)
            if only is None:
                session.execute(
                    update(Article)
                    .where(Article.id == art_id, Article.updated_at == seen_update)
                    .values(flagged_at=now)
                )

    in_transaction(engine, work, what="flag batch")
    report.counts["articles"] += len(results)


def flag(
    engine: Engine,
    *,
    rematch_all: bool = False,
    progress: Callable[[int, int], Any] | None = None,
    cache: MatcherCache | None = None,
) -> FlagReport:
    """Match what needs matching (module docstring). With an unchanged watchlist the compiled
    matcher comes from the cache and no alias is loaded: the cost follows the new articles,
    not the watchlist's size."""
    report = FlagReport()
    cache = cache or MatcherCache()
    hashes: dict[int, str] | None = None
    changed: set[int] = set()
    archive: list[int] = []
    partial: Matcher | None = None
    with read_session(engine) as s:
        fingerprint = watchlist_fingerprint(s)
        full = None if rematch_all else cache.load(fingerprint)
        if full is None:
            entities = list(
                s.scalars(select(WatchEntity).options(selectinload(WatchEntity.aliases)))
            )
            hashes = {e.id: (entity_hash(e) if e.enabled else "") for e in entities}
            changed = {e.id for e in entities if e.applied_hash != hashes[e.id]}
            full = Matcher(load_aliases(s))
        if rematch_all:
            todo = list(s.scalars(select(Article.id).order_by(Article.id)))
        else:
            todo = list(
                s.scalars(
                    select(Article.id).where(Article.flagged_at.is_(None)).order_by(Article.id)
                )
            )
            if changed:
                archive = list(
                    s.scalars(
                        select(Article.id)
                        .where(Article.flagged_at.is_not(None))
                        .order_by(Article.id)
                    )
                )
        if archive:
            partial = Matcher(load_aliases(s, changed))
    total = len(todo) + len(archive)
    done = 0
    if rematch_all:
        in_transaction(engine, lambda sess: sess.execute(delete(Mention)), what="flag --all reset")
    for i in range(0, len(archive), BATCH):
        assert partial is not None
        _match_batch(engine, partial, archive[i : i + BATCH], changed, report)
        done += len(archive[i : i + BATCH])
        report.counts["rematched"] += len(archive[i : i + BATCH])
        if progress:
            progress(done, total)
    for i in range(0, len(todo), BATCH):
        _match_batch(engine, full, todo[i : i + BATCH], None, report)
        done += len(todo[i : i + BATCH])
        if progress:
            progress(done, total)

    report.counts["entities_changed"] = len(changed)
    if hashes is None:
        report.counts["matcher_cached"] = 1
        return report
    applied = hashes

    def mark_applied(session: Session) -> None:
        for ent_id, h in applied.items():
            session.execute(
                update(WatchEntity).where(WatchEntity.id == ent_id).values(applied_hash=h)
            )

    in_transaction(engine, mark_applied, what="flag: record applied watchlist")
    with read_session(engine) as s:
        if watchlist_fingerprint(s) == fingerprint:  # nobody changed it while we matched
            cache.save(fingerprint, full)
    return report
