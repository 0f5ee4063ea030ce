"""Answers as the notices stand today: the notice and round a question means, and never a value a
later notice changed stated as current.

bot/in_force.py says what stands (moved deadlines, rounds, revocations); this answers with it: an
amendment answers through its notice, a moved date is given as old and new, a corrected number is
replaced, a revoked notice or an older round is said so, and the amending notice's sentence is
cited beside the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date

from bot.answer.citations import span_citation
from bot.answer.draft import Draft
from bot.compose import deadline_status, phrase, show_date
from bot.in_force import DEADLINE_WORDS, AppliedChange, InForce, round_year
from bot.knowledge import KnowledgeView
from bot.notices import Resolution
from retrieval.entities import PHONE
from retrieval.model import Document, Record
from retrieval.normalize import to_simplified
from retrieval.relations import PLACE_WORDS


def in_force_notice(view: KnowledgeView, resolution: Resolution, question: str, day: date) -> Resolution:
    """One call counts once: an amendment answers through its notice, and the round asked about
    (the current one unless the question names a year or another round) is the one answered."""
    in_force = view.in_force
    if not in_force.relations:
        return resolution
    if resolution.ambiguous:
        kept = in_force.collapse([c.doc_id for c in resolution.candidates])
        if len(kept) == 1:
            resolution = Resolution(kept[0], named=True)
        else:
            resolution.candidates = [c for c in resolution.candidates if c.doc_id in kept]
    if resolution.doc_id is None:
        return resolution
    doc_id = resolution.doc_id
    target = in_force.amended_notice(doc_id)
    if target and not any(
        r.evidence in question for r in in_force.by_source.get(doc_id, []) if len(r.evidence) <= 4
    ):
        doc_id = target  # '什么时候截止' is about the call; '延期通知谁发的' about the amendment
    doc_id = in_force.round_for(doc_id, question, day)
    if doc_id != resolution.doc_id:
        return Resolution(doc_id, named=True)
    return resolution


def revise_in_force(view: KnowledgeView, draft: Draft, lang: str, day: date) -> None:
    """Never state a value a later notice changed as current: say what changed and cite both."""
    if not view.in_force.relations or draft.clarify:
        return
    records = [r for task in draft.tasks for r in view.records_by_task.get(task, [])]
    revision = revise(
        view.in_force,
        draft.lines,
        [(c.doc_id, c.quote) for c in draft.citations],
        records,
        lang,
        day,
    )
    draft.lines = revision.lines
    for doc, start, end in revision.cite:
        draft.cite(span_citation(doc, start, end))
    if revision.phones:
        draft.contacts = [
            replace(c, phone=revision.phones[c.phone]) if c.phone in revision.phones else c
            for c in draft.contacts
        ]


@dataclass
class Revision:
    """What the values in force make of an answer: its lines, and the amendments' sentences to cite."""

    lines: list[str]
    cite: list[tuple[Document, int, int]] = field(default_factory=list)
    phones: dict[str, str] = field(default_factory=dict)  # a corrected number: old -> new


