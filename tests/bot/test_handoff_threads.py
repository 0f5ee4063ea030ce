"""Handoff threads in the database and the conversation service's handoff calls, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.conversation import ConversationService
from bot.store import Store
from common.errors import HandoffClosedError, HandoffNotFoundError, InvalidQueryError

pytestmark = pytest.mark.integration


def service(store: Store, assistant: Any) -> ConversationService:
    return ConversationService(assistant, store)


def test_a_thread_goes_open_claimed_closed_with_every_message_kept(
    backend: Callable[..., Store], assistant: Any
) -> None:
    store = backend()
    conversation = service(store, assistant)
    started = conversation.handoff(session_id="web-1", channel="web", note="能否延期提交？")
    assert started.created and started.token and started.thread is not None
    handoff_id = started.thread["handoff_id"]
    assert started.thread["status"] == "open"

    again = conversation.handoff(session_id="web-1", channel="web", note="再问一次")
    assert not again.created and again.thread["handoff_id"] == handoff_id  # one live thread per session
    with pytest.raises(HandoffNotFoundError):
        conversation.applicant_thread(handoff_id, started.token or "")  # the newer token replaced it
    assert conversation.applicant_thread(handoff_id, again.token or "")["handoff_id"] == handoff_id
    with pytest.raises(HandoffNotFoundError):
        conversation.applicant_thread(handoff_id, "guessed")

    conversation.applicant_message(handoff_id, "我是某某学院的", author="申请人")
    reply = conversation.staff_reply(handoff_id, "可以，请在周五前提交。", staff="alice", via="staff page")
    thread = conversation.thread(handoff_id)
    assert thread["status"] == "claimed" and thread["claimed_by"] == "alice"
    assert [m["role"] for m in thread["replies"]] == ["applicant", "staff"]
    assert thread["replies"][-1]["id"] == reply["id"]

    closed, changed = conversation.close(handoff_id, by="alice", role="staff", via="staff page")
    assert changed and closed["status"] == "closed" and closed["replies"][-1]["role"] == "system"
    assert not conversation.close(handoff_id, by="申请人", role="applicant", via="web")[1]
    with pytest.raises(HandoffClosedError):
        conversation.applicant_message(handoff_id, "还在吗？", author="申请人")
    with pytest.raises(HandoffClosedError):
        conversation.staff_reply(handoff_id, "晚了", staff="alice", via="staff page")
    assert conversation.live_thread("web-1") is None
    assert conversation.handoff(session_id="web-1", channel="web", note=None).created  # a new thread

    actions = [(e["actor"], e["action"]) for e in store.audit_entries()]
    assert ("alice", "handoff_reply") in actions and ("alice", "handoff_close") in actions


def test_empty_and_huge_thread_messages_are_refused(backend: Callable[..., Store], assistant: Any) -> None:
    conversation = service(backend(), assistant)
    handoff_id = conversation.handoff(session_id="web-2", channel="web", note=None).thread["handoff_id"]
    for text in ("", "   ", "长" * 2001):
        with pytest.raises(InvalidQueryError):
            conversation.applicant_message(handoff_id, text, author="申请人")
    assert conversation.thread(handoff_id)["replies"] == []


def test_each_pending_delivery_is_claimed_by_one_sender_only(
    backend: Callable[..., Store], assistant: Any
) -> None:
    one, two = backend(), backend()  # two workers on one database
    conversation = service(one, assistant)
    tg = conversation.handoff(session_id="tg-42", channel="telegram", note="问题", applicant="Alice")
    web = conversation.handoff(session_id="web-3", channel="web", note="问题")
    conversation.staff_reply(tg.thread["handoff_id"], "您好", staff="alice", via="staff page")
    conversation.applicant_message(web.thread["handoff_id"], "在吗", author="申请人")

    to_applicants = two.pending_deliveries(roles=("staff", "system"), channels=("telegram",))
    assert [m["text"] for m in to_applicants] == ["您好"]
    assert to_applicants[0]["thread"]["session_id"] == "tg-42"
    assert two.claim_delivery(to_applicants[0]["id"]) and not one.claim_delivery(to_applicants[0]["id"])
    assert two.pending_deliveries(roles=("staff", "system"), channels=("telegram",)) == []
    two.release_delivery(to_applicants[0]["id"])  # sending failed: it comes back
    assert len(one.pending_deliveries(roles=("staff",), channels=("telegram",))) == 1

    to_staff = one.pending_deliveries(roles=("applicant",), channels=("web",))
    assert [m["text"] for m in to_staff] == ["在吗"]

    announced = [h["handoff_id"] for h in two.unannounced_handoffs()]
    assert announced == [tg.thread["handoff_id"], web.thread["handoff_id"]]
    assert one.claim_announcement(announced[0]) and not two.claim_announcement(announced[0])
    one.link_staff_message(-100, 7, announced[0])
    one.link_staff_message(-100, 9, announced[0])
    assert two.handoff_for_staff_message(-100, 9) == announced[0]
    assert two.handoff_for_staff_message(-100, 8) is None
    assert two.first_staff_message(announced[0], -100) == 7


def test_staff_see_live_threads_longest_waiting_first(backend: Callable[..., Store], assistant: Any) -> None:
    store = backend()
    conversation = service(store, assistant)
    ids = [
        conversation.handoff(session_id=f"web-{i}", channel="web", note=f"问题{i}").thread["handoff_id"]
        for i in range(3)
    ]
    conversation.close(ids[0], by="alice", role="staff", via="staff page")
    assert [t["handoff_id"] for t in store.handoff_threads()] == ids[1:]
    assert [t["handoff_id"] for t in store.handoff_threads(status=None)] == [*ids[1:], ids[0]]
    assert store.live_handoff_count() == 2


def test_a_handoff_opened_on_one_worker_is_answered_through_another(
    backend: Callable[..., Store], seed_kb: Any, assistant: Any
) -> None:
    from fastapi.testclient import TestClient

    from handlers.app import create_app
    from tests.support.staff_pages import PASSWORD, csrf_of, login

    settings = seed_kb[0]
    one, two = backend(), backend()
    one.migrate()
    one.add_user("alice", PASSWORD)
    widget_worker = create_app(settings, assistant=assistant, store=one)
    staff_worker = create_app(settings, assistant=assistant, store=two)
    with (
        TestClient(widget_worker) as widget,
        TestClient(staff_worker, follow_redirects=False) as staff,
    ):
        started = widget.post("/api/handoff", json={"session_id": "web-two", "channel": "web", "note": "急"})
        handoff_id, token = started.json()["handoff_id"], started.json()["thread_token"]
        assert login(staff, "alice", PASSWORD).status_code == 303
        assert "急" in staff.get("/staff/handoffs").text
        replied = staff.post(
            f"/staff/handoffs/{handoff_id}/reply", data={"csrf_token": csrf_of(staff), "text": "收到。"}
        )
        assert replied.status_code == 303
        thread = widget.get(f"/api/handoff/{handoff_id}", params={"token": token}).json()
        assert [(m["role"], m["text"]) for m in thread["messages"]] == [("staff", "收到。")]
        widget.post(f"/api/handoff/{handoff_id}/messages", json={"token": token, "text": "谢谢"})
        live = staff.get(f"/staff/api/handoffs/{handoff_id}/messages").json()
        assert [m["text"] for m in live["messages"]] == ["收到。", "谢谢"]
