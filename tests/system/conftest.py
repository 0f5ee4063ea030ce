"""Fixtures for the system suites: a Chromium and a checked page per test (test_staff_browser.py waits
longer and brings its own), and, per widget module, the app over the shipped notice served on a
loopback port with host pages that embed the widget."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page

from bot.services import build_assistant, ingest_and_index
from bot.store import Store
from common.settings import Settings
from handlers.app import create_app
from tests.support.browser import checked_page, chromium
from tests.support.factories import sqlite_store
from tests.support.paths import KNOWLEDGE
from tests.support.servers import Server
from tests.support.widget_page import HOSTILE_CSS, host_page


@pytest.fixture(scope="module")
def widget_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("widget-data"),
        knowledge_dir=KNOWLEDGE,
        today="2026-11-28",
        rate_limit_per_minute=1000,
        allowed_origins="",
    )
    ingest_and_index(settings, [KNOWLEDGE])
    return settings


@pytest.fixture(scope="module")
def widget_assistant(widget_settings: Settings) -> Any:
    return build_assistant(widget_settings)


@pytest.fixture(scope="module")
def widget_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The store the app journals to (answers, feedback, handoff threads)."""
    store = sqlite_store(tmp_path_factory.mktemp("widget-store"))
    yield store
    store.close()


@pytest.fixture(scope="module")
def widget_server(
    widget_settings: Settings, widget_assistant: Any, widget_journal: Store
) -> Iterator[Server]:
    app = create_app(widget_settings, assistant=widget_assistant, store=widget_journal)
    hostile = host_page("<h1>Host page</h1><p id='host-text'>申报通知</p>", css=HOSTILE_CSS)
    plain = host_page("<h1>Host page</h1><p id='host-text'>申报通知</p>")
    english = host_page("<h1>Notice</h1>", lang="en")
    app.add_api_route("/test/hostile", lambda: HTMLResponse(hostile), include_in_schema=False)
    app.add_api_route("/test/plain", lambda: HTMLResponse(plain), include_in_schema=False)
    app.add_api_route("/test/english", lambda: HTMLResponse(english), include_in_schema=False)
    with Server(app) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    with checked_page(browser) as page:
        yield page
