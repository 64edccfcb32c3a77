"""store settings: how the near-duplicate index was made, kept beside it

`store_settings` holds, by name, settings the stored rows were made with. The first two say how
the near-duplicate index was made: `near_duplicate_signatures` (datasketch's MinHash scheme,
permutations, seed and shingle size of `articles.minhash`) and `near_duplicate_bands` (the LSH
bands × rows of `lsh_bands`, which follow `[crawl] near_duplicate_threshold`). A store that
computes either differently rebuilds the index first (pipeline.dedup.ensure_index). Databases
made before this revision have neither row: their signatures may come from datasketch's pre-2.0
default scheme, so their first store after the upgrade recomputes them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_settings",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_settings")),
    )


def downgrade() -> None:
    op.drop_table("store_settings")
