"""The staff pages in a real Chromium against a real uvicorn server serving create_app(settings).

The app builds its own SQLite store and assistant in its lifespan, over a data dir of its own (the
seed notice, ingested with the session's embedding cache). Applicants ask through POST /api/ask
with httpx; staff act only through the pages: sign in, answer a queued question as an FAQ entry,
upload a DOCX notice, check its preview and publish it. The answers applicants then get are checked.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.services import ingest_and_index
from common.settings import Settings
from handlers.app import create_app
from handlers.staff import add_user
from retrieval.model import Block, stable_id
from tests.support.browser import checked_page, chromium
from tests.support.builders import write_docx
from tests.support.factories import make_settings
from tests.support.paths import SEED
from tests.support.servers import Server

pytestmark = pytest.mark.browser

STAFF, PASSWORD = "zhangli", "a long staff password"
WAIT_MS = 30_000  # page loads, clicks and URL waits; `expect` keeps its own 5 s default
HTTP_TIMEOUT_S = 60.0

# -- 1. the FAQ loop
FAQ_QUESTION = "申报书需要加盖公章吗？"
FAQ_PARAPHRASE = "申报书要不要盖章？"
FAQ_ANSWER = "需要加盖单位公章后扫描上传。"
FAQ_SOURCE = "职成处电话答复"

# -- 2. a notice uploaded through the page
NOTICE_TITLE = "关于申报2027年度职业教育产教融合项目的通知"
NOTICE_NUMBER = "鄂教职成函〔2027〕3号"
NOTICE_FILE = "2027年度产教融合项目申报通知.docx"
ROW1_TASK, ROW1_DEADLINE = "产教融合实训基地", "2027年1月15日"
ROW2_TASK, ROW2_DEADLINE = "现代学徒制试点专业", "2027年1月22日"
CONTACT = "职成处李明 027-87328888"
NOTICE = [
    # The document number above the title, as a red-header notice sets it.
    Block("paragraph", text=NOTICE_NUMBER),
    Block("heading", text=NOTICE_TITLE, level=1),
    Block("paragraph", text="各高等职业院校、各中等职业学校："),
    Block("heading", text="一、申报项目及要求", level=2),
    Block("paragraph", text="请各单位按下表要求组织申报，逾期不予受理。"),
    Block(
        "table",
        rows=[
            ["项目名称", "申报条件", "截止时间", "联系人"],
            [ROW1_TASK, "省属高等职业院校", ROW1_DEADLINE, CONTACT],
            # The contact of row 2 is written as one cell merged with the row above.
            [ROW2_TASK, "中等职业学校", ROW2_DEADLINE, ""],
        ],
    ),
]

# -- 3. markup in a question
XSS_MARKUP = "<img src=x onerror=window.__xss=1>"
XSS_QUESTION = f"{XSS_MARKUP}学校食堂几点开门？"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, embedding_cache: Path) -> Settings:
    """A data dir of its own with the seed notice ingested (embeddings reused from the session cache)."""
    knowledge = tmp_path_factory.mktemp("staff-browser-knowledge")
    shutil.copy(SEED, knowledge / SEED.name)
    data_dir = tmp_path_factory.mktemp("staff-browser-data")
    (data_dir / "cache").mkdir()
    cache = embedding_cache / "embeddings.sqlite"
    if cache.exists():
        shutil.copy(cache, data_dir / "cache" / "embeddings.sqlite")
    settings = make_settings(data_dir, knowledge, rate_limit_per_minute=1000, allowed_origins="")
    report, _ = ingest_and_index(settings, [knowledge])
    assert not report.errors, report.errors
    shutil.copy(data_dir / "cache" / "embeddings.sqlite", cache)
    # A staff user, made the way `applybot staff add-user` makes one (SQLite under the data dir).
    assert add_user(settings, STAFF, PASSWORD)["name"] == STAFF
    return settings


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[Server]:
    # No assistant, journal or store passed in: the app builds them as `applybot serve` does.
    with Server(create_app(settings)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT_S) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(WAIT_MS) as browser:
        yield browser


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    with checked_page(browser, height=900, timeout_ms=WAIT_MS) as page:
        yield page


def ask(http: httpx.Client, question: str) -> dict[str, Any]:
    response = http.post("/api/ask", json={"question": question, "channel": "api"})
    assert response.status_code == 200, response.text
    return response.json()


def sign_in(page: Page, server: Server, target: str = "/staff/queue") -> None:
    """Open a staff page anonymously, get sent to the sign-in form, sign in, land on the page."""
    page.goto(server.url + target)
    expect(page).to_have_url(f"{server.url}/staff/login?next={target.replace('/', '%2F')}")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.get_by_label("用户名").fill(STAFF)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + target)
    expect(page.locator("header .who")).to_contain_text(STAFF)


def queue_group(page: Page, question: str) -> Any:
    """The review-queue card whose heading is exactly this question."""
    return page.locator("section.card").filter(has=page.get_by_role("heading", name=question, exact=True))


# -- 1. the FAQ loop -----------------------------------------------------------------------------------


def test_staff_answer_a_queued_question_and_applicants_get_it(
    page: Page, server: Server, http: httpx.Client
) -> None:
    before = ask(http, FAQ_QUESTION)
    assert before["escalated"] is True, before
    assert all(c["kind"] != "faq" for c in before["citations"])

    sign_in(page, server)
    group = queue_group(page, FAQ_QUESTION)
    expect(group).to_have_count(1)
    expect(group.locator(".pill.warn").first).to_contain_text("升级")
    group.get_by_text("撰写答复").click()
    form = group.locator("form[action='/staff/queue/answer']")
    questions = form.locator("textarea[name=questions]")
    expect(questions).to_be_visible()
    assert FAQ_QUESTION in questions.input_value().splitlines()  # the group's questions come prefilled
    form.locator("textarea[name=answer]").fill(FAQ_ANSWER)
    form.locator("input[name=source]").fill(FAQ_SOURCE)
    form.get_by_role("button", name="发布答复").click()

    # The new entry is shown on the FAQ page, active, with what was written.
    page.wait_for_url(f"{server.url}/staff/faq?created=*", timeout=WAIT_MS)
    expect(page.locator(".notice")).to_contain_text("已加入检索")
    entry = page.locator("section.card").filter(has_text=FAQ_ANSWER)
    expect(entry).to_have_count(1)
    expect(entry.locator(".pill.ok")).to_have_text("active")
    expect(entry.locator("li")).to_have_text([FAQ_QUESTION])
    expect(entry.locator("blockquote")).to_have_text(FAQ_ANSWER)
    expect(entry).to_contain_text(f"依据：{FAQ_SOURCE}")
    expect(entry).to_contain_text(STAFF)

    # The answered question left the open queue and shows under the resolved ones.
    page.goto(server.url + "/staff/queue")
    expect(page.get_by_role("heading", name="待处理问题", exact=True)).to_be_visible()
    expect(queue_group(page, FAQ_QUESTION)).to_have_count(0)
    page.goto(server.url + "/staff/queue?status=resolved")
    expect(queue_group(page, FAQ_QUESTION)).to_have_count(1)

    # Applicants now get the staff answer, for the same question and for a paraphrase.
    for question in (FAQ_QUESTION, FAQ_PARAPHRASE):
        answer = ask(http, question)
        assert answer["escalated"] is False, (question, answer)
        assert answer["answer"] == FAQ_ANSWER, (question, answer)
        first = answer["citations"][0]
        assert first["kind"] == "faq" and first["quote"] == FAQ_ANSWER, (question, answer["citations"])
        assert first["section"] == FAQ_SOURCE, (question, first)


# -- 2. a DOCX notice uploaded, previewed and published through the page -----------------------------


def test_upload_preview_and_publish_a_docx_notice(
    page: Page, server: Server, http: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    path = write_docx(tmp_path / NOTICE_FILE, NOTICE, merge_empty_cells=True)
    deadline_question = f"{ROW2_TASK}什么时候截止？"
    before = ask(http, deadline_question)
    assert ROW2_DEADLINE not in before["answer"]  # the notice is not known yet

    sign_in(page, server, "/staff/knowledge")
    documents = page.locator("table.card tr").filter(has=page.locator("td"))
    expect(documents).to_have_count(1)  # the seed notice only
    page.locator("input[type=file][name=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并预览").click()

    # The preview: metadata, both records, and the contact of row 2 marked as inferred from row 1.
    expect(page.get_by_role("heading", name=f"预览：{NOTICE_FILE}")).to_be_visible()
    meta = page.locator("section.card table")
    expect(meta.locator("tr").filter(has_text="标题").locator("td")).to_have_text(NOTICE_TITLE)
    expect(meta.locator("tr").filter(has_text="文号").locator("td")).to_have_text(NOTICE_NUMBER)
    expect(meta.locator("tr").filter(has_text="格式").locator("td")).to_have_text("docx")
    expect(page.get_by_role("heading", name="表格记录（2）")).to_be_visible()
    rows = page.locator("table.records tr").filter(has=page.locator("td"))
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(ROW1_TASK)
    expect(rows.nth(0)).to_contain_text(ROW1_DEADLINE)
    expect(rows.nth(0)).to_contain_text("2027-01-15")
    expect(rows.nth(1)).to_contain_text(ROW2_TASK)
    expect(rows.nth(1)).to_contain_text("2027-01-22")
    expect(rows.nth(0).locator("td.inferred")).to_have_count(0)
    inferred = page.locator("table.records td.inferred")
    expect(inferred).to_have_count(1)
    expect(rows.nth(1).locator("td.inferred")).to_have_text(CONTACT)
    expect(inferred).to_have_attribute("title", "推断自第 1 行")
    # Marked so a person sees it: the inferred cell has its own background, the others none.
    assert inferred.evaluate("td => getComputedStyle(td).backgroundColor") == "rgb(255, 244, 214)"
    plain = rows.nth(1).locator("td").filter(has_text=ROW2_TASK)
    assert plain.evaluate("td => getComputedStyle(td).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert not (Path(settings.knowledge_dir) / NOTICE_FILE).exists()  # nothing published yet

    page.get_by_role("button", name="发布并索引").click()
    page.wait_for_url(f"{server.url}/staff/knowledge?published=*", timeout=WAIT_MS)
    expect(page.locator(".notice")).to_have_text(f"已发布并索引：{NOTICE_FILE}")
    expect(documents).to_have_count(2)
    listed = documents.filter(has_text=NOTICE_TITLE)
    expect(listed).to_have_count(1)
    expect(listed.locator("td").nth(1)).to_have_text("现行")  # its status: nothing amends it
    expect(listed.locator("td").nth(2)).to_have_text(NOTICE_FILE)
    expect(listed.locator("td").nth(4)).to_have_text("2")  # records
    assert (Path(settings.knowledge_dir) / NOTICE_FILE).is_file()

    # Applicants get the row's deadline, cited from a record of the new document.
    doc_id = stable_id("doc", NOTICE_FILE)
    answer = ask(http, deadline_question)
    assert answer["escalated"] is False, answer
    assert ROW2_DEADLINE in answer["answer"], answer
    records = [c for c in answer["citations"] if c["kind"] == "record" and c["doc_id"] == doc_id]
    assert records, answer["citations"]
    assert ROW2_TASK in records[0]["quote"] and ROW2_DEADLINE in records[0]["quote"], records[0]
    assert records[0]["title"] == NOTICE_TITLE, records[0]
    # The merged contact cell reached row 2 as well.
    contact = ask(http, f"{ROW2_TASK}联系谁？")
    assert "027-87328888" in contact["answer"], contact


# -- 3. markup in a question stays text in the review queue ----------------------------------------------


def test_markup_in_a_question_is_text_in_the_review_queue(
    page: Page, server: Server, http: httpx.Client
) -> None:
    asked = ask(http, XSS_QUESTION)
    assert asked["escalated"] is True, asked  # so it is queued for review

    sign_in(page, server)
    group = queue_group(page, XSS_QUESTION)
    expect(group).to_have_count(1)  # the heading's text is the markup, character for character
    group.locator("summary").filter(has_text="提问记录").click()
    logged = group.locator("td strong").filter(has_text=XSS_MARKUP)
    expect(logged.first).to_be_visible()
    expect(logged.first).to_have_text(XSS_QUESTION)
    answer_form = group.locator("textarea[name=questions]")
    assert XSS_QUESTION in answer_form.input_value().splitlines()
    # No element was made from the markup (the page's CSP would also stop the handler: check both).
    assert page.evaluate("document.querySelectorAll('img, script').length") == 0
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"


# -- 4. a live handoff: the widget and the staff page, both in Chromium ----------------------------------


def test_a_widget_applicant_and_a_staff_member_talk_live(browser: Browser, server: Server) -> None:
    with (
        checked_page(browser, height=900, timeout_ms=WAIT_MS) as applicant,
        checked_page(browser, height=900, timeout_ms=WAIT_MS) as staff,
    ):
        # The applicant asks, then asks for a person.
        applicant.goto(server.url + "/")
        applicant.locator(".ab-launcher").click()
        applicant.locator(".ab-input").fill(ROW2_TASK + "什么时候截止？")
        applicant.locator(".ab-input").press("Enter")
        expect(applicant.locator('.ab-bot[data-message-id]:not([data-message-id=""])')).to_have_count(1)
        applicant.locator(".ab-handoff").click()
        expect(applicant.locator(".ab-staffbar")).to_be_visible()
        expect(applicant.locator(".ab-handoff")).to_be_hidden()

        # Staff see it first on the handoffs page, with the count in the menu; claim and reply.
        sign_in(staff, server, "/staff/handoffs")
        expect(staff.locator("#live-handoffs")).to_have_text("1")
        row = staff.locator("tr.handoff-row").first
        expect(row).to_contain_text("待认领")
        row.get_by_role("link", name="打开对话").click()
        staff.get_by_role("button", name="认领").click()
        expect(staff.locator(".notice")).to_contain_text("已认领")
        staff.locator("textarea[name=text]").fill("您好，我是工作人员，<b>请讲</b>。")
        staff.get_by_role("button", name="发送回复", exact=True).click()
        expect(staff.locator(".notice")).to_contain_text("回复已发送")

        # The reply appears in the widget without a reload, as text, marked as staff.
        reply = applicant.locator(".ab-staff").last
        expect(reply).to_contain_text("您好，我是工作人员，<b>请讲</b>。")
        expect(reply.locator(".ab-who")).to_have_text("工作人员")

        # After a reload the thread goes on: the applicant answers, staff see it live.
        applicant.reload()  # the panel was open: it opens again by itself
        expect(applicant.locator(".ab-staffbar")).to_be_visible()
        expect(applicant.locator(".ab-staff")).to_have_count(1)
        applicant.locator(".ab-input").fill("谢谢，材料需要盖章吗？")
        applicant.locator(".ab-input").press("Enter")
        expect(staff.locator("#thread .msg.applicant").last).to_contain_text("谢谢，材料需要盖章吗？")

        # Staff close; the widget shows the end and goes back to the assistant.
        staff.get_by_role("button", name="结束对话", exact=True).click()
        expect(staff.locator(".notice")).to_contain_text("对话已结束")
        expect(applicant.locator(".ab-info").last).to_contain_text("人工对话已结束")
        expect(applicant.locator(".ab-staffbar")).to_be_hidden()
        expect(applicant.locator(".ab-handoff")).to_be_visible()
        staff.goto(server.url + "/staff/handoffs")
        expect(staff.locator("#live-handoffs")).to_have_count(0)
