"""Whom a notice names to contact: its labelled contacts, else the phones and e-mails it states, and
the contact lines that fit a question."""

from __future__ import annotations

import re

from bot.answer.draft import Cite, ProseDraft
from bot.answer.facts import Coverage, FactPick, pick_confidence, short_piece
from retrieval.entities import EMAIL, PHONE, normalize_phone
from retrieval.model import Contact, Document

_TEACHER = re.compile(
    r"([\u4e00-\u9fff]{1,3}老师|[\u4e00-\u9fff]{2,3})(?=\s*[（(]?\s*(?:电话|联系电话|手机|邮箱)?[:：]?\s*(?:0\d{2,3}|1[3-9]\d))"
)


def notice_contacts(doc: Document) -> list[Contact]:
    """The people and numbers a notice gives: labelled contacts, else the phones and e-mails it states."""
    labelled = [c for part in doc.parts for c in part.contacts]
    if labelled:
        return labelled
    contacts: list[Contact] = []
    for fact in doc.facts:
        if fact.kind != "contact":
            continue
        value = str(fact.value)
        if EMAIL.fullmatch(value):
            contacts.append(Contact(email=value))
        else:
            before = fact.text[: fact.value_start - fact.start]
            named = _TEACHER.search(before[-12:] + value) if before else None
            contacts.append(Contact(name=named.group(1) if named else None, phone=normalize_phone(value)))
    unique: dict[tuple[str | None, str | None], Contact] = {}
    for c in contacts:
        unique.setdefault((c.phone, c.email), c)
    return list(unique.values())[:4]


def contact_lines(
    doc: Document, picks: list[FactPick], lang: str, *, cite: Cite, coverage: Coverage
) -> ProseDraft:
    """The contact lines of the notice that fit the question (a phone line and an e-mail line)."""
    best = picks[0]
    chosen = [best.fact]
    for p in picks[1:4]:
        near = abs(p.fact.start - best.fact.start) <= 200 and p.fact.start != best.fact.start
        if near and p.score >= best.score - 0.35 and all(p.fact.start != f.start for f in chosen):
            chosen.append(p.fact)
    chosen.sort(key=lambda f: f.start)
    lines = [
        short_piece(f.text, f.value_start - f.start, f.value_end - f.start, set(), coverage) for f in chosen
    ]
    if lang == "en":
        lines = [f"Contact: {'; '.join(lines)}"]
    contacts = [
        c
        for c in notice_contacts(doc)
        if any(
            (c.phone or "-") in f.text
            or (c.email or "-") in f.text
            or (c.phone and normalize_phone(str(f.value)) == c.phone)
            for f in chosen
        )
    ]
    return ProseDraft(lines, [cite(doc, f.start, f.end) for f in chosen], contacts, pick_confidence(best))


def contact_text(contacts: list[Contact], lang: str) -> str:
    """Contacts as one line: office, name, phone, e-mail."""
    parts = []
    for c in contacts:
        bits = [b for b in (c.department, c.name, c.phone, c.email) if b]
        parts.append(" ".join(bits))
    return ("; " if lang == "en" else "；").join(parts)


def contact_span(doc: Document) -> tuple[int, int]:
    """Where a notice names its first contact (else its first phone or e-mail, else its title)."""
    for c in (c for part in doc.parts for c in part.contacts):
        for value in (c.phone, c.email, c.name):
            if value:
                at = doc.text.find(value.split("、")[0])
                if at != -1:
                    return at, at + len(value.split("、")[0])
    m = PHONE.search(doc.text) or EMAIL.search(doc.text)
    return (m.start(), m.end()) if m else (0, min(len(doc.text), len(doc.title)))
