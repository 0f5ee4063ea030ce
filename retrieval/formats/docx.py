"""Read Word (.docx) notices with python-docx: heading styles, paragraphs and tables in body order."""

from __future__ import annotations

import io
import re

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from retrieval.flattened import paragraph_blocks
from retrieval.model import Block
from retrieval.normalize import clean_inline, join_cell_lines

# Built-in style names as python-docx reports them, plus the names Chinese Word and WPS give them.
_TITLE_STYLES = {"title", "标题"}
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)


def _heading_level(paragraph: Paragraph) -> int:
    """Return the heading level of the paragraph's style, or 0 for body text."""
    style = paragraph.style
    name = (style.name or "").strip() if style is not None else ""
    if name.lower() in _TITLE_STYLES:
        return 1
    match = _HEADING_STYLE.match(name)
    return int(match.group(1)) if match else 0


def _paragraph_blocks(paragraph: Paragraph) -> list[Block]:
    """Return a heading, or one paragraph per line (a manual line break ends a line as in HTML <br>)."""
    level = _heading_level(paragraph)
    if level:
        text = clean_inline(paragraph.text.replace("\n", " "))
        return [Block("heading", text=text, level=level)] if text else []
    return [block for line in paragraph.text.split("\n") for block in paragraph_blocks(line)]


def _cell_text(text: str) -> str:
    """Return a cell's paragraphs on one line: no space where both sides are Chinese."""
    return join_cell_lines(text)


def _table_block(table: Table) -> Block | None:
    """Return the table's grid; cells covered by a merge are "" so the parser can fill them from above."""
    rows: list[list[str]] = []
    above: list[object] = []  # the <w:tc> element at each grid column of the previous row
    for row in table.rows:
        cells: list[str] = [""] * row.grid_cols_before
        elements: list[object] = [None] * row.grid_cols_before
        for cell in row.cells:
            left = elements[-1] if elements else None
            up = above[len(cells)] if len(cells) < len(above) else None
            # python-docx hands back the same <w:tc> for every grid column a cell spans, across
            # (gridSpan) and down (vMerge): only its first position keeps the text.
            repeated = cell._tc is left or cell._tc is up
            cells.append("" if repeated else _cell_text(cell.text))
            elements.append(cell._tc)
        above = elements
        if any(cells):
            rows.append(cells)
    if not rows:
        return None
    width = max(len(r) for r in rows)
    return Block("table", rows=[r + [""] * (width - len(r)) for r in rows])


def read_docx_blocks(data: bytes) -> list[Block]:
    """Turn a .docx file into blocks in body order (headers, footers and text boxes are not read)."""
    document = docx.Document(io.BytesIO(data))
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            blocks.extend(_paragraph_blocks(item))
        else:
            table = _table_block(item)
            if table:
                blocks.append(table)
    return blocks
