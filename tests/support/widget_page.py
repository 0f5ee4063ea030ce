"""The web widget as its browser tests see it: host pages that embed it (one with hostile CSS), and
reaching into its shadow root — open it, send a question, wait for answers, read what it stored."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.servers import Server

HOSTILE_CSS = """
html { font-size: 40px !important; }
* { display: block !important; color: red !important; font-size: 40px !important;
    font-family: serif !important; line-height: 3 !important; letter-spacing: 4px !important; }
div, section, button, textarea, span, p, ol, li, h2 { all: unset !important; background: lime !important;
    border: 5px dashed blue !important; padding: 30px !important; margin: 30px !important;
    box-sizing: content-box !important; width: 900px !important; }
#applybot-widget { transform: scale(0.5) !important; opacity: 0.2 !important; position: relative !important;
    filter: blur(3px) !important; zoom: 2 !important; }
[hidden] { display: block !important; }
"""
ANSWER_SELECTOR = '.ab-bot[data-message-id]:not([data-message-id=""])'


def host_page(body: str, *, lang: str = "zh-CN", css: str = "") -> str:
    """A page with `body` that embeds the widget as a site would."""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f"<style>{css}</style></head><body>{body}"
        '<script src="/widget.js" data-title="申报咨询" async></script></body></html>'
    )


def shadow_eval(page: Page, body: str) -> Any:
    """Evaluate `body` with `root` bound to the widget's shadow root."""
    return page.evaluate(
        f"() => {{ const root = document.querySelector('#applybot-widget').shadowRoot; {body} }}"
    )


def open_widget(page: Page) -> None:
    launcher = page.locator(".ab-launcher")
    expect(launcher).to_be_visible()
    if launcher.get_attribute("aria-expanded") != "true":
        launcher.click()
    expect(page.locator(".ab-panel")).to_be_visible()


def send(page: Page, question: str) -> None:
    box = page.locator("#ab-input")
    box.fill(question)
    box.press("Enter")


def wait_answers(page: Page, count: int) -> None:
    expect(page.locator(ANSWER_SELECTOR)).to_have_count(count, timeout=30_000)
    expect(page.locator(".ab-typing")).to_be_hidden()


def stored(page: Page, server: Server) -> Any:
    return json.loads(page.evaluate(f"() => localStorage.getItem('applybot:v1:{server.url}')") or "null")
