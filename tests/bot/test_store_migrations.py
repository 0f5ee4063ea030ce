"""The store's databases and schema: only PostgreSQL or SQLite, the Alembic migrations that build
the models' schema (down and up, once under concurrent workers, from alembic.ini too), and SQLite in
WAL mode under the data dir by default."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

import bot.notice_review  # noqa: F401  (their tables are part of the schema the migrations build)
import bot.reminders  # noqa: F401
from bot.store import Base, Store, alembic_config, database_url, downgrade, make_engine, open_store, upgrade
from common.errors import ConfigurationError
from common.settings import Settings
from tests.support.paths import ROOT

pytestmark = pytest.mark.integration


TABLES = {
    "reminders",
    "notice_decisions",
    "reminder_sends",
    "conversations",
    "messages",
    "feedback",
    "handoffs",
    "handoff_replies",
    "faq_entries",
    "staff_users",
    "api_tokens",
    "staff_sessions",
    "audit_log",
    "session_contexts",
}


def test_a_database_other_than_postgresql_or_sqlite_is_refused_at_start() -> None:
    with pytest.raises(ConfigurationError, match="use PostgreSQL or SQLite"):
        make_engine("mysql://root@127.0.0.1/test")


def test_migrations_build_the_models_schema_and_go_down_and_up(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == head
        assert compare_metadata(context, Base.metadata) == []  # the migrations match the models
    assert set(inspect(store.engine).get_table_names()) >= TABLES

    store.migrate()  # idempotent
    downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) - {"alembic_version"} == set()
    upgrade(store.engine)
    assert set(inspect(store.engine).get_table_names()) >= TABLES


def test_concurrent_workers_migrate_a_fresh_database_once(backend: Callable[..., Store]) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            backend()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_alembic_ini_runs_the_same_migrations_from_the_command_line(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_the_default_database_is_sqlite_in_wal_mode_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, knowledge_dir=tmp_path)
    assert database_url(settings) == f"sqlite:///{(tmp_path / 'applybot.sqlite3').resolve()}"
    store = open_store(settings)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert (tmp_path / "applybot.sqlite3").exists()
    finally:
        store.close()
