"""Recover line structure from flattened web text: inline headings, numbered items, signatures.

Web notices often arrive as one long line: "… 通知如下： 一、评选范围 凡具有… （一）… 1.… 2.… 武汉大学
某学院 2026年9月22日". Cutting such a paragraph before each inline marker gives the parser the
headings, items and signature lines a printed notice has, so sections and passages become focused.
Only whitespace between pieces is dropped: every character of the text is kept, in order.
"""

from __future__ import annotations

import re

from retrieval.model import Block
from retrieval.normalize import clean_inline

# A paragraph shorter than this is left alone: a heading-like marker inside it is rarely a new item.
MIN_FLATTENED_CHARS = 60
MAX_HEADING_TITLE = 24

_CN = "一二三四五六七八九十"
# Item markers, each allowed only after a break (space or a sentence stop) in running text.
_MARKER = (
    rf"[{_CN}]{{1,3}}、"
    rf"|[（(][{_CN}]{{1,3}}[）)]"
    r"|\d{1,2}[．、]"
    r"|\d{1,2}\.(?!\d)"
    r"|[（(]\d{1,2}[）)]"
    r"|[①②③④⑤⑥⑦⑧⑨⑩]"
    r"|附件\s*\d*\s*[:：]"
    r"|联系人\s*[:：]|联系电话\s*[:：]|电子邮箱\s*[:：]|咨询电话\s*[:：]"
    # Labelled lines of an event notice: 报告时间：… 报告地点：… 报告人：…
    r"|[\u4e00-\u9fff]{0,4}(?:时间|地点|地址|对象|主题|题目|报告人|主讲人|主持人|主持|邀请人|嘉宾"
    r"|時間|地點|對象|主旨|說明|依據|公告事項|發布機關|發文日期|發文字號|聯絡人|聯絡電話|洽詢電話)\s*[:：]"
)
_BREAK_BEFORE = re.compile(rf"(?:(?<=\s)|(?<=[。；;！？!?：:]))(?={_MARKER})")
_HEADED_ITEM = re.compile(
    rf"^(?P<head>(?:[{_CN}]{{1,3}}、|[（(][{_CN}]{{1,3}}[）)])[^\s，。；：:,;！？]{{1,{MAX_HEADING_TITLE}}})\s+(?P<rest>\S.*)$",
    re.S,
)
_SIGNATURE = re.compile(
    r"\s(?P<issuer>[\u4e00-\u9fff（）()]{3,30}(?:大学|学院|学校|办公室|中心|委员会|厅|局|部|处|院|会|政府))"
    r"\s+(?P<date>\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*$"
)
_DATE_TAIL = re.compile(r"\s(?P<date>\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*$")


def paragraph_blocks(raw: str) -> list[Block]:
    """Paragraph blocks of one line as a reader found it, cut where flattened text hides line breaks.

    Readers call this before `clean_inline`, which drops the spaces between Chinese characters that
    are the only trace of the lost breaks.
    """
    raw = raw.strip()
    pieces = split_paragraph(raw) if len(raw) >= MIN_FLATTENED_CHARS else [raw]
    return [Block("paragraph", text=text) for text in (clean_inline(p) for p in pieces) if text]


def split_paragraph(text: str) -> list[str]:
    """Return the pieces of one flattened paragraph (the whole text when nothing marks a break)."""
    body, tail = _split_signature(text)
    cuts = [m.start() for m in _BREAK_BEFORE.finditer(body)]
    pieces: list[str] = []
    start = 0
    for cut in [*cuts, len(body)]:
        piece = body[start:cut].strip()
        start = cut
        if not piece:
            continue
        headed = _HEADED_ITEM.match(piece)
        if headed:
            pieces += [headed["head"], headed["rest"].strip()]
        else:
            pieces.append(piece)
    return pieces + tail


def _split_signature(text: str) -> tuple[str, list[str]]:
    """Take an issuer and a date off the end of a flattened notice, as the lines they are on paper."""
    m = _SIGNATURE.search(text)
    if m:
        return text[: m.start()], [m["issuer"], m["date"]]
    m = _DATE_TAIL.search(text)
    if m and len(text) > MIN_FLATTENED_CHARS:
        return text[: m.start()], [m["date"]]
    return text, []
