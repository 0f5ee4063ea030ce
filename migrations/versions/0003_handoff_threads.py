"""Live handoff threads: who claimed and closed a handoff, who wrote each thread message, and
which staff-chat messages belong to which thread.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.add_column("handoffs", sa.Column("applicant", sa.String(200), nullable=True))
    op.add_column("handoffs", sa.Column("claimed_by", sa.String(64), nullable=True))
    op.add_column("handoffs", _at("claimed_at"))
    op.add_column("handoffs", sa.Column("closed_by", sa.String(120), nullable=True))
    op.add_column("handoffs", _at("closed_at"))
    op.add_column("handoffs", sa.Column("token_hash", sa.String(64), nullable=True))
    op.add_column("handoffs", _at("announced_at"))
    op.create_index("ix_handoffs_status", "handoffs", ["status"])
    # Before threads a staff reply marked a handoff "answered": it was being handled by a person.
    op.execute("UPDATE handoffs SET status = 'claimed' WHERE status = 'answered'")

    op.add_column("handoff_replies", sa.Column("role", sa.String(16), nullable=False, server_default="staff"))
    op.add_column("handoff_replies", _at("delivered_at"))

    op.create_table(
        "handoff_links",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("handoff_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.handoff_id"], name="fk_handoff_links_handoff_id_handoffs"
        ),
        sa.PrimaryKeyConstraint("chat_id", "message_id", name="pk_handoff_links"),
    )


def downgrade() -> None:
    op.drop_table("handoff_links")
    with op.batch_alter_table("handoff_replies") as batch:
        batch.drop_column("delivered_at")
        batch.drop_column("role")
    op.execute("UPDATE handoffs SET status = 'answered' WHERE status = 'claimed'")
    op.drop_index("ix_handoffs_status", table_name="handoffs")
    with op.batch_alter_table("handoffs") as batch:
        for column in (
            "announced_at",
            "token_hash",
            "closed_at",
            "closed_by",
            "claimed_at",
            "claimed_by",
            "applicant",
        ):
            batch.drop_column(column)
