"""Citations: every quote is a slice of its document's text, so it is verbatim by construction."""

from __future__ import annotations

from bot.answer.draft import Draft
from bot.contract import Citation
from bot.knowledge import KnowledgeView
from retrieval.model import Contact, Document, Record


def span_citation(
    doc: Document, start: int, end: int, *, section: str | None = None, kind: str = "chunk"
) -> Citation:
    """Cite doc.text[start:end]: the quote is a slice of the document, so it is verbatim by construction."""
    start, end = max(0, start), min(len(doc.text), end)
    part = doc.part_of(start)
    if section is None:
        section = next(
            (s.path_text for s in sorted(doc.sections, key=lambda s: -s.start) if s.start <= start < s.end),
            part.title if part else doc.title,
        )
    return Citation(
        doc.doc_id, part.title if part else doc.title, section, doc.text[start:end], kind, start, end
    )


def record_citation(doc: Document, record: Record) -> Citation:
    """Cite a table row: its span, under the table's caption and the row's number."""
    table = next((t for t in doc.tables if t.table_id == record.table_id), None)
    caption = table.caption if table else "表"
    section = f"{record.section} › {caption} 第{record.row}行"
    return span_citation(doc, record.start, record.end, section=section, kind="record")


def cite_contacts(view: KnowledgeView, draft: Draft, contacts: list[Contact]) -> None:
    """Cite where the first of these contacts is named in a notice."""
    for doc in view.documents.values():
        for entity in doc.entities:
            named = isinstance(entity.value, dict) and entity.value.get("name")
            if entity.kind == "contact" and any(c.name == named for c in contacts):
                draft.cite(span_citation(doc, entity.start, entity.end))
                return
