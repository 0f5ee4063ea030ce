"""Conversation contexts in the database, and the assistant's SessionStore and UnansweredLog over the store.

`DbSessionStore` and `DbUnansweredLog` implement the assistant's `SessionStore` and `UnansweredLog`
protocols, so every worker process shares the same follow-up context and review queue.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from bot.sessions import SessionContext
from bot.store.core import StoreCore
from bot.store.journal import JournalMixin
from bot.store.schema import SessionState, utcnow

log = logging.getLogger(__name__)


class ContextsMixin(StoreCore):
    """Each conversation's follow-up context, one row per session."""

    def get_context(self, session_id: str, *, ttl_s: float) -> dict[str, Any] | None:
        def read() -> Any:
            # One statement, no transaction around it: asked before every follow-up.
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                return connection.execute(self._statements["get_context"], {"session_id": session_id}).first()

        row = self._reconnecting(read)
        if row is None or (utcnow() - row.updated_at).total_seconds() > ttl_s:
            return None
        return dict(row.context)

    def put_context(self, session_id: str, context: dict[str, Any]) -> None:
        def write() -> None:
            with self.engine.begin() as connection:
                connection.execute(
                    self._statements["context"],
                    {"session_id": session_id, "context": context, "updated_at": utcnow()},
                )

        self._reconnecting(write)

    def forget_contexts(self, *, older_than_s: float) -> int:
        """Delete conversation contexts idle for longer than `older_than_s`; returns how many."""
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        with self.session() as session:
            result = session.execute(delete(SessionState).where(SessionState.updated_at < cutoff))
            return int(getattr(result, "rowcount", 0) or 0)


class DbSessionStore:
    """Follow-up context in the database, so every worker process sees the same conversation.

    When the database cannot be reached the context is kept in this process's memory meanwhile,
    so follow-ups still work on the worker that answered the last question.
    """

    def __init__(self, store: ContextsMixin, *, ttl_s: float = 6 * 3600, max_turns: int = 6) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.max_turns = max_turns
        self._fallback: dict[str, tuple[float, SessionContext]] = {}
        self._lock = threading.Lock()
        self._puts = 0

    def get(self, session_id: str) -> SessionContext:
        try:
            data = self.store.get_context(session_id, ttl_s=self.ttl_s)
        except SQLAlchemyError as exc:
            log.warning("session store unreachable, using this worker's memory: %s", exc)
            with self._lock:
                item = self._fallback.get(session_id)
            if item is None or time.monotonic() - item[0] > self.ttl_s:
                return SessionContext()
            return item[1]
        return _context_from(data) if data else SessionContext()

    def put(self, session_id: str, context: SessionContext) -> None:
        context.turns = context.turns[-self.max_turns :]
        try:
            self.store.put_context(session_id, asdict(context))
        except SQLAlchemyError as exc:
            log.warning("session store unreachable, keeping the context in memory: %s", exc)
            with self._lock:
                self._fallback[session_id] = (time.monotonic(), context)
                while len(self._fallback) > 10_000:
                    self._fallback.pop(next(iter(self._fallback)))
        else:
            if self._fallback:
                with self._lock:
                    self._fallback.pop(session_id, None)
            self._puts += 1
            if self._puts % 1000 == 0:  # now and then, forget conversations idle past the TTL
                with contextlib.suppress(SQLAlchemyError):
                    self.store.forget_contexts(older_than_s=self.ttl_s)


class DbUnansweredLog:
    """The assistant's unanswered log: escalated questions land in the review queue."""

    def __init__(self, store: JournalMixin) -> None:
        self.store = store

    def record(self, *, question: str, session_id: str, answer: dict[str, Any], reason: str) -> None:
        self.store.record_unanswered(question=question, session_id=session_id, answer=answer, reason=reason)


def _context_from(data: dict[str, Any]) -> SessionContext:
    known = set(SessionContext.__dataclass_fields__)
    values = {k: v for k, v in data.items() if k in known}
    values["turns"] = [tuple(t) for t in values.get("turns", [])]
    return SessionContext(**values)
