"""The HTTP API over a real assistant and the shipped notice: answers, streaming, feedback, handoff,
health, metrics, limits, CORS and bad input."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.services import build_assistant, ingest_and_index
from bot.store import Store
from common.settings import Settings
from handlers.api import RateLimiter
from handlers.app import create_app
from tests.support.factories import sqlite_store
from tests.support.paths import KNOWLEDGE

pytestmark = pytest.mark.integration

DEADLINE_Q = "社区学习中心啥时候截止"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "knowledge_dir": KNOWLEDGE,
        "today": "2026-11-28",
        "max_question_chars": 500,
        "max_body_bytes": 16_384,
        "rate_limit_per_minute": 1000,
        "allowed_origins": "",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("api-data"))
    ingest_and_index(settings, [KNOWLEDGE])
    return settings


@pytest.fixture(scope="module")
def assistant(settings: Settings) -> Any:
    return build_assistant(settings)


@pytest.fixture()
def stores(tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Open fresh SQLite stores (one per app under test); all closed at the end."""
    opened: list[Store] = []

    def open_one() -> Store:
        opened.append(sqlite_store(tmp_path / f"store-{len(opened)}"))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture()
def journal(stores: Callable[[], Store]) -> Store:
    """The store the app journals to: answers, feedback and handoff threads land here."""
    return stores()


@pytest.fixture()
def client(settings: Settings, assistant: Any, journal: Store) -> Any:
    with TestClient(create_app(settings, assistant=assistant, store=journal)) as client:
        yield client


def ask(client: TestClient, question: Any, **extra: Any) -> Any:
    return client.post("/api/ask", json={"question": question, **extra})


def metric(client: TestClient, name: str, **labels: str) -> float:
    """The sum of the samples in /metrics with this name and these labels (0 when absent)."""
    text = client.get("/metrics").text
    return sum(
        float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        events.append((name, json.loads("\n".join(data))))
    return events


# -- answers -------------------------------------------------------------------------------------------


def test_ask_answers_the_deadline_with_a_verbatim_record_citation(
    client: TestClient, assistant: Any, journal: Store
) -> None:
    response = ask(client, DEADLINE_Q)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "answer", "citations", "escalated", "contacts", "confidence", "intent", "task",
        "session_id", "message_id", "language", "degraded", "clarify", "deadlines",
    }  # fmt: skip
    assert data["clarify"] == []  # one notice: nothing to choose between
    assert "2023年10月25日" in data["answer"]
    assert data["escalated"] is False
    assert data["session_id"] and data["message_id"]
    records = [c for c in data["citations"] if c["kind"] == "record"]
    assert records, data["citations"]
    for citation in data["citations"]:
        assert set(citation) == {"doc_id", "title", "section", "quote", "kind"}
        assert citation["quote"] in assistant.view.documents[citation["doc_id"]].text
    assert "2023年10月25日" in records[0]["quote"]

    logged = journal.messages()
    assert len(logged) == 1
    assert logged[0]["channel"] == "api"
    assert logged[0]["question"] == DEADLINE_Q
    assert logged[0]["message_id"] == data["message_id"]


def test_a_follow_up_in_the_same_session_uses_its_context(client: TestClient, journal: Store) -> None:
    first = ask(client, DEADLINE_Q, channel="web").json()
    second = ask(client, "那联系人呢？", session_id=first["session_id"], channel="web")
    assert second.status_code == 200
    data = second.json()
    assert data["session_id"] == first["session_id"]
    assert "万婷" in data["answer"]
    assert data["message_id"] != first["message_id"]
    assert [m["channel"] for m in journal.messages()] == ["web", "web"]


def test_a_new_session_is_issued_per_conversation(client: TestClient) -> None:
    one, two = ask(client, DEADLINE_Q).json(), ask(client, DEADLINE_Q).json()
    assert one["session_id"] != two["session_id"]
    # Without the session a bare follow-up has nothing to refer to.
    alone = ask(client, "那联系人呢？").json()
    assert "万婷" not in alone["answer"]


