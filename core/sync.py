"""Config → database: outlets, watchlist and subscribers, upserted idempotently.

Entries removed from the config are disabled, never deleted, so their history stays. Rows added
from the CLI (``from_config`` false) are left alone by the sync.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.config import (
    OutletConfig,
    Settings,
    SubscriberConfig,
    WatchConfig,
    parse_alias,
)
from core.configfile import unknown_entity_problems
from core.errors import ConfigError, WatchlistError
from models import Outlet, Subscriber, Subscription, WatchAlias, WatchEntity, in_transaction, utcnow
from pipeline.textnorm import lookup_key


@dataclass
class SyncReport:
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, what: str) -> None:
        self.counts[what] += 1

    @property
    def changed(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        if not self.counts:
            return "config and database agree: nothing to change"
        return ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))


def outlet_values(cfg: OutletConfig) -> dict[str, Any]:
    return {
        "name": cfg.name,
        "url": cfg.url,
        "country": cfg.country,
        "language": cfg.language,
        "feeds": list(cfg.feeds),
        "sitemaps": list(cfg.sitemaps),
        "sections": list(cfg.sections),
        "article_patterns": list(cfg.article_patterns),
        "opinion_patterns": list(cfg.opinion_patterns),
        "selectors": {
            k: v
            for k, v in {
                "author": cfg.author_selector,
                "date": cfg.date_selector,
                "body": cfg.body_selector,
                "extra_domains": list(cfg.extra_domains),
            }.items()
            if v
        },
        "interval_minutes": float(cfg.interval_minutes),
        "enabled": cfg.enabled,
    }


def _apply(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def upsert_outlet(session: Session, values: dict[str, Any], slug: str, *, from_config: bool) -> str:
    row = session.scalar(select(Outlet).where(Outlet.slug == slug))
    if row is None:
        session.add(Outlet(slug=slug, from_config=from_config, **values))
        return "outlets added"
    if _apply(row, {**values, "from_config": from_config or row.from_config}):
        row.updated_at = utcnow()
        return "outlets updated"
    return ""


def alias_specs(cfg: WatchConfig) -> list[tuple[str, str, bool]]:
    """(text, language, case_sensitive) for every alias; the entity's name is an alias too."""
    out: dict[tuple[str, str], bool] = {}
    for spec in [cfg.name, *cfg.aliases]:
        text, lang = parse_alias(spec)
        out.setdefault((text, lang or ""), False)
    for spec in cfg.case_sensitive:
        text, lang = parse_alias(spec)
        out[(text, lang or "")] = True
    return [(t, lang, cs) for (t, lang), cs in out.items()]


def set_aliases(entity: WatchEntity, specs: Iterable[tuple[str, str, bool]]) -> bool:
    wanted = {(t, lang): cs for t, lang, cs in specs}
    have = {(a.text, a.language): a for a in entity.aliases}
    changed = False
    for key, alias in have.items():
        if key not in wanted:
            entity.aliases.remove(alias)
            changed = True
        elif alias.case_sensitive != wanted[key]:
            alias.case_sensitive = wanted[key]
            changed = True
    for (text, lang), cs in wanted.items():
        if (text, lang) not in have:
            entity.aliases.append(
                WatchAlias(text=text, key=lookup_key(text), language=lang, case_sensitive=cs)
            )
            changed = True
    return changed


def upsert_entity(
    session: Session,
    name: str,
    kind: str,
    specs: list[tuple[str, str, bool]],
    *,
    wikidata: str = "",
    notes: str = "",
    from_config: bool,
    replace_aliases: bool = True,
) -> str:
    row = session.scalar(select(WatchEntity).where(WatchEntity.name == name))
    if row is None:
        row = WatchEntity(
            name=name,
            key=lookup_key(name),
            kind=kind,
            wikidata_id=wikidata,
            notes=notes,
            from_config=from_config,
        )
        session.add(row)
        set_aliases(row, specs)
        return "watch entities added"
    if row.kind != kind and not from_config:
        raise WatchlistError(
            f"{row.name} is tracked as {_a(row.kind)}; remove it first to track it as {_a(kind)}"
        )
    values = {"kind": kind, "enabled": True}
    if from_config or wikidata:
        values["wikidata_id"] = wikidata
    if from_config or notes:
        values["notes"] = notes
    changed = _apply(row, values)
    if replace_aliases:
        changed |= set_aliases(row, specs)
    else:
        merged = {(a.text, a.language): a.case_sensitive for a in row.aliases}
        merged.update({(t, lang): cs for t, lang, cs in specs})
        changed |= set_aliases(row, [(t, lang, cs) for (t, lang), cs in merged.items()])
    if from_config and not row.from_config:
        row.from_config = True
        changed = True
    if changed:
        row.updated_at = utcnow()
        return "watch entities updated"
    return ""


