"""The HTTP API's limits and bad input: empty, long and huge questions, malformed bodies, odd text,
markup, an unexpected failure (a JSON 500), the per-client rate limit and CORS."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.store import Store
from common.settings import Settings
from handlers.api import RateLimiter
from handlers.app import create_app
from tests.support.api_client import DEADLINE_Q, ask

pytestmark = pytest.mark.integration


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
