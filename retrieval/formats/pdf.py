"""Read PDF notices with pdfplumber: ruled tables as tables, every other text line as a paragraph."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pdfplumber

from retrieval.model import Block
from retrieval.normalize import clean_inline, join_cell_lines

BBox = tuple[float, float, float, float]


def _cell_text(cell: str | None) -> str:
    """Return a cell's text on one line: a wrap between Chinese characters is no word boundary."""
    if not cell:
        return ""
    return join_cell_lines(cell)


def _table_rows(raw: list[list[str | None]]) -> list[list[str]]:
    """Clean the cells (a merged cell's covered positions come as None, so as ""), pad and drop empty rows."""
    rows = [[_cell_text(cell) for cell in row] for row in raw]
    rows = [row for row in rows if any(row)]
    width = max((len(row) for row in rows), default=0)
    return [row + [""] * (width - len(row)) for row in rows]


def _outside(bboxes: list[BBox]) -> Callable[[dict[str, Any]], bool]:
    """Return a page.filter test keeping objects whose centre lies in none of the boxes."""

    def keep(obj: dict[str, Any]) -> bool:
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x < x1 and top <= y < bottom for x0, top, x1, bottom in bboxes)

    return keep


def _page_blocks(page: Any) -> list[Block]:
    """Return one page's lines and tables, ordered by their top edge."""
    placed: list[tuple[float, Block]] = []
    # A single ruled cell is a framed passage (a boxed note, a border round the page), not a table.
    tables = [t for t in page.find_tables() if len(t.cells) > 1]
    for table in tables:
        rows = _table_rows(table.extract())
        if rows:
            placed.append((table.bbox[1], Block("table", rows=rows)))
    text_page = page.filter(_outside([t.bbox for t in tables])) if tables else page
    for line in text_page.extract_text_lines():
        text = clean_inline(line["text"])
        if text:
            placed.append((line["top"], Block("paragraph", text=text)))
    placed.sort(key=lambda item: item[0])
    return [block for _, block in placed]


def read_pdf_blocks(data: bytes) -> list[Block]:
    """Turn a PDF into blocks page by page; a PDF without a text layer gives none."""
    blocks: list[Block] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            blocks.extend(_page_blocks(page))
            # Pages cache their parsed objects; drop them so long files do not pile up in memory.
            page.close()
    return blocks