def upsert_watch(
    session: Session, cfg: WatchConfig, *, from_config: bool, replace_aliases: bool = True
) -> str:
    return upsert_entity(
        session,
        cfg.name,
        cfg.kind,
        alias_specs(cfg),
        wikidata=cfg.wikidata,
        notes=cfg.notes,
        from_config=from_config,
        replace_aliases=replace_aliases,
    )


def _sync_subscriber(session: Session, cfg: SubscriberConfig, entity_ids: dict[str, int]) -> str:
    row = session.scalar(select(Subscriber).where(Subscriber.email == cfg.email))
    values = {
        "name": cfg.name,
        "schedule": cfg.schedule,
        "timezone": cfg.timezone,
        "enabled": cfg.enabled,
        "from_config": True,
    }
    result = ""
    if row is None:
        row = Subscriber(email=cfg.email, **values)
        session.add(row)
        result = "subscribers added"
    elif _apply(row, values):
        result = "subscribers updated"
    wanted: set[tuple[int | None, bool]] = {
        (entity_ids[lookup_key(e)], cfg.opinion_only) for e in cfg.entities
    } or {(None, cfg.opinion_only)}
    have = {(s.entity_id, s.opinion_only): s for s in row.subscriptions}
    if set(have) != wanted:
        row.subscriptions[:] = [
            have.get(k) or Subscription(entity_id=k[0], opinion_only=k[1]) for k in wanted
        ]
        result = result or "subscribers updated"
    return result


def sync_config(engine: Engine, settings: Settings) -> SyncReport:
    """Upsert the config's outlets, watchlist and subscribers; one transaction."""

    def work(session: Session) -> SyncReport:
        report = SyncReport()
        for o in settings.outlets:
            if r := upsert_outlet(session, outlet_values(o), o.slug, from_config=True):
                report.add(r)
        slugs = {o.slug for o in settings.outlets}
        for row in session.scalars(select(Outlet).where(Outlet.from_config, Outlet.enabled)):
            if row.slug not in slugs:
                row.enabled = False
                report.add("outlets disabled")

        for w in settings.watch:
            r = upsert_watch(session, w, from_config=True)
            if r:
                report.add(r)
        session.flush()
        names = {w.name for w in settings.watch}
        for ent in session.scalars(
            select(WatchEntity).where(WatchEntity.from_config, WatchEntity.enabled)
        ):
            if ent.name not in names:
                ent.enabled = False
                ent.updated_at = utcnow()
                report.add("watch entities disabled")

        entity_ids = dict(session.execute(select(WatchEntity.key, WatchEntity.id)).all())
        problems = unknown_entity_problems(
            settings.model_dump(), settings, lambda _s, keys: keys & set(entity_ids)
        )
        if problems:
            raise ConfigError(settings.config_path, problems)
        for s in settings.subscribers:
            if r := _sync_subscriber(session, s, entity_ids):
                report.add(r)
        emails = {s.email for s in settings.subscribers}
        for sub in session.scalars(
            select(Subscriber).where(Subscriber.from_config, Subscriber.enabled)
        ):
            if sub.email not in emails:
                sub.enabled = False
                report.add("subscribers disabled")
        return report

    return in_transaction(engine, work, what="config sync")


def _a(kind: str) -> str:
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


CONFIG_NOTE = "it comes from mediawatch.toml: the next `outlets sync` will overwrite this"


class Toggleable(Protocol):
    enabled: bool
    from_config: bool
    updated_at: dt.datetime


def set_enabled(
    engine: Engine, find: Callable[[Session], Toggleable], label: str, enabled: bool
) -> str:
    """Enable or disable the outlet or entity ``find`` returns; say so, and whether the config
    will put it back."""

    def work(session: Session) -> str:
        row = find(session)
        state = "enabled" if enabled else "disabled"
        if row.enabled == enabled:
            return f"{label}: already {state}"
        row.enabled = enabled
        row.updated_at = utcnow()
        return f"{label}: {state}" + (f" (note: {CONFIG_NOTE})" if row.from_config else "")

    return in_transaction(engine, work, what=f"{label} enable/disable")
