"""Relations between notices: which later notice amends, postpones, corrects or revokes an earlier one,
which is the next round of the same call, and which values it changes.

A notice is found to act on another by what notices write: an amendment cue in the title or a
sentence (补充, 延期, 延长, 更正, 撤销 …), and a reference to the earlier notice — its 文号, its title
in 《》, or, failing both, a title that says the same thing once the cue words are taken out. Rounds are
titles that differ only in their year or batch (2025年 / 2026年, 第一批 / 第二批). The changed values
come from sentences such as "原定于10月7日截止的申报时间延期至10月15日" or "联系电话更正为…".
Everything here is read from the documents; nothing names a particular notice.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from retrieval.chunking import split_sentences
from retrieval.entities import PHONE, chinese_number, find_dates
from retrieval.model import Document
from retrieval.normalize import to_simplified

RELATION_KINDS = ("postpones", "amends", "corrects", "revokes", "next_round", "attachment_of")

# Title and sentence cues, strongest first: the first that matches names the relation.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("revokes", re.compile(r"撤销|撤回|废止|取消|停止|终止|暂停")),
    ("corrects", re.compile(r"更正|勘误|纠正")),
    ("postpones", re.compile(r"延期|延长|推迟|顺延|延后|展期|展延|延至")),
    ("amends", re.compile(r"补充|调整|变更|更改|修改|修正")),
)
# Words that say what kind of text a title is, not what it is about: taken out before titles are compared.
_TITLE_NOISE = re.compile(
    r"关于|有关|的|通知|公告|公示|通告|函|事项|工作|再次|进一步|做好|开展|组织|申报时间|报名时间|截止时间|提交时间|时间|"
    r"补充|调整|变更|更改|修改|增补|延期|延长|推迟|顺延|延后|展期|更正|勘误|纠正|修正|撤销|撤回|废止|取消|停止|终止|暂停|"
    r"[\s\W_]"
)
_YEAR = re.compile(r"(?<!\d)(20\d{2}|19\d{2})\s*(?:年度?|学年|届)?|(?<!\d)(\d{2,3})\s*年度")
_BATCH = re.compile(r"第\s*([一二三四五六七八九十\d]+)\s*(?:批次?|期|轮|届)")
_REF_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔［\[（(]\s*\d{4}\s*[〕］\]）)]\s*第?\s*\d{1,4}\s*号")
_QUOTED_TITLE = re.compile(r"[《「]([^《》「」]{4,80})[》」]")
# 补充, 调整, 修改 … are everyday words: as a title cue they must be about a notice or what it set.
_AMENDS_TITLE = re.compile(
    r"补充(?:通知|说明|公告|规定)|(?:调整|变更|更改|修改|修正)[^，。；]{0,16}?(?:时间|日期|期限|安排|地点|通知|公告|办法|要点|规定|事项|名单|方案)"
    r"|(?:修正|修改)\s*[「《“]"
)
# A value moves: 延期至, 延长到, 调整为, 改为, 更正为 …
_MOVE = re.compile(
    r"(?:延期|延长|推迟|顺延|延后|展延|调整|变更|更改|更正|修改|改|提前)\s*(?:至|到|为|自)|(?:截止|截至)(?:时间|日期)?\s*(?:顺延|延)至|延至"
)
_NUMERAL = r"[\d〇零一二三四五六七八九十]"
_ORIGINAL = re.compile(
    rf"原定|原订|原为|原来|原本|原(?=[^，。；]{{0,20}}{_NUMERAL})|由(?=[^，。；]{{0,10}}{_NUMERAL})"
)
# "更正如下：(一)优质型：自94年5月5日至94年6月20日止" — the changed values follow as a list.
_AS_FOLLOWS = re.compile(r"(?:更正|修正|调整|变更|修改)如下")
_LABEL = re.compile(r"^[\s(（]*[一二三四五六七八九十\d]*[)）、.]?\s*(?P<label>[^：:，。]{1,12})[：:]")
_CONTACT_WORDS = re.compile(r"联系人|联系电话|联系方式|咨询电话|电话|邮箱|信箱")
PLACE_WORDS = re.compile(r"地点|地址|考场|会场|场地")
_TITLE_NEAR = 0.6  # share of the smaller title's bigrams the other title holds, for an amendment's target
_ROUND_NEAR = 0.85  # the same for two rounds of a call (their titles differ only in year or batch)


@dataclass
class Change:
    """A value a later notice changes: a date, a contact or a place, old (when written) and new."""

    kind: str  # date | contact | place
    new: str  # the new value, as written in the amending notice
    old: str | None = None  # the old value as the amending notice quotes it (None when it does not)
    new_iso: str | None = None  # dates: the new (end) date
    old_iso: str | None = None
    subject: str = ""  # what the sentence says changes ("申报截止时间"), as written
    start: int = 0  # the sentence in the amending notice
    end: int = 0


@dataclass
class Relation:
    """`source` (the later notice) acts on `target`; `evidence` is what in the source says so."""

    kind: str
    source: str
    target: str
    evidence: str
    via: str  # doc_number | quoted_title | title | round | staff
    changes: list[Change] = field(default_factory=list)
    confirmed: bool = False  # a staff member confirmed (or added) it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_relations(documents: list[Document]) -> list[Relation]:
    """Return every relation between the documents, later notice first in each."""
    facts = {d.doc_id: _NoticeFacts.of(d) for d in documents}
    relations: list[Relation] = []
    amending: set[str] = set()
    for doc in documents:
        me = facts[doc.doc_id]
        kind, evidence = _cue(me.title, doc)
        if kind is None:
            continue
        found = _target(doc, me, [facts[d.doc_id] for d in documents if d.doc_id != doc.doc_id])
        if found is None:
            continue
        target, via = found
        changes = find_changes(doc, default_year=me.year_of_date)
        if kind == "amends" and any(c.kind == "date" for c in changes) and _CUES[2][1].search(doc.text):
            kind = "postpones"  # '调整…申报时间' that moves a date later
        relations.append(Relation(kind, doc.doc_id, target.doc_id, evidence, via, changes))
        amending.add(doc.doc_id)
    relations += _rounds([facts[d.doc_id] for d in documents if d.doc_id not in amending])
    relations += _attachments(documents)
    return relations


def find_changes(doc: Document, *, default_year: int | None = None) -> list[Change]:
    """Return the values a notice says it changes, sentence by sentence (dates, contacts, places)."""
    changes: list[Change] = []
    text = doc.text
    listed = 0  # sentences still to read after '更正如下'
    for start, end in split_sentences(text):
        sentence = to_simplified(text[start:end])
        if _AS_FOLLOWS.search(sentence):
            listed = 6
        elif listed:
            listed -= 1
            label = _LABEL.match(sentence)
            dates = [
                d for d in find_dates(sentence, default_year=default_year) if d.kind in ("date", "date_range")
            ]
            if label and dates:
                d = dates[0]
                changes.append(
                    Change(
                        "date",
                        new=text[start + d.start : start + d.end],
                        new_iso=_end_iso(d.value),
                        subject=label.group("label"),
                        start=start,
                        end=end,
                    )
                )
                continue
        move = _MOVE.search(sentence)
        if move is None:
            continue
        dates = find_dates(sentence, default_year=default_year)
        before = [d for d in dates if d.end <= move.start() and d.kind in ("date", "date_range")]
        after = [d for d in dates if d.start >= move.end() and d.kind in ("date", "date_range")]
        if after:
            new = after[0]
            original = _ORIGINAL.search(sentence[: move.start()])
            old = before[-1] if before and (original or len(before) == 1) else None
            head = sentence[: move.start()]
            for d in reversed(before):
                head = head[: d.start] + head[d.end :]
            changes.append(
                Change(
                    "date",
                    new=text[start + new.start : start + new.end],
                    old=text[start + old.start : start + old.end] if old else None,
                    new_iso=_end_iso(new.value),
                    old_iso=_end_iso(old.value) if old else None,
                    subject=_subject(_ORIGINAL.sub("", head)),
                    start=start,
                    end=end,
                )
            )
            continue
        head, tail = sentence[: move.start()], sentence[move.end() :]
        if _CONTACT_WORDS.search(head):
            phones = [m.group(0) for m in PHONE.finditer(tail)]
            if phones:
                old_phones = [m.group(0) for m in PHONE.finditer(head)]
                changes.append(
                    Change(
                        "contact",
                        new=re.split(r"[。；;]", tail)[0].strip(),
                        old=old_phones[-1] if old_phones else None,
                        subject=_subject(head),
                        start=start,
                        end=end,
                    )
                )
                continue
        if PLACE_WORDS.search(head):
            place = re.match(r"\s*([^，。；;,]{2,40})", tail)
            if place:
                changes.append(
                    Change("place", new=place.group(1), subject=_subject(head), start=start, end=end)
                )
    return changes


@dataclass
class _NoticeFacts:
    """What relation finding needs of one document, computed once."""

    doc_id: str
    title: str
    core: set[str]  # bigrams of the title without cue words, years and batches
    year: int | None  # the year or batch key the title names
    batch: int | None
    numbers: set[str]  # the 文号 the document carries
    date: str | None  # its own date (signature or publication), ISO
    year_of_date: int | None
    amending: bool  # its title says it amends, postpones, corrects or revokes another

    @classmethod
    def of(cls, doc: Document) -> _NoticeFacts:
        title = to_simplified(doc.title)
        year = _title_year(title)
        batch_match = _BATCH.search(title)
        dates = sorted(p.date for p in doc.parts if p.date)
        own_date = dates[-1] if dates else published_date(doc)
        return cls(
            doc_id=doc.doc_id,
            title=title,
            core=_bigrams(_core_title(title)),
            year=year,
            batch=chinese_number(batch_match.group(1)) if batch_match else None,
            numbers={re.sub(r"\s", "", p.doc_number) for p in doc.parts if p.doc_number},
            date=own_date,
            year_of_date=int(own_date[:4]) if own_date else year,
            amending=any(pattern.search(title) for _, pattern in _CUES),
        )


def _cue(title: str, doc: Document) -> tuple[str | None, str]:
    """The amendment cue in the title, or in a sentence of the text that moves a date ('原定…延期至…')."""
    for kind, pattern in _CUES:
        m = pattern.search(title)
        if m and (kind != "amends" or _AMENDS_TITLE.search(title)):
            return kind, m.group(0)
    head = doc.text[:3000]
    if "原" not in head:  # the same character in both scripts: most notices stop here, cheaply
        return None, ""
    for start, end in split_sentences(head):
        if "原" not in head[start:end]:
            continue
        sentence = to_simplified(head[start:end])
        if _ORIGINAL.search(sentence) and _MOVE.search(sentence) and find_dates(sentence):
            return "postpones", head[start:end].strip()
    return None, ""


def _target(doc: Document, me: _NoticeFacts, others: list[_NoticeFacts]) -> tuple[_NoticeFacts, str] | None:
    """The earlier notice the amendment refers to: by 文号, by a quoted title, else by its own title."""
    text = to_simplified(doc.text)
    earlier = [o for o in others if not (me.date and o.date and o.date > me.date)]
    numbers = {re.sub(r"\s", "", m.group(0)) for m in _REF_NUMBER.finditer(text)} - me.numbers
    for other in earlier:
        if numbers & other.numbers:
            return other, "doc_number"
    # An original notice before another amendment; then the closest title; among equals, the one of
    # the year the reference names, then the latest.
    best: tuple[tuple[bool, float, bool, str], _NoticeFacts | None, str] = ((False, 0.0, False, ""), None, "")
    references = [(q, "quoted_title") for q in _QUOTED_TITLE.findall(text)] + [(me.title, "title")]
    for other in earlier:
        for title, via in references:
            score = _near(_bigrams(_core_title(title)), other.core)
            if score < _TITLE_NEAR:
                continue
            year = _title_year(title)
            key = (
                not other.amending,
                round(score, 2),
                year is not None and year == other.year,
                other.date or "",
            )
            if key > best[0]:
                best = (key, other, via)
    if best[1] is None:
        return None
    return best[1], best[2]


def _rounds(notices: list[_NoticeFacts]) -> list[Relation]:
    """Titles that differ only in year or batch: each later round points at the round before it."""
    relations: list[Relation] = []
    for a in notices:
        if a.year is None and a.batch is None:
            # The same title published again in a later year is that year's round.
            earlier = [
                b
                for b in notices
                if b is not a
                and b.year is None
                and b.core == a.core
                and len(a.core) >= 6
                and a.year_of_date
                and b.year_of_date
                and b.year_of_date < a.year_of_date
            ]
            if earlier:
                previous = max(earlier, key=lambda b: b.date or "")
                relations.append(Relation("next_round", a.doc_id, previous.doc_id, a.title, "round"))
            continue
        earlier = [
            b
            for b in notices
            if b is not a
            and (b.year is not None or b.batch is not None)
            and (b.year, b.batch) != (a.year, a.batch)
            and _key(b) < _key(a)
            and len(a.core & b.core) / max(len(a.core), len(b.core), 1) >= _ROUND_NEAR
            and min(len(a.core), len(b.core)) >= 3
        ]
        if earlier:
            previous = max(earlier, key=_key)
            relations.append(Relation("next_round", a.doc_id, previous.doc_id, a.title, "round"))
    return relations


def _attachments(documents: list[Document]) -> list[Relation]:
    """A file whose title a notice lists as its attachment (附件) is that notice's attachment."""
    relations: list[Relation] = []
    for doc in documents:
        listed = [to_simplified(item) for p in doc.parts for item in p.attachments]
        if not listed:
            continue
        for other in documents:
            title = to_simplified(other.title)
            if other.doc_id != doc.doc_id and len(title) >= 6 and any(title in item for item in listed):
                relations.append(Relation("attachment_of", other.doc_id, doc.doc_id, other.title, "title"))
    return relations


