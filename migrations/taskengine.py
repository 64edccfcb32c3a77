"""The task engine's tables (Procrastinate, distributed mode) on PostgreSQL.

Procrastinate ships its schema as SQL: a full ``schema.sql`` for a new database and one migration
script per release that changed it. ``ensure_schema`` brings a database to the installed release:
the full schema the first time, then the release scripts newer than the one recorded in
``task_engine_schema``. Migration 0004 calls it, and so does every ``mediawatch db upgrade``, so
upgrading the package and running ``db upgrade`` is one command for the whole schema.

SQLite has no task engine (distributed mode needs PostgreSQL): nothing is created there.
"""

from __future__ import annotations

import re
from importlib import metadata, resources
from pathlib import Path
from typing import Any

ENGINE = "procrastinate"
VERSION_TABLE = "task_engine_schema"
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def _version(text: str) -> tuple[int, int, int]:
    m = _VERSION_RE.match(text)
    if not m:
        raise ValueError(f"not a release number: {text!r}")
    return int(m[1]), int(m[2]), int(m[3])


def installed_version() -> str:
    return metadata.version(ENGINE)


def _release_scripts() -> list[tuple[tuple[int, int, int], str, Path]]:
    """Procrastinate's migration scripts as (release, name, path), in the order to apply them."""
    folder = Path(str(resources.files("procrastinate.sql") / "migrations"))
    scripts = []
    for path in folder.glob("*.sql"):
        scripts.append((_version(path.name), path.name, path))
    return sorted(scripts, key=lambda s: (s[0], s[1]))


def _run(dbapi_connection: Any, sql: str) -> None:
    # Straight to psycopg with no parameters: the scripts contain '%' that a parameterised
    # execute would read as placeholders, and several statements in one string.
    dbapi_connection.execute(sql)


def ensure_schema(connection: Any) -> str | None:
    """Create or upgrade the task engine's tables on a SQLAlchemy ``connection`` (inside its
    transaction). Returns what was done ("created 3.10.0", "upgraded 3.9.0 -> 3.10.0"), or None
    when there was nothing to do or the database is not PostgreSQL."""
    if connection.dialect.name != "postgresql":
        return None
    raw = connection.connection.driver_connection
    _run(
        raw,
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
        " engine varchar(64) PRIMARY KEY, version varchar(32) NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())",
    )
    target = installed_version()
    row = raw.execute(
        f"SELECT version FROM {VERSION_TABLE} WHERE engine = %s", (ENGINE,)
    ).fetchone()
    if row is None:
        exists = raw.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]
        if exists:
            raise RuntimeError(
                "procrastinate's tables exist but no release is recorded in "
                f"{VERSION_TABLE}: insert the release they were created with, then upgrade"
            )
        schema = (resources.files("procrastinate.sql") / "schema.sql").read_text("utf-8")
        _run(raw, schema)
        done = f"created {target}"
    else:
        current = _version(row[0])
        if current >= _version(target):
            return None
        for release, _name, path in _release_scripts():
            if current < release <= _version(target):
                _run(raw, path.read_text("utf-8"))
        done = f"upgraded {row[0]} -> {target}"
    raw.execute(
        f"INSERT INTO {VERSION_TABLE} (engine, version) VALUES (%s, %s) "
        "ON CONFLICT (engine) DO UPDATE SET version = EXCLUDED.version, applied_at = now()",
        (ENGINE, target),
    )
    return done


def drop_schema(connection: Any) -> None:
    """Remove the task engine's tables, functions and types (migration 0004's downgrade)."""
    if connection.dialect.name != "postgresql":
        return
    raw = connection.connection.driver_connection
    for (name,) in raw.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        " AND tablename LIKE 'procrastinate%'"
    ).fetchall():
        _run(raw, f'DROP TABLE IF EXISTS "{name}" CASCADE')
    for (signature,) in raw.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'"
    ).fetchall():
        _run(raw, f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    for (name,) in raw.execute(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%'"
        " AND t.typtype IN ('e', 'c')"
    ).fetchall():
        _run(raw, f'DROP TYPE IF EXISTS "{name}" CASCADE')
    _run(raw, f"DROP TABLE IF EXISTS {VERSION_TABLE}")
