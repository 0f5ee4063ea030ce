"""The web widget in a real Chromium against a real uvicorn server over the shipped notice.

Set APPLYBOT_SCREENSHOTS=1 to (re)write docs/widget-desktop.png and docs/widget-phone.png.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page, expect

from bot.contract import Answer, Citation, NoticeOption
from bot.services import build_assistant, ingest_and_index
from bot.store import Store
from common.settings import Settings
from common.types import Contact
from handlers.app import create_app
from tests.support.browser import checked_page, chromium
from tests.support.factories import sqlite_store
from tests.support.paths import KNOWLEDGE, ROOT
from tests.support.servers import Server

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs"
SCREENSHOTS = os.environ.get("APPLYBOT_SCREENSHOTS") == "1"
DEADLINE_Q = "社区学习中心啥时候截止"
XSS = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script>"
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


def _page(body: str, *, lang: str = "zh-CN", css: str = "") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f"<style>{css}</style></head><body>{body}"
        '<script src="/widget.js" data-title="申报咨询" async></script></body></html>'
    )


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
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
def assistant(settings: Settings) -> Any:
    return build_assistant(settings)


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The store the app journals to (answers, feedback, handoff threads)."""
    store = sqlite_store(tmp_path_factory.mktemp("widget-store"))
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(settings: Settings, assistant: Any, journal: Store) -> Iterator[Server]:
    app = create_app(settings, assistant=assistant, store=journal)
    hostile = _page("<h1>Host page</h1><p id='host-text'>申报通知</p>", css=HOSTILE_CSS)
    plain = _page("<h1>Host page</h1><p id='host-text'>申报通知</p>")
    english = _page("<h1>Notice</h1>", lang="en")
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


# -- the conversation, end to end ------------------------------------------------------------------------


def test_ask_cite_hand_off_rate_and_reload(page: Page, server: Server, journal: Store) -> None:
    page.goto(server.url + "/")
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

    session_id = stored(page, server)["session_id"]
    message_id = answer.get_attribute("data-message-id")
    logged = [m for m in journal.messages() if m["message_id"] == message_id]
    assert logged and logged[0]["channel"] == "web" and logged[0]["session_id"] == session_id

    # The contact button opens a thread with staff and shows the people to call meanwhile.
    store = journal
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
    feedback = [f for f in journal.feedbacks() if f["message_id"] == message_id]
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
    assert stored(page, server)["session_id"] == session_id

    page.locator(".ab-new").click()
    expect(page.locator(".ab-user")).to_have_count(0)
    expect(page.locator(ANSWER_SELECTOR)).to_have_count(0)
    assert stored(page, server) == {"session_id": None, "messages": [], "open": True, "handoff": None}


