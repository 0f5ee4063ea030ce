"""Alembic environment for applybot's store.

Run programmatically by `bot.store.upgrade` (which hands over a connection in
`config.attributes["connection"]`), or by hand with `alembic upgrade head`, when the database is
`sqlalchemy.url` if set, else APPLYBOT_DATABASE_URL, else the SQLite file under APPLYBOT_DATA_DIR.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

import bot.notice_review  # noqa: F401  (their tables belong to the schema)
import bot.reminders  # noqa: F401
from bot.store import Base, database_url, make_engine

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from common.settings import Settings

    return database_url(Settings())


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
