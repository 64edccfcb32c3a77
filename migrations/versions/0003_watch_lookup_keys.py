"""folded lookup keys for watchlist names and aliases

`search --actor Лавров` compared names with SQL lower(), which folds ASCII only on SQLite. Names
and aliases now carry a key folded in Python (case, diacritics, Arabic letter variants, ё/е:
pipeline.textnorm.lookup_key), compared the same way on both dialects.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pipeline.textnorm import lookup_key

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"watch_entities": "name", "watch_aliases": "text"}


def upgrade() -> None:
    bind = op.get_bind()
    for table, source in TABLES.items():
        op.add_column(
            table, sa.Column("key", sa.String(length=300), nullable=False, server_default="")
        )
        rows = bind.execute(sa.text(f"SELECT id, {source} FROM {table}")).all()
        for row_id, value in rows:
            bind.execute(
                sa.text(f"UPDATE {table} SET key = :key WHERE id = :id"),
                {"key": lookup_key(value or ""), "id": row_id},
            )
        op.create_index(f"ix_{table}_key", table, ["key"])


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite >= 3.35): a batch copy of the table would break
    # the views of migration 0002 that read it.
    for table in TABLES:
        op.drop_index(f"ix_{table}_key", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN key")
