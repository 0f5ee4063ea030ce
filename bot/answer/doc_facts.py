"""Answers from a notice's own metadata: document number, issuer, date, addressees, attachments."""

from __future__ import annotations

from bot.answer.citations import span_citation
from bot.answer.draft import Draft
from bot.answer.words import grams
from bot.compose import phrase, show_date
from bot.knowledge import KnowledgeView
from bot.understand import Understanding
from retrieval.entities import find_dates
from retrieval.normalize import normalize_for_search


def doc_facts(view: KnowledgeView, u: Understanding, lang: str) -> Draft | None:
    """Answer from part metadata: document number, issuer, date, addressees, attachments."""
    candidates = []
    question = set(grams(u.expanded))
    for doc in view.documents.values():
        for part in doc.parts:
            if not (part.doc_number or part.date or part.attachments or part.addressees):
                continue
            named = len(question & set(grams(normalize_for_search(f"{part.issuer or ''} {part.title}"))))
            candidates.append((-named, part.kind != "notice", part.start, doc, part))
    if not candidates:
        return None
    *_, doc, part = min(candidates, key=lambda c: c[:3])
    en = lang == "en"
    asks_addressees = any(w in u.normalized for w in ("发给", "主送", "下发", "哪些单位收"))
    asks_attachments = "附件" in u.normalized or "attachment" in u.normalized
    facts = []
    if asks_addressees and part.addressees:
        facts.append(("addressed to: " if en else "主送：") + part.addressees)
    elif asks_attachments and part.attachments:
        facts.append(("attachments: " if en else "附件：") + "；".join(part.attachments))
    else:
        if part.doc_number:
            facts.append(f"document number {part.doc_number}" if en else f"文号 {part.doc_number}")
        if part.issuer:
            facts.append(f"issued by {part.issuer}" if en else f"发文单位 {part.issuer}")
        if part.date:
            facts.append(f"dated {part.date}" if en else f"成文日期 {show_date(part.date, lang)}")
    if not facts:
        return None
    draft = Draft(confidence=0.85)
    draft.lines.append(phrase("docfacts", lang, title=part.title, facts=("; " if en else "，").join(facts)))
    quoted_values = [part.doc_number, part.issuer]
    if asks_addressees:
        quoted_values = [part.addressees]
    elif asks_attachments:
        quoted_values = part.attachments[:3]  # type: ignore[assignment]
    for value in quoted_values:
        if value:
            at = doc.text.find(value, part.start, part.end)
            if at != -1:
                draft.cite(span_citation(doc, at, at + len(value)))
    date_line = _find_line(doc.text, part.start, part.end, part.date)
    if date_line and not (asks_addressees or asks_attachments):
        draft.cite(span_citation(doc, *date_line))
    if not draft.citations:
        draft.cite(span_citation(doc, part.start, min(part.end, part.start + len(part.title) + 40)))
    return draft


def _find_line(text: str, start: int, end: int, iso: str | None) -> tuple[int, int] | None:
    if not iso:
        return None
    for entity in find_dates(text[start:end]):
        if entity.kind == "date" and entity.value.get("date") == iso:
            return start + entity.start, start + entity.end
    return None