def revise(
    in_force: InForce,
    lines: list[str],
    cited: list[tuple[str, str]],
    records: list[Record],
    lang: str,
    day: date,
) -> Revision:
    """Rewrite an answer so that it never states a superseded value as current.

    `cited` holds (doc_id, quote) of the answer's citations; `records` the records it is about
    (their deadlines are already the ones in force). A line that quotes a moved date is replaced by
    one that gives the old and the new date; a corrected contact likewise; a revoked notice and an
    older round are said so. The amending notice's sentence is cited beside the original.
    """
    revision = Revision(list(lines))
    notes: list[str] = []  # said before the answer (revoked, an older round)
    after: list[str] = []  # said after it (a record's moved deadline: the line above gives the new one)
    seen: set[int] = set()
    for record in records:
        applied = in_force.record_changes.get(record.record_id)
        if applied is None or id(applied.change) in seen:
            continue
        seen.add(id(applied.change))
        old = applied.change.old_iso or applied.replaced
        after.append(
            phrase(
                "moved_record",
                lang,
                old=show_date(old, lang) if old else applied.change.old or "",
                new=show_date(str(applied.change.new_iso), lang),
                title=_short(applied.source.title),
            )
        )
        revision.cite.append((applied.source, applied.change.start, applied.change.end))
    for doc_id, quote in cited:
        doc = in_force.documents.get(doc_id)
        if doc is None:
            continue
        year = round_year(doc)
        for written, applied in in_force.superseded_dates(doc, quote, year):
            stale = [line for line in revision.lines if _states(line, written)]
            if id(applied.change) in seen:
                revision.lines = [line for line in revision.lines if line not in stale]  # said already
                continue
            if not stale and applied.change.old_iso is None:
                continue
            seen.add(id(applied.change))
            new_iso = str(applied.change.new_iso)
            old_iso = applied.change.old_iso
            revision.lines = _replace(
                revision.lines,
                stale,
                phrase(
                    "moved" if old_iso is None or old_iso <= new_iso else "moved_earlier",
                    lang,
                    old=show_date(applied.change.old_iso, lang) if applied.change.old_iso else written,
                    new=show_date(new_iso, lang),
                    status=deadline_status(new_iso, day, lang),
                    title=_short(applied.source.title),
                ),
            )
            revision.cite.append((applied.source, applied.change.start, applied.change.end))
        for applied in in_force.other_changes(doc_id):
            if id(applied.change) in seen:
                continue
            if applied.change.kind == "contact":
                if _correct_phone(revision, applied, quote, lang):
                    seen.add(id(applied.change))
            elif PLACE_WORDS.search(quote):
                seen.add(id(applied.change))
                note = phrase("corrected", lang, new=applied.change.new, title=_short(applied.source.title))
                revision.lines = [note, *revision.lines]
                revision.cite.append((applied.source, applied.change.start, applied.change.end))
        for relation in in_force.by_target.get(doc_id, []):
            if relation.kind == "revokes" and id(relation) not in seen:
                seen.add(id(relation))
                source = in_force.documents[relation.source]
                notes.append(phrase("revoked", lang, title=_short(source.title)))
                revision.cite.append((source, 0, _title_end(source)))
            elif relation.kind == "next_round" and id(relation) not in seen:
                seen.add(id(relation))
                latest = in_force.documents[in_force.rounds(doc_id)[-1]]
                own = _deadline_dates(doc)
                if own and max(own) < day.isoformat():
                    # Every date of this round has passed: say so, and when the latest one closes.
                    coming = [d for d in _deadline_dates(latest) if d >= day.isoformat()]
                    notes.append(
                        phrase(
                            "round_passed" if coming else "round_passed_no_date",
                            lang,
                            title=_short(latest.title),
                            date=show_date(min(coming), lang) if coming else "",
                            status=deadline_status(min(coming), day, lang) if coming else "",
                        )
                    )
                else:
                    notes.append(phrase("newer_round", lang, title=_short(latest.title)))
                revision.cite.append((latest, 0, _title_end(latest)))
    revision.lines = notes + revision.lines + after
    return revision


def _correct_phone(revision: Revision, applied: AppliedChange, quote: str, lang: str) -> bool:
    """Put the corrected number where an answer line gives the old one; tell whether it did."""
    new = PHONE.search(applied.change.new)
    olds = {applied.change.old} if applied.change.old else {m.group(0) for m in PHONE.finditer(quote)}
    if new is None or len(olds) != 1:
        return False
    old = olds.pop()
    if not any(old in line for line in revision.lines):
        return False
    mark = phrase("corrected_from", lang, old=old, title=_short(applied.source.title))
    revision.lines = [
        line.replace(old, new.group(0) + mark, 1) if old in line else line for line in revision.lines
    ]
    revision.phones[old] = new.group(0)
    revision.cite.append((applied.source, applied.change.start, applied.change.end))
    return True


def _deadline_dates(doc: Document) -> list[str]:
    """The ISO dates by which a notice asks for something: its records' deadlines and the dates of
    sentences that set one (截止, …前提交, 报名时间 …)."""
    dates = [r.deadline for r in doc.records if r.deadline]
    for fact in doc.facts:
        if (
            fact.kind == "date"
            and isinstance(fact.value, dict)
            and DEADLINE_WORDS.search(to_simplified(fact.text))
        ):
            end = fact.value.get("end") or fact.value.get("date")
            if end:
                dates.append(str(end))
    return dates


def _short(title: str, limit: int = 30) -> str:
    """A title short enough for an answer on a phone (the citation carries it whole)."""
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _replace(lines: list[str], stale: list[str], note: str) -> list[str]:
    """Put the note where the first stale line was (first when none), and drop the stale lines."""
    if not stale:
        return [note, *lines]
    out = []
    for line in lines:
        if line is stale[0]:
            out.append(note)
        elif line not in stale:
            out.append(line)
    return out


def _states(line: str, written: str) -> bool:
    """Tell whether an answer line states a date as written (or its month and day alone)."""
    if written in line:
        return True
    day = re.search(r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]", written)
    return day is not None and re.sub(r"\s", "", day.group(0)) in re.sub(r"\s", "", line)


def _title_end(doc: Document) -> int:
    """The end of the notice's title in its text (the span a citation of the notice itself quotes)."""
    at = doc.text.find(doc.title)
    return at + len(doc.title) if at != -1 else min(len(doc.text), 80)
