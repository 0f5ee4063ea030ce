"""Deadline reminders (subscriptions and the messages each one sent) and staff decisions about notices.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("deadline_key", sa.String(32), nullable=False),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("notice", sa.String(300), nullable=False),
        sa.Column("due", sa.String(10), nullable=False),
        _at("created_at"),
        _at("cancelled_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
        sa.UniqueConstraint("channel", "address", "deadline_key", name="uq_reminders_channel"),
    )
    op.create_table(
        "reminder_sends",
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        _at("sent_at"),
        sa.ForeignKeyConstraint(
            ["reminder_id"],
            ["reminders.id"],
            name="fk_reminder_sends_reminder_id_reminders",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reminder_id", "kind", name="pk_reminder_sends"),
    )

    op.create_table(
        "notice_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("target", sa.String(32), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("relation_kind", sa.String(16), nullable=True),
        sa.Column("staff", sa.String(64), nullable=False),
        _at("at"),
        sa.PrimaryKeyConstraint("id", name="pk_notice_decisions"),
    )


def downgrade() -> None:
    op.drop_table("notice_decisions")
    op.drop_table("reminder_sends")
    op.drop_table("reminders")