def test_stream_sends_deltas_then_the_whole_contract(client: TestClient, journal: Store) -> None:
    with client.stream(
        "POST", "/api/ask/stream", json={"question": DEADLINE_Q, "channel": "web"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = sse_events(text)
    names = [name for name, _ in events]
    assert names[-1] == "answer" and names.count("answer") == 1
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) >= 3 and all(len(d) <= 8 for d in deltas)
    final = events[-1][1]
    assert "".join(deltas) == final["answer"]
    assert "2023年10月25日" in final["answer"]
    assert final["citations"] and final["session_id"] and final["message_id"]
    assert journal.messages()[-1]["channel"] == "web"


def test_stream_refuses_bad_input_with_json_before_streaming(client: TestClient) -> None:
    response = client.post("/api/ask/stream", json={"question": " "})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/json")
    assert "empty" in response.json()["error"]


# -- feedback and handoff ---------------------------------------------------------------------------


def test_feedback_is_recorded(client: TestClient, journal: Store) -> None:
    answer = ask(client, DEADLINE_Q).json()
    body = {
        "session_id": answer["session_id"],
        "message_id": answer["message_id"],
        "rating": "down",
        "comment": "太短",
    }
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 200
    record = response.json()
    assert {k: record[k] for k in body} == body and record["at"]
    assert journal.feedbacks() == [record]

    bad = client.post("/api/feedback", json={**body, "rating": "meh"})
    assert bad.status_code == 422 and "rating" in bad.json()["error"]
    assert len(journal.feedbacks()) == 1


def test_handoff_is_recorded_and_answers_with_the_contacts(client: TestClient, journal: Store) -> None:
    session = ask(client, DEADLINE_Q).json()["session_id"]
    response = client.post(
        "/api/handoff", json={"session_id": session, "note": "想咨询材料", "channel": "web"}
    )
    assert response.status_code == 200
    data = response.json()
    names = [c["name"] for c in data["contacts"]]
    assert "李娟" in names  # the notice's general contact
    assert "万婷" in names  # the contact of the task this session asked about
    assert data["status"] == "open" and data["session_id"] == session
    [record] = journal.handoffs()
    assert record["handoff_id"] == data["handoff_id"]
    assert record["note"] == "想咨询材料" and record["channel"] == "web"
    assert data["thread_token"] and data["messages"] == []

    fresh = client.post("/api/handoff", json={"session_id": "never-asked"}).json()
    assert [c["name"] for c in fresh["contacts"]] == ["李娟"]
    assert client.post("/api/handoff", json={}).status_code == 422


def test_a_web_thread_with_staff_is_read_and_written_with_its_token_only(client: TestClient) -> None:
    started = client.post("/api/handoff", json={"session_id": "web-thread", "channel": "web"}).json()
    handoff_id, token = started["handoff_id"], started["thread_token"]
    base = f"/api/handoff/{handoff_id}"

    sent = client.post(f"{base}/messages", json={"token": token, "text": "<b>还在吗</b>"})
    assert sent.status_code == 200 and sent.json()["role"] == "applicant"
    assert client.post(f"{base}/messages", json={"token": "wrong", "text": "x"}).status_code == 404
    assert client.get(base, params={"token": "wrong"}).status_code == 404
    assert client.get("/api/handoff/" + "0" * 32, params={"token": token}).status_code == 404
    assert client.post(f"{base}/messages", json={"token": token, "text": "  "}).status_code == 422
    assert client.post(f"{base}/messages", json={"token": token, "text": "长" * 2001}).status_code == 422

    service = client.app.state.conversation  # type: ignore[attr-defined]
    reply = service.staff_reply(handoff_id, "工作人员在。", staff="alice", via="staff page")
    thread = client.get(base, params={"token": token, "after": sent.json()["id"]}).json()
    assert thread["status"] == "claimed"
    assert thread["messages"] == [
        {"id": reply["id"], "role": "staff", "text": "工作人员在。", "at": reply["at"]}
    ]  # staff are not named to the applicant

    closed = client.post(f"{base}/close", json={"token": token}).json()
    assert closed["status"] == "closed" and closed["messages"][-1]["role"] == "system"
    assert client.post(f"{base}/messages", json={"token": token, "text": "再问一句"}).status_code == 409


def test_thread_events_stream_new_messages_then_the_end(client: TestClient) -> None:
    started = client.post("/api/handoff", json={"session_id": "web-events", "channel": "web"}).json()
    handoff_id, token = started["handoff_id"], started["thread_token"]
    service = client.app.state.conversation  # type: ignore[attr-defined]
    first = service.staff_reply(handoff_id, "第一条", staff="alice", via="staff page")
    service.staff_reply(handoff_id, "第二条", staff="alice", via="staff page")
    service.close(handoff_id, by="alice", role="staff", via="staff page")
    with client.stream(
        "GET",
        f"/api/handoff/{handoff_id}/events",
        params={"token": token},
        headers={"Last-Event-ID": str(first["id"])},  # a reconnecting browser: resume after the first
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = [block for block in body.split("\n\n") if block.startswith(("id:", "event:"))]
    assert "第一条" not in body and "第二条" in events[0]
    assert events[-1].startswith("event: status") and '"closed"' in events[-1]
    assert client.get(f"/api/handoff/{handoff_id}/events", params={"token": "nope"}).status_code == 404


# -- operations -------------------------------------------------------------------------------------


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["documents"] == 1


def test_readiness_fails_on_an_empty_index(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "empty")
    with TestClient(create_app(settings)) as client:  # the lifespan builds the assistant itself
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "not ready" in response.json()["error"]


def test_readiness_fails_when_the_search_fails(settings: Settings, stores: Callable[[], Store]) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("vector store down")

    stub = SimpleNamespace(index=SimpleNamespace(searcher=SimpleNamespace(search=broken)))
    with TestClient(create_app(settings, assistant=stub, store=stores())) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "ConnectionError" in response.json()["error"]


def test_metrics_count_requests_answers_escalations_feedback_and_errors(client: TestClient) -> None:
    route = {"route": "/api/ask", "method": "POST", "status": "200"}
    before = {
        "requests": metric(client, "applybot_http_requests_total", **route),
        "answers": metric(client, "applybot_answers_total", channel="api"),
        "escalations": metric(client, "applybot_escalations_total", channel="api"),
        "up": metric(client, "applybot_feedback_total", rating="up"),
        "errors": metric(client, "applybot_errors_total", kind="InvalidQueryError"),
        "latency": metric(client, "applybot_http_request_duration_seconds_count", route="/api/ask"),
    }
    answer = ask(client, DEADLINE_Q).json()
    assert ask(client, "这次申报的经费补助标准是多少钱？").json()["escalated"] is True
    client.post(
        "/api/feedback",
        json={"session_id": answer["session_id"], "message_id": answer["message_id"], "rating": "up"},
    )
    ask(client, "")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert metric(client, "applybot_http_requests_total", **route) == before["requests"] + 2
    assert metric(client, "applybot_answers_total", channel="api") == before["answers"] + 2
    assert metric(client, "applybot_escalations_total", channel="api") == before["escalations"] + 1
    assert metric(client, "applybot_feedback_total", rating="up") == before["up"] + 1
    assert metric(client, "applybot_errors_total", kind="InvalidQueryError") == before["errors"] + 1
    assert (
        metric(client, "applybot_http_request_duration_seconds_count", route="/api/ask")
        == before["latency"] + 3
    )
    assert metric(client, "applybot_http_requests_total", route="/api/ask", status="422") >= 1


def test_each_app_has_its_own_metrics(
    settings: Settings, assistant: Any, stores: Callable[[], Store]
) -> None:
    with TestClient(create_app(settings, assistant=assistant, store=stores())) as other:
        assert metric(other, "applybot_answers_total", channel="api") == 0


def test_openapi_lists_the_routes_and_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/api/ask",
        "/api/ask/stream",
        "/api/feedback",
        "/api/handoff",
        "/healthz",
        "/readyz",
        "/metrics",
    } <= set(spec["paths"])
    schemas = set(spec["components"]["schemas"])
    assert {"AskRequest", "AnswerPublic", "FeedbackRequest", "HandoffRequest", "HandoffPublic"} <= schemas


def test_demo_page_and_widget_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/widget.js"' in page.text and "data-title=" in page.text
    script = client.get("/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert "attachShadow" in script.text and "/api/ask/stream" in script.text
    for unsafe in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert unsafe not in script.text


def test_the_demo_page_is_filled_from_the_knowledge_base(client: TestClient) -> None:
    page = client.get("/").text
    assert "{{" not in page
    assert "省教育厅关于积极承接学习型社会建设重点任务的通知" in page and "鄂教职成函〔2023〕9号" in page
    assert page.count("<tr><td>") == 5 and "探索三教统筹协同创新路径" in page


# -- limits and bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\x00\x01"])
def test_an_empty_question_is_a_422(client: TestClient, question: str) -> None:
    response = ask(client, question)
    assert response.status_code == 422
    assert "empty" in response.json()["error"]


def test_the_question_length_limit_is_named(client: TestClient) -> None:
    response = ask(client, "申" * 501)
    assert response.status_code == 422
    assert "500" in response.json()["error"]
    assert ask(client, "申" * 500).status_code == 200


def test_a_huge_body_is_a_413(client: TestClient) -> None:
    huge = json.dumps({"question": "申" * 20_000}).encode()
    response = client.post("/api/ask", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "16384" in response.json()["error"]

    def chunks() -> Any:  # no Content-Length: the body is counted as it arrives
        for _ in range(40):
            yield b" " * 1024

    chunked = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/json"),
        (b"{", "application/json"),
        (b"{'question': 'x'}", "application/json"),
        (b"[]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"null", "application/json"),
        (b'{"question": 5}', "application/json"),
        (b'{"question": ["a"]}', "application/json"),
        (b'{"question": null}', "application/json"),
        (b'{"session_id": "abc"}', "application/json"),
        (b'{"question": "x", "session_id": "../../etc"}', "application/json"),
        (b'{"question": "x", "channel": "sms"}', "application/json"),
        (b"question=x", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/json"),
    ],
)
def test_bad_requests_are_4xx_json(client: TestClient, body: bytes, content_type: str) -> None:
    response = client.post("/api/ask", content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500, response.text
    assert isinstance(response.json()["error"], str)


@pytest.mark.parametrize(
    "question",
    [
        "😀😀😀",
        "\u200b\u200b",
        "社区\x07学习中心\x1b啥时候截止",
        "？？？",
        "a",
        "\U0001f600" * 100,
        "DROP TABLE x; --",
    ],
)
def test_odd_questions_never_cause_a_5xx(client: TestClient, question: str) -> None:
    response = ask(client, question)
    assert response.status_code in (200, 422), response.text
    assert response.headers["content-type"].startswith("application/json")


def test_markup_in_a_question_is_answered_as_json_text(client: TestClient, journal: Store) -> None:
    question = "<script>alert(1)</script><img src=x onerror=alert(1)> 社区学习中心啥时候截止"
    response = ask(client, question)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert isinstance(response.json()["answer"], str)
    assert journal.messages()[-1]["question"] == question


def test_unexpected_failures_are_a_json_500(settings: Settings, stores: Callable[[], Store]) -> None:
    def explode(question: str, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    stub = SimpleNamespace(ask=explode)
    app = create_app(settings, assistant=stub, store=stores())
    with TestClient(app, raise_server_exceptions=False) as client:
        response = ask(client, "x")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error"}


def test_the_rate_limit_answers_429_with_retry_after(
    settings: Settings, assistant: Any, stores: Callable[[], Store]
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 3})
    app = create_app(limited, assistant=assistant, store=stores())
    with TestClient(app) as client, TestClient(app, client=("10.9.8.7", 4000)) as other:
        assert ask(client, DEADLINE_Q).status_code == 200
        assert client.post("/api/ask/stream", json={"question": DEADLINE_Q}).status_code == 200
        assert ask(client, DEADLINE_Q).status_code == 200
        refused = ask(client, DEADLINE_Q)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "try again" in refused.json()["error"]
        assert client.post("/api/ask/stream", json={"question": DEADLINE_Q}).status_code == 429
        assert client.get("/healthz").status_code == 200  # only /api/ask* is limited
        assert ask(other, DEADLINE_Q).status_code == 200  # per client


def test_the_rate_limit_window_slides() -> None:
    limiter = RateLimiter(2, window_s=60)
    assert limiter.check("a", now=0) == 0 and limiter.check("a", now=10) == 0
    assert limiter.check("a", now=30) == pytest.approx(30)
    assert limiter.check("a", now=59.5) == pytest.approx(0.5)
    assert limiter.check("a", now=60) == 0  # the first request has left the window
    assert limiter.check("a", now=61) > 0
    assert limiter.check("b", now=61) == 0


def test_cors_allows_only_the_configured_origins(
    settings: Settings, assistant: Any, stores: Callable[[], Store]
) -> None:
    configured = settings.model_copy(
        update={"allowed_origins": "https://apply.example.cn, https://www.example.org"}
    )
    with TestClient(create_app(configured, assistant=assistant, store=stores())) as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        allowed = client.options("/api/ask", headers={"Origin": "https://apply.example.cn", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://apply.example.cn"
        refused = client.options("/api/ask", headers={"Origin": "https://evil.example.com", **preflight})
        assert refused.status_code >= 400
        assert "access-control-allow-origin" not in refused.headers

        ok = client.post(
            "/api/ask", json={"question": DEADLINE_Q}, headers={"Origin": "https://www.example.org"}
        )
        assert ok.headers["access-control-allow-origin"] == "https://www.example.org"
        bad = client.post(
            "/api/ask", json={"question": DEADLINE_Q}, headers={"Origin": "https://evil.example.com"}
        )
        assert "access-control-allow-origin" not in bad.headers


def test_without_allowed_origins_no_cross_origin_call_is_allowed(client: TestClient) -> None:
    response = ask(client, DEADLINE_Q, channel="api")
    assert "access-control-allow-origin" not in response.headers
    cross = client.post("/api/ask", json={"question": DEADLINE_Q}, headers={"Origin": "https://any.example"})
    assert "access-control-allow-origin" not in cross.headers


def test_concurrent_questions_are_all_answered(client: TestClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    first = ask(client, DEADLINE_Q).json()["session_id"]
    questions = [(DEADLINE_Q, None), ("那联系人呢？", first), (DEADLINE_Q, None), ("那联系人呢？", first)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda q: ask(client, q[0], **({"session_id": q[1]} if q[1] else {})), questions)
        )
    assert [a.status_code for a in answers] == [200] * 4
    assert "2023年10月25日" in answers[0].json()["answer"] and "2023年10月25日" in answers[2].json()["answer"]
    assert "万婷" in answers[1].json()["answer"] and "万婷" in answers[3].json()["answer"]


def test_a_worker_answers_at_most_answer_threads_questions_at_once(
    settings: Settings, assistant: Any, stores: Callable[[], Store]
) -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def slow_ask(question: str, **kwargs: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.15)
            return assistant.ask(question, **kwargs)
        finally:
            with lock:
                running -= 1

    two = settings.model_copy(update={"answer_threads": 2, "rate_limit_per_minute": 1000})
    app = create_app(two, assistant=SimpleNamespace(ask=slow_ask, index=assistant.index), store=stores())
    with TestClient(app) as client, ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: ask(client, DEADLINE_Q).status_code, range(6)))
    assert statuses == [200] * 6  # the others waited their turn, none was refused
    assert most == 2
