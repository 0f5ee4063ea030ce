"""Logging survives a database that is away: answers, feedback and handoffs go to a spool while
SQLite or PostgreSQL is unreachable and are replayed when it is back, without duplicates (also when
two workers share the spool or a replay stops halfway); a record the database refuses is set aside."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.store import Spool, Store
from tests.support.factories import answer_dict
from tests.support.servers import PgDatabase

pytestmark = pytest.mark.integration


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


def _log_burst(store: Store, prefix: str) -> None:
    for i in range(3):
        data = answer_dict(f"{prefix}{i}", session_id=f"{prefix}-session")
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


def test_logging_spools_while_sqlite_is_unreachable_and_replays_without_duplicates(tmp_path: Path) -> None:
    db_dir = tmp_path / "db"
    store = Store(f"sqlite:///{db_dir / 'applybot.sqlite3'}", data_dir=tmp_path / "data", retry_after_s=0.3)
    try:
        store.log_answer(channel="web", question="先前的问题", answer=answer_dict("before"), latency_ms=1)
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
    store.log_answer(channel="web", question="先前的问题", answer=answer_dict("before"), latency_ms=1)
    pg.refuse_connections()  # ends every server process of this database: the pool's connections die
    pg.accept_connections()

    assert store.get_context("s1", ttl_s=60) == {"task": "甲"}
    store.put_context("s1", {"task": "乙"})
    store.log_answer(channel="web", question="之后的问题", answer=answer_dict("after"), latency_ms=1)
    assert store.ping()
    assert len(store.spool) == 0
    assert sorted(m["message_id"] for m in store.messages()) == ["after", "before"]
    assert store.get_context("s1", ttl_s=60) == {"task": "乙"}


def test_logging_spools_while_postgresql_refuses_connections_and_replays(
    pg_backend: tuple[PgDatabase, Callable[..., Store]],
) -> None:
    pg, open_store_on_pg = pg_backend
    store = open_store_on_pg(retry_after_s=0.3)
    store.log_answer(channel="web", question="先前的问题", answer=answer_dict("before"), latency_ms=1)
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
        "answer": answer_dict("down0", session_id="down-session"),
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
    store.log_answer(channel="web", question="x", answer=answer_dict(""), latency_ms=1)  # no message id
    assert store.messages() == [] and len(store.spool) == 0
    assert store.spool.rejected.exists()
