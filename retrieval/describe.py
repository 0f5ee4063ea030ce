"""Plain-data views of a parsed document, as `applybot inspect --json` prints them."""

from __future__ import annotations

from typing import Any

from retrieval.facts import describe_fact
from retrieval.model import Document, Record


def describe_record(record: Record) -> dict[str, Any]:
    """Return a record with its fields under their canonical names."""
    return {
        "row": record.row,
        "task": record.fields.get("task"),
        "eligibility": record.fields.get("eligibility"),
        "deadline": record.deadline,
        "deadline_start": record.deadline_start,
        "deadline_time": record.deadline_time,
        "deadline_text": record.fields.get("deadline"),
        "materials": record.fields.get("materials"),
        "method": record.fields.get("method"),
        "contacts": [c.to_dict() for c in record.contacts],
        "contacts_text": record.fields.get("contacts"),
        "extra": record.extra,
        "inferred": record.inferred,
        "inferred_from": record.inferred_from,
        "row_text": record.row_text,
        "section": record.section,
    }


def describe_document(doc: Document) -> dict[str, Any]:
    """Return what was understood of a document: metadata, parts, sections, tables, records, entities."""
    first = doc.parts[0] if doc.parts else None
    return {
        "doc_id": doc.doc_id,
        "path": doc.path,
        "format": doc.format,
        "title": doc.title,
        "doc_number": first.doc_number if first else None,
        "issuer": first.issuer if first else None,
        "date": first.date if first else None,
        "parts": [
            {
                "title": p.title,
                "kind": p.kind,
                "doc_number": p.doc_number,
                "issuer": p.issuer,
                "date": p.date,
                "attachments": p.attachments,
                "addressees": p.addressees,
                "contacts": [c.to_dict() for c in p.contacts],
            }
            for p in doc.parts
        ],
        "sections": [{"title": s.title, "path": s.path_text, "level": s.level} for s in doc.sections],
        "tables": [
            {"caption": t.caption, "section": t.section, "headers": t.headers, "rows": len(t.rows)}
            for t in doc.tables
        ],
        "records": [describe_record(r) for r in doc.records],
        "entities": [
            {"kind": e.kind, "text": e.text, "start": e.start, "end": e.end, "value": e.value}
            for e in doc.entities
        ],
        "facts": [describe_fact(f) for f in doc.facts],
        "chunks": len(doc.chunks),
        "warnings": doc.warnings,
    }
