"""The store on SQLite and PostgreSQL: records, merges, review queries, users and tokens, the spool
that keeps logging when the database is away, shared session context, FAQ flowing back, migrations."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import OperationalError

import bot.notice_review  # noqa: F401  (their tables are part of the schema the migrations build)
import bot.reminders  # noqa: F401
from bot.assistant import Assistant
from bot.clock import FixedClock
from bot.faq import FAQ_DOC_ID, FaqRefresher, edit_faq, faq_index_extra, publish_faq
from bot.services import Retrieval
from bot.store import (
    Base,
    DbSessionStore,
    DbUnansweredLog,
    Spool,
    Store,
    alembic_config,
    database_url,
    downgrade,
    make_engine,
    open_store,
    upgrade,
)
from common.errors import ConfigurationError
from common.settings import Settings
from tests.support.factories import TODAY
from tests.support.paths import ROOT, SEED
from tests.support.servers import PgDatabase

pytestmark = pytest.mark.integration

TABLES = {
    "reminders",
    "notice_decisions",
    "reminder_sends",
    "conversations",
    "messages",
    "feedback",
    "handoffs",
    "handoff_replies",
    "faq_entries",
    "staff_users",
    "api_tokens",
    "staff_sessions",
    "audit_log",
    "session_contexts",
}


# -- databases -------------------------------------------------------------------------------------------


@pytest.fixture()
def store(backend: Callable[..., Store]) -> Store:
    return backend()


@pytest.fixture()
def pg_backend(tmp_path: Path) -> Iterator[tuple[PgDatabase, Callable[..., Store]]]:
    """A PostgreSQL database of its own, and a function opening stores over it."""
    pg = PgDatabase()
    opened: list[Store] = []

    def open_one(**kwargs: Any) -> Store:
        store = Store(pg.url, data_dir=tmp_path / "data", **kwargs)
        opened.append(store)
        return store

    yield pg, open_one
    for store in opened:
        store.close()
    pg.drop()


def answer(message_id: str, session_id: str = "s1", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "answer": "通知中没有找到这个问题的答案。",
        "citations": [{"doc_id": "d", "title": "t", "section": "s", "quote": "q", "kind": "chunk"}],
        "escalated": True,
        "contacts": [],
        "confidence": 0.0,
        "intent": "general",
        "task": None,
        "session_id": session_id,
        "message_id": message_id,
        "language": "zh-Hans",
        "degraded": False,
    }
    data.update(overrides)
    return data


# -- records -----------------------------------------------------------------------------------------------


def test_answers_feedback_and_handoffs_are_recorded_once(store: Store) -> None:
    data = answer("m1")
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
    store.log_answer(channel="web", question="a", answer=answer("m1", intent="money"), latency_ms=1)
    store.log_answer(channel="telegram", question="b", answer=answer("m2", task="任务甲"), latency_ms=1)
    store.log_answer(
        channel="api", question="c", answer=answer("m3", escalated=False, confidence=0.9), latency_ms=1
    )
    store.log_answer(
        channel="api", question="d", answer=answer("m4", escalated=False, confidence=0.2), latency_ms=1
    )
    store.log_answer(
        channel="api", question="e", answer=answer("m5", escalated=False, confidence=0.95), latency_ms=1
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


# -- logging survives an unreachable database ------------------------------------------------------------


def _log_burst(store: Store, prefix: str) -> None:
    for i in range(3):
        data = answer(f"{prefix}{i}", session_id=f"{prefix}-session")
        store.record_unanswered(
            question=f"问题{i}", session_id=data["session_id"], answer=data, reason="no_answer"
        )
        store.log_answer(channel="web", question=f"问题{i}", answer=data, latency_ms=5)
    store.feedback(session_id=f"{prefix}-session", message_id=f"{prefix}0", rating="down", comment="x")
    store.handoff(session_id=f"{prefix}-session", channel="web", note="找人")


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_database_other_than_postgresql_or_sqlite_is_refused_at_start() -> None:
    with pytest.raises(ConfigurationError, match="use PostgreSQL or SQLite"):
        make_engine("mysql://root@127.0.0.1/test")


def test_logging_spools_while_sqlite_is_unreachable_and_replays_without_duplicates(tmp_path: Path) -> None:
    db_dir = tmp_path / "db"
    store = Store(f"sqlite:///{db_dir / 'applybot.sqlite3'}", data_dir=tmp_path / "data", retry_after_s=0.3)
    try:
        store.log_answer(channel="web", question="先前的问题", answer=answer("before"), latency_ms=1)
        db_dir.rename(tmp_path / "db-away")  # the database file is gone from where the store looks

        started = time.perf_counter()
        _log_burst(store, "down")
        assert time.perf_counter() - started < 2.0  # logging never holds up an answer
        spooled = store.spool.items()
        assert len(spooled) == 8 and {i["op"] for i in spooled} == {
            "answer",
            "unanswered",
            "feedback",
            "handoff",
        }
        assert (tmp_path / "data" / "spool" / "pending.jsonl").exists()

        (tmp_path / "db-away").rename(db_dir)
        # The background replayer notices the database is back, without another write.
        _wait_for(lambda: len(store.spool) == 0)
        _assert_burst_recorded(store, "down", extra=1)

        # A replay that runs again (say after a crash before the spool was cleared) adds nothing.
        _wait_for(lambda: store._replayer is None)  # the background replayer has finished its loop
        for item in spooled:
            store.spool.append(item)
        assert store.replay_spool() == 8
        _assert_burst_recorded(store, "down", extra=1)
    finally:
        store.close()


def test_connections_closed_by_a_postgresql_restart_are_replaced_without_spooling(
    pg_backend: tuple[PgDatabase, Callable[..., Store]],
) -> None:
    pg, open_store_on_pg = pg_backend
    store = open_store_on_pg()
    store.put_context("s1", {"task": "甲"})
    store.log_answer(channel="web", question="先前的问题", answer=answer("before"), latency_ms=1)
    pg.refuse_connections()  # ends every server process of this database: the pool's connections die
    pg.accept_connections()

    assert store.get_context("s1", ttl_s=60) == {"task": "甲"}
    store.put_context("s1", {"task": "乙"})
    store.log_answer(channel="web", question="之后的问题", answer=answer("after"), latency_ms=1)
    assert store.ping()
    assert len(store.spool) == 0
    assert sorted(m["message_id"] for m in store.messages()) == ["after", "before"]
    assert store.get_context("s1", ttl_s=60) == {"task": "乙"}


def test_logging_spools_while_postgresql_refuses_connections_and_replays(
    pg_backend: tuple[PgDatabase, Callable[..., Store]],
) -> None:
    pg, open_store_on_pg = pg_backend
    store = open_store_on_pg(retry_after_s=0.3)
    store.log_answer(channel="web", question="先前的问题", answer=answer("before"), latency_ms=1)
    pg.refuse_connections()
    try:
        started = time.perf_counter()
        _log_burst(store, "down")
        assert time.perf_counter() - started < 5.0
        assert len(store.spool) == 8
        assert store.replay_spool() == 0  # still down: nothing applied, nothing lost
        assert len(store.spool) == 8
    finally:
        pg.accept_connections()
    _wait_for(lambda: len(store.spool) == 0)
    _assert_burst_recorded(store, "down", extra=1)
    # Another worker sharing the spool directory replays a record that already landed: no duplicate.
    _wait_for(lambda: store._replayer is None)  # the first store's replayer is done with the spool
    other = open_store_on_pg(retry_after_s=0.3)
    payload = {
        "at": "2026-01-01T00:00:00+00:00",
        "channel": "web",
        "question": "问题0",
        "latency_ms": 5,
        "answer": answer("down0", session_id="down-session"),
    }
    other.spool.append({"op": "answer", "payload": payload})
    assert other.replay_spool() == 1
    _assert_burst_recorded(store, "down", extra=1)


def _assert_burst_recorded(store: Store, prefix: str, *, extra: int) -> None:
    messages = store.messages()
    burst = [m for m in messages if m["message_id"].startswith(prefix)]
    assert sorted(m["message_id"] for m in burst) == [f"{prefix}{i}" for i in range(3)]
    assert len(messages) == 3 + extra
    assert all(m["channel"] == "web" and m["latency_ms"] == 5 for m in burst)
    items = {i["message_id"]: i for i in store.review_items()}
    assert items[f"{prefix}0"]["reason"] == "no_answer"
    assert [f["rating"] for f in store.feedbacks()] == ["down"]
    assert len(store.handoffs()) == 1


def test_a_replay_stopped_halfway_keeps_the_rest_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    for i in range(5):
        spool.append({"op": "answer", "payload": {"n": i}})
    seen: list[int] = []
    down_after = 2

    def apply(item: dict[str, Any]) -> None:
        if len(seen) == down_after:
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        seen.append(item["payload"]["n"])

    with pytest.raises(OperationalError):
        spool.replay(apply)
    spool.append({"op": "answer", "payload": {"n": 5}})  # written while the database was still away
    assert [i["payload"]["n"] for i in spool.items()] == [2, 3, 4, 5]
    down_after = 99
    assert spool.replay(apply) == 4
    assert seen == [0, 1, 2, 3, 4, 5] and len(spool) == 0


def test_a_record_the_database_refuses_is_set_aside_not_retried(store: Store) -> None:
    store.log_answer(channel="web", question="x", answer=answer(""), latency_ms=1)  # no message id
    assert store.messages() == [] and len(store.spool) == 0
    assert store.spool.rejected.exists()


# -- the assistant's protocols ---------------------------------------------------------------------------


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


# -- FAQ flowing back ---------------------------------------------------------------------------------------


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


# -- migrations -------------------------------------------------------------------------------------------


def test_migrations_build_the_models_schema_and_go_down_and_up(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == head
        assert compare_metadata(context, Base.metadata) == []  # the migrations match the models
    assert set(inspect(store.engine).get_table_names()) >= TABLES

    store.migrate()  # idempotent
    downgrade(store.engine, "base")
    assert set(inspect(store.engine).get_table_names()) - {"alembic_version"} == set()
    upgrade(store.engine)
    assert set(inspect(store.engine).get_table_names()) >= TABLES


def test_concurrent_workers_migrate_a_fresh_database_once(backend: Callable[..., Store]) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            backend()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_alembic_ini_runs_the_same_migrations_from_the_command_line(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    engine = create_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_the_default_database_is_sqlite_in_wal_mode_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, knowledge_dir=tmp_path)
    assert database_url(settings) == f"sqlite:///{(tmp_path / 'applybot.sqlite3').resolve()}"
    store = open_store(settings)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert (tmp_path / "applybot.sqlite3").exists()
    finally:
        store.close()
