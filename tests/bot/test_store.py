"""The store on SQLite and PostgreSQL: answers, feedback and handoffs recorded once, review queries,
FAQ entries, users, tokens, staff sessions and the audit log, session context shared by two assistants
(or kept in memory while the database is away), and a published FAQ answer flowing back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.assistant import Assistant
from bot.clock import FixedClock
from bot.faq import FAQ_DOC_ID, FaqRefresher, edit_faq, faq_index_extra, publish_faq
from bot.services import Retrieval
from bot.store import DbSessionStore, DbUnansweredLog, Store, open_store
from common.settings import Settings
from tests.support.factories import TODAY, answer_dict
from tests.support.paths import SEED

pytestmark = pytest.mark.integration


def test_answers_feedback_and_handoffs_are_recorded_once(store: Store) -> None:
    data = answer_dict("m1")
    # The unanswered log and the journal both describe the same message, in this order.
    store.record_unanswered(question="评审专家有哪些？", session_id="s1", answer=data, reason="no_answer")
    store.log_answer(channel="web", question="评审专家有哪些？", answer=data, latency_ms=12.5)
    store.log_answer(channel="web", question="评审专家有哪些？", answer=data, latency_ms=12.5)
    store.feedback(session_id="s1", message_id="m1", rating="up", comment=None)
    time.sleep(0.01)
    store.feedback(session_id="s1", message_id="m1", rating="down", comment="没有回答")
    handoff = store.handoff(session_id="s1", channel="web", note="请联系我")

    messages = store.messages()
    assert len(messages) == 1
    assert messages[0]["question"] == "评审专家有哪些？" and messages[0]["channel"] == "web"
    assert messages[0]["latency_ms"] == 12.5 and messages[0]["message_id"] == "m1"
    assert messages[0]["citations"][0]["quote"] == "q"  # the whole answer contract is kept
    assert [(f["rating"], f["comment"]) for f in store.feedbacks()] == [("down", "没有回答")]
    assert [h["handoff_id"] for h in store.handoffs()] == [handoff["handoff_id"]]
    item = store.review_items()[0]
    assert item["reason"] == "no_answer" and item["escalated"] and item["channel"] == "web"
    assert item["feedback"][0]["rating"] == "down" and item["handoffs"][0]["note"] == "请联系我"
    assert len(store.spool) == 0

    stats = store.stats()
    assert {k: stats[k] for k in ("questions", "answered", "escalated", "feedback_up", "feedback_down")} == {
        "questions": 1,
        "answered": 0,
        "escalated": 1,
        "feedback_up": 0,
        "feedback_down": 1,
    }
    assert sum(d["questions"] for d in stats["per_day"]) == 1


def test_review_items_filter_by_status_channel_intent_task_and_date(store: Store) -> None:
    store.log_answer(channel="web", question="a", answer=answer_dict("m1", intent="money"), latency_ms=1)
    store.log_answer(channel="telegram", question="b", answer=answer_dict("m2", task="任务甲"), latency_ms=1)
    store.log_answer(
        channel="api", question="c", answer=answer_dict("m3", escalated=False, confidence=0.9), latency_ms=1
    )
    store.log_answer(
        channel="api", question="d", answer=answer_dict("m4", escalated=False, confidence=0.2), latency_ms=1
    )
    store.log_answer(
        channel="api", question="e", answer=answer_dict("m5", escalated=False, confidence=0.95), latency_ms=1
    )
    store.feedback(session_id="s1", message_id="m5", rating="down", comment=None)

    def ids(**filters: Any) -> set[str]:
        return {i["message_id"] for i in store.review_items(**filters)}

    # Escalated, low-confidence and thumbs-down answers need a look; a confident good one does not.
    assert ids() == {"m1", "m2", "m4", "m5"}
    assert ids(channel="telegram") == {"m2"}
    assert ids(intent="money") == {"m1"}
    assert ids(task="任务甲") == {"m2"}
    assert ids(since=TODAY.replace(year=2000), until=TODAY.replace(year=2001)) == set()
    assert store.set_review_status(["m1", "m2"], "resolved", actor="alice") == 2
    assert ids() == {"m4", "m5"}
    assert ids(status="resolved") == {"m1", "m2"}
    assert store.facets()["channels"] == ["api", "telegram", "web"]


def test_faq_entries_users_tokens_sessions_and_audit(store: Store) -> None:
    stamp = store.faq_stamp()
    item = store.add_faq(
        questions=["要盖章吗？", "要盖章吗？", " 需要公章吗 "], answer="要。", source=None, author="a"
    )
    assert item["questions"] == ["要盖章吗？", "需要公章吗"] and item["status"] == "active"
    assert store.faq_stamp() != stamp
    store.update_faq(item["id"], status="retired", author="b")
    assert store.faq_entries() == [] and store.faq_entries(status=None)[0]["author"] == "b"
    with pytest.raises(ValueError):
        store.add_faq(questions=[" "], answer="x", source=None, author="a")

    store.add_user("alice", "correct horse battery")
    assert store.verify_user("alice", "correct horse battery") == "alice"
    assert store.verify_user("alice", "wrong password") is None
    assert store.verify_user("nobody", "correct horse battery") is None
    with store.session() as session:
        stored = session.execute(text("SELECT password_hash FROM staff_users")).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored

    token = store.issue_token("alice", label="ci")
    assert store.verify_token(token) == "alice"
    assert store.verify_token(token + "x") is None and store.verify_token("abt_nope_nope") is None
    with store.session() as session:
        hashes = session.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert token.split("_", 2)[2] not in hashes  # only the hash is kept
    assert store.revoke_token(token.split("_")[1]) and store.verify_token(token) is None

    cookie, csrf = store.start_staff_session("alice")
    assert store.staff_session(cookie) == ("alice", csrf)
    store.end_staff_session(cookie)
    assert store.staff_session(cookie) is None

    store.audit("alice", "faq_retire", "faq 1", reason="wrong")
    assert store.audit_entries()[0]["detail"] == {"reason": "wrong"}

    store.put_context("idle", {"task": "任务甲", "turns": [["问", "答"]]})
    assert store.get_context("idle", ttl_s=60) == {"task": "任务甲", "turns": [["问", "答"]]}
    assert store.get_context("idle", ttl_s=0) is None  # past its time to live
    assert store.forget_contexts(older_than_s=0) == 1


def test_two_assistants_share_follow_up_context_through_the_database(
    backend: Callable[..., Store], seed_retrieval: Retrieval
) -> None:
    worker_a, worker_b = backend(), backend()  # two processes' stores over one database

    def assistant(store: Store) -> Assistant:
        return Assistant(
            index=seed_retrieval.index,
            clock=FixedClock(TODAY),
            sessions=DbSessionStore(store),
            unanswered=DbUnansweredLog(store),
        )

    first = assistant(worker_a).ask("社区学习中心什么时候截止？")
    follow = assistant(worker_b).ask("那联系人呢？", session_id=first.session_id)
    assert follow.task == "推进县域社区学习中心建设" and "027-87588886" in follow.answer
    fresh = assistant(worker_b).ask("那联系人呢？")
    assert "027-87588886" not in fresh.answer

    escalated = assistant(worker_b).ask("这个项目的评审专家有哪些？")
    assert escalated.escalated
    item = next(i for i in worker_a.review_items() if i["message_id"] == escalated.message_id)
    assert item["reason"] and item["question"] == "这个项目的评审专家有哪些？"


def test_session_context_falls_back_to_memory_when_the_database_is_away(tmp_path: Path) -> None:
    db_dir = tmp_path / "db"
    store = Store(f"sqlite:///{db_dir / 'a.sqlite3'}", data_dir=tmp_path)
    sessions = DbSessionStore(store)
    try:
        db_dir.rename(tmp_path / "away")
        context = sessions.get("s")
        context.task = "任务甲"
        sessions.put("s", context)
        assert sessions.get("s").task == "任务甲"
    finally:
        store.close()


def test_a_published_faq_answers_the_escalated_question_and_its_paraphrase(
    build_kb: Callable[..., tuple[Settings, Retrieval]], tmp_path: Path
) -> None:
    settings, retrieval = build_kb([SEED], "store-faq")
    store = open_store(settings)
    assistant = Assistant(
        index=retrieval.index,
        clock=FixedClock(TODAY),
        sessions=DbSessionStore(store),
        unanswered=DbUnansweredLog(store),
    )
    try:
        question = "这个项目的评审专家有哪些？"
        before = assistant.ask(question)
        assert before.escalated

        staff_answer = "评审专家由省教育厅从专家库中随机抽取，名单不对外公布。"
        item = publish_faq(
            store,
            retrieval.index,
            assistant,
            [question],
            staff_answer,
            "2026年11月工作例会",
            "alice",
            resolves=[before.message_id],
        )
        assert FAQ_DOC_ID in faq_index_extra(store)
        for asked in (question, "能告诉我评审专家名单吗？"):
            after = assistant.ask(asked)
            assert not after.escalated, asked
            assert after.answer == staff_answer
            assert after.citations[0].kind == "faq" and after.citations[0].quote == staff_answer
            assert after.citations[0].section == "2026年11月工作例会"
        assert all(i["message_id"] != before.message_id for i in store.review_items())

        edit_faq(store, retrieval.index, assistant, item["id"], author="bob", status="retired")
        assert assistant.ask(question).escalated  # a retired answer is no longer given

        # Another worker restores it: this worker's refresher notices the change and re-indexes.
        refresher = FaqRefresher(store, retrieval.index, assistant, interval_s=3600)
        refresher.mark_synced()
        assert not refresher.maybe_refresh(force=True)
        store.update_faq(item["id"], status="active", author="carol")
        assert not refresher.maybe_refresh()  # not yet time to look
        assert refresher.maybe_refresh(force=True)
        assert assistant.ask(question).answer == staff_answer
    finally:
        store.close()
