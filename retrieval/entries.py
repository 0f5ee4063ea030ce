"""Search entries: what the indexes hold. Chunks, table records and staff FAQ entries become entries.

An entry's `text` is what a citation quotes (a verbatim span of its document, or a staff answer);
its `index_text` is what the indexes see (section path, task name and field names added for recall).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from retrieval.model import Document, Record


@dataclass
class Entry:
    """One searchable passage with everything a citation needs."""

    entry_id: str
    doc_id: str
    kind: str  # chunk | record | faq
    title: str
    section: str
    text: str
    index_text: str
    start: int = 0
    end: int = 0
    part: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


def record_index_text(record: Record) -> str:
    """Describe a record for the indexes: task name, then each field as 'header: value'."""
    lines = [record.task]
    for name, value in record.fields.items():
        if name != "task":
            lines.append(f"{record.headers.get(name, name)}：{value}")
    lines.extend(f"{header}：{value}" for header, value in record.extra.items())
    return "\n".join(lines)


def entries_for_document(doc: Document) -> list[Entry]:
    """Return the entries of one parsed document: its chunks and its table records."""
    entries: list[Entry] = []
    first_chunk_of_part: set[int] = set()
    for chunk in doc.chunks:
        part_title = doc.parts[chunk.part].title if chunk.part < len(doc.parts) else doc.title
        index_text = f"{chunk.section}\n{chunk.text}"
        if chunk.part not in first_chunk_of_part and chunk.part < len(doc.parts):
            # The part's header (issuer, number, date) is metadata, not body text: say it in words.
            first_chunk_of_part.add(chunk.part)
            part = doc.parts[chunk.part]
            facts = [
                f"发文单位 {part.issuer}" if part.issuer else "",
                f"文号 {part.doc_number}" if part.doc_number else "",
            ]
            facts.append(f"成文日期 {part.date}" if part.date else "")
            index_text += "\n" + " ".join(f for f in facts if f)
        entries.append(
            Entry(
                entry_id=chunk.chunk_id,
                doc_id=doc.doc_id,
                kind="chunk",
                title=part_title,
                section=chunk.section,
                text=chunk.text,
                index_text=index_text,
                start=chunk.start,
                end=chunk.end,
                part=chunk.part,
            )
        )
    rows_text = {}
    for record in doc.records:
        rows_text[record.row] = record.row_text
    for record in doc.records:
        part_title = doc.parts[record.part].title if record.part < len(doc.parts) else doc.title
        table = next((t for t in doc.tables if t.table_id == record.table_id), None)
        caption = table.caption if table else "表"
        entries.append(
            Entry(
                entry_id=record.record_id,
                doc_id=doc.doc_id,
                kind="record",
                title=part_title,
                section=f"{record.section} › {caption} 第{record.row}行",
                text=record.row_text,
                index_text=record_index_text(record),
                start=record.start,
                end=record.end,
                part=record.part,
                meta={
                    "task": record.task,
                    "row": record.row,
                    "table_id": record.table_id,
                    # Rows that inferred (merged-cell) values were written in: cited with the record.
                    "context": [
                        rows_text[r] for r in sorted(set(record.inferred_from.values())) if r in rows_text
                    ],
                },
            )
        )
    return entries
