"""The shipped notice, parsed: parts, sections, the requirements table's records, entities, chunks."""

from __future__ import annotations

import pytest

from retrieval.loaders import load_file
from retrieval.model import Document
from retrieval.parse import parse_document
from tests.support.paths import SEED

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def doc() -> Document:
    return parse_document(load_file(SEED), rel_path=SEED.name)


def test_three_documents_and_the_attachment_are_parts_with_their_own_metadata(doc: Document) -> None:
    parts = {p.title: p for p in doc.parts}
    hubei = parts["省教育厅关于积极承接学习型社会建设重点任务的通知"]
    ministry = parts["教育部关于印发《学习型社会建设重点任务》的通知"]
    assert (hubei.doc_number, hubei.issuer) == ("鄂教职成函〔2023〕9号", "湖北省教育厅")
    assert (ministry.doc_number, ministry.issuer, ministry.date) == (
        "教职成函〔2023〕9号",
        "中华人民共和国教育部",
        "2023-08-30",
    )
    assert "学习型社会建设重点任务" in parts
    assert parts["学习型社会建设重点任务省级申报要求"].kind == "attachment"
    assert "学习型社会建设重点任务省级申报要求" in hubei.attachments
    assert hubei.addressees and hubei.addressees.startswith("各市（州）")
    general = hubei.contacts[0]
    assert (general.name, general.phone, general.email) == ("李娟", "027-87328019", "hbhvte@126.com")


def test_section_paths_follow_chinese_heading_ranks(doc: Document) -> None:
    paths = {s.path_text for s in doc.sections}
    assert "学习型社会建设重点任务 › 二、重点任务 › （二）推进县域社区学习中心建设" in paths
    assert "学习型社会建设重点任务 › 三、组织保障 › （一）组织领导" in paths


def test_five_task_records_with_deadlines_and_merged_cells_inferred(doc: Document) -> None:
    records = doc.records
    assert [r.deadline for r in records] == [
        "2023-10-08",
        "2023-10-25",
        "2023-10-07",
        "2023-10-07",
        "2023-10-07",
    ]
    assert [r.task for r in records][:2] == ["加强新时代学习型城市建设", "推进县域社区学习中心建设"]
    by_row = {r.row: r for r in records}
    assert by_row[2].inferred == ["contacts"] and by_row[2].inferred_from == {"contacts": 1}
    assert by_row[2].fields["contacts"] == by_row[1].fields["contacts"]
    assert by_row[4].inferred == ["method"] and "jxjy.moe.edu.cn" in by_row[4].fields["method"]
    assert sorted(by_row[5].inferred) == ["contacts", "method"]
    assert [c.name for c in by_row[5].contacts] == ["李娟"]
    assert [c.name for c in by_row[1].contacts] == ["万婷", "刘长军"]
    assert {c.department for c in by_row[3].contacts} == {"高等教育处"}
    assert [c.phone for c in by_row[3].contacts] == ["027-87328007", "027-87588886"]
    assert by_row[1].inferred == [] and by_row[3].inferred == []


def test_every_quote_is_verbatim(doc: Document) -> None:
    for chunk in doc.chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
    for record in doc.records:
        assert doc.text[record.start : record.end] == record.row_text
        assert record.row_text in doc.text
    for entity in doc.entities:
        assert doc.text[entity.start : entity.end] == entity.text


def test_chunks_stay_small_and_inside_one_section(doc: Document) -> None:
    assert all(0 < len(c.text) <= 300 for c in doc.chunks)
    sections = {s.path_text: s for s in doc.sections}
    for chunk in doc.chunks:
        section = sections[chunk.section]
        assert section.start <= chunk.start and chunk.end <= section.end


def test_entities_include_windows_recurring_dates_and_chinese_dates(doc: Document) -> None:
    kinds = {(e.kind, e.text) for e in doc.entities}
    assert ("date_range", "2023年9月6日—10月7日") in kinds
    assert ("recurring_date", "每年12月15日前") in kinds
    assert any(e.kind == "url" and e.text == "http://jxjy.moe.edu.cn" for e in doc.entities)
    assert any(e.kind == "email" and e.text == "hbhvte@126.com" for e in doc.entities)
