"""Handoff threads on the staff pages: staff claim a thread, reply and close it; the count of live
threads shows beside 人工对话 on every page (a real assistant, store and knowledge base)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.conversation import ConversationService
from bot.store import Store
from tests.support.staff_pages import csrf_of, log_question

pytestmark = pytest.mark.integration


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
