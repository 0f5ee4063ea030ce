"""Turn a loaded file into a Document: text, parts, sections, tables, records, entities, chunks."""

from __future__ import annotations

from pathlib import Path

from retrieval.chunking import make_chunks
from retrieval.entities import find_dates, find_entities
from retrieval.facts import extract_facts
from retrieval.loaders import LoadedFile
from retrieval.model import Document, Table, stable_id
from retrieval.structure import find_parts, find_sections, heading_rank, join_broken_paragraphs, lay_out
from retrieval.tables import build_records, looks_like_header

# Bump when parsing changes what it produces: stored documents of an older version are parsed again.
PARSER_VERSION = "24"


def parse_document(loaded: LoadedFile, *, rel_path: str) -> Document:
    """Understand one file's blocks; pure apart from reading nothing (the loader already read the file)."""
    doc_id = stable_id("doc", rel_path)
    blocks = join_broken_paragraphs(loaded.blocks)
    text, placed = lay_out(blocks)
    parts_at = find_parts(placed, text, fallback_title=Path(rel_path).stem)
    sections, block_paths = find_sections(placed, parts_at, len(text))
    parts = [part for _, part in parts_at]
    part_of_block = []
    k = 0
    for i in range(len(placed)):
        while k + 1 < len(parts_at) and parts_at[k + 1][0] <= i:
            k += 1
        part_of_block.append(k)

    default_year = _default_year(text, parts)
    doc = Document(
        doc_id=doc_id,
        path=rel_path,
        content_hash=loaded.content_hash,
        title=parts[0].title if parts else Path(rel_path).stem,
        text=text,
        format=loaded.format,
        parts=parts,
        sections=sections,
    )
    paragraphs: list[tuple[int, int, str, int]] = []
    for i, lb in enumerate(placed):
        block = lb.block
        if block.kind == "table":
            _add_table(doc, lb.row_spans, block.rows, block_paths[i], part_of_block[i], default_year)
        elif block.kind == "paragraph" and heading_rank(block.text) is None:
            paragraphs.append((lb.start, lb.end, block_paths[i], part_of_block[i]))
    doc.chunks = make_chunks(text, doc_id=doc_id, paragraphs=paragraphs)
    doc.entities = find_entities(text, default_year=default_year)
    doc.facts = extract_facts(doc, default_year=default_year)
    return doc


def _default_year(text: str, parts: list) -> int | None:  # type: ignore[type-arg]
    for part in parts:
        if part.date:
            return int(part.date[:4])
    for entity in find_dates(text):
        if entity.kind == "date":
            return int(str(entity.value["date"])[:4])
    return None


def _add_table(
    doc: Document,
    row_spans: list[tuple[int, int]],
    rows: list[list[str]],
    section: str,
    part: int,
    default_year: int | None,
) -> None:
    table_no = len(doc.tables) + 1
    table_id = stable_id(doc.doc_id, "table", str(table_no))
    if rows and looks_like_header(rows[0]):
        headers, data, spans = rows[0], rows[1:], row_spans
    else:
        headers = [f"列{c + 1}" for c in range(len(rows[0]) if rows else 0)]
        data, spans = rows, [(row_spans[0][0], row_spans[0][0])] + row_spans
        doc.warnings.append(f"table {table_no} in '{section}': no header row recognised; kept as text")
    table = Table(table_id, section, headers, data, spans, part, caption=f"表{table_no}")
    doc.tables.append(table)
    if headers and not headers[0].startswith("列"):
        row_text = [doc.text[s:e] for s, e in spans]
        records, warnings = build_records(
            table, doc_id=doc.doc_id, default_year=default_year, row_text=row_text
        )
        doc.records.extend(records)
        doc.warnings.extend(warnings)
