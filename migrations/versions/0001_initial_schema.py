"""Initial schema: conversations, messages, feedback, handoffs, FAQ, staff users, tokens, sessions, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _at(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        _at("started_at"),
        _at("last_at"),
        sa.PrimaryKeyConstraint("session_id", name="pk_conversations"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("answer", _json(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("task", sa.String(500), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        _at("reviewed_at", nullable=True),
        sa.Column("faq_id", sa.Integer(), nullable=True),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["conversations.session_id"], name="fk_messages_session_id_conversations"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("message_id", name="uq_messages_message_id"),
    )
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.create_index("ix_messages_session_id", "messages", ["session_id"])
    op.create_index("ix_messages_review", "messages", ["review_status", "escalated"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.UniqueConstraint("message_id", "session_id", name="uq_feedback_message_session"),
    )
    op.create_index("ix_feedback_message_id", "feedback", ["message_id"])

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
        sa.UniqueConstraint("handoff_id", name="uq_handoffs_handoff_id"),
    )
    op.create_index("ix_handoffs_session_id", "handoffs", ["session_id"])

    op.create_table(
        "handoff_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.String(64), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.handoff_id"], name="fk_handoff_replies_handoff_id_handoffs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_replies"),
    )
    op.create_index("ix_handoff_replies_handoff_id", "handoff_replies", ["handoff_id"])

    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("questions", _json(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_faq_entries"),
    )
    op.create_index("ix_faq_entries_status", "faq_entries", ["status"])

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("name", name="uq_staff_users_name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        _at("created_at"),
        _at("last_used_at", nullable=True),
        _at("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], name="fk_api_tokens_user_id_staff_users"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_id", name="uq_api_tokens_token_id"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])

    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name="fk_staff_sessions_user_id_staff_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_staff_sessions"),
        sa.UniqueConstraint("session_hash", name="uq_staff_sessions_session_hash"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _at("at"),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("detail", _json(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])

    op.create_table(
        "session_contexts",
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("context", _json(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_contexts"),
    )
    op.create_index("ix_session_contexts_updated_at", "session_contexts", ["updated_at"])


def downgrade() -> None:
    for table in (
        "session_contexts",
        "audit_log",
        "staff_sessions",
        "api_tokens",
        "staff_users",
        "faq_entries",
        "handoff_replies",
        "handoffs",
        "feedback",
        "messages",
        "conversations",
    ):
        op.drop_table(table)
