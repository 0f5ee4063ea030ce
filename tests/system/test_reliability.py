"""Several uvicorn workers over PostgreSQL and a Chroma server, as `applybot serve` runs in production.

A real server process (`uvicorn handlers.app:app_from_env --factory --workers 2`) on a loopback port,
a real `chroma run` and a PostgreSQL database of the test's own. Checked:

- a follow-up reaches the *other* worker than the question before it and still has its context;
- every question is logged exactly once (rows in `messages` == questions answered);
- under load (concurrency 32): no 5xx; with a worker killed by SIGKILL the other goes on and no
  answered question is missing from the database; with the Chroma server stopped answers to new
  questions go on `degraded` (a question answered before comes whole from the worker's cache), and
  come back normal when it restarts, without restarting applybot; with PostgreSQL
  refusing connections answers go on, the spool replays when it is back, and nothing is doubled.

Reduced sizes by default; `APPLYBOT_FULL_RELIABILITY=1` runs the full ones (20,000 questions).
Everything is bounded in time and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.store import Store
from tests.support.deployment import (
    AppServer,
    ask_on,
    connect_to_worker,
    cpu_seconds,
    logged_ids,
    message_counts,
    prepare_data,
    server_env,
)
from tests.support.load import CONCURRENCY, Load, load_questions, run_scenario, unseen_questions
from tests.support.paths import DATA
from tests.support.servers import ChromaServer, PgDatabase, admin_connection

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FULL = os.environ.get("APPLYBOT_FULL_RELIABILITY", "") not in ("", "0")
LOAD_QUESTIONS = 20_000 if FULL else 300
CONVERSATIONS = 200 if FULL else 12
FAULT_PHASE = 2_000 if FULL else 60  # answers wanted before, during and after each fault
FOLLOW_Q = ("社区学习中心什么时候截止？", "那联系人呢？")


def _wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


# -- fixtures --------------------------------------------------------------------------------------------


@dataclass
class Deployment:
    server: AppServer
    chroma: ChromaServer
    pg: PgDatabase
    data_dir: Path


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    embedding_cache: Path,
    seed_kb: tuple,  # type: ignore[type-arg]  # fills the embedding cache
) -> Iterator[Deployment]:
    with admin_connection():
        pass  # fails at once, with the address, when PostgreSQL is not reachable
    root = tmp_path_factory.mktemp("reliability")
    chroma = ChromaServer(root / "chroma")
    chroma.start()
    pg = PgDatabase()
    server: AppServer | None = None
    try:
        data_dir, knowledge = prepare_data(root, embedding_cache, database_url=pg.url, chroma_url=chroma.url)
        env = server_env(data_dir, knowledge, database_url=pg.url, chroma_url=chroma.url, workers=2)
        server = AppServer(env, workers=2, cwd=root, log_path=root / "server.log")
        server.start()
        assert len(server.worker_pids()) == 2, server.log_tail()
        yield Deployment(server, chroma, pg, data_dir)
        assert "Traceback" not in server.log_path.read_text(errors="replace"), server.log_tail(80)
    finally:
        if server is not None:
            server.stop()
        chroma.stop()
        pg.drop()


# -- several workers ---------------------------------------------------------------------------------


def test_a_follow_up_on_the_other_worker_keeps_its_context_and_each_question_is_logged_once(
    deployment: Deployment,
) -> None:
    server, db = deployment.server, deployment.pg.url
    before, _ = message_counts(db)
    crossed = Counter[tuple[int, int]]()
    for _ in range(CONVERSATIONS):
        conn, first_pid = connect_to_worker(server, lambda pid: True)
        with contextlib.closing(conn):
            first = ask_on(conn, FOLLOW_Q[0])
        # The follow-up goes, on a new connection, to the worker that did NOT answer the question.
        conn, second_pid = connect_to_worker(server, lambda pid, first_pid=first_pid: pid != first_pid)  # type: ignore[misc]
        with contextlib.closing(conn):
            second = ask_on(conn, FOLLOW_Q[1], first["session_id"])
        assert "2023年10月25日" in first["answer"], first["answer"]
        assert "万婷" in second["answer"], second["answer"]
        assert second["session_id"] == first["session_id"] and second["message_id"] != first["message_id"]
        crossed[(first_pid, second_pid)] += 1
    assert sum(crossed.values()) == CONVERSATIONS and all(a != b for a, b in crossed)
    # Nothing logged twice, nothing missing.
    assert message_counts(db) == (before + 2 * CONVERSATIONS, before + 2 * CONVERSATIONS)


def test_load_has_no_server_errors_and_logs_each_question_once(deployment: Deployment) -> None:
    server, db = deployment.server, deployment.pg.url
    before, _ = message_counts(db)
    load = Load(server.url, load_questions(), limit=LOAD_QUESTIONS)

    async def scenario(load: Load) -> None:
        await load.wait_answered(LOAD_QUESTIONS, timeout_s=3600 if FULL else 120)

    started = time.monotonic()
    run_scenario(load, scenario, timeout_s=4000 if FULL else 150)
    took = time.monotonic() - started
    assert load.statuses() == {200: LOAD_QUESTIONS}, load.statuses()
    answered = [o.data["message_id"] for o in load.answered() if o.data]
    assert len(set(answered)) == LOAD_QUESTIONS
    assert message_counts(db) == (before + LOAD_QUESTIONS, before + LOAD_QUESTIONS)
    assert set(answered) <= logged_ids(db)
    print(f"\n{LOAD_QUESTIONS} questions at concurrency {CONCURRENCY}: {LOAD_QUESTIONS / took:.0f}/s")


# -- faults under load -------------------------------------------------------------------------------


def test_a_worker_killed_mid_load_loses_no_logged_answer(deployment: Deployment) -> None:
    server, db = deployment.server, deployment.pg.url
    before, _ = message_counts(db)
    started_before = server.started_count()
    victim = server.worker_pids()[0]
    survivor = next(p for p in server.worker_pids() if p != victim)
    cpu_survivor: list[float] = []
    load = Load(server.url, load_questions(), limit=LOAD_QUESTIONS + 30 * FAULT_PHASE)

    async def scenario(load: Load) -> None:
        await load.wait_answered(FAULT_PHASE)
        cpu_survivor.append(cpu_seconds(survivor))
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        # The other worker goes on answering, while uvicorn starts a new one in the victim's place.
        await load.wait_answered(2 * FAULT_PHASE, since=killed_at, timeout_s=120)
        cpu_survivor.append(cpu_seconds(survivor))
        await asyncio.to_thread(server.wait_started, started_before + 1, 180)
        await load.wait_answered(FAULT_PHASE, since=time.monotonic())

    run_scenario(load, scenario, timeout_s=3600 if FULL else 240)
    assert not load.server_errors(), load.statuses()
    assert cpu_survivor[1] > cpu_survivor[0]
    assert victim not in server.worker_pids() and len(server.worker_pids()) == 2  # replaced
    failed = [o for o in load.outcomes if o.status is None]
    assert len(failed) <= CONCURRENCY, failed[:3]  # only what the killed worker had in hand
    answered = [o.data["message_id"] for o in load.answered() if o.data]
    logged = logged_ids(db)
    assert set(answered) <= logged, len(set(answered) - logged)
    rows, distinct = message_counts(db)
    assert rows == distinct
    # Rows are the answers given, plus at most those the victim logged but could not send.
    assert before + len(answered) <= rows <= before + len(answered) + len(failed)


def test_chroma_stopped_mid_load_degrades_then_recovers_without_a_restart(deployment: Deployment) -> None:
    server, chroma = deployment.server, deployment.chroma
    marks: dict[str, float] = {}
    limit = LOAD_QUESTIONS + 30 * FAULT_PHASE
    load = Load(server.url, unseen_questions(limit), limit=limit)
    asked_before = load_questions()[0]
    repeated: list[dict[str, Any]] = []

    def ask_every_worker(question: str) -> list[dict[str, Any]]:
        out = []
        for pid in server.worker_pids():
            conn, _ = connect_to_worker(server, lambda p, pid=pid: p == pid)  # type: ignore[misc]
            with contextlib.closing(conn):
                out.append(ask_on(conn, question))
        return out

    async def scenario(load: Load) -> None:
        await asyncio.to_thread(ask_every_worker, asked_before)
        await load.wait_answered(FAULT_PHASE)
        marks["stopping"] = time.monotonic()
        await asyncio.to_thread(chroma.stop)
        marks["down"] = time.monotonic()
        # A question each worker answered before the outage comes whole from its vector-result cache.
        repeated.extend(await asyncio.to_thread(ask_every_worker, asked_before))
        await load.wait_answered(FAULT_PHASE, since=marks["down"])
        marks["restart"] = time.monotonic()
        await asyncio.to_thread(chroma.start)  # same port, same data
        marks["up"] = time.monotonic()
        await load.wait_answered(2 * FAULT_PHASE, since=marks["up"])

    try:
        run_scenario(load, scenario, timeout_s=3600 if FULL else 180)
    finally:
        if chroma.process is None:
            chroma.start()
    assert load.statuses() == {200: len(load.outcomes)}, (load.statuses(), load.failures())
    before = [o for o in load.outcomes if o.ended < marks["stopping"]]
    during = [o for o in load.answered(since=marks["down"]) if o.ended < marks["restart"]]
    after = load.answered(since=marks["up"])
    assert before and not any(o.data and o.data["degraded"] for o in before)
    # A question no worker has seen is answered from lexical search alone, and says so.
    assert during and all(o.data and o.data["degraded"] for o in during)
    assert repeated and not any(r["degraded"] for r in repeated)
    degraded_after = [o for o in after if o.data and o.data["degraded"]]
    # Normal answers resume: the vector index reconnects on the next question.
    assert len(degraded_after) <= CONCURRENCY, (len(degraded_after), len(after))
    assert not any(o.data and o.data["degraded"] for o in after[-FAULT_PHASE:])
    with urllib.request.urlopen(f"{server.url}/readyz", timeout=10) as response:
        assert json.loads(response.read())["degraded"] is False


def test_postgresql_unreachable_mid_load_spools_then_replays_without_duplicates(
    deployment: Deployment,
) -> None:
    server, pg, db = deployment.server, deployment.pg, deployment.pg.url
    spool = deployment.data_dir / "spool"
    before, _ = message_counts(db)
    spooled: list[int] = []
    load = Load(server.url, load_questions(), limit=LOAD_QUESTIONS + 30 * FAULT_PHASE)

    def spool_lines() -> int:
        return sum(
            len(p.read_text(encoding="utf-8").splitlines())
            for p in (spool / "pending.jsonl", spool / "replaying.jsonl")
            if p.exists()
        )

    async def scenario(load: Load) -> None:
        await load.wait_answered(FAULT_PHASE)
        await asyncio.to_thread(pg.refuse_connections)
        down = time.monotonic()
        await load.wait_answered(2 * FAULT_PHASE, since=down)
        spooled.append(spool_lines())
        await asyncio.to_thread(pg.accept_connections)
        await load.wait_answered(FAULT_PHASE, since=time.monotonic())

    try:
        run_scenario(load, scenario, timeout_s=3600 if FULL else 180)
    finally:
        pg.accept_connections()
    assert load.statuses() == {200: len(load.outcomes)}, (load.statuses(), load.failures())
    assert spooled and spooled[0] >= 2 * FAULT_PHASE  # the outage's answers went to the spool
    answered = {o.data["message_id"] for o in load.answered() if o.data}
    assert len(answered) == len(load.outcomes)
    # The spool drains in the background; then every answer is in the database exactly once.
    _wait_until(lambda: spool_lines() == 0, 120, "the spool to drain")
    _wait_until(lambda: message_counts(db)[0] >= before + len(answered), 60, "the replayed rows")
    assert message_counts(db) == (before + len(answered), before + len(answered))
    assert answered <= logged_ids(db)
    assert not (spool / "rejected.jsonl").exists()


# -- a notice published on one worker ---------------------------------------------------------------

NEW_NOTICE = DATA / "notices" / "university-research-projects-2026.md"
NEW_QUESTION, NEW_FACT = "交叉学科培育项目找谁咨询？", "赵明远"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def test_a_notice_published_on_one_worker_is_answered_by_the_others(deployment: Deployment) -> None:
    server, db = deployment.server, deployment.pg.url
    store = Store(db, data_dir=deployment.data_dir / "staff-setup")
    try:
        store.add_user("publisher", "publisher-password-1")
    finally:
        store.close()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    with httpx.Client(base_url=server.url, limits=limits, timeout=60) as staff:
        page = staff.get("/staff/login")
        stream = page.extensions["network_stream"]
        publisher = server.worker_of(stream.get_extra_info("client_addr")[1])
        assert publisher is not None
        login = staff.post(
            "/staff/login",
            data={"name": "publisher", "password": "publisher-password-1", "csrf_token": _csrf(page.text)},
        )
        assert login.status_code == 303, login.text[:500]
        csrf = _csrf(staff.get("/staff/knowledge").text)
        preview = staff.post(
            "/staff/knowledge/upload",
            data={"csrf_token": csrf},
            files={"file": (NEW_NOTICE.name, NEW_NOTICE.read_bytes(), "text/markdown")},
        )
        assert preview.status_code == 200, preview.text[:500]
        upload_id = re.search(r'name="upload_id" value="([^"]+)"', preview.text)
        assert upload_id, preview.text[:500]
        published = staff.post(
            "/staff/knowledge/publish", data={"csrf_token": csrf, "upload_id": upload_id.group(1)}
        )
        assert published.status_code == 303, published.text[:500]
        # The publishing worker answers from the new notice at once ...
        answer = staff.post("/api/ask", json={"question": NEW_QUESTION}).json()
        assert server.worker_of(stream.get_extra_info("client_addr")[1]) == publisher
        assert NEW_FACT in answer["answer"], answer["answer"]
    # ... and so should the other worker, a little later (it shares the index, the store, the database).
    deadline = time.monotonic() + 15  # FaqRefresher looks every 10 s
    while True:
        conn, pid = connect_to_worker(server, lambda pid: pid != publisher)
        with contextlib.closing(conn):
            other = ask_on(conn, NEW_QUESTION)
        if NEW_FACT in other["answer"] or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert NEW_FACT in other["answer"], other["answer"]
