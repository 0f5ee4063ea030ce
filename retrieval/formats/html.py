"""Read HTML notices with BeautifulSoup: headings, text lines, list items and data tables in page order."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from common.errors import CorruptFileError
from retrieval.flattened import paragraph_blocks
from retrieval.model import Block
from retrieval.normalize import clean_inline

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Pages labelled GB2312 or GBK routinely hold characters only GBK/GB18030 have; GB18030 reads them all.
_GB_LABELS = {"gb2312", "gb_2312", "gb_2312-80", "csgb2312", "gbk", "x-gbk", "cp936", "chinese"}
# Page chrome and code: nothing in them is part of the notice.
_DROPPED = ["head", "title", "script", "style", "noscript", "template", "nav", "select", "button"]
# A page's banner and footer are chrome, but an <article>'s own <header> holds the notice's title.
_PAGE_CHROME = ["header", "footer"]
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# Elements that start a new line; all others (span, a, b, font, ...) run on inside the current line.
_LINE_TAGS = {
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "section", "article", "main", "aside", "blockquote",
    "pre", "address", "figure", "figcaption", "form", "fieldset", "center", "hr", "caption",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th",
}  # fmt: skip
_MAX_SPAN = 1000  # the HTML standard's colspan cap; a bogus span must not allocate a huge grid


def _decode(data: bytes) -> str:
    """Decode as UTF-8 when the bytes are valid UTF-8, else in the <meta> charset, else GB18030.

    Valid UTF-8 wins over the declaration because saved pages often keep a template's stale
    "gb2312" label while the server sent UTF-8 (and GBK text is practically never valid UTF-8).
    """
    encodings = ["utf-8-sig", "gb18030"]
    declared = _META_CHARSET.search(data[:16384])
    if declared:
        label = declared.group(1).decode("ascii").lower()
        encodings.insert(1, "gb18030" if label in _GB_LABELS else label)
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    raise CorruptFileError("HTML is in neither UTF-8, its declared charset nor GB18030")


def _is_text(node: object) -> bool:
    """Tell whether a node is visible text (comments, doctypes and CDATA are preformatted strings)."""
    return isinstance(node, NavigableString) and not isinstance(node, PreformattedString)


def _one_line(tag: Tag) -> str:
    """Return the text under a tag as one cleaned line; line breaks inside become spaces."""
    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Tag):
            if node.name == "br" or node.name in _LINE_TAGS:
                parts.append(" ")
        elif _is_text(node):
            parts.append(str(node))
    # clean_inline drops the space again where it falls between two Chinese characters.
    return clean_inline(re.sub(r"\s+", " ", "".join(parts)))


def _span(cell: Tag, name: str) -> int:
    """Return a cell's rowspan or colspan, 1 when missing or malformed."""
    try:
        value = int(str(cell.get(name, "1")).strip())
    except ValueError:
        return 1
    return min(max(value, 1), _MAX_SPAN)


def _table_rows(table: Tag) -> list[list[str]] | None:
    """Return a data table's grid, covered span positions as ""; None for a layout table."""
    # Old government sites lay whole pages out in nested or one-column tables; read those as text.
    if table.find("table") is not None:
        return None
    rows = [tr.find_all(["td", "th"], recursive=False) for tr in table.find_all("tr")]
    if all(len(cells) <= 1 for cells in rows):
        return None
    grid: list[list[str | None]] = [[] for _ in rows]
    for r, cells in enumerate(rows):
        col = 0
        for cell in cells:
            while col < len(grid[r]) and grid[r][col] is not None:
                col += 1
            rowspan = min(_span(cell, "rowspan"), len(rows) - r)
            colspan = _span(cell, "colspan")
            text = _one_line(cell)
            for dr in range(rowspan):
                line = grid[r + dr]
                line.extend([None] * (col + colspan - len(line)))
                for dc in range(colspan):
                    line[col + dc] = text if dr == dc == 0 else ""
            col += colspan
    cleaned = [[cell or "" for cell in line] for line in grid]
    cleaned = [line for line in cleaned if any(line)]
    width = max((len(line) for line in cleaned), default=0)
    return [line + [""] * (width - len(line)) for line in cleaned]


class _Walker:
    """Walk the tree in document order, gathering inline text into lines and emitting blocks."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._line: list[str] = []

    def flush(self) -> None:
        self.blocks.extend(paragraph_blocks(re.sub(r"\s+", " ", "".join(self._line))))
        self._line.clear()

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Tag):
                self.element(child)
            elif _is_text(child):
                self._line.append(str(child))

    def element(self, tag: Tag) -> None:
        if tag.name == "br":
            self.flush()
        elif tag.name in _HEADINGS:
            self.flush()
            text = _one_line(tag)
            if text:
                self.blocks.append(Block("heading", text=text, level=_HEADINGS[tag.name]))
        elif tag.name == "table" and (rows := _table_rows(tag)) is not None:
            self.flush()
            caption = tag.find("caption")
            if caption is not None:
                self.element(caption)
            if rows:
                self.blocks.append(Block("table", rows=rows))
        elif tag.name in _LINE_TAGS:
            self.flush()
            self.walk(tag)
            self.flush()
        else:
            self.walk(tag)


def read_html_blocks(data: bytes) -> list[Block]:
    """Turn an HTML page into blocks; <br> and block elements end lines, each line a paragraph."""
    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    for tag in soup.find_all(_PAGE_CHROME):
        if tag.find_parent(["article", "main"]) is None:
            tag.decompose()
    walker = _Walker()
    walker.walk(soup)
    walker.flush()
    return walker.blocks
