"""The core of the store: the engine, units of work, and the write path that spools rather than fail.

Logging never costs an answer: a write the database cannot take (it is down, locked, unreachable)
is appended to the spool and replayed, in order, once the database answers again. Every logged
record carries its own idempotency key (message id, session and message for feedback, handoff id),
so a replay that is interrupted and run again never makes duplicates.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.engine import is_unreachable, make_engine, normalize_url, upgrade
from bot.store.schema import (
    Base,
    Conversation,
    Feedback,
    Handoff,
    Message,
    SessionState,
    _clip,
    _parse_at,
)
from bot.store.spool import Spool

log = logging.getLogger(__name__)

SPOOL_DIR = "spool"
T = TypeVar("T")


class StoreCore:
    """The database connection and the resilient write path the rest of the store builds on."""

    def __init__(
        self,
        url: str,
        *,
        data_dir: Path,
        migrate: bool = True,
        retry_after_s: float = 5.0,
        busy_timeout_s: float = 5.0,
        connect_timeout_s: int = 3,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(
            self.url, busy_timeout_s=busy_timeout_s, connect_timeout_s=connect_timeout_s
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.spool = Spool(Path(data_dir) / SPOOL_DIR)
        self.retry_after_s = retry_after_s
        self.tz = ZoneInfo(timezone)
        self._down_until = 0.0
        self._migrated = False
        self._state_lock = threading.Lock()
        self._replayer: threading.Thread | None = None
        self._closed = threading.Event()
        if migrate:
            try:
                self.migrate()
            except Exception as exc:
                if not is_unreachable(exc):
                    raise
                log.warning("database unreachable at start-up; logging to the spool: %s", exc)
                self._mark_down(exc)
        if self.spool.has_pending():
            self._start_replayer()

    # -- lifecycle --

    def migrate(self) -> None:
        """Run the migrations up to head (idempotent)."""
        upgrade(self.engine)
        self._migrated = True

    def close(self) -> None:
        self._closed.set()
        replayer = self._replayer
        if replayer is not None:
            replayer.join(timeout=5)
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back when it raises."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        def select_one() -> None:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")

        try:
            self._reconnecting(select_one)
            return True
        except SQLAlchemyError:
            return False

    # -- the resilient write path --

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _mark_down(self, exc: BaseException) -> None:
        with self._state_lock:
            if self._available():
                log.warning("database unreachable, spooling writes for %.0f s: %s", self.retry_after_s, exc)
            self._down_until = time.monotonic() + self.retry_after_s
        self._start_replayer()

    def _submit(self, op: str, payload: dict[str, Any]) -> None:
        """Apply a logging write now, or spool it: this never raises and never loses the record.

        While anything waits in the spool, new records queue behind it (so their order holds) and
        only the background replayer probes the database: a request never waits for a dead server
        more than once per outage.
        """
        item = {"op": op, "payload": payload}
        try:
            if self._available() and not self.spool.has_pending():
                try:
                    if not self._migrated:
                        self.migrate()
                    self._apply(item)
                    return
                except Exception as exc:
                    if self._migrated and not is_unreachable(exc):
                        log.error("database refused a %s record: %s", op, exc)
                        self.spool.append({**item, "error": str(exc)[:500]}, rejected=True)
                        return
                    self._mark_down(exc)
            self.spool.append(item)
            self._start_replayer()
        except Exception:  # the disk is full too: say so, but the answer still goes out
            log.exception("could not record a %s record anywhere", op)

    def replay_spool(self) -> int:
        """Replay spooled records now; returns how many were applied (0 when the database is still down)."""
        try:
            self.migrate()  # the database may have come back empty (recreated): give it its tables
            done = self.spool.replay(self._apply)
        except Exception as exc:
            if is_unreachable(exc):
                self._mark_down(exc)
                return 0
            raise
        with self._state_lock:
            self._down_until = 0.0
        if done:
            log.info("replayed %d spooled records", done)
        return done

    def _start_replayer(self) -> None:
        """A background thread that retries the spool until it is empty, so it drains without new writes."""
        with self._state_lock:
            if self._replayer is not None or self._closed.is_set():
                return
            self._replayer = threading.Thread(target=self._replay_loop, name="applybot-spool", daemon=True)
            self._replayer.start()

    def _replay_loop(self) -> None:
        while True:
            delay = max(0.05, self._down_until - time.monotonic())
            if self._closed.wait(delay):
                return
            with self._state_lock:
                if not self.spool.has_pending():
                    self._replayer = None
                    return
            try:
                self.replay_spool()
            except Exception:  # a bug, not an outage: keep the spool, try again later
                log.exception("spool replay failed")
                with self._state_lock:
                    self._down_until = time.monotonic() + self.retry_after_s

    @staticmethod
    def _reconnecting(work: Callable[[], T]) -> T:
        """Run `work`, and once more if it failed on a pooled connection the server had closed.

        The first failure makes the pool discard every connection opened before it, so the second
        try gets a fresh one. A database that is really down fails again, and that error is raised.
        """
        try:
            return work()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        return work()

    def _apply(self, item: dict[str, Any]) -> None:
        op, payload = item["op"], item["payload"]
        if op in ("answer", "unanswered"):  # the hot path: one transaction of two upserts, no ORM
            channel = payload.get("channel") if op == "answer" else None

            def write() -> None:
                with self.engine.begin() as connection:
                    self._upsert_message(connection, payload, channel=channel)

            self._reconnecting(write)
            return
        with self.session() as session:
            if op == "feedback":
                self._upsert_feedback(session, payload)
            elif op == "handoff":
                self._insert_handoff(session, payload)
            else:
                raise ValueError(f"unknown spooled operation {op!r}")

    def _insert_ignore(
        self, session: Session, model: type[Base], values: dict[str, Any], keys: list[str]
    ) -> None:
        """INSERT ... ON CONFLICT DO NOTHING: racing workers never collide."""
        session.execute(
            self._insert(model.__table__).values(**values).on_conflict_do_nothing(index_elements=keys)
        )

    def _insert(self, table: Any) -> Any:
        """INSERT ... ON CONFLICT for this database (both dialects spell it alike in SQLAlchemy)."""
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)

    @functools.cached_property
    def _statements(self) -> dict[str, Any]:
        """The statements of the per-answer write path, built once (building them costs more than running them).

        The journal and the unanswered log both describe the same message, in either order: the first
        write inserts the row, later ones fill in what it lacked (channel, reason, latency ...).
        """
        later, earlier = (func.greatest, func.least) if self.dialect == "postgresql" else (func.max, func.min)
        conversations, messages, contexts = Conversation.__table__, Message.__table__, SessionState.__table__
        conversation = self._insert(conversations)
        message = self._insert(messages)
        context = self._insert(contexts)
        return {
            "conversation": conversation.on_conflict_do_update(
                index_elements=["session_id"],
                set_={
                    "channel": func.coalesce(conversations.c.channel, conversation.excluded.channel),
                    "last_at": later(conversations.c.last_at, conversation.excluded.last_at),
                    "started_at": earlier(conversations.c.started_at, conversation.excluded.started_at),
                },
            ),
            "message": message.on_conflict_do_update(
                index_elements=["message_id"],
                set_={
                    **{
                        key: func.coalesce(messages.c[key], message.excluded[key])
                        for key in ("channel", "reason", "latency_ms", "intent", "task", "language")
                    },
                    "escalated": or_(messages.c.escalated, message.excluded.escalated),
                    "created_at": earlier(messages.c.created_at, message.excluded.created_at),
                },
            ),
            "context": context.on_conflict_do_update(
                index_elements=["session_id"],
                set_={"context": context.excluded.context, "updated_at": context.excluded.updated_at},
            ),
            "get_context": select(contexts.c.context, contexts.c.updated_at).where(
                contexts.c.session_id == bindparam("session_id")
            ),
        }

    def _upsert_message(
        self, connection: Connection, payload: dict[str, Any], *, channel: str | None
    ) -> None:
        """Record a message and its conversation: two atomic upserts, whichever worker writes first."""
        answer = dict(payload.get("answer") or {})
        message_id = str(answer.get("message_id") or payload.get("message_id") or "")
        if not message_id:
            raise ValueError("an answer without a message_id cannot be recorded")
        session_id = str(answer.get("session_id") or payload.get("session_id") or "")[:128]
        at = _parse_at(payload.get("at"))
        connection.execute(
            self._statements["conversation"],
            {"session_id": session_id, "channel": channel, "started_at": at, "last_at": at},
        )
        connection.execute(
            self._statements["message"],
            {
                "message_id": message_id[:64],
                "session_id": session_id,
                "channel": _clip(channel, 16),
                "question": str(payload.get("question") or ""),
                "answer_text": str(answer.get("answer") or ""),
                "answer": answer,
                "intent": _clip(answer.get("intent"), 64),
                "task": _clip(answer.get("task"), 500),
                "language": _clip(answer.get("language"), 16),
                "confidence": float(answer.get("confidence") or 0.0),
                "escalated": bool(answer.get("escalated")),
                "reason": _clip(payload.get("reason"), 64),
                "latency_ms": payload.get("latency_ms"),
                "degraded": bool(answer.get("degraded")),
                "review_status": "open",
                "created_at": at,
            },
        )

    def _upsert_feedback(self, session: Session, payload: dict[str, Any]) -> None:
        at = _parse_at(payload.get("at"))
        values: dict[str, Any] = {
            "message_id": str(payload["message_id"])[:64],
            "session_id": str(payload["session_id"])[:128],
            "rating": str(payload["rating"])[:8],
            "comment": payload.get("comment"),
            "created_at": at,
        }
        self._insert_ignore(session, Feedback, values, ["message_id", "session_id"])
        row = session.scalar(
            select(Feedback).where(
                Feedback.message_id == values["message_id"], Feedback.session_id == values["session_id"]
            )
        )
        if row is not None and at > row.created_at:  # a later rating replaces an earlier one
            row.rating, row.comment, row.created_at = values["rating"], values["comment"], at

    def _insert_handoff(self, session: Session, payload: dict[str, Any]) -> None:
        at = _parse_at(payload.get("at"))
        values = {
            "handoff_id": str(payload["handoff_id"])[:64],
            "session_id": str(payload["session_id"])[:128],
            "channel": _clip(payload.get("channel"), 16),
            "note": payload.get("note"),
            "status": "open",
            "created_at": at,
            "updated_at": at,
        }
        self._insert_ignore(session, Handoff, values, ["handoff_id"])
