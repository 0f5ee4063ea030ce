"""Fixtures for the Telegram suites: a fake Bot API server, and the store the bot journals to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.support.fake_telegram import FakeTelegram, fake_telegram


@pytest.fixture()
def tg() -> Iterator[FakeTelegram]:
    with fake_telegram() as fake:
        yield fake


@pytest.fixture()
def journal(tmp_path: Path) -> Iterator[Store]:
    """The SQL store (SQLite here) the bot journals to and keeps handoff threads in."""
    store = Store(f"sqlite:///{tmp_path / 'db' / 'applybot.sqlite3'}", data_dir=tmp_path / "data")
    store.migrate()
    yield store
    store.close()
