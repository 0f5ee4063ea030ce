"""Running the API: health and readiness (an empty index, a failing search), the Prometheus
metrics of each app, the OpenAPI document, the demo page and the widget script."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.store import Store
from common.settings import Settings
from handlers.app import create_app
from tests.support.api_client import DEADLINE_Q, api_settings, ask

pytestmark = pytest.mark.integration


def metric(client: TestClient, name: str, **labels: str) -> float:
    """The sum of the samples in /metrics with this name and these labels (0 when absent)."""
    text = client.get("/metrics").text
    return sum(
        float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["documents"] == 1


def test_readiness_fails_on_an_empty_index(tmp_path: Path) -> None:
    settings = api_settings(tmp_path / "empty")
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
