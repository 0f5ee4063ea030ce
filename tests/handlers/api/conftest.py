"""Fixtures for the API suites: one knowledge base over the shipped notice and one assistant for the
whole folder (neither changes), and per test fresh SQLite stores, the journal and a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.services import build_assistant, ingest_and_index
from bot.store import Store
from common.settings import Settings
from handlers.app import create_app
from tests.support.api_client import api_settings
from tests.support.factories import sqlite_store
from tests.support.paths import KNOWLEDGE


@pytest.fixture(scope="package")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = api_settings(tmp_path_factory.mktemp("api-data"))
    ingest_and_index(settings, [KNOWLEDGE])
    return settings


@pytest.fixture(scope="package")
def assistant(settings: Settings) -> Any:
    return build_assistant(settings)


@pytest.fixture()
def stores(tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Open fresh SQLite stores (one per app under test); all closed at the end."""
    opened: list[Store] = []

    def open_one() -> Store:
        opened.append(sqlite_store(tmp_path / f"store-{len(opened)}"))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture()
def journal(stores: Callable[[], Store]) -> Store:
    """The store the app journals to: answers, feedback and handoff threads land here."""
    return stores()


@pytest.fixture()
def client(settings: Settings, assistant: Any, journal: Store) -> Any:
    with TestClient(create_app(settings, assistant=assistant, store=journal)) as client:
        yield client
