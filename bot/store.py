"""The database of record: conversations, answers, feedback, handoffs, staff FAQ, users, tokens, audit.

SQLite under the data directory by default (WAL mode), PostgreSQL when a database URL is given. The
schema is owned by the Alembic migrations in `migrations/`, run with `upgrade head` when the store opens.

Logging never costs an answer: a write the database cannot take (it is down, locked, unreachable)
is appended to a spool file under the data directory and replayed, in order, once the database
answers again. Every logged record carries its own idempotency key (message id, session and message
for feedback, handoff id), so a replay that is interrupted and run again never makes duplicates.

`Store` offers the journal's methods (`log_answer`, `feedback`, `handoff`, `messages`, `feedbacks`,
`handoffs`), so it can stand in for `bot.journal.Journal`; `DbSessionStore` and `DbUnansweredLog`
implement the assistant's `SessionStore` and `UnansweredLog` protocols over the same database.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import (
    TimeoutError as PoolTimeoutError,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from bot.errors import ConfigurationError
from bot.sessions import SessionContext

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_FILE = "applybot.sqlite3"
SPOOL_DIR = "spool"
TOKEN_PREFIX = "abt"
STAFF_SESSION_HOURS = 12
REVIEW_STATUSES = ("open", "resolved", "not_applicable")
FAQ_STATUSES = ("active", "retired")
CHANNELS = ("web", "telegram", "api")
T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_at(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return utcnow()


def _clip(value: Any, size: int) -> str | None:
    return None if value is None else str(value)[:size]


# -- schema ----------------------------------------------------------------------------------------


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


JsonType = JSON().with_variant(postgresql.JSONB(), "postgresql")


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Conversation(Base):
    """One session on one channel."""

    __tablename__ = "conversations"

    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Message(Base):
    """One question and the answer contract given for it, with its review state."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_created_at", "created_at"),
        Index("ix_messages_session_id", "session_id"),
        Index("ix_messages_review", "review_status", "escalated"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[str] = mapped_column(String(128), ForeignKey("conversations.session_id"))
    channel: Mapped[str | None] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(Text)
    answer_text: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[dict[str, Any]] = mapped_column(JsonType)
    intent: Mapped[str | None] = mapped_column(String(64))
    task: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(64))
    latency_ms: Mapped[float | None] = mapped_column(Float)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    review_status: Mapped[str] = mapped_column(String(16), default="open")
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    faq_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Feedback(Base):
    """A thumbs up or down on one answer; one per (message, session), the latest rating wins."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id", "session_id", name="uq_feedback_message_session"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), index=True)
    session_id: Mapped[str] = mapped_column(String(128))
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Handoff(Base):
    """An applicant asked for a person."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class HandoffReply(Base):
    """A staff member's reply in a handoff thread."""

    __tablename__ = "handoff_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[str] = mapped_column(String(64), ForeignKey("handoffs.handoff_id"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FaqEntry(Base):
    """A staff answer to questions the notices do not answer; active entries are searched like passages."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    questions: Mapped[list[str]] = mapped_column(JsonType)
    answer: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token for the staff JSON API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("staff_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random token, the table its SHA-256 and the CSRF token."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """One staff action: who did what to what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class SessionState(Base):
    """The follow-up context of one conversation, shared by every worker."""

    __tablename__ = "session_contexts"

    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    context: Mapped[dict[str, Any]] = mapped_column(JsonType)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


# -- engines and migrations ----------------------------------------------------------------------------


