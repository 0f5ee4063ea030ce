"""The DOCX, HTML and PDF readers, on real files written by tests/support/builders.py."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from common.errors import CorruptFileError, EmptyDocumentError
from retrieval.formats.docx import read_docx_blocks
from retrieval.formats.html import read_html_blocks
from retrieval.formats.pdf import read_pdf_blocks
from retrieval.loaders import load_file
from retrieval.model import Block
from tests.support.builders import write_docx, write_html, write_pdf, write_scanned_pdf

TITLE = "关于做好2023年学习型社会建设重点工作的通知"
HEADING = "一、工作要求"
PARAGRAPH = "各地要高度重视，认真组织申报工作，按时报送材料。"
HEADER = ["序号", "重点工作", "申报对象", "申报截止时间", "联系人"]
ROWS = [
    HEADER,
    ["1", "加强新时代学习型城市建设", "由地级市为主申报", "2023年10月8日", "职成处李娟 027-87328019"],
    ["2", "推进县域社区学习中心建设", "中职学校", "2023年10月25日", ""],  # contact merged with the row above
    ["3", "推进非学历教育改革创新", "开放大学", "2023年10月7日", "高等教育处周婷 027-87328007"],
]
NOTICE = [
    Block("heading", text=TITLE, level=1),
    Block("heading", text=HEADING, level=2),
    Block("paragraph", text=PARAGRAPH),
    Block("table", rows=ROWS),
]

# A header cell spanning two columns: the covered column reads as "".
SPANNED_HEADER = [["联系人", "", "电话"], ["李娟", "职成处", "027"]]

Writer = Callable[..., Path]
Reader = Callable[[bytes], list[Block]]


def _tables(blocks: list[Block]) -> list[list[list[str]]]:
    return [b.rows for b in blocks if b.kind == "table"]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("suffix", "write", "read"),
    [(".docx", write_docx, read_docx_blocks), (".html", write_html, read_html_blocks)],
)
def test_markup_formats_keep_headings_paragraphs_and_merged_table(
    tmp_path: Path, suffix: str, write: Writer, read: Reader
) -> None:
    path = write(tmp_path / f"notice{suffix}", NOTICE, merge_empty_cells=True)

    blocks = read(path.read_bytes())

    assert blocks == NOTICE


@pytest.mark.unit
def test_docx_merged_cell_is_really_merged(tmp_path: Path) -> None:
    # Guard the fixture: the empty contact cell must be a vMerge, or the test above proves nothing.
    import docx

    path = write_docx(tmp_path / "notice.docx", NOTICE, merge_empty_cells=True)

    table = docx.Document(str(path)).tables[0]
    assert table.cell(2, 4)._tc is table.cell(1, 4)._tc


@pytest.mark.unit
@pytest.mark.parametrize("merge", [False, True], ids=["empty-cell", "spanned-cell"])
def test_pdf_gives_lines_in_order_and_the_ruled_table(tmp_path: Path, merge: bool) -> None:
    path = write_pdf(tmp_path / "notice.pdf", NOTICE, merge_empty_cells=merge)

    blocks = read_pdf_blocks(path.read_bytes())

    # PDF has no heading markup: headings come as lines for the structure parser to recognise.
    assert [(b.kind, b.text) for b in blocks if b.kind != "table"] == [
        ("paragraph", TITLE),
        ("paragraph", HEADING),
        ("paragraph", PARAGRAPH),
    ]
    assert blocks[-1] == Block("table", rows=ROWS)


@pytest.mark.unit
def test_pdf_keeps_table_between_the_lines_around_it(tmp_path: Path) -> None:
    after = "二、联系方式"
    path = write_pdf(tmp_path / "notice.pdf", [*NOTICE, Block("paragraph", text=after)])

    kinds = [(b.kind, b.text) for b in read_pdf_blocks(path.read_bytes())]

    assert kinds[-2:] == [("table", ""), ("paragraph", after)]


@pytest.mark.unit
def test_pdf_joins_wrapped_cell_lines_without_space_between_chinese(tmp_path: Path) -> None:
    long_task = "推进县域社区学习中心建设" * 6
    rows = [["序号", "重点工作"], ["1", long_task]]
    path = write_pdf(tmp_path / "wrapped.pdf", [Block("table", rows=rows)])

    assert _tables(read_pdf_blocks(path.read_bytes())) == [rows]


@pytest.mark.unit
def test_corrupt_docx_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(random.Random(0).randbytes(4096))

    with pytest.raises(CorruptFileError, match="broken.docx"):
        load_file(path)


@pytest.mark.unit
def test_pdf_without_text_layer_is_empty(tmp_path: Path) -> None:
    path = write_scanned_pdf(tmp_path / "scan.pdf")

    assert read_pdf_blocks(path.read_bytes()) == []
    with pytest.raises(EmptyDocumentError, match="no text found"):
        load_file(path)


@pytest.mark.unit
def test_html_drops_scripts_and_page_chrome(tmp_path: Path) -> None:
    chrome = "<script>alert(1)</script><nav>首页 | 政务公开</nav><header>湖北省教育厅</header>"
    path = write_html(tmp_path / "notice.html", NOTICE, extra_body=chrome)

    blocks = load_file(path).blocks

    assert not any("alert" in b.text or "alert" in str(b.rows) for b in blocks)
    assert not any("首页" in b.text or "湖北省教育厅" in b.text for b in blocks)
    assert blocks[0] == Block("heading", text=TITLE, level=1)


@pytest.mark.unit
def test_html_keeps_the_title_in_an_articles_own_header() -> None:
    page = (
        f"<header>湖北省教育厅</header><article><header><h1>{TITLE}</h1></header><p>{PARAGRAPH}</p></article>"
    )

    assert read_html_blocks(page.encode("utf-8")) == NOTICE[:1] + NOTICE[2:3]


@pytest.mark.unit
def test_html_in_declared_gb2312_is_decoded(tmp_path: Path) -> None:
    path = write_html(tmp_path / "notice.html", NOTICE, encoding="gb2312")

    assert read_html_blocks(path.read_bytes())[:3] == NOTICE[:3]


@pytest.mark.unit
def test_html_valid_utf8_wins_over_a_stale_gb2312_label() -> None:
    page = f'<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>{PARAGRAPH}</p>'

    assert read_html_blocks(page.encode("utf-8")) == [Block("paragraph", text=PARAGRAPH)]


@pytest.mark.unit
def test_html_line_breaks_and_list_items_are_paragraphs() -> None:
    page = "<p>申报时间：10月8日<br>申报地点：武汉</p><ul><li>申报书</li><li>推荐表</li></ul>"

    blocks = read_html_blocks(page.encode("utf-8"))

    assert [b.text for b in blocks] == ["申报时间：10月8日", "申报地点：武汉", "申报书", "推荐表"]


@pytest.mark.unit
def test_html_colspan_leaves_empty_cells_to_the_right() -> None:
    page = "<table><tr><th colspan='2'>联系人</th><th>电话</th></tr><tr><td>李娟</td><td>职成处</td><td>027</td></tr></table>"

    assert _tables(read_html_blocks(page.encode("utf-8"))) == [SPANNED_HEADER]


@pytest.mark.unit
def test_docx_horizontal_merge_leaves_empty_cells_to_the_right(tmp_path: Path) -> None:
    import docx

    path = write_docx(tmp_path / "wide.docx", [Block("table", rows=SPANNED_HEADER)])
    document = docx.Document(str(path))
    table = document.tables[0]
    table.cell(0, 0).merge(table.cell(0, 1))
    document.save(str(path))

    assert _tables(read_docx_blocks(path.read_bytes())) == [SPANNED_HEADER]
