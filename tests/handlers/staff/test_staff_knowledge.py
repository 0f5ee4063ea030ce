"""A notice uploaded on the staff pages: previewed (a merged cell's inferred value highlighted),
published, then answered at once, keeping the staff FAQ answers; unsupported and broken files refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.services import Retrieval
from bot.store import Store
from common.settings import Settings
from retrieval.model import Block
from tests.support.builders import write_docx
from tests.support.staff_pages import csrf_of, hidden

pytestmark = pytest.mark.integration


NEW_NOTICE = [
    Block("heading", text="关于开展2026年智慧教育示范项目申报工作的通知", level=1),
    Block("heading", text="一、申报要求", level=2),
    Block("paragraph", text="各单位按下表要求组织申报，逾期不予受理。"),
    Block(
        "table",
        rows=[
            ["序号", "项目名称", "申报对象", "申报截止时间", "联系人"],
            ["1", "智慧教育示范校", "普通高中", "2026年12月20日", "基教处王敏 027-87320001"],
            ["2", "数字教材应用试点", "初级中学", "2026年12月25日", ""],
        ],
    ),
]


def test_upload_a_docx_notice_preview_publish_and_ask(
    staff: TestClient, kb: tuple[Settings, Retrieval], store: Store, assistant: Assistant, tmp_path: Path
) -> None:
    settings = kb[0]
    faq_question = "申报书模板在哪里下载？"
    staff.post(
        "/staff/faq/new",
        data={
            "questions": faq_question,
            "answer": "申报书模板可在省教育厅网站下载。",
            "csrf_token": csrf_of(staff),
        },
    )
    path = write_docx(tmp_path / "智慧教育示范项目.docx", NEW_NOTICE, merge_empty_cells=True)
    token = csrf_of(staff)
    preview = staff.post(
        "/staff/knowledge/upload",
        data={"csrf_token": token},
        files={"file": ("../../智慧教育示范项目.docx", path.read_bytes(), "application/octet-stream")},
    )
    assert preview.status_code == 200, preview.text
    html = preview.text
    assert "关于开展2026年智慧教育示范项目申报工作的通知" in html
    assert "智慧教育示范校" in html and "数字教材应用试点" in html and "2026-12-20" in html
    # The contact of row 2 comes from the merged cell above: it is highlighted as inferred.
    assert re.search(r'<td class="inferred" title="推断自第 1 行">基教处王敏', html)
    assert not (Path(settings.knowledge_dir) / "智慧教育示范项目.docx").exists()  # not yet published

    published = staff.post(
        "/staff/knowledge/publish", data={"csrf_token": token, "upload_id": hidden(html, "upload_id")}
    )
    assert published.status_code == 303
    assert (Path(settings.knowledge_dir) / "智慧教育示范项目.docx").exists()  # saved under its base name only
    assert "智慧教育示范项目.docx" in staff.get(published.headers["location"]).text

    answer = assistant.ask("智慧教育示范校什么时候截止？")
    assert not answer.escalated and "2026年12月20日" in answer.answer
    assert any("智慧教育示范校" in c.quote for c in answer.citations)
    contact = assistant.ask("数字教材应用试点联系谁？")
    assert "027-87320001" in contact.answer
    # Re-indexing the knowledge base kept the staff FAQ answers.
    assert assistant.ask(faq_question).citations[0].kind == "faq"

    unsupported = staff.post(
        "/staff/knowledge/upload",
        data={"csrf_token": token},
        files={"file": ("x.exe", b"MZ", "application/x")},
    )
    assert unsupported.status_code == 415
    broken = staff.post(
        "/staff/knowledge/upload",
        data={"csrf_token": token},
        files={"file": ("x.docx", b"not a zip", "application/x")},
    )
    assert broken.status_code == 422
    actions = [e["action"] for e in store.audit_entries(limit=20)]
    assert "upload_preview" in actions and "publish_notice" in actions and "upload_rejected" in actions