def database_url(settings: Any) -> str:
    """The settings' database URL, or the SQLite file under the data directory."""
    url = str(getattr(settings, "database_url", "") or "").strip()
    if url:
        return normalize_url(url)
    return f"sqlite:///{(Path(settings.data_dir) / SQLITE_FILE).resolve()}"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, busy_timeout_s: float = 5.0, connect_timeout_s: int = 3) -> Engine:
    """An engine for SQLite (a connection per use, WAL, foreign keys) or PostgreSQL (a pool)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database if parsed.database and parsed.database != ":memory:" else None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            record.info["file_id"] = _file_id(path)

        @event.listens_for(engine, "checkout")
        def _same_file(dbapi_connection: Any, record: Any, proxy: Any) -> None:
            # A pooled connection to a database file that was moved or deleted would go on
            # "succeeding" into a file nobody reads: drop it, so the store reconnects or spools.
            if path and record.info.get("file_id") != _file_id(path):
                raise DisconnectionError("the SQLite database file was moved or removed")

        return engine
    if parsed.get_backend_name() != "postgresql":
        # The write path relies on INSERT ... ON CONFLICT, which only these two databases share.
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r}: use PostgreSQL or SQLite"
        )
    # No ping before every checkout (a round trip per use): a connection the server has closed fails
    # its first statement, SQLAlchemy then drops every pooled connection as old, and the store's
    # per-answer work tries once more (Store._reconnecting); anything else is spooled or reported.
    # Kept connections cover a worker's answer threads (APPLYBOT_ANSWER_THREADS) and its staff pages,
    # so none is opened and closed per request; 4 workers and the bot stay far below PostgreSQL's
    # default 100 connections.
    return create_engine(
        url,
        pool_size=8,
        max_overflow=4,
        pool_timeout=10,
        connect_args={"connect_timeout": connect_timeout_s},
    )


def _file_id(path: str | None) -> tuple[int, int] | None:
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def alembic_config(url: str | None = None) -> Any:
    """An Alembic config for migrations/ that needs no alembic.ini (the store runs it at start-up)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; concurrent workers wait for one another."""
    _migrate(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _migrate(engine, "downgrade", revision)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    with _migration_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(724113)")
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """For SQLite, a file lock beside the database (PostgreSQL uses an advisory lock)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.migrate.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_unreachable(exc: BaseException) -> bool:
    """Tell a database that cannot be reached or written now (spool and retry) from a bad record."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeoutError | OSError):
        return True
    return bool(getattr(exc, "connection_invalidated", False))


# -- the spool ------------------------------------------------------------------------------------------


class Spool:
    """Logging writes the database could not take, one JSON line each, replayed in order.

    `pending.jsonl` takes new lines; a replay first renames it to `replaying.jsonl`, so lines
    appended meanwhile wait for the next replay. A replay stopped half-way keeps what is left in
    `replaying.jsonl`, which the next replay finishes first. Lines the database refuses as wrong
    (not as unreachable) go to `rejected.jsonl` for a person to look at.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pending = root / "pending.jsonl"
        self.replaying = root / "replaying.jsonl"
        self.rejected = root / "rejected.jsonl"
        self._lock = threading.RLock()
        self._replay_lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.root / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def append(self, item: dict[str, Any], *, rejected: bool = False) -> None:
        line = json.dumps(item, ensure_ascii=False, default=str) + "\n"
        with self._locked(), (self.rejected if rejected else self.pending).open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def __len__(self) -> int:
        return sum(self._count(p) for p in (self.replaying, self.pending))

    def has_pending(self) -> bool:
        return any(p.exists() and p.stat().st_size > 0 for p in (self.replaying, self.pending))

    @staticmethod
    def _count(path: Path) -> int:
        if not path.exists():
            return 0
        with path.open(encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())

    def items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for path in (self.replaying, self.pending):
            if path.exists():
                out.extend(json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip())
        return out

    @contextlib.contextmanager
    def _replay_guard(self) -> Iterator[None]:
        """One replayer at a time, across threads and processes; appends are not held up by it."""
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with self._replay_lock, open(self.root / ".replay.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def replay(self, apply: Callable[[dict[str, Any]], None]) -> int:
        """Apply every spooled line in order; stop (keeping the rest) when the database is unreachable."""
        done = 0
        with self._replay_guard():
            while True:
                with self._locked():
                    if not self.replaying.exists():
                        if not self.pending.exists():
                            return done
                        os.replace(self.pending, self.replaying)
                lines = [x for x in self.replaying.read_text(encoding="utf-8").splitlines() if x.strip()]
                for i, line in enumerate(lines):
                    try:
                        item = json.loads(line)
                    except json.JSONDecodeError:
                        self._reject_line(line, "not JSON")
                        continue
                    try:
                        apply(item)
                    except Exception as exc:
                        if is_unreachable(exc):
                            self._rewrite(lines[i:])
                            raise
                        log.error("spooled %s refused by the database: %s", item.get("op"), exc)
                        self._reject_line(line, f"{type(exc).__name__}: {exc}")
                        continue
                    done += 1
                self.replaying.unlink()

    def _rewrite(self, lines: list[str]) -> None:
        tmp = self.replaying.with_suffix(".tmp")
        tmp.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        os.replace(tmp, self.replaying)

    def _reject_line(self, line: str, why: str) -> None:
        with self._locked(), self.rejected.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"line": line, "error": why[:500]}, ensure_ascii=False) + "\n")


