"""The staff pages and their JSON twins over a real assistant, store and knowledge base: sign-in,
refusals, CSRF, escaping, the login rate limit, the FAQ loop with a bearer token, the review queue,
uploading a notice, numbers and exports."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.conversation import ConversationService
from bot.services import Retrieval
from bot.store import Store, open_store
from common.settings import Settings
from handlers.staff import staff_router
from retrieval.model import Block
from tests.support.builders import write_docx
from tests.support.factories import assistant_over_store
from tests.support.paths import SEED
from tests.support.staff_pages import PASSWORD, csrf_of, hidden, login

pytestmark = pytest.mark.integration

XSS = "<script>alert('x')</script><b>粗体</b>评审专家有哪些？"


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


def make_app(settings: Settings, store: Store, assistant: Assistant) -> FastAPI:
    app = FastAPI()
    conversation = ConversationService(assistant, store)
    app.include_router(staff_router(settings, store=store, assistant=assistant, conversation=conversation))
    return app


@pytest.fixture()
def app(kb: tuple[Settings, Retrieval], store: Store, assistant: Assistant) -> FastAPI:
    return make_app(kb[0], store, assistant)


@pytest.fixture()
def anon(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture()
def staff(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        assert login(client, "alice", PASSWORD).status_code == 303
        yield client


def log_question(store: Store, assistant: Assistant, question: str, channel: str = "web") -> dict[str, Any]:
    answer = assistant.ask(question).to_dict()
    store.log_answer(channel=channel, question=question, answer=answer, latency_ms=10.0)
    return answer


# -- refusals -------------------------------------------------------------------------------------------------


def staff_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) under /staff but the sign-in form, from the app's routes."""
    routes: list[Any] = []
    for route in app.routes:
        # Newer FastAPI keeps an included router whole instead of copying its routes into the app.
        included = getattr(route, "original_router", None)
        routes.extend(included.routes if included is not None else [route])
    out: list[tuple[str, str]] = []
    for route in routes:
        path = getattr(route, "path", "")
        if not path.startswith("/staff") or path == "/staff/login":
            continue
        concrete = path.replace("{faq_id}", "1").replace("{handoff_id}", "abc")
        out.extend((method, concrete) for method in sorted(getattr(route, "methods", ())))
    return out


