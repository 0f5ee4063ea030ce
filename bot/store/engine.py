"""Engines and migrations: which database, how to connect to it, and bringing its schema to head."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import (
    TimeoutError as PoolTimeoutError,
)

from common.errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "migrations"
SQLITE_FILE = "applybot.sqlite3"


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
    # per-answer work tries once more (StoreCore._reconnecting); anything else is spooled or reported.
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
    with file_lock(f"{database}.migrate.lock"):
        yield


@contextlib.contextmanager
def file_lock(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on the file (created if missing) for the block: one holder across processes."""
    import fcntl  # POSIX only: imported where it is used

    with open(path, "a") as fh:
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
