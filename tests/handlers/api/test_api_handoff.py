"""Feedback and handoff through the HTTP API: a rating recorded, a handoff that answers with the
contacts, and the web thread with staff, read, written and streamed with its token only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.store import Store
from tests.support.api_client import DEADLINE_Q, ask

pytestmark = pytest.mark.integration


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
