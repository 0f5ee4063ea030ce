"""Chromium for the browser tests: one browser per module, and pages that fail their test on any
uncaught script error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.servers import CHROMIUM, CHROMIUM_ARGS


@contextmanager
def chromium(timeout_ms: float | None = None) -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=timeout_ms)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def checked_page(browser: Browser, *, height: int = 800, timeout_ms: float | None = None) -> Iterator[Page]:
    """A page in a fresh context (its own storage), Chinese locale; no page error may happen in it."""
    context = browser.new_context(viewport={"width": 1280, "height": height}, locale="zh-CN")
    if timeout_ms is not None:
        context.set_default_timeout(timeout_ms)
        context.set_default_navigation_timeout(timeout_ms)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors
