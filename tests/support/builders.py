"""Write real DOCX, HTML and PDF files from blocks, so readers are tested on what they will meet.

With `merge_empty_cells=True` an empty table cell below a filled one is written as part of a
vertically merged cell (Word vMerge, HTML rowspan, reportlab SPAN), the way notices merge a
contact or deadline shared by several rows.
"""

from __future__ import annotations

import html
from pathlib import Path

from retrieval.model import Block

CJK_FONT = "STSong-Light"


def _vertical_spans(rows: list[list[str]]) -> dict[tuple[int, int], int]:
    """Map (row, column) of each filled body cell to how many rows it spans over the empty cells below it."""
    spans: dict[tuple[int, int], int] = {}
    for col in range(max((len(r) for r in rows), default=0)):
        anchor: tuple[int, int] | None = None
        # Row 0 is the header: it never spans into the body.
        for r in range(1, len(rows)):
            if col < len(rows[r]) and rows[r][col]:
                anchor = (r, col)
                spans[anchor] = 1
            elif anchor is not None:
                spans[anchor] += 1
    return spans


def _covered(spans: dict[tuple[int, int], int]) -> set[tuple[int, int]]:
    """Return the (row, column) positions hidden under a vertical span."""
    return {(r + i, c) for (r, c), span in spans.items() for i in range(1, span)}


def write_docx(path: Path, blocks: list[Block], *, merge_empty_cells: bool = False) -> Path:
    """Write blocks as a Word document: level 1 headings in "Title", others in "Heading N", real tables."""
    import docx

    document = docx.Document()
    for block in blocks:
        if block.kind == "heading":
            document.add_heading(block.text, level=0 if block.level <= 1 else min(block.level, 9))
        elif block.kind == "paragraph":
            document.add_paragraph(block.text)
        else:
            width = max(len(r) for r in block.rows)
            table = document.add_table(rows=len(block.rows), cols=width)
            table.style = "Table Grid"
            for r, row in enumerate(block.rows):
                for c, text in enumerate(row):
                    table.cell(r, c).text = text
            if merge_empty_cells:
                for (r, c), span in _vertical_spans(block.rows).items():
                    if span > 1:
                        table.cell(r, c).merge(table.cell(r + span - 1, c))
    document.save(str(path))
    return path


def write_html(
    path: Path,
    blocks: list[Block],
    *,
    merge_empty_cells: bool = False,
    encoding: str = "utf-8",
    extra_body: str = "",
) -> Path:
    """Write blocks as an HTML page in `encoding` (declared in <meta charset>); `extra_body` is raw HTML put first."""
    parts = [f'<!DOCTYPE html>\n<html><head><meta charset="{encoding}"><title>通知</title></head><body>']
    parts.append(extra_body)
    for block in blocks:
        if block.kind == "heading":
            level = min(max(block.level, 1), 6)
            parts.append(f"<h{level}>{html.escape(block.text)}</h{level}>")
        elif block.kind == "paragraph":
            parts.append(f"<p>{html.escape(block.text)}</p>")
        else:
            spans = _vertical_spans(block.rows) if merge_empty_cells else {}
            covered = _covered(spans)
            parts.append('<table border="1">')
            for r, row in enumerate(block.rows):
                tag = "th" if r == 0 else "td"
                cells = []
                for c, text in enumerate(row):
                    if (r, c) in covered:
                        continue
                    span = spans.get((r, c), 1)
                    rowspan = f' rowspan="{span}"' if span > 1 else ""
                    cells.append(f"<{tag}{rowspan}>{html.escape(text)}</{tag}>")
                parts.append("<tr>" + "".join(cells) + "</tr>")
            parts.append("</table>")
    parts.append("</body></html>\n")
    path.write_bytes("\n".join(parts).encode(encoding))
    return path


def write_pdf(path: Path, blocks: list[Block], *, merge_empty_cells: bool = False) -> Path:
    """Write blocks as an A4 PDF in a Chinese CID font, tables drawn with grid lines."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    body = ParagraphStyle("body", fontName=CJK_FONT, fontSize=11, leading=18, wordWrap="CJK")
    cell_style = ParagraphStyle("cell", fontName=CJK_FONT, fontSize=9, leading=13, wordWrap="CJK")
    heading_sizes = {1: 18, 2: 14}
    doc = SimpleDocTemplate(str(path), pagesize=A4)
    story: list[object] = []
    for block in blocks:
        if block.kind == "heading":
            size = heading_sizes.get(block.level, 12)
            style = ParagraphStyle(
                f"h{block.level}",
                parent=body,
                fontSize=size,
                leading=size * 1.6,
                alignment=1 if block.level <= 1 else 0,
            )
            story.append(Paragraph(html.escape(block.text), style))
        elif block.kind == "paragraph":
            story.append(Paragraph(html.escape(block.text), body))
        else:
            width = max(len(r) for r in block.rows)
            rows = [r + [""] * (width - len(r)) for r in block.rows]
            # Columns as wide as their longest cell (scaled to the page) so short cells do not wrap.
            # Long cells wrap: a column is capped, and never narrower than two characters plus padding.
            natural = [
                min(150.0, max(30.0, max(pdfmetrics.stringWidth(r[c], CJK_FONT, 9) for r in rows) + 12))
                for c in range(width)
            ]
            scale = min(1.0, doc.width / sum(natural))
            data = [[Paragraph(html.escape(text), cell_style) for text in row] for row in rows]
            commands: list[tuple[object, ...]] = [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
            if merge_empty_cells:
                for (r, c), span in _vertical_spans(rows).items():
                    if span > 1:
                        commands.append(("SPAN", (c, r), (c, r + span - 1)))
            story.append(Spacer(1, 6))
            story.append(Table(data, colWidths=[w * scale for w in natural], style=TableStyle(commands)))
            story.append(Spacer(1, 6))
    doc.build(story)
    return path


def write_scanned_pdf(path: Path) -> Path:
    """Write a PDF page with only a drawn rectangle: what a scan without a text layer looks like to a reader."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path), pagesize=A4)
    page.rect(100, 400, 300, 200, stroke=1, fill=1)
    page.showPage()
    page.save()
    return path
