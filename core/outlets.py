"""Outlet management beyond the config: enable, disable, remove."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from core.errors import OutletError
from core.sync import set_enabled
from models import Appearance, CrawlRun, Outlet, in_transaction, utcnow


def _outlet(session: Session, slug: str) -> Outlet:
    row = session.scalar(select(Outlet).where(Outlet.slug == slug.lower()))
    if row is None:
        raise OutletError(f"no outlet {slug!r} (see `mediawatch outlets list`)")
    return row


def set_outlet_enabled(engine: Engine, slug: str, enabled: bool) -> str:
    """A disabled outlet is not crawled; what was stored from it stays."""
    return set_enabled(engine, lambda s: _outlet(s, slug), slug.lower(), enabled)


def remove_outlet(engine: Engine, slug: str, *, keep_articles: bool = False) -> str:
    """Delete an outlet and its crawl history. While articles appeared on it, refuse, or with
    ``keep_articles`` disable it instead (provenance is never deleted behind a user's back)."""

    def work(session: Session) -> str:
        row = _outlet(session, slug)
        appearances = session.scalar(
            select(func.count()).select_from(Appearance).where(Appearance.outlet_id == row.id)
        )
        if appearances:
            if not keep_articles:
                raise OutletError(
                    f"{row.slug}: {appearances} stored appearance(s) still name this outlet; "
                    "`--keep-articles` disables it instead of removing it"
                )
            row.enabled = False
            row.updated_at = utcnow()
            return f"{row.slug}: disabled, its {appearances} appearance(s) kept"
        session.execute(delete(CrawlRun).where(CrawlRun.outlet_id == row.id))
        session.delete(row)
        note = " (note: it is still in mediawatch.toml: the next `outlets sync` adds it again)"
        return f"{row.slug}: removed" + (note if row.from_config else "")

    return in_transaction(engine, work, what="outlet remove")


def enabled_outlet_url(engine: Engine, slug: str) -> str:
    """The home page URL of an enabled outlet; :class:`OutletError` when it is unknown or off."""
    with Session(engine) as session:
        row = _outlet(session, slug)
        if not row.enabled:
            raise OutletError(
                f"outlet {row.slug!r} is disabled (`mediawatch outlets enable {row.slug}` first)"
            )
        return row.url