def test_keyboard_alone(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
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


def test_phone_sized_screen(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server.url + "/")
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


# -- isolation and safety ------------------------------------------------------------------------------

STYLE_PROBE = """
const props = ['display', 'color', 'font-size', 'font-family', 'line-height', 'letter-spacing', 'background-color',
               'border-top-width', 'padding-top', 'margin-top', 'position', 'opacity', 'transform', 'filter', 'zoom'];
const out = {};
for (const sel of ['.ab-launcher', '.ab-panel', '.ab-title', '.ab-input', '.ab-send', '.ab-msg', '.ab-handoff',
                   '.ab-typing']) {
  const el = root.querySelector(sel);
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  out[sel] = Object.fromEntries(props.map(p => [p, style.getPropertyValue(p)]));
  out[sel].box = [box.x, box.y, box.width, box.height].map(Math.round);
}
const host = getComputedStyle(document.querySelector('#applybot-widget'));
out.host = {transform: host.transform, opacity: host.opacity, filter: host.filter, zoom: host.zoom};
return out;
"""


def test_aggressive_host_css_does_not_change_the_widget(page: Page, server: Server) -> None:
    styles = {}
    for name in ("plain", "hostile"):
        page.goto(f"{server.url}/test/{name}")
        page.evaluate("() => localStorage.clear()")
        page.reload()
        open_widget(page)
        styles[name] = shadow_eval(page, STYLE_PROBE)
    # The hostile CSS did apply to the host page itself...
    assert page.evaluate("getComputedStyle(document.querySelector('#host-text')).color") == "rgb(255, 0, 0)"
    # ...and nothing of it reached the widget.
    assert styles["hostile"] == styles["plain"]
    assert styles["plain"][".ab-launcher"]["font-size"] == "16px"
    assert styles["plain"][".ab-panel"]["display"] == "flex"
    assert styles["plain"].get(".ab-typing", {}).get("display") == "none"


def test_english_host_page_gets_an_english_widget(page: Page, server: Server) -> None:
    page.goto(server.url + "/test/english")
    expect(page.locator(".ab-launcher")).to_have_attribute("aria-label", "Open the application help chat")
    open_widget(page)
    expect(page.locator("#ab-input")).to_have_attribute(
        "placeholder", "Ask about the notice, press Enter to send"
    )
    expect(page.locator(".ab-handoff")).to_have_text("Contact staff")
    expect(page.locator(".ab-close")).to_have_attribute("aria-label", "Close")


def test_markup_in_a_question_is_shown_as_text(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    open_widget(page)
    send(page, XSS)
    wait_answers(page, 1)
    expect(page.locator(".ab-user")).to_have_text(XSS)
    assert shadow_eval(page, "return root.querySelectorAll('img, script, iframe').length") == 0
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_markup_in_an_answer_is_shown_as_text(
    page: Page, server: Server, assistant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hostile_ask(question: str, *, session_id: str | None = None, today: Any = None) -> Answer:
        return Answer(
            answer=f"答案 {XSS}",
            citations=[Citation("doc", f"标题{XSS}", f"章节{XSS}", f"引文{XSS}", "chunk")],
            escalated=True,
            contacts=[
                Contact(
                    name=f"张三{XSS}",
                    department="<b>处</b>",
                    phone="027<svg onload=window.__xss=1>",
                    email=XSS,
                )
            ],
            confidence=0.5,
            intent="general",
            session_id=session_id or "s" * 32,
            message_id="m" * 32,
        )

    monkeypatch.setattr(assistant, "ask", hostile_ask)
    page.goto(server.url + "/")
    open_widget(page)
    send(page, "你好")
    wait_answers(page, 1)
    answer = page.locator(ANSWER_SELECTOR).first
    expect(answer.locator(".ab-text")).to_have_text(f"答案 {XSS}")
    answer.locator(".ab-cite").first.click()
    expect(answer.locator(".ab-quote blockquote")).to_have_text(f"引文{XSS}")
    expect(answer.locator(".ab-cite")).to_contain_text(f"标题{XSS}")
    expect(answer.locator(".ab-contacts")).to_contain_text(f"张三{XSS}")
    assert answer.locator(".ab-contacts a[href^='mailto:']").count() == 0  # not an address: plain text
    tel = answer.locator(".ab-contacts a[href^='tel:']").get_attribute("href")
    assert tel == "tel:0271"  # digits only: "027" and the "1" of "=1"
    assert shadow_eval(page, "return root.querySelectorAll('img, script, svg:not(.ab-icon), b').length") == 0
    page.reload()  # rendered again from localStorage: still text
    expect(page.locator(ANSWER_SELECTOR).first.locator(".ab-text")).to_have_text(f"答案 {XSS}")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_choosing_a_notice_from_chips(
    page: Page, server: Server, assistant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    options = [NoticeOption("a", f"关于奖学金评选的通知{XSS}"), NoticeOption("b", "关于学生助理招募的通知")]

    def ask(question: str, *, session_id: str | None = None, today: Any = None) -> Answer:
        asked.append(question)
        first = len(asked) == 1
        return Answer(
            answer="您问的是哪一个通知？" if first else "报名截止到9月20日。",
            citations=[]
            if first
            else [Citation("b", "关于学生助理招募的通知", "五、选聘流程", "9月20日之前", "chunk")],
            intent="clarify" if first else "deadline",
            session_id=session_id or "s" * 32,
            message_id=("m" if first else "n") * 32,
            clarify=options if first else [],
        )

    monkeypatch.setattr(assistant, "ask", ask)
    page.goto(server.url + "/")
    open_widget(page)
    send(page, "什么时候截止？")
    wait_answers(page, 1)
    chips = page.locator(".ab-chip")
    expect(chips).to_have_count(2)
    expect(chips.first).to_have_text(f"关于奖学金评选的通知{XSS}")  # a title is text, never markup
    page.reload()  # the choice is still offered after a reload
    open_widget(page)
    expect(page.locator(".ab-chip")).to_have_count(2)
    page.locator(".ab-chip").nth(1).click()
    wait_answers(page, 2)
    assert asked == ["什么时候截止？", "关于学生助理招募的通知"]  # the chip sends its title as the next turn
    expect(page.locator(ANSWER_SELECTOR).nth(1).locator(".ab-text")).to_have_text("报名截止到9月20日。")
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__xss") == "undefined"
