"""Watchlist management beyond the config: listing and CSV import.

CSV columns (header row required): ``name,kind,aliases,case_sensitive,wikidata,notes``.
``aliases`` and ``case_sensitive`` hold ``TEXT[@LANG]`` items separated by ``|``. Only ``name``
and ``kind`` are required. The import is one transaction: a bad row names its line and nothing
is imported.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, selectinload

from mediawatch.config import WatchConfig
from mediawatch.sync import SyncReport, upsert_watch
from models import Mention, WatchEntity, in_transaction, read_session

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
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        if None in row:
            raise WatchlistImportError(f"{path}, line {line}: more cells than columns")
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
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise WatchlistImportError(f"{path}, line {line}: {problems}") from None
        if cfg.name.casefold() in seen:
            raise WatchlistImportError(f"{path}, line {line}: {cfg.name!r} appears twice")
        seen.add(cfg.name.casefold())
        entries.append(cfg)
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
                "wikidata": e.wikidata_id,
                "aliases": [
                    {"text": a.text, "language": a.language, "case_sensitive": a.case_sensitive}
                    for a in e.aliases
                ],
                "articles": counts.get(e.id, 0),
            }
            for e in entities
        ]
