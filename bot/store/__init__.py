"""The database of record: conversations, answers, feedback, handoffs, staff FAQ, users, tokens, audit.

SQLite under the data directory by default (WAL mode), PostgreSQL when a database URL is given. The
schema is owned by the Alembic migrations in `migrations/`, run with `upgrade head` when the store opens.
A write the database cannot take is spooled to disk and replayed later (see `core`).

`Store` is assembled from one mixin per job (each a module of this package) over `StoreCore`;
`DbSessionStore` and `DbUnansweredLog` implement the assistant's `SessionStore` and `UnansweredLog`
protocols over it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.store.audit import AuditMixin
from bot.store.contexts import ContextsMixin, DbSessionStore, DbUnansweredLog
from bot.store.core import SPOOL_DIR, StoreCore
from bot.store.engine import (
    MIGRATIONS_DIR,
    SQLITE_FILE,
    alembic_config,
    database_url,
    downgrade,
    is_unreachable,
    make_engine,
    normalize_url,
    upgrade,
)
from bot.store.faq_entries import FaqEntriesMixin
from bot.store.handoffs import HandoffsMixin
from bot.store.journal import JournalMixin
from bot.store.review import ReviewMixin
from bot.store.schema import (
    FAQ_STATUSES,
    REVIEW_STATUSES,
    ApiToken,
    AuditEntry,
    Base,
    Conversation,
    FaqEntry,
    Feedback,
    Handoff,
    HandoffLink,
    HandoffMessage,
    JsonType,
    Message,
    SessionState,
    StaffSession,
    StaffUser,
    UtcDateTime,
    utcnow,
)
from bot.store.spool import Spool
from bot.store.staff_auth import STAFF_SESSION_HOURS, TOKEN_PREFIX, StaffAuthMixin

__all__ = [
    "FAQ_STATUSES",
    "MIGRATIONS_DIR",
    "REVIEW_STATUSES",
    "SPOOL_DIR",
    "SQLITE_FILE",
    "STAFF_SESSION_HOURS",
    "TOKEN_PREFIX",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Conversation",
    "DbSessionStore",
    "DbUnansweredLog",
    "FaqEntry",
    "Feedback",
    "Handoff",
    "HandoffLink",
    "HandoffMessage",
    "JsonType",
    "Message",
    "SessionState",
    "Spool",
    "StaffSession",
    "StaffUser",
    "Store",
    "StoreCore",
    "UtcDateTime",
    "alembic_config",
    "database_url",
    "downgrade",
    "is_unreachable",
    "make_engine",
    "normalize_url",
    "open_store",
    "upgrade",
    "utcnow",
]


class Store(
    JournalMixin,
    ReviewMixin,
    HandoffsMixin,
    FaqEntriesMixin,
    StaffAuthMixin,
    AuditMixin,
    ContextsMixin,
):
    """Everything applybot records, in one SQL database; see the package docstring."""


def open_store(settings: Any, *, migrate: bool = True) -> Store:
    """Open the store the settings name (`database_url`, else SQLite under `data_dir`) and migrate it."""
    return Store(
        database_url(settings),
        data_dir=Path(settings.data_dir),
        migrate=migrate,
        timezone=str(getattr(settings, "timezone", "Asia/Shanghai")),
    )
