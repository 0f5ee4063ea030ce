"""Notices over time on the staff pages: statuses and relations shown, confirmed, rejected, added;
a notice retired and restored; two versions compared; an upload's relations previewed. Every decision
changes the answers at once (real assistant, store and knowledge base)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.notice_review import NoticeDecisions
from bot.services import Retrieval
from bot.store import Store, open_store
from common.settings import Settings
from handlers.staff import staff_router
from tests.support.factories import assistant_over_store
from tests.support.paths import DATA, SEED

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
AMENDMENTS = sorted((DATA / "amendments").glob("*.txt"))


@pytest.fixture(scope="module")
def kb(build_kb: Callable[..., tuple[Settings, Retrieval]]) -> tuple[Settings, Retrieval]:
    return build_kb([*AMENDMENTS, SEED], "staff-notices")


@pytest.fixture(scope="module")
def store(kb: tuple[Settings, Retrieval]) -> Iterator[Store]:
    store = open_store(kb[0])
    store.add_user("alice", PASSWORD)
    yield store
    store.close()


@pytest.fixture(scope="module")
def assistant(kb: tuple[Settings, Retrieval], store: Store) -> Assistant:
    return assistant_over_store(kb[1].index, store, decisions=NoticeDecisions(store.sessions).current)


@pytest.fixture()
def staff(kb: tuple[Settings, Retrieval], store: Store, assistant: Assistant) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(staff_router(kb[0], store=store, assistant=assistant))
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/staff/login")
        token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
        login = client.post("/staff/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token})
        assert login.status_code == 303
        yield client


def csrf(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', client.get("/staff/knowledge").text).group(1)  # type: ignore[union-attr]


def doc_id(assistant: Assistant, stem: str) -> str:
    return next(d.doc_id for d in assistant.index.store.documents() if d.path.startswith(stem))


def decide(client: TestClient, **form: str) -> Any:
    response = client.post("/staff/knowledge/relation", data={"csrf_token": csrf(client), **form})
    assert response.status_code == 303, response.text
    return response


def test_the_knowledge_page_shows_statuses_and_relations(staff: TestClient) -> None:
    page = staff.get("/staff/knowledge").text
    statuses = dict((t, s) for s, t in re.findall(r'class="status-(\w+)">\s*<td>([^<]*)</td>', page))
    assert statuses["关于举办2025年校园节能创意设计大赛的通知"] == "superseded"
    assert statuses["关于开展青年教师教学午餐会系列活动的通知"] == "revoked"
    assert statuses["省教育厅关于积极承接学习型社会建设重点任务的通知"] == "amended"
    assert statuses["关于举办2026年校园节能创意设计大赛的通知"] == "amended"
    assert "2023年10月7日 → <strong>2023年10月15日</strong>" in page
    assert page.count('<span class="pill">延期</span>') == 1 and "更正" in page and "下一轮" in page


def test_staff_decisions_change_the_answers(staff: TestClient, assistant: Assistant) -> None:
    seed, postponement = doc_id(assistant, SEED.name), doc_id(assistant, "seed-postponement")
    question = "推进学历继续教育教学改革创新什么时候截止？"
    assert "2023年10月15日" in assistant.ask(question).answer.splitlines()[0]

    decide(staff, source=postponement, target=seed, decision="rejected")  # not a postponement after all
    assert "2023年10月7日" in assistant.ask(question).answer.splitlines()[0]
    assert "已否决" in staff.get("/staff/knowledge").text
    decide(staff, source=postponement, target=seed, decision="confirmed")
    assert "2023年10月15日" in assistant.ask(question).answer.splitlines()[0]

    correction, contest = doc_id(assistant, "contest-2026-correction"), doc_id(assistant, "contest-2026.txt")
    phone = "节能创意设计大赛的联系电话是多少？"
    decide(staff, source=correction, target=contest, decision="rejected")
    assert "原为027-68750001" not in assistant.ask(phone).answer  # no correction applied
    decide(staff, source=correction, target=contest, decision="added", kind="corrects")  # added by hand
    assert "027-68750099（已更正，原为027-68750001" in assistant.ask(phone).answer
    bad = staff.post(
        "/staff/knowledge/relation",
        data={
            "csrf_token": csrf(staff),
            "source": contest,
            "target": contest,
            "decision": "added",
            "kind": "amends",
        },
    )
    assert bad.status_code == 422

    when = "节能创意设计大赛什么时候截止？"
    assert "2026年12月18日" in assistant.ask(when).answer
    retire = {"csrf_token": csrf(staff), "doc_id": contest, "action": "retired"}
    assert staff.post("/staff/knowledge/status", data=retire).status_code == 303
    retired = assistant.ask(when)
    assert "2026年12月18日" not in retired.answer and contest not in {c.doc_id for c in retired.citations}
    assert not any(
        h.entry.doc_id == contest for h in assistant.index.searcher.search("节能创意设计大赛", k=20).hits
    )
    assert contest in {d.doc_id for d in assistant.index.store.documents()}  # kept in the knowledge base
    assert "status-retired" in staff.get("/staff/knowledge").text
    restore = {"csrf_token": csrf(staff), "doc_id": contest, "action": "restored"}
    assert staff.post("/staff/knowledge/status", data=restore).status_code == 303
    assert "2026年12月18日" in assistant.ask(when).answer


def test_two_rounds_compared_side_by_side(staff: TestClient, assistant: Assistant) -> None:
    old, new = doc_id(assistant, "contest-2025"), doc_id(assistant, "contest-2026.txt")
    page = staff.get("/staff/knowledge/compare", params={"a": old, "b": new})
    assert page.status_code == 200
    assert "每队不超过4人" in page.text and "每队不超过5人" in page.text and "有变化" in page.text
    assert staff.get("/staff/knowledge/compare", params={"a": old, "b": "nope"}).status_code == 404


def test_an_uploaded_postponement_previews_its_relation(staff: TestClient, assistant: Assistant) -> None:
    text = (
        "关于延长2026年校园节能创意设计大赛报名时间的通知\n\n各学院：\n\n"
        "原定于2026年12月18日截止的2026年校园节能创意设计大赛报名时间延期至2026年12月25日。\n\n教务处\n2026年12月1日\n"
    )
    response = staff.post(
        "/staff/knowledge/upload",
        data={"csrf_token": csrf(staff)},
        files={"file": ("延期通知.txt", text.encode(), "text/plain")},
    )
    assert response.status_code == 200, response.text
    assert "与已有通知的关系" in response.text
    assert "关于举办2026年校园节能创意设计大赛的通知" in response.text
    assert "2026年12月18日 → 2026年12月25日" in response.text
    keep = re.search(r'name="keep" value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]
    upload_id = re.search(r'name="upload_id" value="([^"]+)"', response.text).group(1)  # type: ignore[union-attr]
    published = staff.post(
        "/staff/knowledge/publish",
        data={"csrf_token": csrf(staff), "upload_id": upload_id, "relation": keep, "keep": keep},
    )
    assert published.status_code == 303, published.text
    # Published and confirmed as previewed: the deadline in force is the new one, with both notices cited.
    answer = assistant.ask("节能创意设计大赛报名什么时候截止？")
    assert "2026年12月25日" in answer.answer and "原定2026年12月18日" in answer.answer, answer.answer
    assert {"延期通知.txt"} <= {Path(d.path).name for d in assistant.index.store.documents()}
    assert " ✓" in staff.get("/staff/knowledge").text  # confirmed
