"""Watchlist management beyond the config: listing and CSV import.

CSV columns (header row required): ``name,kind,aliases,case_sensitive,wikidata,notes``.
``aliases`` and ``case_sensitive`` hold ``TEXT[@LANG]`` items separated by ``|``. Only ``name``
and ``kind`` are required. The import is one transaction: if any row is bad, every bad row is
listed with its line and nothing is imported.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, selectinload

from core.config import WatchConfig
from core.errors import WatchlistError
from core.sync import CONFIG_NOTE, SyncReport, set_enabled, upsert_watch
from models import (
    Mention,
    Subscription,
    WatchAlias,
    WatchEntity,
    in_transaction,
    read_session,
)
from pipeline.textnorm import lookup_key

CSV_COLUMNS = ("name", "kind", "aliases", "case_sensitive", "wikidata", "notes")


class WatchlistImportError(Exception):
    pass


def _split(cell: str | None) -> list[str]:
    return [p.strip() for p in (cell or "").split("|") if p.strip()]


def parse_csv(path: Path) -> list[WatchConfig]:
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WatchlistImportError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in ("name", "kind") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        raise WatchlistImportError(
            f"{path}: header must have name,kind (optional: aliases,case_sensitive,wikidata,notes); "
            f"missing {missing}, unknown {unknown}"
        )
    entries: list[WatchConfig] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"line {line}: more cells than columns")
            continue
        try:
            cfg = WatchConfig.model_validate(
                {
                    "name": row.get("name") or "",
                    "kind": (row.get("kind") or "").strip(),
                    "aliases": _split(row.get("aliases")),
                    "case_sensitive": _split(row.get("case_sensitive")),
                    "wikidata": (row.get("wikidata") or "").strip(),
                    "notes": row.get("notes") or "",
                }
            )
        except ValidationError as exc:
            details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            problems.append(f"line {line}: {details}")
            continue
        key = cfg.name.casefold()
        if key in seen:
            problems.append(f"line {line}: {cfg.name!r} appears twice (also line {seen[key]})")
            continue
        seen[key] = line
        entries.append(cfg)
    if problems:
        raise WatchlistImportError(
            f"{path}: nothing imported, {len(problems)} bad row(s):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    return entries


def import_csv(engine: Engine, path: Path) -> SyncReport:
    entries = parse_csv(path)

    def work(session: Session) -> SyncReport:
        report = SyncReport()
        for cfg in entries:
            result = upsert_watch(session, cfg, from_config=False, replace_aliases=False)
            if result:
                report.add(result)
        return report

    return in_transaction(engine, work, what="watchlist import")


def entity_rows(engine: Engine) -> list[dict[str, Any]]:
    with read_session(engine) as session:
        counts = dict(
            session.execute(
                select(Mention.entity_id, func.count()).group_by(Mention.entity_id)
            ).all()
        )
        entities = session.scalars(
            select(WatchEntity)
            .options(selectinload(WatchEntity.aliases))
            .order_by(WatchEntity.name)
        ).all()
        return [
            {
                "id": e.id,
                "name": e.name,
                "kind": e.kind,
                "enabled": e.enabled,
                "from_config": e.from_config,
                "wikidata": e.wikidata_id,
                "notes": e.notes,
                "aliases": [
                    {"text": a.text, "language": a.language, "case_sensitive": a.case_sensitive}
                    for a in e.aliases
                ],
                "articles": counts.get(e.id, 0),
            }
            for e in entities
        ]


def find_entity(session: Session, name: str) -> WatchEntity:
    """The entity named ``name`` (any case or script variant of the name, or one of its aliases)."""
    key = lookup_key(name)
    row = session.scalar(select(WatchEntity).where(WatchEntity.key == key))
    if row is None:
        row = session.scalar(
            select(WatchEntity).join(WatchAlias).where(WatchAlias.key == key).limit(1)
        )
    if row is None:
        raise WatchlistError(f"no tracked entity is named {name!r} (see `mediawatch watch list`)")
    return row


def set_entity_enabled(engine: Engine, name: str, enabled: bool) -> str:
    """Enable or disable an entity: a disabled one is not matched and its mentions stay."""
    with read_session(engine) as session:
        label = find_entity(session, name).name
    return set_enabled(engine, lambda s: find_entity(s, name), label, enabled)


def remove_entity(engine: Engine, name: str) -> str:
    """Delete an entity with its aliases, mentions and subscriptions to it."""

    def work(session: Session) -> str:
        row = find_entity(session, name)
        mentions = session.scalar(
            select(func.count()).select_from(Mention).where(Mention.entity_id == row.id)
        )
        label, from_config = row.name, row.from_config
        session.execute(delete(Mention).where(Mention.entity_id == row.id))
        session.execute(delete(Subscription).where(Subscription.entity_id == row.id))
        session.delete(row)
        note = f" (note: {CONFIG_NOTE.replace('overwrite this', 'add it again')})"
        return f"{label}: removed with {mentions} mention(s)" + (note if from_config else "")

    return in_transaction(engine, work, what="watch remove")
