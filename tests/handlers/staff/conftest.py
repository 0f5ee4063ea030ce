"""Fixtures for the staff suites: per module, a knowledge base over the seed notice, a store with two
staff users and an assistant over both; per test, the staff app and a client anonymous or signed in.
(test_staff_notices.py brings its own knowledge base, store and assistant.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.services import Retrieval
from bot.store import Store, open_store
from common.settings import Settings
from tests.support.factories import assistant_over_store
from tests.support.paths import SEED
from tests.support.staff_pages import PASSWORD, login, staff_app


@pytest.fixture(scope="module")
def kb(build_kb: Callable[..., tuple[Settings, Retrieval]]) -> tuple[Settings, Retrieval]:
    return build_kb([SEED], "staff")


@pytest.fixture(scope="module")
def store(kb: tuple[Settings, Retrieval]) -> Iterator[Store]:
    store = open_store(kb[0])
    store.add_user("alice", PASSWORD)
    store.add_user("bob", PASSWORD)
    yield store
    store.close()


@pytest.fixture(scope="module")
def assistant(kb: tuple[Settings, Retrieval], store: Store) -> Assistant:
    return assistant_over_store(kb[1].index, store)


@pytest.fixture()
def app(kb: tuple[Settings, Retrieval], store: Store, assistant: Assistant) -> FastAPI:
    return staff_app(kb[0], store, assistant)


@pytest.fixture()
def anon(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture()
def staff(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        assert login(client, "alice", PASSWORD).status_code == 303
        yield client
