"""Asking the HTTP API (a real assistant over the shipped notice): an answer with verbatim
citations, journaled once; follow-ups within a session; the streamed answer; many questions at once,
at most `answer_threads` of them answered at a time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.store import Store
from common.settings import Settings
from handlers.app import create_app
from tests.support.api_client import DEADLINE_Q, ask

pytestmark = pytest.mark.integration


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