# -- the store ------------------------------------------------------------------------------------------


class Store:
    """Everything applybot records, in one SQL database; see the module docstring."""

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

    # -- the journal's methods --

    def log_answer(self, *, channel: str, question: str, answer: dict[str, Any], latency_ms: float) -> None:
        """Record one question and the answer contract given for it."""
        self._submit(
            "answer",
            {
                "at": utcnow().isoformat(),
                "channel": channel,
                "question": question,
                "latency_ms": latency_ms,
                "answer": answer,
            },
        )

    def record_unanswered(
        self, *, question: str, session_id: str, answer: dict[str, Any], reason: str
    ) -> None:
        """Record a question the documents did not answer (merged with its log_answer record)."""
        self._submit(
            "unanswered",
            {
                "at": utcnow().isoformat(),
                "question": question,
                "session_id": session_id,
                "reason": reason or "unanswered",
                "answer": {**answer, "escalated": True},
            },
        )

    def feedback(
        self, *, session_id: str, message_id: str, rating: str, comment: str | None
    ) -> dict[str, Any]:
        """Record a thumbs up or down on one answer."""
        record = {
            "at": utcnow().isoformat(),
            "session_id": session_id,
            "message_id": message_id,
            "rating": rating,
            "comment": comment,
        }
        self._submit("feedback", record)
        return record

    def handoff(self, *, session_id: str, channel: str, note: str | None) -> dict[str, Any]:
        """Record that an applicant asked for a person; staff pick it up from the review pages."""
        record = {
            "at": utcnow().isoformat(),
            "handoff_id": uuid.uuid4().hex,
            "session_id": session_id,
            "channel": channel,
            "note": note,
            "status": "open",
        }
        self._submit("handoff", record)
        return record

    def messages(self) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.scalars(select(Message).order_by(Message.created_at, Message.id)).all()
            return [
                {
                    "at": _iso(r.created_at),
                    "channel": r.channel,
                    "question": r.question,
                    "latency_ms": r.latency_ms,
                    **r.answer,
                }
                for r in rows
            ]

    def feedbacks(self) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.scalars(select(Feedback).order_by(Feedback.created_at, Feedback.id)).all()
            return [_feedback_dict(r) for r in rows]

    def handoffs(self) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.scalars(select(Handoff).order_by(Handoff.created_at, Handoff.id)).all()
            return [_handoff_dict(r, []) for r in rows]

    # -- review --

    def review_items(
        self,
        *,
        status: str | None = "open",
        channel: str | None = None,
        intent: str | None = None,
        task: str | None = None,
        since: date | None = None,
        until: date | None = None,
        low_confidence: float = 0.5,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Questions staff should look at: escalated, low-confidence or rated 👎, newest first."""
        with self.session() as session:
            down = select(Feedback.message_id).where(Feedback.rating == "down")
            query = select(Message).where(
                or_(
                    Message.escalated.is_(True),
                    Message.confidence < low_confidence,
                    Message.message_id.in_(down),
                )
            )
            if status:
                query = query.where(Message.review_status == status)
            if channel:
                query = query.where(Message.channel == channel)
            if intent:
                query = query.where(Message.intent == intent)
            if task:
                query = query.where(Message.task == task)
            if since:
                query = query.where(Message.created_at >= self._day_start(since))
            if until:
                query = query.where(Message.created_at < self._day_start(until + timedelta(days=1)))
            rows = session.scalars(
                query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
            ).all()
            ids = [r.message_id for r in rows]
            feedback: dict[str, list[dict[str, Any]]] = {}
            for start in range(0, len(ids), 500):
                for fb in session.scalars(
                    select(Feedback).where(Feedback.message_id.in_(ids[start : start + 500]))
                ):
                    feedback.setdefault(fb.message_id, []).append(_feedback_dict(fb))
            threads = self._threads(session, sorted({r.session_id for r in rows}))
            return [
                {
                    **_message_dict(r),
                    "feedback": feedback.get(r.message_id, []),
                    "handoffs": threads.get(r.session_id, []),
                }
                for r in rows
            ]

    def facets(self) -> dict[str, list[str]]:
        """The channels, intents and tasks messages have, for the review filters."""
        with self.session() as session:
            out = {}
            for name, column in (
                ("channels", Message.channel),
                ("intents", Message.intent),
                ("tasks", Message.task),
            ):
                values = session.scalars(select(column).where(column.is_not(None)).distinct().limit(500))
                out[name] = sorted(str(v) for v in values if v)
            return out

    def _day_start(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC)

    def _threads(self, session: Session, session_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(session_ids), 500):
            chunk = session_ids[start : start + 500]
            handoffs = session.scalars(
                select(Handoff).where(Handoff.session_id.in_(chunk)).order_by(Handoff.created_at)
            ).all()
            replies = _replies_by_handoff(session, [h.handoff_id for h in handoffs])
            for h in handoffs:
                out.setdefault(h.session_id, []).append(_handoff_dict(h, replies.get(h.handoff_id, [])))
        return out

    def handoff_threads(self, *, status: str | None = "open", limit: int = 200) -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(Handoff)
            if status:
                query = query.where(Handoff.status == status)
            handoffs = session.scalars(query.order_by(Handoff.created_at.desc()).limit(limit)).all()
            replies = _replies_by_handoff(session, [h.handoff_id for h in handoffs])
            questions: dict[str, list[str]] = {}
            sessions = sorted({h.session_id for h in handoffs})
            for start in range(0, len(sessions), 500):
                for sid, q in session.execute(
                    select(Message.session_id, Message.question)
                    .where(Message.session_id.in_(sessions[start : start + 500]))
                    .order_by(Message.created_at)
                ):
                    questions.setdefault(sid, []).append(q)
            return [
                {
                    **_handoff_dict(h, replies.get(h.handoff_id, [])),
                    "questions": questions.get(h.session_id, []),
                }
                for h in handoffs
            ]

    def set_review_status(
        self, message_ids: list[str], status: str, *, actor: str, faq_id: int | None = None
    ) -> int:
        if status not in REVIEW_STATUSES:
            raise ValueError(f"unknown review status {status!r}")
        if not message_ids:
            return 0
        with self.session() as session:
            values: dict[str, Any] = {"review_status": status, "reviewed_by": actor, "reviewed_at": utcnow()}
            if faq_id is not None:
                values["faq_id"] = faq_id
            result = session.execute(
                update(Message).where(Message.message_id.in_(message_ids)).values(**values)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def reply_handoff(
        self, handoff_id: str, *, author: str, text: str, status: str = "answered"
    ) -> dict[str, Any]:
        with self.session() as session:
            handoff = session.scalar(select(Handoff).where(Handoff.handoff_id == handoff_id))
            if handoff is None:
                raise KeyError(handoff_id)
            now = utcnow()
            if text.strip():
                session.add(HandoffReply(handoff_id=handoff_id, author=author, text=text, created_at=now))
            handoff.status, handoff.updated_at = status, now
            session.flush()
            replies = _replies_by_handoff(session, [handoff_id]).get(handoff_id, [])
            return _handoff_dict(handoff, replies)

    # -- numbers --

    def stats(
        self, *, days: int = 30, low_confidence: float = 0.5, today: date | None = None
    ) -> dict[str, Any]:
        """Totals, rates and questions per day (in the store's time zone) over the last `days` days."""
        today = today or datetime.now(self.tz).date()
        first = today - timedelta(days=days - 1)
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(Message)) or 0
            escalated = session.scalar(select(func.count()).where(Message.escalated.is_(True))) or 0
            low = (
                session.scalar(
                    select(func.count()).where(
                        Message.escalated.is_(False), Message.confidence < low_confidence
                    )
                )
                or 0
            )
            ratings = dict(
                session.execute(select(Feedback.rating, func.count()).group_by(Feedback.rating))
                .tuples()
                .all()
            )
            handoffs = dict(
                session.execute(select(Handoff.status, func.count()).group_by(Handoff.status)).tuples().all()
            )
            open_review = session.scalar(
                select(func.count()).where(Message.review_status == "open", Message.escalated.is_(True))
            )
            faq_active = session.scalar(select(func.count()).where(FaqEntry.status == "active")) or 0
            recent = session.execute(
                select(Message.created_at, Message.escalated).where(
                    Message.created_at >= self._day_start(first)
                )
            ).all()
        per_day = {first + timedelta(days=i): {"questions": 0, "escalated": 0} for i in range(days)}
        for at, was_escalated in recent:
            day = _parse_at(at).astimezone(self.tz).date()
            if day in per_day:
                per_day[day]["questions"] += 1
                per_day[day]["escalated"] += int(bool(was_escalated))
        answered = total - escalated
        return {
            "questions": total,
            "answered": answered,
            "escalated": escalated,
            "answered_rate": round(answered / total, 3) if total else 0.0,
            "escalated_rate": round(escalated / total, 3) if total else 0.0,
            "low_confidence": low,
            "feedback_up": int(ratings.get("up", 0)),
            "feedback_down": int(ratings.get("down", 0)),
            "handoffs": int(sum(handoffs.values())),
            "handoffs_open": int(handoffs.get("open", 0)),
            "open_review": int(open_review or 0),
            "faq_active": faq_active,
            "per_day": [
                {"day": d.isoformat(), "questions": v["questions"], "escalated": v["escalated"]}
                for d, v in sorted(per_day.items())
            ],
        }

    def recent_feedback(self, *, limit: int = 50) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.execute(
                select(Feedback, Message.question)
                .join(Message, Message.message_id == Feedback.message_id, isouter=True)
                .order_by(Feedback.created_at.desc())
                .limit(limit)
            ).all()
            return [{**_feedback_dict(fb), "question": q} for fb, q in rows]

    def export_messages(self, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every message with its feedback, oldest first, read in batches."""
        last = 0
        while True:
            with self.session() as session:
                rows = session.scalars(
                    select(Message).where(Message.id > last).order_by(Message.id).limit(batch)
                ).all()
                if not rows:
                    return
                ids = [r.message_id for r in rows]
                ratings = {
                    m: r
                    for m, r in session.execute(
                        select(Feedback.message_id, Feedback.rating).where(Feedback.message_id.in_(ids))
                    )
                }
            for r in rows:
                yield {**_message_dict(r), "feedback": ratings.get(r.message_id, "")}
            last = rows[-1].id

    # -- FAQ --

    def add_faq(
        self, *, questions: list[str], answer: str, source: str | None, author: str
    ) -> dict[str, Any]:
        questions = _clean_questions(questions)
        if not questions or not answer.strip():
            raise ValueError("an FAQ entry needs at least one question and an answer")
        now = utcnow()
        with self.session() as session:
            entry = FaqEntry(
                questions=questions,
                answer=answer.strip(),
                source=(source or "").strip() or None,
                author=author[:64],
                status="active",
                created_at=now,
                updated_at=now,
            )
            session.add(entry)
            session.flush()
            return _faq_dict(entry)

    def update_faq(
        self,
        faq_id: int,
        *,
        questions: list[str] | None = None,
        answer: str | None = None,
        source: str | None = None,
        status: str | None = None,
        author: str | None = None,
    ) -> dict[str, Any]:
        with self.session() as session:
            entry = session.get(FaqEntry, faq_id)
            if entry is None:
                raise KeyError(faq_id)
            if questions is not None:
                cleaned = _clean_questions(questions)
                if not cleaned:
                    raise ValueError("an FAQ entry needs at least one question")
                entry.questions = cleaned
            if answer is not None:
                if not answer.strip():
                    raise ValueError("an FAQ entry needs an answer")
                entry.answer = answer.strip()
            if source is not None:
                entry.source = source.strip() or None
            if status is not None:
                if status not in FAQ_STATUSES:
                    raise ValueError(f"unknown FAQ status {status!r}")
                entry.status = status
            if author:
                entry.author = author[:64]
            entry.updated_at = utcnow()
            session.flush()
            return _faq_dict(entry)

    def get_faq(self, faq_id: int) -> dict[str, Any] | None:
        with self.session() as session:
            entry = session.get(FaqEntry, faq_id)
            return _faq_dict(entry) if entry else None

    def faq_entries(self, *, status: str | None = "active") -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(FaqEntry)
            if status:
                query = query.where(FaqEntry.status == status)
            return [_faq_dict(e) for e in session.scalars(query.order_by(FaqEntry.id))]

    def faq_stamp(self) -> str:
        """A cheap fingerprint of the FAQ table: it changes whenever an entry is added, edited or retired."""
        with self.session() as session:
            count, latest = session.execute(
                select(func.count(FaqEntry.id), func.max(FaqEntry.updated_at))
            ).one()
        return f"{count}:{_iso(_parse_at(latest)) if latest else ''}"

    # -- staff users, tokens, browser sessions --

    def add_user(self, name: str, password: str) -> dict[str, Any]:
        """Create a staff user (or set the password of an existing one); the password is hashed with argon2."""
        name = name.strip()
        if not name or len(name) > 64:
            raise ValueError("a user name is 1 to 64 characters")
        if len(password) < 8:
            raise ValueError("a password is at least 8 characters")
        digest = _hasher().hash(password)
        with self.session() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.name == name))
            if user is None:
                user = StaffUser(name=name, password_hash=digest, disabled=False, created_at=utcnow())
                session.add(user)
            else:
                user.password_hash, user.disabled = digest, False
            session.flush()
            return {"id": user.id, "name": user.name, "created_at": _iso(user.created_at)}

    def verify_user(self, name: str, password: str) -> str | None:
        """Return the user's name when the password is right, else None (in about the same time either way)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = _hasher()
        with self.session() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.name == name.strip()))
            if user is None or user.disabled:
                with contextlib.suppress(VerificationError, InvalidHashError):
                    hasher.verify(_dummy_hash(), password)
                return None
            try:
                hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            if hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hasher.hash(password)
            return user.name

    def users(self) -> list[dict[str, Any]]:
        with self.session() as session:
            return [
                {"id": u.id, "name": u.name, "disabled": u.disabled, "created_at": _iso(u.created_at)}
                for u in session.scalars(select(StaffUser).order_by(StaffUser.name))
            ]

    def issue_token(self, name: str, *, label: str | None = None) -> str:
        """Make an API token for a user; the token is shown once, only its SHA-256 is stored."""
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        with self.session() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.name == name))
            if user is None:
                raise KeyError(name)
            session.add(
                ApiToken(
                    token_id=token_id,
                    user_id=user.id,
                    token_hash=_sha256(secret),
                    label=label,
                    created_at=utcnow(),
                )
            )
        return f"{TOKEN_PREFIX}_{token_id}_{secret}"

    def verify_token(self, token: str) -> str | None:
        """Return the user name a live token belongs to, else None."""
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        _, token_id, secret = parts
        with self.session() as session:
            row = session.execute(
                select(ApiToken, StaffUser)
                .join(StaffUser, StaffUser.id == ApiToken.user_id)
                .where(ApiToken.token_id == token_id)
            ).first()
            if row is None:
                return None
            api_token, user = row
            if api_token.revoked_at is not None or user.disabled:
                return None
            if not hmac.compare_digest(api_token.token_hash, _sha256(secret)):
                return None
            api_token.last_used_at = utcnow()
            return user.name

    def revoke_token(self, token_or_id: str) -> bool:
        """Revoke a token, named by its id or given whole; True when a live token was revoked."""
        parts = token_or_id.strip().split("_", 2)
        token_id = parts[1] if len(parts) == 3 and parts[0] == TOKEN_PREFIX else token_or_id.strip()
        with self.session() as session:
            result = session.execute(
                update(ApiToken)
                .where(ApiToken.token_id == token_id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            return bool(getattr(result, "rowcount", 0))

    def tokens(self, name: str | None = None) -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(ApiToken, StaffUser.name).join(StaffUser, StaffUser.id == ApiToken.user_id)
            if name:
                query = query.where(StaffUser.name == name)
            return [
                {
                    "token_id": t.token_id,
                    "user": user,
                    "label": t.label,
                    "created_at": _iso(t.created_at),
                    "last_used_at": _iso(t.last_used_at),
                    "revoked_at": _iso(t.revoked_at),
                }
                for t, user in session.execute(query.order_by(ApiToken.created_at))
            ]

    def start_staff_session(self, name: str, *, hours: float = STAFF_SESSION_HOURS) -> tuple[str, str]:
        """Sign a user in: returns (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = utcnow()
        with self.session() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.name == name))
            if user is None:
                raise KeyError(name)
            session.add(
                StaffSession(
                    session_hash=_sha256(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                )
            )
        return token, csrf

    def staff_session(self, token: str) -> tuple[str, str] | None:
        """Return (user name, CSRF token) for a live browser session, else None."""
        if not token:
            return None
        with self.session() as session:
            row = session.execute(
                select(StaffSession, StaffUser)
                .join(StaffUser, StaffUser.id == StaffSession.user_id)
                .where(StaffSession.session_hash == _sha256(token))
            ).first()
            if row is None:
                return None
            staff_session, user = row
            if user.disabled or staff_session.expires_at <= utcnow():
                return None
            return user.name, staff_session.csrf_token

    def end_staff_session(self, token: str) -> None:
        with self.session() as session:
            row = session.scalar(select(StaffSession).where(StaffSession.session_hash == _sha256(token)))
            if row is not None:
                session.delete(row)
            # Forget expired sessions while here.
            for stale in session.scalars(select(StaffSession).where(StaffSession.expires_at <= utcnow())):
                session.delete(stale)

    # -- audit --

    def audit(self, actor: str, action: str, target: str | None = None, **detail: Any) -> None:
        with self.session() as session:
            session.add(
                AuditEntry(
                    at=utcnow(),
                    actor=actor[:64],
                    action=action[:64],
                    target=_clip(target, 255),
                    detail=json.loads(json.dumps(detail, ensure_ascii=False, default=str))
                    if detail
                    else None,
                )
            )

    def audit_entries(self, *, limit: int = 200, actor: str | None = None) -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(AuditEntry)
            if actor:
                query = query.where(AuditEntry.actor == actor)
            rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all()
            return [
                {
                    "at": _iso(r.at),
                    "actor": r.actor,
                    "action": r.action,
                    "target": r.target,
                    "detail": r.detail,
                }
                for r in rows
            ]

    # -- conversation context --

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


# -- the assistant's protocols over the store -----------------------------------------------------------


class DbSessionStore:
    """Follow-up context in the database, so every worker process sees the same conversation.

    When the database cannot be reached the context is kept in this process's memory meanwhile,
    so follow-ups still work on the worker that answered the last question.
    """

    def __init__(self, store: Store, *, ttl_s: float = 6 * 3600, max_turns: int = 6) -> None:
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

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, *, question: str, session_id: str, answer: dict[str, Any], reason: str) -> None:
        self.store.record_unanswered(question=question, session_id=session_id, answer=answer, reason=reason)


def open_store(settings: Any, *, migrate: bool = True) -> Store:
    """Open the store the settings name (`database_url`, else SQLite under `data_dir`) and migrate it."""
    return Store(
        database_url(settings),
        data_dir=Path(settings.data_dir),
        migrate=migrate,
        timezone=str(getattr(settings, "timezone", "Asia/Shanghai")),
    )


# -- helpers ----------------------------------------------------------------------------------------------


def _context_from(data: dict[str, Any]) -> SessionContext:
    known = set(SessionContext.__dataclass_fields__)
    values = {k: v for k, v in data.items() if k in known}
    values["turns"] = [tuple(t) for t in values.get("turns", [])]
    return SessionContext(**values)


def _clean_questions(questions: list[str]) -> list[str]:
    out: list[str] = []
    for q in questions:
        q = " ".join(str(q).split())[:500]
        if q and q not in out:
            out.append(q)
    return out[:50]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_HASHER: Any = None
_DUMMY: str | None = None


def _hasher() -> Any:
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()
    return _HASHER


def _dummy_hash() -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher().hash(secrets.token_hex(16))
    return _DUMMY


def _message_dict(r: Message) -> dict[str, Any]:
    return {
        "message_id": r.message_id,
        "session_id": r.session_id,
        "channel": r.channel,
        "question": r.question,
        "answer": r.answer_text,
        "citations": list((r.answer or {}).get("citations") or []),
        "intent": r.intent,
        "task": r.task,
        "language": r.language,
        "confidence": r.confidence,
        "escalated": r.escalated,
        "reason": r.reason,
        "latency_ms": r.latency_ms,
        "degraded": r.degraded,
        "review_status": r.review_status,
        "reviewed_by": r.reviewed_by,
        "faq_id": r.faq_id,
        "at": _iso(r.created_at),
    }


def _feedback_dict(r: Feedback) -> dict[str, Any]:
    return {
        "at": _iso(r.created_at),
        "session_id": r.session_id,
        "message_id": r.message_id,
        "rating": r.rating,
        "comment": r.comment,
    }


def _handoff_dict(h: Handoff, replies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "at": _iso(h.created_at),
        "handoff_id": h.handoff_id,
        "session_id": h.session_id,
        "channel": h.channel,
        "note": h.note,
        "status": h.status,
        "updated_at": _iso(h.updated_at),
        "replies": replies,
    }


def _replies_by_handoff(session: Session, handoff_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(handoff_ids), 500):
        for r in session.scalars(
            select(HandoffReply)
            .where(HandoffReply.handoff_id.in_(handoff_ids[start : start + 500]))
            .order_by(HandoffReply.created_at, HandoffReply.id)
        ):
            out.setdefault(r.handoff_id, []).append(
                {"author": r.author, "text": r.text, "at": _iso(r.created_at)}
            )
    return out


def _faq_dict(e: FaqEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "questions": list(e.questions),
        "answer": e.answer,
        "source": e.source,
        "author": e.author,
        "status": e.status,
        "created_at": _iso(e.created_at),
        "updated_at": _iso(e.updated_at),
    }
