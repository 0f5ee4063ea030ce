"""Lay blocks out as one normalised text and find its parts and sections.

Parts are the documents inside one file: a red-header notice (issuer line, then a document number
such as 鄂教职成函〔2023〕9号, then the title), a top-level Markdown title, or an attachment
('附件 2' on its own line, then its title). Sections come from Chinese heading patterns, ranked
一、 > （一） > 1. > （1）, so the section path does not depend on inconsistent Markdown levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retrieval.entities import find_dates, find_labelled_contacts
from retrieval.model import Block, Part, Section
from retrieval.normalize import CJK_CLASS

DOC_NUMBER = re.compile(r"^[\u4e00-\u9fff]{1,12}\s*[〔［\[（(]\s*\d{4}\s*[〕］\]）)]\s*第?\s*\d{1,4}\s*号$")
_ATTACHMENT_MARK = re.compile(r"^附\s*件\s*[0-9一二三四五六七八九十]*\s*[:：]?$")
_ATTACHMENT_LIST = re.compile(r"^附\s*件\s*[:：]\s*(.+)$")
_ISSUER_SUFFIX = re.compile(r"(?:厅|部|局|委员会|委|办公室|人民政府|政府|大学|学院|研究院|中心|处|院|会)$")
_DATE_LINE = re.compile(
    r"^(?:\d{4}|[〇零○一二三四五六七八九]{4})\s*年\s*[\d〇零○一二三四五六七八九十]{1,3}\s*月\s*[\d〇零○一二三四五六七八九十]{1,3}\s*日$"
)
_TERMINAL = "。！？；!?;：:"
_TITLE = re.compile(r"关于.{2,60}(?:通知|意见|办法|决定|方案|公告|通告|函|规定|细则|指南)$")
_NO_JOIN_START = re.compile(
    r"^(?:附\s*件|[（(]?[一二三四五六七八九十\d]{1,3}[）)、.．]|第[一二三四五六七八九十百\d]+[条章节])"
)

_LABELLED = re.compile(r"^[\u4e00-\u9fffA-Za-z]{1,8}\s*[:：]")

# Heading patterns, most senior first; the index is the rank.
HEADING_PATTERNS = [
    re.compile(r"^第[一二三四五六七八九十百零\d]+章"),
    re.compile(r"^第[一二三四五六七八九十百零\d]+[条节]"),
    re.compile(r"^[一二三四五六七八九十]{1,3}\s*[、.．]"),
    re.compile(r"^[（(]\s*[一二三四五六七八九十]{1,3}\s*[）)]"),
    re.compile(r"^\d{1,2}\s*[.．、](?!\d)"),
    re.compile(r"^[（(]\s*\d{1,2}\s*[）)]"),
]
MAX_HEADING_CHARS = 40


def heading_rank(text: str) -> int | None:
    """Return the rank of a Chinese heading pattern (0 = most senior), or None for body text."""
    if len(text) > MAX_HEADING_CHARS or text[-1:] in "。；;，,":
        return None
    for rank, pattern in enumerate(HEADING_PATTERNS):
        if pattern.match(text):
            # '1. 请各地…' style numbered paragraphs are body text; a heading is short and has no sentence stop.
            if "。" in text:
                return None
            return rank
    return None


@dataclass
class LaidOutBlock:
    """A block placed in the document text: its span, and for tables the span of every row."""

    block: Block
    start: int
    end: int
    row_spans: list[tuple[int, int]] = field(default_factory=list)


def _continues(previous: Block, current: Block) -> bool:
    """Tell whether a paragraph is the rest of the one before it, broken mid-sentence by the source."""
    if previous.kind != "paragraph" or current.kind != "paragraph":
        return False
    prev, cur = previous.text, current.text
    if not prev or not cur or prev[-1] in _TERMINAL:
        return False
    if _TITLE.search(prev) or cur[-1] in "：:":
        return False  # a notice's title, or the addressee line after it, stands on its own
    if _NO_JOIN_START.match(cur) or _DATE_LINE.match(cur) or DOC_NUMBER.match(cur):
        return False
    if _LABELLED.match(cur):
        return False  # '截止时间：…', '联系人：…': a labelled line stands on its own
    if prev[-1] in "，、,（(《“":
        return True
    ends_in_word = re.match(f"[{CJK_CLASS}》”）)]", prev[-1]) is not None
    starts_in_word = re.match(f"[{CJK_CLASS}（(《“]", cur[0]) is not None
    return len(prev) >= 20 and ends_in_word and starts_in_word and heading_rank(prev) is None


def join_broken_paragraphs(blocks: list[Block]) -> list[Block]:
    """Merge paragraphs that a PDF conversion or line wrap split in the middle of a sentence."""
    merged: list[Block] = []
    for block in blocks:
        if merged and _continues(merged[-1], block):
            merged[-1] = Block("paragraph", text=merged[-1].text + block.text)
        else:
            merged.append(Block(block.kind, text=block.text, level=block.level, rows=block.rows))
    return merged


def lay_out(blocks: list[Block]) -> tuple[str, list[LaidOutBlock]]:
    """Render blocks as one text (a line per paragraph or table row, cells joined by tabs)."""
    pieces: list[str] = []
    placed: list[LaidOutBlock] = []
    offset = 0
    for block in blocks:
        if block.kind == "table":
            spans = []
            start = offset
            for row in block.rows:
                line = "\t".join(row)
                spans.append((offset, offset + len(line)))
                pieces.append(line + "\n")
                offset += len(line) + 1
            placed.append(LaidOutBlock(block, start, offset - 1, spans))
        else:
            pieces.append(block.text + "\n")
            placed.append(LaidOutBlock(block, offset, offset + len(block.text)))
            offset += len(block.text) + 1
    return "".join(pieces), placed


def _is_issuer(text: str) -> bool:
    return len(text) <= 30 and _ISSUER_SUFFIX.search(text) is not None and not re.search(r"[，。：:]", text)


def find_parts(placed: list[LaidOutBlock], text: str, *, fallback_title: str) -> list[tuple[int, Part]]:
    """Split the laid-out blocks into parts; return (first block index, part) pairs."""
    starts: list[tuple[int, Part]] = []
    n = len(placed)

    def texts(i: int) -> str:
        return placed[i].block.text if placed[i].block.kind != "table" else ""

    claimed: set[int] = set()
    for i in range(n):
        t = texts(i)
        if not t or i in claimed:
            continue
        if DOC_NUMBER.match(t):
            first = i
            issuer = None
            for j in range(i - 1, max(-1, i - 3), -1):
                if _is_issuer(texts(j)) and j not in claimed:
                    first, issuer = j, texts(j)
                    break
            title = _title_after(placed, i + 1)
            claimed.update(range(first, i + 2))
            part = Part(
                title=title or t, start=placed[first].start, end=0, kind="notice", doc_number=t, issuer=issuer
            )
            starts.append((first, part))
        elif _ATTACHMENT_MARK.match(t) and i + 1 < n and texts(i + 1) and len(texts(i + 1)) <= 60:
            claimed.update({i, i + 1})
            part = Part(title=texts(i + 1), start=placed[i].start, end=0, kind="attachment")
            starts.append((i, part))
        elif placed[i].block.kind == "heading" and placed[i].block.level == 1:
            # A title heading that is really the issuer of a red-header notice is claimed above.
            if any(DOC_NUMBER.match(texts(j)) for j in range(i + 1, min(n, i + 3))):
                continue
            claimed.add(i)
            starts.append((i, Part(title=t, start=placed[i].start, end=0, kind="text")))
    starts.sort(key=lambda s: s[0])
    if not starts or starts[0][0] != 0:
        # Text before the first recognised part (or a file with none) is a part of its own.
        title = _first_title(placed) or fallback_title
        starts.insert(0, (0, Part(title=title, start=0, end=0, kind="text")))
    for k, (_index, part) in enumerate(starts):
        part.end = placed[starts[k + 1][0]].start if k + 1 < len(starts) else len(text)
        _describe_part(part, text)
    return starts


def _title_after(placed: list[LaidOutBlock], index: int) -> str | None:
    for j in range(index, min(len(placed), index + 3)):
        block = placed[j].block
        if block.kind != "table" and block.text and not DOC_NUMBER.match(block.text):
            return block.text
    return None


def _first_title(placed: list[LaidOutBlock]) -> str | None:
    for lb in placed[:5]:
        if lb.block.kind == "heading":
            return lb.block.text
    first = placed[0].block if placed else None
    if first and first.kind == "paragraph" and len(first.text) <= 150 and first.text[-1:] not in "。；;，,":
        return first.text  # a web notice's title line, however long its title
    for lb in placed[:3]:
        if lb.block.kind == "paragraph" and len(lb.block.text) <= 60:
            return lb.block.text
    return None


def _describe_part(part: Part, text: str) -> None:
    """Fill a part's date (a date alone on a line, e.g. the signature), attachments and contacts."""
    body = text[part.start : part.end]
    lines = body.split("\n")
    dated = [ln.strip() for ln in lines if _DATE_LINE.match(ln.strip())]
    if dated:
        found = find_dates(dated[-1])
        if found and found[0].kind == "date":
            part.date = str(found[0].value["date"])
    for k, line in enumerate(lines):
        m = _ATTACHMENT_LIST.match(line.strip())
        if m:
            items = [m.group(1).strip()]
            for follow in lines[k + 1 : k + 6]:
                if re.match(r"^\s*\d+\s*[.．、]", follow):
                    items.append(follow.strip())
                else:
                    break
            part.attachments.extend(re.sub(r"^\d+\s*[.．、]\s*", "", item) for item in items)
    part.contacts = [c for _, c in find_labelled_contacts(body)]
    for line in lines[:8]:
        stripped = line.strip()
        # The addressee line of an official notice: units separated by 、 or ， ending with a colon.
        if stripped[-1:] in "：:" and re.search("[、，,]", stripped) and 8 <= len(stripped) <= 300:
            part.addressees = stripped.rstrip("：:")
            break
    if not part.issuer:
        # A signature: an issuer line right before the date line at the end.
        for k in range(len(lines) - 1, 0, -1):
            if _DATE_LINE.match(lines[k].strip()) and _is_issuer(lines[k - 1].strip()):
                part.issuer = lines[k - 1].strip()
                break


