"""Is the database there and at the schema this code needs? Answered with one query, without
importing Alembic (``core.db`` does the migrations themselves)."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from core.errors import SchemaError
from migrations import HEAD


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def schema_revision(engine: Engine) -> str | None:
    """The database's Alembic revision, None for an empty database. Raises :class:`SchemaError`
    when the database cannot be reached at all."""
    try:
        with engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except (OperationalError, ProgrammingError):
                return None  # no alembic_version table: nothing migrated yet
    except DBAPIError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
        raise SchemaError(f"cannot open the database {safe_url(engine)}: {reason}") from None


def require_head(engine: Engine) -> None:
    current = schema_revision(engine)
    if current != HEAD:
        where = f"schema revision {current}" if current else "an empty database (no tables)"
        raise SchemaError(
            f"the database {safe_url(engine)} is at {where}; this version of mediawatch needs "
            f"revision {HEAD}: run `mediawatch db upgrade` (or `mediawatch init`)"
        )
