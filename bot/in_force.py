"""The notices as they stand today: what later notices changed, which round is current, what is revoked.

`InForce` is built from the documents and their relations (retrieval.relations). It moves a record's
deadline to the date an amendment gives, remembers the change so the answer can say so and cite both
notices, finds the dates a passage states that a later notice moved (bot/answer/in_force.py rewrites
answers with them), and picks the round of a call a question is about (the current one unless the
question names a year or another round).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from retrieval.entities import find_dates
from retrieval.model import Document, Record
from retrieval.normalize import to_simplified
from retrieval.relations import Change, Relation, find_changes, published_date

# Status of a notice, as staff see it and as answers treat it.
CURRENT, AMENDED, SUPERSEDED, REVOKED, RETIRED = "current", "amended", "superseded", "revoked", "retired"
_THIS_YEAR = re.compile(r"今年|本年度?|this year")
_LAST_YEAR = re.compile(r"去年|上一?年度?|last year")
_NEXT_ROUND = re.compile(r"下一?[批轮届期次]|明年|next (?:round|year|batch)")
_PREVIOUS_ROUND = re.compile(r"上一?[批轮届期次]|previous (?:round|batch)")
# A sentence that sets a deadline (simplified Chinese).
DEADLINE_WORDS = re.compile(
    r"截止|截至|之前|以前|前(?:提交|报送|完成|上传|送达|报名|交|寄)|报名时间|申报时间|申请时间|受理|报名日期"
)
_NAMED_YEAR = re.compile(r"(?<!\d)(20\d{2})\s*年?")


@dataclass
class AppliedChange:
    """A change a later notice makes to a value of an earlier one."""

    relation: Relation
    change: Change
    source: Document  # the amending notice
    replaced: str | None = None  # the ISO date it replaces (a record's original deadline)


@dataclass
class Decisions:
    """The decisions in force, as plain data."""

    retired: set[str] = field(default_factory=set)
    confirmed: set[tuple[str, str]] = field(default_factory=set)
    rejected: set[tuple[str, str]] = field(default_factory=set)
    added: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, target) -> kind


class InForce:
    """Relations between notices applied: the values, rounds and statuses in force."""

    def __init__(self, documents: dict[str, Document], relations: list[Relation]) -> None:
        self.documents = documents
        self.relations = [r for r in relations if r.source in documents and r.target in documents]
        self.by_target: dict[str, list[Relation]] = {}
        self.by_source: dict[str, list[Relation]] = {}
        for relation in self.relations:
            self.by_target.setdefault(relation.target, []).append(relation)
            self.by_source.setdefault(relation.source, []).append(relation)
        self.record_changes: dict[str, AppliedChange] = {}

    # -- statuses and rounds ---------------------------------------------------------------------

    def status(self, doc_id: str) -> str:
        """current, amended (a later notice changes some values), superseded (a later round) or revoked."""
        kinds = {r.kind for r in self.by_target.get(doc_id, [])}
        if "revokes" in kinds:
            return REVOKED
        if "next_round" in kinds:
            return SUPERSEDED
        if kinds & {"postpones", "amends", "corrects"}:
            return AMENDED
        return CURRENT

    def amendments_of(self, doc_id: str) -> list[Relation]:
        kinds = ("postpones", "amends", "corrects", "revokes")
        return [r for r in self.by_target.get(doc_id, []) if r.kind in kinds]

    def amended_notice(self, doc_id: str) -> str | None:
        """The notice an amendment acts on (the one questions about the call are answered from)."""
        for relation in self.by_source.get(doc_id, []):
            if relation.kind in ("postpones", "amends", "corrects", "revokes"):
                return relation.target
        return None

    def rounds(self, doc_id: str) -> list[str]:
        """Every round of the call the notice belongs to, oldest first."""
        first = doc_id
        seen = {first}
        while True:
            earlier = next((r.target for r in self.by_source.get(first, []) if r.kind == "next_round"), None)
            if earlier is None or earlier in seen:
                break
            first = earlier
            seen.add(first)
        chain = [first]
        while True:
            later = next(
                (r.source for r in self.by_target.get(chain[-1], []) if r.kind == "next_round"), None
            )
            if later is None or later in chain:
                return chain
            chain.append(later)

    def round_for(self, doc_id: str, question: str, today: date) -> str:
        """The round of the call a question means: a named year, last year, the next or previous round,
        else the current (latest) one."""
        chain = self.rounds(doc_id)
        if len(chain) == 1:
            return doc_id
        text = to_simplified(question).lower()
        years = {d: round_year(self.documents[d]) for d in chain}
        named = _NAMED_YEAR.search(text)
        wanted = None
        if named:
            wanted = int(named.group(1))
        elif _LAST_YEAR.search(text):
            wanted = today.year - 1
        elif _THIS_YEAR.search(text):
            wanted = today.year
        if wanted is not None:
            for d in chain:
                if years[d] == wanted:
                    return d
            return doc_id
        position = chain.index(doc_id)
        if _NEXT_ROUND.search(text):
            return chain[min(position + 1, len(chain) - 1)]
        if _PREVIOUS_ROUND.search(text):
            return chain[max(position - 1, 0)]
        return chain[-1]

    def collapse(self, candidates: list[str]) -> list[str]:
        """Candidates that are one call count once: an amendment goes to its notice, rounds to the latest."""
        out: list[str] = []
        for doc_id in candidates:
            doc_id = self.amended_notice(doc_id) or doc_id
            doc_id = self.rounds(doc_id)[-1]
            if doc_id not in out:
                out.append(doc_id)
        return out

    # -- values in force -------------------------------------------------------------------------

    def apply_to_records(self, records: list[Record]) -> list[Record]:
        """Return the records with the deadlines later notices moved (the originals stay in the documents)."""
        out = []
        for record in records:
            applied = self._record_change(record)
            if applied is None or applied.change.new_iso is None:
                out.append(record)
                continue
            applied.replaced = record.deadline
            self.record_changes[record.record_id] = applied
            start = (
                record.deadline_start
                if record.deadline_start and record.deadline_start < applied.change.new_iso
                else None
            )
            out.append(
                replace(record, deadline=applied.change.new_iso, deadline_start=start, deadline_time=None)
            )
        return out

    def _record_change(self, record: Record) -> AppliedChange | None:
        if not record.deadline:
            return None
        found = None
        for relation in self.amendments_of(record.doc_id):
            for change in relation.changes:
                if change.kind != "date" or not change.new_iso:
                    continue
                if change.old_iso and change.old_iso != record.deadline:
                    continue
                names_task = _names(change.subject, record.task)
                names_other = any(
                    _names(change.subject, other.task)
                    for other in self.documents[record.doc_id].records
                    if other.task and other.task != record.task
                )
                if names_other and not names_task:
                    continue  # the sentence moves another task's date
                found = AppliedChange(relation, change, self.documents[relation.source])
        return found

    def date_changes(self, doc_id: str) -> list[AppliedChange]:
        """The date changes later notices make to a notice (latest notice last, so it wins)."""
        out = []
        for relation in self.amendments_of(doc_id):
            source = self.documents[relation.source]
            out += [
                AppliedChange(relation, c, source) for c in relation.changes if c.kind == "date" and c.new_iso
            ]
        return out

    def other_changes(self, doc_id: str) -> list[AppliedChange]:
        """Contact and place corrections later notices make to a notice."""
        out = []
        for relation in self.amendments_of(doc_id):
            source = self.documents[relation.source]
            out += [AppliedChange(relation, c, source) for c in relation.changes if c.kind != "date"]
        return out

    def superseded_dates(
        self, doc: Document, quote: str, year: int | None
    ) -> list[tuple[str, AppliedChange]]:
        """The dates a quoted passage of a notice states that a later notice moved: (as written, change)."""
        changes = self.date_changes(doc.doc_id)
        if not changes:
            return []
        found = []
        for entity in find_dates(quote, default_year=year):
            end = (
                entity.value.get("end") or entity.value.get("date")
                if isinstance(entity.value, dict)
                else None
            )
            for applied in changes:
                old = applied.change.old_iso
                if (old and end == old) or (old is None and _about(applied.change.subject, quote)):
                    found.append((entity.text, applied))
        return found


def round_year(doc: Document) -> int | None:
    """The year of a notice: the one its title names, else that of its own date."""
    m = re.search(r"(?<!\d)(20\d{2}|19\d{2})", doc.title)
    if m:
        return int(m.group(1))
    dates = sorted(p.date for p in doc.parts if p.date)
    own = dates[-1] if dates else published_date(doc)
    return int(own[:4]) if own else None


def _names(subject: str, task: str) -> bool:
    """Tell whether a change's subject names a task (most of the task's character pairs appear in it)."""
    if not subject or not task:
        return False
    grams = {task[i : i + 2] for i in range(len(task) - 1)}
    return bool(grams) and sum(g in subject for g in grams) / len(grams) >= 0.6


def _about(subject: str, quote: str) -> bool:
    """Tell whether a passage states the value a change with no old value replaces: a deadline, or the
    thing the change names ('受理时间', '报名截止时间')."""
    quote = to_simplified(quote)
    if DEADLINE_WORDS.search(quote):
        return True
    tail = re.sub(r"[^\u4e00-\u9fff]", "", subject)[-4:]
    return len(tail) >= 2 and tail in quote


def apply_decisions(
    relations: list[Relation], documents: list[Document], decisions: Decisions
) -> list[Relation]:
    """The found relations with staff decisions applied: rejected ones out, added ones in, confirmed marked."""
    by_id = {d.doc_id: d for d in documents}
    out = []
    for relation in relations:
        pair = (relation.source, relation.target)
        if pair in decisions.rejected or pair in decisions.added:
            continue
        out.append(replace(relation, confirmed=True) if pair in decisions.confirmed else relation)
    for (source, target), kind in decisions.added.items():
        doc = by_id.get(source)
        if doc is None or target not in by_id:
            continue
        own = published_date(doc) or next((p.date for p in doc.parts if p.date), None)
        changes = (
            find_changes(doc, default_year=int(own[:4]) if own else None) if kind != "next_round" else []
        )
        out.append(Relation(kind, source, target, "staff", "staff", changes, confirmed=True))
    return out