def find_sections(
    placed: list[LaidOutBlock], parts: list[tuple[int, Part]], text_length: int
) -> tuple[list[Section], list[str]]:
    """Return the sections and, for every block, the section path it belongs to."""
    sections: list[Section] = []
    block_paths: list[str] = []
    part_starts = {index: (k, part) for k, (index, part) in enumerate(parts)}
    stack: list[tuple[int, Section]] = []
    part_no, part_title = 0, ""
    for i, lb in enumerate(placed):
        if i in part_starts:
            for _, s in stack:
                s.end = lb.start
            stack.clear()
            part_no, part = part_starts[i]
            part_title = part.title
            root = Section(part_title, -1, [part_title], part.start, part.end, part_no)
            sections.append(root)
        block = lb.block
        rank = None
        after_attachment_list = i > 0 and _ATTACHMENT_LIST.match(placed[i - 1].block.text or "")
        if block.kind != "table" and block.text and not after_attachment_list:
            rank = heading_rank(block.text)
            if rank is None and block.kind == "heading" and block.text != part_title and block.level > 1:
                rank = 10 + block.level  # a Markdown heading without a Chinese number: junior to all
        if rank is not None and block.text != part_title:
            while stack and stack[-1][0] >= rank:
                stack.pop()[1].end = lb.start
            path = [part_title] + [s.title for _, s in stack] + [block.text]
            section = Section(block.text, rank, path, lb.start, text_length, part_no)
            sections.append(section)
            stack.append((rank, section))
        path_list = [part_title] + [s.title for _, s in stack]
        block_paths.append(" › ".join(p for p in path_list if p))
    # Clip every section to its part.
    for section in sections:
        part_end = parts[section.part][1].end
        section.end = min(section.end, part_end)
    return sections, block_paths
