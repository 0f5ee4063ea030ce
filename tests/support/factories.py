"""The day the tests live on, settings, stores and assistants built for it, and an answer's contract
as a channel journals it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from bot.assistant import Assistant
from bot.clock import FixedClock
from bot.escalation import MemoryUnansweredLog
from bot.services import Retrieval
from bot.sessions import MemorySessionStore
from bot.store import DbSessionStore, DbUnansweredLog, Store
from common.settings import Settings
from retrieval.index import KnowledgeIndex

TODAY = date(2026, 11, 28)


def make_settings(data_dir: Path, knowledge_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, knowledge_dir=knowledge_dir, today=TODAY.isoformat(), **overrides)  # type: ignore[arg-type]


def make_assistant(retrieval: Retrieval, *, fallback_contact: str = "") -> Assistant:
    return Assistant(
        index=retrieval.index,
        clock=FixedClock(TODAY),
        sessions=MemorySessionStore(),
        unanswered=MemoryUnansweredLog(),
        fallback_contact=fallback_contact,
    )


def sqlite_store(directory: Path) -> Store:
    """A migrated store on SQLite in `directory` (what `applybot serve` opens by default)."""
    store = Store(f"sqlite:///{directory / 'db' / 'applybot.sqlite3'}", data_dir=directory / "data")
    store.migrate()
    return store


def assistant_over_store(index: KnowledgeIndex, store: Store, *, decisions: Any = None) -> Assistant:
    """An assistant as the app builds it over a store: sessions and unanswered questions in the
    database, today fixed at TODAY, staff decisions about notices if given."""
    return Assistant(
        index=index,
        clock=FixedClock(TODAY),
        sessions=DbSessionStore(store),
        unanswered=DbUnansweredLog(store),
        decisions=decisions,
    )


def answer_dict(message_id: str, session_id: str = "s1", **overrides: Any) -> dict[str, Any]:
    """An answer's contract as a channel journals it: escalated with one citation, unless `overrides`
    say otherwise."""
    data: dict[str, Any] = {
        "answer": "通知中没有找到这个问题的答案。",
        "citations": [{"doc_id": "d", "title": "t", "section": "s", "quote": "q", "kind": "chunk"}],
        "escalated": True,
        "contacts": [],
        "confidence": 0.0,
        "intent": "general",
        "task": None,
        "session_id": session_id,
        "message_id": message_id,
        "language": "zh-Hans",
        "degraded": False,
    }
    data.update(overrides)
    return data
