"""The web widget in a real Chromium, kept apart from its host page and safe from what it shows:
hostile host CSS changes nothing in it, an English page gets an English widget, markup in a question
or an answer (or a notice's title on a chip) is shown as text and never runs."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bot.contract import Answer, Citation, NoticeOption
from common.types import Contact
from tests.support.servers import Server
from tests.support.widget_page import ANSWER_SELECTOR, open_widget, send, shadow_eval, wait_answers

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script>"

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


def test_aggressive_host_css_does_not_change_the_widget(page: Page, widget_server: Server) -> None:
    styles = {}
    for name in ("plain", "hostile"):
        page.goto(f"{widget_server.url}/test/{name}")
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


def test_english_host_page_gets_an_english_widget(page: Page, widget_server: Server) -> None:
    page.goto(widget_server.url + "/test/english")
    expect(page.locator(".ab-launcher")).to_have_attribute("aria-label", "Open the application help chat")
    open_widget(page)
    expect(page.locator("#ab-input")).to_have_attribute(
        "placeholder", "Ask about the notice, press Enter to send"
    )
    expect(page.locator(".ab-handoff")).to_have_text("Contact staff")
    expect(page.locator(".ab-close")).to_have_attribute("aria-label", "Close")


def test_markup_in_a_question_is_shown_as_text(page: Page, widget_server: Server) -> None:
    page.goto(widget_server.url + "/")
    open_widget(page)
    send(page, XSS)
    wait_answers(page, 1)
    expect(page.locator(".ab-user")).to_have_text(XSS)
    assert shadow_eval(page, "return root.querySelectorAll('img, script, iframe').length") == 0
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_markup_in_an_answer_is_shown_as_text(
    page: Page, widget_server: Server, widget_assistant: Any, monkeypatch: pytest.MonkeyPatch
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

    monkeypatch.setattr(widget_assistant, "ask", hostile_ask)
    page.goto(widget_server.url + "/")
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
    page: Page, widget_server: Server, widget_assistant: Any, monkeypatch: pytest.MonkeyPatch
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

    monkeypatch.setattr(widget_assistant, "ask", ask)
    page.goto(widget_server.url + "/")
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
