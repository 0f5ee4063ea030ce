"""The web widget in a real Chromium against a real uvicorn server over the shipped notice, end to
end: asking, citing, handing off to staff, rating and reloading; the keyboard alone; a phone-sized screen.

Set APPLYBOT_SCREENSHOTS=1 to (re)write docs/widget-desktop.png and docs/widget-phone.png.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.store import Store
from tests.support.paths import ROOT
from tests.support.servers import Server
from tests.support.widget_page import ANSWER_SELECTOR, open_widget, send, shadow_eval, stored, wait_answers

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs"
SCREENSHOTS = os.environ.get("APPLYBOT_SCREENSHOTS") == "1"
DEADLINE_Q = "社区学习中心啥时候截止"


def test_ask_cite_hand_off_rate_and_reload(page: Page, widget_server: Server, widget_journal: Store) -> None:
    page.goto(widget_server.url + "/")
    launcher = page.locator(".ab-launcher")
    panel = page.locator(".ab-panel")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()
    expect(panel).to_have_attribute("role", "dialog")
    expect(page.locator(".ab-log")).to_have_attribute("aria-live", "polite")

    launcher.click()
    expect(panel).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    assert shadow_eval(page, "return root.activeElement && root.activeElement.id") == "ab-input"

    # Watch for the typing indicator and the streamed (partial) bubble while the answer arrives.
    shadow_eval(
        page,
        """
        window.__sawTyping = false; window.__sawStreaming = false;
        const typing = root.querySelector('.ab-typing');
        new MutationObserver(() => { if (!typing.hidden) window.__sawTyping = true; })
            .observe(typing, {attributes: true});
        new MutationObserver(() => { if (root.querySelector('.ab-streaming')) window.__sawStreaming = true; })
            .observe(root.querySelector('.ab-log'), {childList: true, subtree: true, characterData: true});
        """,
    )
    send(page, DEADLINE_Q)
    expect(page.locator(".ab-user")).to_have_text(DEADLINE_Q)
    wait_answers(page, 1)
    assert page.evaluate("window.__sawTyping") is True
    assert page.evaluate("window.__sawStreaming") is True
    assert page.locator(".ab-streaming").count() == 0

    answer = page.locator(ANSWER_SELECTOR).first
    expect(answer.locator(".ab-text")).to_contain_text("2023年10月25日")
    cites = answer.locator(".ab-cite")
    assert cites.count() >= 1
    expect(cites.first).to_contain_text("[1]")
    quote = answer.locator(".ab-quote").first
    expect(quote).to_be_hidden()
    cites.first.click()
    expect(cites.first).to_have_attribute("aria-expanded", "true")
    expect(quote).to_be_visible()
    expect(quote.locator("blockquote")).to_contain_text("2023年10月25日")
    expect(quote.locator(".ab-src")).to_contain_text("学习型社会建设重点任务")
    # The deadline the answer gives can go into a calendar: the link fetches a real .ics file.
    ics = answer.locator(".ab-ics")
    expect(ics).to_have_text("加入日历")
    calendar = page.request.get(str(ics.get_attribute("href")))
    assert calendar.ok and calendar.headers["content-type"].startswith("text/calendar")
    assert b"DTSTART;VALUE=DATE:20231025" in calendar.body()
    if SCREENSHOTS:
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / "widget-desktop.png"))

    session_id = stored(page, widget_server)["session_id"]
    message_id = answer.get_attribute("data-message-id")
    logged = [m for m in widget_journal.messages() if m["message_id"] == message_id]
    assert logged and logged[0]["channel"] == "web" and logged[0]["session_id"] == session_id

    # The contact button opens a thread with staff and shows the people to call meanwhile.
    store = widget_journal
    handoffs_before = len(store.handoffs())
    page.locator(".ab-handoff").click()
    contacts = page.locator(".ab-info .ab-contacts")
    expect(contacts).to_contain_text("李娟")
    expect(contacts).to_contain_text("万婷")
    expect(contacts.locator('a[href^="tel:"]').first).to_be_visible()
    expect(page.locator(".ab-staffbar")).to_be_visible()
    handoffs = store.handoffs()
    assert len(handoffs) == handoffs_before + 1
    assert handoffs[-1]["session_id"] == session_id and handoffs[-1]["channel"] == "web"
    assert handoffs[-1]["note"] == DEADLINE_Q

    # Thumbs up is recorded once, then both buttons are settled.
    up = answer.get_by_role("button", name="有帮助", exact=True)
    up.click()
    expect(answer.locator(".ab-thanks")).to_have_text("谢谢您的反馈。")
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_role("button", name="没有帮助", exact=True)).to_be_disabled()
    feedback = [f for f in widget_journal.feedbacks() if f["message_id"] == message_id]
    assert feedback == [{**feedback[0], "session_id": session_id, "rating": "up"}]

    # A reload keeps the conversation, the rating and the session.
    page.reload()
    expect(page.locator(".ab-panel")).to_be_visible()
    expect(page.locator(".ab-user")).to_have_text(DEADLINE_Q)
    restored = page.locator(ANSWER_SELECTOR).first
    expect(restored).to_have_attribute("data-message-id", message_id or "")
    expect(restored.locator(".ab-text")).to_contain_text("2023年10月25日")
    expect(restored.get_by_role("button", name="有帮助", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator(".ab-info .ab-contacts")).to_contain_text("李娟")
    restored.locator(".ab-cite").first.click()
    expect(restored.locator(".ab-quote").first).to_be_visible()

    # The thread with staff survived the reload too; the applicant ends it and asks the assistant again.
    expect(page.locator(".ab-staffbar")).to_be_visible()
    page.locator(".ab-end").click()
    expect(page.locator(".ab-info").last).to_contain_text("人工对话已结束")
    expect(page.locator(".ab-staffbar")).to_be_hidden()
    assert store.handoffs()[-1]["status"] == "closed"

    send(page, "那联系人呢？")  # the follow-up uses the restored session
    wait_answers(page, 2)
    expect(page.locator(ANSWER_SELECTOR).nth(1).locator(".ab-text")).to_contain_text("万婷")
    assert stored(page, widget_server)["session_id"] == session_id

    page.locator(".ab-new").click()
    expect(page.locator(".ab-user")).to_have_count(0)
    expect(page.locator(ANSWER_SELECTOR)).to_have_count(0)
    assert stored(page, widget_server) == {"session_id": None, "messages": [], "open": True, "handoff": None}


def test_keyboard_alone(page: Page, widget_server: Server) -> None:
    page.goto(widget_server.url + "/")
    page.locator(".ab-launcher").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".ab-panel")).to_be_visible()
    assert shadow_eval(page, "return root.activeElement.id") == "ab-input"
    page.keyboard.type(DEADLINE_Q)
    page.keyboard.press("Enter")
    wait_answers(page, 1)
    # Shift+Tab walks back from the input through the contact button into the answer's controls.
    page.keyboard.press("Shift+Tab")
    assert shadow_eval(page, "return root.activeElement.className") == "ab-handoff"
    page.keyboard.press("Shift+Tab")
    assert shadow_eval(page, "return root.activeElement.className") == "ab-rbtn"  # 👎
    page.locator(".ab-cite").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".ab-quote").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".ab-panel")).to_be_hidden()
    assert shadow_eval(page, "return root.activeElement.className") == "ab-launcher"
    expect(page.locator(".ab-launcher")).to_have_attribute("aria-expanded", "false")


def test_phone_sized_screen(browser: Browser, widget_server: Server) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(widget_server.url + "/")
        open_widget(page)
        panel = page.locator(".ab-panel").bounding_box()
        assert panel == {"x": 0, "y": 0, "width": 375, "height": 667}
        send(page, DEADLINE_Q)
        wait_answers(page, 1)
        page.locator(".ab-cite").first.click()
        expect(page.locator(".ab-quote").first).to_be_visible()
        for selector in (".ab-input", ".ab-send", ".ab-close", ".ab-new", ".ab-handoff"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["x"] >= 0 and box["y"] >= 0, selector
            assert box["x"] + box["width"] <= 375 and box["y"] + box["height"] <= 667, selector
        assert shadow_eval(
            page, "const log = root.querySelector('.ab-log'); return log.scrollWidth <= log.clientWidth"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        if SCREENSHOTS:
            DOCS.mkdir(exist_ok=True)
            page.screenshot(path=str(DOCS / "widget-phone.png"))
        page.locator(".ab-close").click()
        expect(page.locator(".ab-panel")).to_be_hidden()
    finally:
        context.close()