def _title_year(title: str) -> int | None:
    """The year a title names (民國 years counted from 1911)."""
    m = _YEAR.search(title)
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else int(m.group(2)) + 1911


def _key(n: _NoticeFacts) -> tuple[int, int]:
    return (n.year or 0, n.batch or 0)


def _core_title(title: str) -> str:
    title = _YEAR.sub("", title)
    title = _BATCH.sub("", title)
    return _TITLE_NOISE.sub("", title)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _near(a: set[str], b: set[str]) -> float:
    """Share of the smaller set held by the other (a short title inside a long one counts)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _end_iso(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    found = value.get("end") or value.get("date")
    return str(found) if found else None


def _subject(text: str) -> str:
    text = re.sub(
        r"^[\s，,、：:（(]*(?:经研究|根据[^，]{0,20}|现将|为[^，]{0,20}|因[^，]{0,20})?[，,]?", "", text
    )
    return text.strip(" ，,、：:（(原定于将由")[-40:]


_PUBLISHED = re.compile(
    r"(?:发布日期|發布日期|发文日期|發文日期|发布时间|發布時間|日期)\s*[:：]\s*(?:中华民国|中華民國)?\s*"
    r"(\d{2,4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)


def published_date(doc: Document) -> str | None:
    """The 发布日期 / 發文日期 line near the top, as ISO (民國 years counted from 1911)."""
    m = _PUBLISHED.search(doc.text[:600])
    if not m:
        return None
    year = int(m.group(1))
    year = year + 1911 if year < 1000 else year
    return f"{year:04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
