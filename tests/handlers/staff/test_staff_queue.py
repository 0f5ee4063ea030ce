"""The review queue and the FAQ it feeds (a real assistant, store and knowledge base): the loop
through the JSON API with a bearer token, the queue page grouping, filtering and acting, the numbers
and the exports, and the stats counting what was asked."""

from __future__ import annotations

import csv
import io
import time

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.store import Store
from tests.support.staff_pages import csrf_of, log_question

pytestmark = pytest.mark.integration


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
