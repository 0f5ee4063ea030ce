"""Fixtures for the bot suites: a migrated store, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.store import Store


@pytest.fixture()
def store(backend: Callable[..., Store]) -> Store:
    return backend()
