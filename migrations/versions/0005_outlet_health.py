"""outlet health: state changes and their admin notices; feeds and sitemaps that stop changing

`sources` records, per outlet, each feed and sitemap its crawls read and when its entries last
changed. Each outlet's health (ok / degraded / silent, core.health) is recorded when it changes; admins
(`[alerts] admins`) are mailed every change once, recorded in health_deliveries after the SMTP
server accepted it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("first_seen", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_changed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
            name=op.f("fk_sources_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("outlet_id", "url", name=op.f("uq_sources_outlet_id_url")),
    )
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sources_outlet_id"), ["outlet_id"], unique=False)
    op.create_table(
        "health_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("previous", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
            name=op.f("fk_health_events_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_events")),
    )
    with op.batch_alter_table("health_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_events_outlet_id"), ["outlet_id"], unique=False)

    op.create_table(
        "health_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["health_events.id"],
            name=op.f("fk_health_deliveries_event_id_health_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_deliveries")),
        sa.UniqueConstraint("email", "event_id", name=op.f("uq_health_deliveries_email_event_id")),
    )
    with op.batch_alter_table("health_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_health_deliveries_event_id"), ["event_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("health_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_deliveries_event_id"))

    op.drop_table("health_deliveries")
    with op.batch_alter_table("health_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_events_outlet_id"))

    op.drop_table("health_events")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sources_outlet_id"))

    op.drop_table("sources")
