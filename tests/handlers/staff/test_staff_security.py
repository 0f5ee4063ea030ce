"""Who gets into the staff pages, and what they cannot do (a real assistant, store and knowledge
base): every page refuses an anonymous request, a revoked token, a form without its CSRF token; the
sign-in cookie and the sign-out; the login rate limit; markup shown escaped; the staff commands that
add users and tokens; and pages that say so when the database is away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.services import Retrieval
from bot.store import Store, open_store
from common.settings import Settings
from tests.support.staff_pages import PASSWORD, csrf_of, log_question, login, staff_app

pytestmark = pytest.mark.integration

XSS = "<script>alert('x')</script><b>粗体</b>评审专家有哪些？"


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
    app = staff_app(limited, store, assistant)
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
        with TestClient(staff_app(kb[0], store, assistant), follow_redirects=False) as client:
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
