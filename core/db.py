"""Schema management through Alembic, driven from the application (no alembic.ini needed)."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations
from migrations.filters import include_object
from models import Base


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``; at head, also bring the task engine's tables (PostgreSQL) to the
    installed Procrastinate release, all in one transaction."""
    from migrations.taskengine import ensure_schema

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        if revision == "head" and conn.dialect.name == "postgresql":
            ensure_schema(conn)


def downgrade(engine: Engine, revision: str = "base") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revisions(url: str = "sqlite://") -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def describe_revision(revision: str | None) -> str:
    """'0002 (the newest: search indexes and SQL views)': a revision with what it brought."""
    if revision is None:
        return "an empty database (no tables yet)"
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    doc = (script.get_revision(revision).doc or "").strip().rstrip(".")
    newest = revision in script.get_heads()
    what = f"{'the newest: ' if newest else 'not the newest, which is '}"
    if not newest:
        what += ", ".join(script.get_heads()) + "; this one: "
    return f"{revision} ({what}{doc[:1].lower() + doc[1:]})" if doc else f"{revision}"


def drift(engine: Engine) -> list[object]:
    """Differences between the models and the database (empty when they match)."""
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect the expression index of migration 0002; it is filtered out anyway.
        warnings.filterwarnings(
            "ignore", message="Skipped unsupported reflection of expression-based index"
        )
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        return list(compare_metadata(ctx, Base.metadata))
