"""Plain data that flows from ingestion to search: blocks, documents, sections, chunks, records.

Every object carries offsets into its document's normalised text, so a quote can always be traced
back to the exact characters it came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from common.types import Contact

BlockKind = Literal["heading", "paragraph", "table"]
SECTION_SEPARATOR = " › "


def stable_id(*parts: str, length: int = 16) -> str:
    """Return a short hash of the parts: ids derive from content and identity, so re-ingesting is idempotent."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


@dataclass
class Block:
    """One unit a loader reads from a file: a heading, a paragraph, or a table (rows of cell texts).

    `level` is a markup heading level (1 = title) when the format has one, else 0.
    """

    kind: BlockKind
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Entity:
    """A date, contact, URL, phone or e-mail found in the text, with its source span."""

    kind: str  # date | date_range | recurring_date | year | year_range | time | url | email | phone | contact
    text: str
    start: int
    end: int
    value: Any = None


@dataclass
class Fact:
    """A typed fact a sentence of running text states: a date, place, system, amount, limit, contact ...

    `start`/`end` span the sentence (what a citation quotes); `value_start`/`value_end` the value itself.
    `inferred` marks a pairing the text leaves open (two names, two numbers).
    """

    kind: str  # date | place | url | system | money | limit | contact | audience | materials | steps
    text: str
    value: Any
    section: str
    start: int
    end: int
    value_start: int
    value_end: int
    inferred: bool = False


@dataclass
class Part:
    """One document inside a file (a notice, the notice it forwards, an attachment)."""

    title: str
    start: int
    end: int
    kind: str = "text"  # notice | attachment | text
    doc_number: str | None = None
    issuer: str | None = None
    date: str | None = None
    attachments: list[str] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    addressees: str | None = None  # 主送机关: the line the notice is addressed to


@dataclass
class Section:
    """A heading and the span of text it governs; `path` runs from the part title down."""

    title: str
    level: int
    path: list[str]
    start: int
    end: int
    part: int

    @property
    def path_text(self) -> str:
        return SECTION_SEPARATOR.join(self.path)


@dataclass
class Chunk:
    """A passage small enough to cite: a group of sentences inside one section."""

    chunk_id: str
    doc_id: str
    section: str
    start: int
    end: int
    text: str
    part: int
    kind: str = "chunk"


@dataclass
class Table:
    """A table as read, with the header row recognised; cells keep their text."""

    table_id: str
    section: str
    headers: list[str]
    rows: list[list[str]]
    row_spans: list[tuple[int, int]]
    part: int
    caption: str = ""


@dataclass
class Record:
    """One row of a table, its columns understood by meaning (task, eligibility, deadline, ...)."""

    record_id: str
    doc_id: str
    table_id: str
    row: int  # 1-based, as a person counts rows under the header
    section: str
    part: int
    row_text: str
    start: int
    end: int
    fields: dict[str, str] = field(default_factory=dict)  # canonical field -> cell text (inferred included)
    headers: dict[str, str] = field(default_factory=dict)  # canonical field -> header as written
    extra: dict[str, str] = field(default_factory=dict)  # unknown header -> cell text
    inferred: list[str] = field(default_factory=list)  # fields filled from the row above (merged cells)
    inferred_from: dict[str, int] = field(default_factory=dict)  # field -> row the value was written in
    deadline: str | None = None  # ISO date (the end of a window)
    deadline_start: str | None = None  # ISO date when the deadline cell is a window
    deadline_time: str | None = None  # HH:MM when the cell gives a time of day
    contacts: list[Contact] = field(default_factory=list)
    kind: str = "record"

    @property
    def task(self) -> str:
        return self.fields.get("task", "")


@dataclass
class Document:
    """A parsed file: normalised text plus everything understood about it."""

    doc_id: str
    path: str
    content_hash: str
    title: str
    text: str
    format: str
    parts: list[Part] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """Rebuild a document saved with `to_dict`."""
        parts = [
            Part(**{**p, "contacts": [Contact(**c) for c in p.get("contacts", [])]}) for p in data["parts"]
        ]
        records = []
        for r in data["records"]:
            r = dict(r)
            r["contacts"] = [Contact(**c) for c in r.get("contacts", [])]
            records.append(Record(**r))
        return cls(
            doc_id=data["doc_id"],
            path=data["path"],
            content_hash=data["content_hash"],
            title=data["title"],
            text=data["text"],
            format=data["format"],
            parts=parts,
            sections=[Section(**s) for s in data["sections"]],
            chunks=[Chunk(**c) for c in data["chunks"]],
            tables=[Table(**{**t, "row_spans": [tuple(s) for s in t["row_spans"]]}) for t in data["tables"]],
            records=records,
            entities=[Entity(**e) for e in data["entities"]],
            facts=[Fact(**f) for f in data.get("facts", [])],
            warnings=list(data.get("warnings", [])),
        )

    def part_of(self, offset: int) -> Part | None:
        """Return the part that holds a character offset."""
        for part in self.parts:
            if part.start <= offset < part.end:
                return part
        return self.parts[-1] if self.parts else None
