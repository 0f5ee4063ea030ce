"""Read Markdown and plain-text notices, including tab- or pipe-separated tables."""

from __future__ import annotations

import re

from retrieval.flattened import paragraph_blocks
from retrieval.model import Block
from retrieval.normalize import clean_inline

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_]\s*){3,}$")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _split_row(line: str) -> list[str] | None:
    """Return the cells of a table line (tab- or pipe-separated), or None for an ordinary line."""
    if "\t" in line:
        cells = [clean_inline(c) for c in line.split("\t")]
        return cells if len(cells) >= 2 else None
    stripped = line.strip()
    if stripped.startswith("|") and stripped.count("|") >= 3:
        return [clean_inline(c) for c in stripped.strip("|").split("|")]
    return None


def read_text_blocks(raw: str) -> list[Block]:
    """Turn Markdown or plain text into blocks; each line is a candidate paragraph (joined later)."""
    blocks: list[Block] = []
    table: list[list[str]] = []

    def flush_table() -> None:
        if table:
            width = max(len(r) for r in table)
            blocks.append(Block("table", rows=[r + [""] * (width - len(r)) for r in table]))
            table.clear()

    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _PIPE_SEPARATOR.match(line) and table:
            continue
        cells = _split_row(line)
        if cells is not None:
            if any(cells):
                table.append(cells)
            continue
        flush_table()
        if not line.strip() or _RULE.match(line):
            continue
        heading = _MD_HEADING.match(line.strip())
        if heading:
            text = clean_inline(heading.group(2))
            if text:
                blocks.append(Block("heading", text=text, level=len(heading.group(1))))
            continue
        blocks.extend(paragraph_blocks(line))
    flush_table()
    return blocks