def test_every_staff_page_and_endpoint_refuses_an_anonymous_request(app: FastAPI, anon: TestClient) -> None:
    routes = staff_routes(app)
    assert len(routes) >= 24
    for method, path in routes:
        response = anon.request(method, path)
        if method == "GET" and not path.startswith("/staff/api/"):
            # A browser is sent to the sign-in form, and sees nothing else.
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/staff/login?next=")
            assert response.text == ""
        else:
            assert response.status_code == 401, (method, path, response.status_code)
    assert anon.get("/staff/api/stats").json() == {"error": "sign in first"}
    bad = anon.get("/staff/api/queue", headers={"Authorization": "Bearer abt_0123_notatoken"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    # A session cookie that was never issued is no session.
    anon.cookies.set("applybot_staff", "forged", path="/staff")
    assert anon.get("/staff/api/stats").status_code == 401


def test_a_revoked_token_is_refused(anon: TestClient, store: Store) -> None:
    token = store.issue_token("bob")
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.get("/staff/api/stats", headers=headers).status_code == 200
    store.revoke_token(token)
    assert anon.get("/staff/api/stats", headers=headers).status_code == 401


def test_forms_without_the_csrf_token_are_refused(staff: TestClient, store: Store) -> None:
    before = len(store.faq_entries(status=None))
    forms = {
        "/staff/faq/new": {"questions": "q", "answer": "a"},
        "/staff/queue/status": {"message_ids": "m1", "status": "resolved"},
        "/staff/queue/answer": {"questions": "q", "answer": "a"},
        "/staff/faq/1": {"questions": "q", "answer": "a"},
        "/staff/faq/1/status": {"status": "retired"},
        "/staff/handoffs/abc/reply": {"text": "x"},
        "/staff/knowledge/publish": {"upload_id": "0" * 32},
        "/staff/logout": {},
    }
    for path, data in forms.items():
        assert staff.post(path, data=data).status_code == 403, path
        assert staff.post(path, data={**data, "csrf_token": "wrong"}).status_code == 403, path
        assert staff.post(path, data={**data, "csrf_token": "令牌"}).status_code == 403, path
    upload = staff.post("/staff/knowledge/upload", files={"file": ("a.md", b"# x\n", "text/markdown")})
    assert upload.status_code == 403
    # The JSON twins want the token in a header when the caller is a browser session.
    assert staff.post("/staff/api/faq", json={"questions": ["q"], "answer": "a"}).status_code == 403
    # A form posted from another site is refused even with a stolen token.
    token = csrf_of(staff)
    cross = staff.post(
        "/staff/faq/new",
        data={"questions": "q", "answer": "a", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert len(store.faq_entries(status=None)) == before
    # The session still works, and the sign-in form wants its own token too.
    assert staff.get("/staff/queue").status_code == 200
    with TestClient(staff.app, follow_redirects=False) as fresh:
        fresh.get("/staff/login")
        refused = fresh.post("/staff/login", data={"name": "alice", "password": PASSWORD})
        assert refused.status_code == 403 and "applybot_staff=" not in refused.headers.get("set-cookie", "")


# -- sign-in ---------------------------------------------------------------------------------------------------


def test_sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session(app: FastAPI, store: Store) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = login(client, "alice", PASSWORD, next="https://evil.example/")
        assert response.status_code == 303
        assert response.headers["location"] == "/staff/queue"  # never off-site
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("applybot_staff="))
        attributes = {a.strip().lower() for a in cookie.split(";")}
        assert {"httponly", "secure", "samesite=lax", "path=/staff"} <= attributes
        assert client.get("/staff/queue").status_code == 200
        token = client.cookies.get("applybot_staff")
        assert token and store.staff_session(token) is not None
        out = client.post("/staff/logout", data={"csrf_token": csrf_of(client)})
        assert out.status_code == 303
        assert store.staff_session(token) is None
        client.cookies.clear()
        replayed = client.get("/staff/queue", headers={"Cookie": f"applybot_staff={token}"})
        assert replayed.status_code == 303  # the old cookie no longer opens anything
    with TestClient(app, follow_redirects=False) as plain:
        response = login(plain, "alice", PASSWORD, next="/staff/numbers")
        assert response.headers["location"] == "/staff/numbers"
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("applybot_staff="))
        assert "secure" not in cookie.lower()  # plain HTTP: a Secure cookie would never come back
    actions = [(e["actor"], e["action"]) for e in store.audit_entries(limit=20)]
    assert ("alice", "login") in actions and ("alice", "logout") in actions


def test_the_login_rate_limit_holds_even_for_the_right_password(
    kb: tuple[Settings, Retrieval], store: Store, assistant: Assistant
) -> None:
    limited = kb[0].model_copy(update={"staff_login_attempts": 3, "staff_login_window_s": 60})
    app = make_app(limited, store, assistant)
    with TestClient(app, follow_redirects=False) as client:
        for _ in range(3):
            wrong = login(client, "alice", "not the password")
            assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        blocked = login(client, "alice", PASSWORD)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert "applybot_staff=" not in blocked.headers.get("set-cookie", "")
        # The same address cannot go on guessing under another name either.
        assert login(client, "bob", PASSWORD).status_code == 429
    actions = [e["action"] for e in store.audit_entries(limit=10)]
    assert "login_failed" in actions and "login_throttled" in actions


# -- escaping -----------------------------------------------------------------------------------------------


def test_markup_in_questions_and_answers_is_shown_escaped(
    staff: TestClient, store: Store, assistant: Assistant
) -> None:
    answer = log_question(store, assistant, XSS)
    store.feedback(
        session_id=answer["session_id"],
        message_id=answer["message_id"],
        rating="down",
        comment="<img src=x onerror=alert(1)>",
    )
    store.handoff(session_id=answer["session_id"], channel="web", note="<iframe src=//evil>")
    pages = {
        "queue": staff.get("/staff/queue").text,
        "numbers": staff.get("/staff/numbers").text,
    }
    token = csrf_of(staff)
    staff.post(
        "/staff/faq/new",
        data={
            "questions": "<svg onload=alert(1)>问",
            "answer": "<script>evil()</script>答",
            "csrf_token": token,
        },
    )
    pages["faq"] = staff.get("/staff/faq").text
    for name, html in pages.items():
        for raw in ("<script>alert", "<script>evil", "<img src=x", "<iframe", "<svg onload", "<b>粗体"):
            assert raw not in html, (name, raw)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;粗体&lt;/b&gt;" in pages["queue"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["queue"]
    assert "&lt;iframe src=//evil&gt;" in pages["queue"]
    assert "&lt;script&gt;evil()&lt;/script&gt;答" in pages["faq"]
    response = staff.get("/staff/queue")
    policy = response.headers["content-security-policy"]
    # Only the staff pages' own script files may run: nothing inline, nothing from elsewhere.
    assert (
        "script-src 'self';" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert response.headers["x-frame-options"] == "DENY"
    # Take the markup FAQ out again, so it answers nothing in the tests that follow.
    markup = next(e for e in store.faq_entries() if e["answer"].startswith("<script>"))
    staff.post(f"/staff/faq/{markup['id']}/status", data={"status": "retired", "csrf_token": token})
    assert all(not e["answer"].startswith("<script>") for e in store.faq_entries())


# -- the FAQ loop over the JSON API -------------------------------------------------------------------------


def test_the_faq_loop_through_the_json_api_with_a_bearer_token(
    anon: TestClient, store: Store, assistant: Assistant
) -> None:
    headers = {"Authorization": f"Bearer {store.issue_token('alice', label='test')}"}
    question, paraphrase = "申报书要不要盖章", "申报材料要不要加盖公章"
    first = log_question(store, assistant, question, channel="api")
    second = log_question(store, assistant, paraphrase, channel="telegram")
    assert first["escalated"] and second["escalated"]

    queue = anon.get("/staff/api/queue", headers=headers).json()
    group = next(g for g in queue["groups"] if first["message_id"] in g["message_ids"])
    assert second["message_id"] in group["message_ids"]  # the paraphrase is grouped with it
    assert group["count"] >= 2 and {"api", "telegram"} <= set(group["channels"])

    staff_answer = "申报书须加盖申报单位公章，扫描后上传平台。"
    created = anon.post(
        "/staff/api/faq",
        headers=headers,
        json={
            "questions": [question],
            "answer": staff_answer,
            "source": "职成处答复",
            "resolves": group["message_ids"],
        },
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["author"] == "alice" and entry["indexed"] is True

    for asked in (question, paraphrase):
        answer = assistant.ask(asked)
        assert not answer.escalated, asked
        assert answer.answer == staff_answer
        assert answer.citations[0].kind == "faq" and answer.citations[0].quote == staff_answer

    queue = anon.get("/staff/api/queue", headers=headers).json()
    assert all(first["message_id"] not in g["message_ids"] for g in queue["groups"])
    stats = anon.get("/staff/api/stats", headers=headers).json()
    assert {"questions", "answered", "escalated", "feedback_up", "feedback_down", "per_day"} <= set(stats)
    assert stats["questions"] >= 2 and stats["escalated"] >= 2
    listed = anon.get("/staff/api/faq", headers=headers).json()["entries"]
    assert any(e["id"] == entry["id"] for e in listed)

    retired = anon.post(f"/staff/api/faq/{entry['id']}", headers=headers, json={"status": "retired"})
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert assistant.ask(question).escalated
    restored = anon.post(f"/staff/api/faq/{entry['id']}", headers=headers, json={"status": "active"})
    assert restored.status_code == 200 and not assistant.ask(question).escalated

    bad = anon.post("/staff/api/faq", headers=headers, json={"questions": [], "answer": "x"})
    assert bad.status_code == 422 and "questions" in bad.json()["error"]
    actions = [(e["actor"], e["action"]) for e in store.audit_entries(limit=10)]
    assert ("alice", "faq_create") in actions and ("alice", "faq_edit") in actions


def test_the_review_queue_page_groups_filters_and_acts(
    staff: TestClient, store: Store, assistant: Assistant
) -> None:
    results = [
        log_question(store, assistant, q, channel="web")
        for q in ("评审结果什么时候公布？", "评审结果何时公示")
    ]
    other = log_question(store, assistant, "学校食堂几点开门", channel="telegram")
    groups = staff.get("/staff/api/queue?channel=web").json()["groups"]
    results_group = next(g for g in groups if results[0]["message_id"] in g["message_ids"])
    assert results[1]["message_id"] in results_group["message_ids"]
    assert other["message_id"] not in {m for g in groups for m in g["message_ids"]}  # filtered out by channel

    page = staff.get("/staff/queue?channel=telegram").text
    assert "学校食堂几点开门" in page and "评审结果何时公示" not in page

    token = csrf_of(staff)
    done = staff.post(
        "/staff/queue/status",
        data={
            "csrf_token": token,
            "status": "not_applicable",
            "message_ids": other["message_id"],
            "back": "/staff/queue?channel=telegram",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/staff/queue?channel=telegram"
    assert "学校食堂几点开门" not in staff.get("/staff/queue?channel=telegram").text
    assert "学校食堂几点开门" in staff.get("/staff/queue?status=not_applicable").text

    answered = staff.post(
        "/staff/queue/answer",
        data={
            "csrf_token": token,
            "questions": "评审结果什么时候公布？\n评审结果何时公示",
            "answer": "评审结果将在省教育厅网站公示。",
            "message_ids": ",".join(results_group["message_ids"]),
        },
    )
    assert answered.status_code == 303 and answered.headers["location"].startswith("/staff/faq?created=")
    assert assistant.ask("评审结果何时公示").answer == "评审结果将在省教育厅网站公示。"


def test_staff_claim_reply_and_close_a_handoff_thread(
    staff: TestClient, store: Store, assistant: Assistant
) -> None:
    answer = log_question(store, assistant, "能不能直接打电话问问？")
    conversation = ConversationService(assistant, store)
    started = conversation.handoff(session_id=answer["session_id"], channel="web", note="请回电")
    handoff_id = started.thread["handoff_id"]
    conversation.applicant_message(handoff_id, "<script>alert(1)</script>我在线等", author="申请人")

    listing = staff.get("/staff/handoffs").text
    assert "请回电" in listing and "待认领" in listing and "刚刚" in listing  # waiting time
    waiting = store.live_handoff_count()  # this thread, and any an earlier test left open
    assert f'id="live-handoffs">{waiting}<' in listing  # the count beside 人工对话 on every page
    assert f'id="live-handoffs">{waiting}<' in staff.get("/staff/faq").text
    page = staff.get(f"/staff/handoffs/{handoff_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;我在线等" in page and "<script>alert(1)" not in page
    assert "能不能直接打电话问问？" in page  # what the applicant asked the assistant before

    csrf = csrf_of(staff)
    assert staff.post(f"/staff/handoffs/{handoff_id}/claim", data={"csrf_token": csrf}).status_code == 303
    assert store.get_handoff(handoff_id)["claimed_by"] == "alice"
    reply = staff.post(
        f"/staff/handoffs/{handoff_id}/reply", data={"csrf_token": csrf, "text": "已电话联系。"}
    )
    assert reply.status_code == 303
    live = staff.get(f"/staff/api/handoffs/{handoff_id}/messages", params={"after": 0}).json()
    assert [(m["role"], m["text"]) for m in live["messages"]][-1] == ("staff", "已电话联系。")
    assert (
        staff.post(f"/staff/handoffs/{handoff_id}/reply", data={"csrf_token": csrf, "text": " "}).status_code
        == 422
    )

    assert staff.post(f"/staff/handoffs/{handoff_id}/close", data={"csrf_token": csrf}).status_code == 303
    thread = store.get_handoff(handoff_id)
    assert thread["status"] == "closed" and thread["closed_by"] == "alice"
    late = staff.post(f"/staff/handoffs/{handoff_id}/reply", data={"csrf_token": csrf, "text": "还有吗"})
    assert late.status_code == 409
    after = staff.get("/staff/handoffs").text
    assert (f'id="live-handoffs">{waiting - 1}<' in after) if waiting > 1 else ("live-handoffs" not in after)
    actions = [(e["actor"], e["action"], e["target"]) for e in store.audit_entries()]
    for action in ("handoff_claim", "handoff_reply", "handoff_close"):
        assert ("alice", action, handoff_id) in actions
    assert staff.get("/staff/handoffs/" + "0" * 32).status_code == 404


# -- knowledge -------------------------------------------------------------------------------------------------

NEW_NOTICE = [
    Block("heading", text="关于开展2026年智慧教育示范项目申报工作的通知", level=1),
    Block("heading", text="一、申报要求", level=2),
    Block("paragraph", text="各单位按下表要求组织申报，逾期不予受理。"),
    Block(
        "table",
        rows=[
            ["序号", "项目名称", "申报对象", "申报截止时间", "联系人"],
            ["1", "智慧教育示范校", "普通高中", "2026年12月20日", "基教处王敏 027-87320001"],
            ["2", "数字教材应用试点", "初级中学", "2026年12月25日", ""],
        ],
    ),
]


def test_upload_a_docx_notice_preview_publish_and_ask(
    staff: TestClient, kb: tuple[Settings, Retrieval], store: Store, assistant: Assistant, tmp_path: Path
) -> None:
    settings = kb[0]
    faq_question = "申报书模板在哪里下载？"
    staff.post(
        "/staff/faq/new",
        data={
            "questions": faq_question,
            "answer": "申报书模板可在省教育厅网站下载。",
            "csrf_token": csrf_of(staff),
        },
    )
    path = write_docx(tmp_path / "智慧教育示范项目.docx", NEW_NOTICE, merge_empty_cells=True)
    token = csrf_of(staff)
    preview = staff.post(
        "/staff/knowledge/upload",
        data={"csrf_token": token},
        files={"file": ("../../智慧教育示范项目.docx", path.read_bytes(), "application/octet-stream")},
    )
    assert preview.status_code == 200, preview.text
    html = preview.text
    assert "关于开展2026年智慧教育示范项目申报工作的通知" in html
    assert "智慧教育示范校" in html and "数字教材应用试点" in html and "2026-12-20" in html
    # The contact of row 2 comes from the merged cell above: it is highlighted as inferred.
    assert re.search(r'<td class="inferred" title="推断自第 1 行">基教处王敏', html)
    assert not (Path(settings.knowledge_dir) / "智慧教育示范项目.docx").exists()  # not yet published

    published = staff.post(
        "/staff/knowledge/publish", data={"csrf_token": token, "upload_id": hidden(html, "upload_id")}
    )
    assert published.status_code == 303
    assert (Path(settings.knowledge_dir) / "智慧教育示范项目.docx").exists()  # saved under its base name only
    assert "智慧教育示范项目.docx" in staff.get(published.headers["location"]).text

    answer = assistant.ask("智慧教育示范校什么时候截止？")
    assert not answer.escalated and "2026年12月20日" in answer.answer
    assert any("智慧教育示范校" in c.quote for c in answer.citations)
    contact = assistant.ask("数字教材应用试点联系谁？")
    assert "027-87320001" in contact.answer
    # Re-indexing the knowledge base kept the staff FAQ answers.
    assert assistant.ask(faq_question).citations[0].kind == "faq"

    unsupported = staff.post(
        "/staff/knowledge/upload",
        data={"csrf_token": token},
        files={"file": ("x.exe", b"MZ", "application/x")},
    )
    assert unsupported.status_code == 415
    broken = staff.post(
        "/staff/knowledge/upload",
        data={"csrf_token": token},
        files={"file": ("x.docx", b"not a zip", "application/x")},
    )
    assert broken.status_code == 422
    actions = [e["action"] for e in store.audit_entries(limit=20)]
    assert "upload_preview" in actions and "publish_notice" in actions and "upload_rejected" in actions


# -- numbers, exports, audit ---------------------------------------------------------------------------------


def test_pages_numbers_and_exports_render_for_staff(
    staff: TestClient, store: Store, assistant: Assistant
) -> None:
    answer = log_question(store, assistant, '=HYPERLINK("http://evil")')
    store.feedback(
        session_id=answer["session_id"], message_id=answer["message_id"], rating="up", comment=None
    )
    for path in (
        "/staff/queue",
        "/staff/faq",
        "/staff/faq?status=all",
        "/staff/knowledge",
        "/staff/numbers",
        "/staff/audit",
    ):
        response = staff.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store"
    assert staff.get("/staff/").headers["location"] == "/staff/queue"
    numbers = staff.get("/staff/numbers").text
    assert (
        "<svg" in numbers and "<rect" in numbers and "http://cdn" not in numbers and "<script" not in numbers
    )

    export = staff.get("/staff/export/messages.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["at", "message_id", "session_id", "channel", "question"]
    row = next(r for r in rows if r[1] == answer["message_id"])
    assert row[4].startswith("'=")  # a spreadsheet will not run it as a formula
    assert row[-1] == "up"
    faq = staff.get("/staff/export/faq.csv")
    assert faq.status_code == 200 and faq.content.decode("utf-8-sig").startswith("id,questions,answer")
    audit = staff.get("/staff/audit").text
    assert "export" in audit


def test_the_stats_count_what_was_asked(anon: TestClient, store: Store, assistant: Assistant) -> None:
    headers = {"Authorization": f"Bearer {store.issue_token('alice')}"}
    before = anon.get("/staff/api/stats", headers=headers).json()
    answered = log_question(store, assistant, "社区学习中心啥时候截止")
    log_question(store, assistant, "今天天气怎么样")
    store.feedback(
        session_id=answered["session_id"], message_id=answered["message_id"], rating="up", comment=None
    )
    time.sleep(0.01)
    after = anon.get("/staff/api/stats", headers=headers).json()
    assert after["questions"] == before["questions"] + 2
    assert after["answered"] == before["answered"] + 1
    assert after["escalated"] == before["escalated"] + 1
    assert after["feedback_up"] == before["feedback_up"] + 1
    assert after["per_day"][-1]["questions"] >= 2


# -- command line -------------------------------------------------------------------------------------------


def test_the_staff_commands_add_users_and_tokens(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handlers.staff import staff_cli

    settings = Settings(data_dir=tmp_path, knowledge_dir=tmp_path)
    cli = staff_cli(lambda: settings)
    runner = CliRunner()
    added = runner.invoke(cli, ["add-user", "carol", "--password-stdin"], input="a long password\n")
    assert added.exit_code == 0, added.output
    short = runner.invoke(cli, ["add-user", "dave", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.output
    prompted = runner.invoke(cli, ["add-user", "erin"], input="another password\nanother password\n")
    assert prompted.exit_code == 0, prompted.output
    made = runner.invoke(cli, ["token", "carol", "--label", "reports"])
    assert made.exit_code == 0
    token = made.output.strip().splitlines()[-1]
    assert runner.invoke(cli, ["token", "nobody"]).exit_code == 2

    store = open_store(settings)
    try:
        assert store.verify_user("carol", "a long password") == "carol"
        assert store.verify_user("erin", "another password") == "erin"
        assert store.verify_token(token) == "carol"
        assert runner.invoke(cli, ["revoke-token", token.split("_")[1]]).exit_code == 0
        assert store.verify_token(token) is None
        assert runner.invoke(cli, ["revoke-token", token]).exit_code == 2  # already revoked
        actions = [e["action"] for e in store.audit_entries()]
        assert {"user_add", "token_issue", "token_revoke"} <= set(actions)
    finally:
        store.close()


def test_staff_pages_say_so_when_the_database_is_away(
    kb: tuple[Settings, Retrieval], assistant: Assistant, tmp_path: Path
) -> None:
    db_dir = tmp_path / "db"
    store = Store(f"sqlite:///{db_dir / 'staff.sqlite3'}", data_dir=tmp_path)
    store.add_user("alice", PASSWORD)
    token = store.issue_token("alice")
    try:
        with TestClient(make_app(kb[0], store, assistant), follow_redirects=False) as client:
            assert login(client, "alice", PASSWORD).status_code == 303
            db_dir.rename(tmp_path / "away")
            page = client.get("/staff/queue")
            assert page.status_code == 503 and "database" in page.text
            api = client.get("/staff/api/stats", headers={"Authorization": f"Bearer {token}"})
            assert api.status_code == 503 and api.json()["error"].startswith("the database")
            (tmp_path / "away").rename(db_dir)
            assert client.get("/staff/queue").status_code == 200
    finally:
        store.close()
