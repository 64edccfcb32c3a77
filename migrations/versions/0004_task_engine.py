"""the task engine's tables (Procrastinate) for distributed mode, on PostgreSQL

`mediawatch worker` and `mediawatch run --distributed` keep their jobs in Procrastinate's tables in
the same database. They are created here on PostgreSQL (SQLite has no distributed mode, and gets
nothing); later Procrastinate releases are applied by `mediawatch db upgrade`
(migrations.taskengine).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from migrations.taskengine import drop_schema, ensure_schema

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ensure_schema(op.get_bind())


def downgrade() -> None:
    drop_schema(op.get_bind())
