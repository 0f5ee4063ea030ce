"""What the assistant knows, derived from the parsed documents: tasks, their records, deadlines, contacts."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.deadlines import Deadline, find_deadlines
from bot.in_force import InForce
from bot.understand import TaskMatcher
from retrieval.model import Contact, Document, Entity, Part, Record
from retrieval.relations import Relation, find_relations
from retrieval.structure import HEADING_PATTERNS


@dataclass
class DatedFact:
    """A date, window or recurring date in running text, with the sentence it sits in."""

    entity: Entity
    doc: Document
    part: Part
    sentence: tuple[int, int]


@dataclass
class KnowledgeView:
    """Indexes over the documents that structured answers need, rebuilt whenever documents change."""

    documents: dict[str, Document] = field(default_factory=dict)
    records_by_task: dict[str, list[Record]] = field(default_factory=dict)
    matcher: TaskMatcher = field(default_factory=lambda: TaskMatcher([]))
    windows: list[DatedFact] = field(default_factory=list)
    recurring: list[DatedFact] = field(default_factory=list)
    in_force: InForce = field(default_factory=lambda: InForce({}, []))
    _deadlines: list[Deadline] | None = None

    @classmethod
    def build(cls, documents: list[Document], relations: list[Relation] | None = None) -> KnowledgeView:
        """Index the documents; records carry the deadlines later notices set (relations found if not given)."""
        view = cls(documents={d.doc_id: d for d in documents})
        view.in_force = InForce(view.documents, find_relations(documents) if relations is None else relations)
        background: list[str] = []
        for doc in documents:
            for record in view.in_force.apply_to_records(doc.records):
                if record.task:
                    view.records_by_task.setdefault(record.task, []).append(record)
            background.extend(_strip_number(s.title) for s in doc.sections)
            for entity in doc.entities:
                if entity.kind in ("date_range", "recurring_date"):
                    part = doc.part_of(entity.start)
                    if part is None or _in_table(doc, entity.start):
                        continue
                    fact = DatedFact(entity, doc, part, _sentence_around(doc.text, entity.start, entity.end))
                    (view.windows if entity.kind == "date_range" else view.recurring).append(fact)
        view.matcher = TaskMatcher(list(view.records_by_task), background=background)
        return view

    def deadlines(self) -> list[Deadline]:
        """Every deadline of the notices in force (computed once per view)."""
        if self._deadlines is None:
            self._deadlines = find_deadlines(self.documents, self.in_force, self.all_records())
        return self._deadlines

    def record_for(self, task: str) -> Record | None:
        records = self.records_by_task.get(task)
        return records[0] if records else None

    def all_records(self) -> list[Record]:
        return [r for records in self.records_by_task.values() for r in records]

    def general_contacts(self, doc_id: str | None = None) -> list[Contact]:
        """Return the contacts a notice names in its text (not in a table): never another notice's."""
        if doc_id is None and len(self.documents) == 1:
            doc_id = next(iter(self.documents))
        doc = self.documents.get(doc_id) if doc_id else None
        if doc is not None:
            for part in doc.parts:
                if part.contacts:
                    return list(part.contacts)
        return []

    def parent_part(self, doc: Document, part: Part) -> Part:
        """Return the notice an attachment belongs to (the part that lists it), else the part itself."""
        if part.kind != "attachment":
            return part
        for other in doc.parts:
            if any(part.title in item or item in part.title for item in other.attachments):
                return other
        return part


def _strip_number(title: str) -> str:
    for pattern in HEADING_PATTERNS:
        title = pattern.sub("", title)
    return title.strip()


def _in_table(doc: Document, offset: int) -> bool:
    return any(r.start <= offset < r.end for r in doc.records)


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Return the span of the sentence that holds [start, end): from the previous stop to the next."""
    stops = "。！？；\n"
    left = max(text.rfind(ch, 0, start) for ch in stops) + 1
    rights = [i for i in (text.find(ch, end) for ch in stops) if i != -1]
    right = min(rights) + 1 if rights else len(text)
    while left < right and text[left] in " \t":
        left += 1
    if text[right - 1 : right] == "\n":
        right -= 1
    return left, right
