"""The same table gives the same records whether it arrives as text, DOCX, HTML or PDF."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval.formats.text import read_text_blocks
from retrieval.loaders import load_file
from retrieval.model import Block, Record
from retrieval.parse import parse_document
from tests.support.builders import write_docx, write_html, write_pdf
from tests.support.paths import DATA, SEED

pytestmark = pytest.mark.unit


def seed_table_blocks() -> list[Block]:
    """The seed's attachment title and requirements table, as blocks (merged cells still empty)."""
    blocks = read_text_blocks(SEED.read_text(encoding="utf-8"))
    table = next(b for b in blocks if b.kind == "table")
    return [
        Block("heading", text="学习型社会建设重点任务省级申报要求", level=1),
        Block("paragraph", text="各单位按下表要求申报。"),
        table,
    ]


def summary(records: list[Record]) -> list[tuple[object, ...]]:
    return [
        (
            r.task,
            r.deadline,
            r.fields.get("eligibility"),
            r.fields.get("materials"),
            r.fields.get("method", "").replace(" ", ""),
            tuple((c.name, c.department, c.phone) for c in r.contacts),
            tuple(sorted(r.inferred)),
        )
        for r in records
    ]


@pytest.fixture(scope="module")
def expected() -> list[tuple[object, ...]]:
    return summary(parse_document(load_file(SEED), rel_path=SEED.name).records)


@pytest.mark.parametrize(
    ("suffix", "writer"),
    [
        (".docx", lambda p, b: write_docx(p, b, merge_empty_cells=True)),
        (".html", lambda p, b: write_html(p, b, merge_empty_cells=True)),
        (".pdf", lambda p, b: write_pdf(p, b)),
        (".pdf", lambda p, b: write_pdf(p, b, merge_empty_cells=True)),
    ],
    ids=["docx-merged", "html-rowspan", "pdf-empty-cells", "pdf-merged"],
)
def test_same_records_from_every_format(
    tmp_path: Path,
    suffix: str,
    writer: Callable[[Path, list[Block]], Path],
    expected: list[tuple[object, ...]],
) -> None:
    path = writer(tmp_path / f"notice{suffix}", seed_table_blocks())
    doc = parse_document(load_file(path), rel_path=path.name)
    assert summary(doc.records) == expected
    for record in doc.records:
        assert doc.text[record.start : record.end] == record.row_text


def test_a_notice_with_other_columns_order_and_contacts() -> None:
    path = DATA / "notices" / "university-research-projects-2026.md"
    doc = parse_document(load_file(path), rel_path=path.name)
    first = doc.parts[0]
    assert first.doc_number == "云理大科字〔2026〕15号"
    assert first.date == "2026-11-20"  # written in Chinese numerals
    records = {r.task: r for r in doc.records}
    assert len(records) == 6
    youth = records["青年教师科研启动项目"]
    assert (youth.deadline, youth.deadline_time) == ("2026-12-20", "17:00")
    assert youth.contacts[0].email == "kyjh@ymlg.edu.cn" and youth.contacts[0].department == "科研计划科"
    cross = records["交叉学科培育项目"]
    assert {"deadline", "contacts"} <= set(cross.inferred) and cross.deadline == "2026-12-20"
    major = records["重大项目预研专项"]
    assert (major.deadline_start, major.deadline) == ("2026-12-01", "2026-12-15")


def test_a_plain_text_notice_with_a_tab_table() -> None:
    path = DATA / "notices" / "city-community-education-2026.txt"
    doc = parse_document(load_file(path), rel_path=path.name)
    assert doc.parts[0].doc_number == "青教终〔2026〕42号"
    assert doc.parts[0].title.endswith("的通知")
    records = {r.task: r for r in doc.records}
    assert records["社区学习共同体"].deadline == "2027-01-10"
    assert set(records["社区学习共同体"].inferred) >= {"deadline", "method", "contacts"}
    assert records["社区学习共同体"].contacts[0].name == "陈思远"
    assert records["老年教育学习点"].fields["method"].startswith("现场报送")
