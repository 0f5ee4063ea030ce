"""Answers from table records: a task's fields, who may apply, the tasks an applicant or a contact
person has, lists of tasks with their deadlines."""

from __future__ import annotations

import re
from datetime import date

from bot.answer.citations import cite_contacts, record_citation, span_citation
from bot.answer.draft import Draft
from bot.answer.escalation import escalate
from bot.answer.sources import Sources
from bot.answer.words import coverage
from bot.compose import contact_line, deadline_status, phrase, quoted, show_date, window_status
from bot.knowledge import KnowledgeView
from bot.understand import APPLICANT_TYPES, Understanding
from retrieval.model import Document, Record
from retrieval.normalize import normalize_for_search

# Every way of naming a known kind of applicant (a self-description is anything else).
KNOWN_ALIASES = frozenset(normalize_for_search(a) for aliases in APPLICANT_TYPES.values() for a in aliases)

# The row field that answers each structured intent.
_FIELD_OF_INTENT = {
    "deadline": "deadline",
    "materials": "materials",
    "method": "method",
    "contact": "contacts",
    "eligibility": "eligibility",
}


def record_fields(
    sources: Sources,
    record: Record,
    asked: list[str],
    lang: str,
    day: date,
    *,
    content: set[str] | None = None,
    asks_email: bool = False,
) -> Draft:
    """Answer from a task's row: the fields asked (and those the question's words point at), cited."""
    draft = Draft(confidence=0.9)
    asked = list(asked)
    if content:
        # A field the question's own words point at ('需要市政府同意吗' -> the materials cell).
        for intent, field_name in _FIELD_OF_INTENT.items():
            value = record.fields.get(field_name, "")
            if intent not in asked and value and coverage(content, value) >= 0.34:
                asked.append(intent)
    doc = sources.view.documents[record.doc_id]
    name = quoted(record.task, lang)
    used_inferred: set[int] = set()
    for intent in asked:
        field_name = _FIELD_OF_INTENT[intent]
        value = record.fields.get(field_name, "")
        if not value:
            continue
        if intent == "deadline" and record.deadline:
            line = phrase(
                "deadline",
                lang,
                task=name,
                date=_deadline_text(record, lang),
                status=_deadline_state(record, day, lang),
            )
        elif intent == "contact":
            line = phrase("contact", lang, task=name, value=contact_line(record.contacts, lang) or value)
            draft.contacts.extend(record.contacts)
        else:
            line = phrase(intent, lang, task=name, value=value)
        if field_name in record.inferred:
            line += phrase("inferred", lang)
            used_inferred.add(record.inferred_from[field_name])
        draft.lines.append(line)
    if not draft.lines:
        return escalate(sources, "not_stated", record, None, lang)
    draft.tasks.append(record.task)
    draft.cite(record_citation(doc, record))
    for row in sorted(used_inferred):
        source = next((r for r in doc.records if r.table_id == record.table_id and r.row == row), None)
        if source:
            draft.cite(record_citation(doc, source))
    if "deadline" in asked and record.deadline:
        add_windows(sources.view, draft, record, doc, lang, day)
    if "contact" in asked and asks_email and not any(c.email for c in record.contacts):
        # The row names no e-mail: the notice's general contact may have one.
        general = [c for c in sources.view.general_contacts(record.doc_id) if c.email]
        if general:
            draft.lines.append(phrase("general_contact", lang, who=contact_line(general, lang)))
            draft.contacts.extend(general)
            cite_contacts(sources.view, draft, general)
    return draft


def add_windows(
    view: KnowledgeView, draft: Draft, record: Record, doc: Document, lang: str, day: date
) -> None:
    """Name other deadlines (a ministry's platform window) and say which one this task's date is."""
    own_part = doc.parts[record.part] if record.part < len(doc.parts) else None
    scope_part = view.parent_part(doc, own_part) if own_part else None
    scope = (scope_part.issuer or scope_part.title) if scope_part else doc.title
    said: set[tuple[str, str]] = set()
    for fact in [f for f in view.windows if f.doc.doc_id == doc.doc_id][:2]:
        if own_part is not None and fact.part is own_part:
            continue
        if (fact.entity.value["start"], fact.entity.value["end"]) in said:
            continue
        said.add((fact.entity.value["start"], fact.entity.value["end"]))
        start, end = fact.entity.value["start"], fact.entity.value["end"]
        draft.lines.append(
            phrase(
                "window",
                lang,
                issuer=fact.part.issuer or fact.part.title,
                start=show_date(start, lang),
                end=show_date(end, lang),
                status=window_status(start, end, day, lang),
                scope=scope,
            )
        )
        draft.cite(span_citation(fact.doc, *fact.sentence))


def birth_date_rule(view: KnowledgeView, record: Record, u: Understanding, lang: str) -> Draft | None:
    """Answer 'I was born in 1989, can I apply?' against an age limit written as a birth date."""
    said = re.search(
        r"(\d{4})\s*年\s*(?:(\d{1,2})\s*月)?\s*(?:\d{1,2}\s*[日号])?\s*出生|born in (\d{4})", u.normalized
    )
    eligibility = record.fields.get("eligibility", "")
    limit = re.search(
        r"(\d{4})年(\d{1,2})月(\d{1,2})日[（(]?含?[)）]?\s*(以后|之后|以前|之前)出生", eligibility
    )
    if not said or not limit:
        return None
    year = int(said.group(1) or said.group(3))
    month = int(said.group(2) or 0)
    bound = date(int(limit.group(1)), int(limit.group(2)), int(limit.group(3)))
    after = limit.group(4) in ("以后", "之后")
    # With only a year (and month) given, decide only when the whole year (month) is on one side.
    first = date(year, month or 1, 1)
    last = date(year, month or 12, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    if after:
        verdict = True if first >= bound else False if last < bound else None
    else:
        verdict = True if last <= bound else False if first > bound else None
    if verdict is None:
        return None
    draft = Draft(confidence=0.85, tasks=[record.task])
    name = quoted(record.task, lang)
    value = eligibility.rstrip("。")
    if lang == "en":
        draft.lines.append(f"{'Yes' if verdict else 'No'}. {name} requires: {limit.group(0)} ({value}).")
    else:
        draft.lines.append(f"{'可以' if verdict else '不可以'}。{name}要求{limit.group(0)}：{value}")
    draft.cite(record_citation(view.documents[record.doc_id], record))
    return draft


def eligibility_yes_no(
    view: KnowledgeView, record: Record, applicant: str, aliases: tuple[str, ...], lang: str
) -> Draft:
    """Whether an applicant may apply for a task, by its eligibility cell; if not, the tasks they may."""
    doc = view.documents[record.doc_id]
    eligibility = record.fields.get("eligibility", "")
    draft = Draft(confidence=0.9)
    name = quoted(record.task, lang)
    if _eligible(eligibility, aliases):
        draft.lines.append(phrase("yes", lang, task=name, who=applicant, value=eligibility))
    else:
        draft.lines.append(phrase("no", lang, task=name, who=applicant, value=eligibility.rstrip("。")))
        others = [r for r in view.all_records() if _eligible(r.fields.get("eligibility", ""), aliases)]
        if others:
            tasks = "、".join(quoted(r.task, lang) for r in others)
            draft.lines.append(phrase("instead", lang, who=applicant, tasks=tasks))
            for other in others:
                draft.cite(record_citation(view.documents[other.doc_id], other))
        else:
            draft.lines.append(phrase("none_instead", lang, who=applicant))
    draft.citations.insert(0, record_citation(doc, record))
    return draft


def applicant_list(
    sources: Sources, applicant: str, aliases: tuple[str, ...], intents: list[str], lang: str, day: date
) -> Draft:
    """The tasks whose eligibility covers an applicant, each with its deadline."""
    eligible = [r for r in sources.view.all_records() if _eligible(r.fields.get("eligibility", ""), aliases)]
    if not eligible:
        draft = escalate(sources, "no_answer", None, None, lang)
        draft.lines.insert(0, phrase("none_instead", lang, who=applicant))
        return draft
    draft = Draft(confidence=0.85, tasks=[r.task for r in eligible])
    draft.lines.append(phrase("list_for", lang, who=applicant, n=len(eligible)))
    for i, record in enumerate(eligible, start=1):
        draft.lines.append(f"{i}. " + record_summary(record, intents, lang, day))
        draft.cite(record_citation(sources.view.documents[record.doc_id], record))
        if "contact" in intents:
            draft.contacts.extend(record.contacts)
    return draft


def record_summary(record: Record, intents: list[str], lang: str, day: date) -> str:
    """One line for a task in a list: its name, deadline, and the fields asked."""
    bits = [quoted(record.task, lang)]
    if record.deadline:
        label = "deadline " if lang == "en" else "截止 "
        bits.append(f"{label}{_deadline_text(record, lang)}（{_deadline_state(record, day, lang)}）")
    if "method" in intents and record.fields.get("method"):
        bits.append(("method: " if lang == "en" else "方式：") + record.fields["method"])
    if "materials" in intents and record.fields.get("materials"):
        bits.append(("materials: " if lang == "en" else "材料：") + record.fields["materials"])
    if "contact" in intents and record.contacts:
        bits.append(("contact: " if lang == "en" else "联系人：") + contact_line(record.contacts, lang))
    head, rest = bits[0], bits[1:]
    if not rest:
        return head
    return head + (": " if lang == "en" else "：") + ("; " if lang == "en" else "；").join(rest)


def all_tasks(view: KnowledgeView, lang: str, day: date) -> Draft:
    """Every task of the notices, with its deadline."""
    return task_list(view, view.all_records(), [], lang, day, key="list_all")


def task_list(
    view: KnowledgeView,
    records: list[Record],
    intents: list[str],
    lang: str,
    day: date,
    *,
    key: str = "list_matching",
) -> Draft:
    """A numbered list of tasks, each with its deadline (and the fields asked), every row cited."""
    draft = Draft(confidence=0.85, tasks=[r.task for r in records])
    draft.lines.append(phrase(key, lang, n=len(records)))
    for i, record in enumerate(records, start=1):
        draft.lines.append(f"{i}. " + record_summary(record, intents, lang, day))
        draft.cite(record_citation(view.documents[record.doc_id], record))
    return draft


def records_matching(view: KnowledgeView, content: set[str]) -> list[Record]:
    """Records whose cells hold the question's own words ('任务建设计划书是哪几个任务要的')."""
    if not content:
        return []
    fields = ("eligibility", "materials", "method", "deadline", "contacts")
    return [
        r for r in view.all_records() if max(coverage(content, r.fields.get(f, "")) for f in fields) >= 0.6
    ]


def all_record_text(view: KnowledgeView) -> str:
    """The text of every row, for telling whether a list question is about the rows at all."""
    return "\n".join(" ".join([*r.headers.values(), *r.fields.values()]) for r in view.all_records())


def contact_named(view: KnowledgeView, u: Understanding, intents: list[str]) -> Draft | None:
    """Answer 'who is 马璐', 'the 高教处 phone' or '李娟管哪几个任务' from the contact a question names."""
    lang = "en" if u.language == "en" else "zh"
    matches: list[Record] = []
    for record in view.all_records():
        for contact in record.contacts:
            if any(_names(n, u.normalized) for n in (contact.name, contact.department) if n):
                matches.append(record)
                break
    if not matches:
        return None
    draft = Draft(confidence=0.85)
    if "list_tasks" in intents or "quantity" in intents:
        tasks = "、".join(quoted(r.task, lang) for r in matches)
        who = contact_line(matches[0].contacts, lang)
        draft.lines.append(phrase("contact_tasks", lang, who=who, tasks=tasks, n=len(matches)))
    else:
        record = matches[0]
        line = phrase(
            "contact", lang, task=quoted(record.task, lang), value=contact_line(record.contacts, lang)
        )
        draft.lines.append(line)
        matches = matches[:1]
    for record in matches:
        draft.contacts.extend(record.contacts)
        draft.cite(record_citation(view.documents[record.doc_id], record))
    return draft


def _deadline_text(record: Record, lang: str) -> str:
    """The deadline as written for a reader: a date, a window, and a time of day when the cell has one."""
    assert record.deadline is not None
    text = show_date(record.deadline, lang)
    if record.deadline_start:
        text = f"{show_date(record.deadline_start, lang)}—{text}"
    if record.deadline_time:
        text = f"{text} {record.deadline_time}"
    return text


def _deadline_state(record: Record, day: date, lang: str) -> str:
    assert record.deadline is not None
    if record.deadline_start and day < date.fromisoformat(record.deadline_start):
        return window_status(record.deadline_start, record.deadline, day, lang)
    return deadline_status(record.deadline, day, lang)


def _names(name: str, text: str) -> bool:
    """Tell whether text names a person or office: in full, or as an abbreviation (高教处 for 高等教育处)."""
    name = normalize_for_search(name)
    if len(name) >= 2 and name in text:
        return True
    if len(name) < 4:
        return False
    for size in range(3, len(name)):
        for start in range(len(text) - size + 1):
            piece = text[start : start + size]
            if piece[0] == name[0] and piece[-1] == name[-1] and _is_subsequence(piece, name):
                return True
    return False


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _eligible(eligibility: str, aliases: tuple[str, ...]) -> bool:
    """Tell whether an eligibility text covers an applicant, named by any alias.

    A Chinese noun phrase ends in its head (培训机构 in 民办培训机构), so an alias whose last four
    characters name an item of the list counts as that item.
    """
    text = normalize_for_search(eligibility)
    items = [i for i in re.split(r"[、，,；;。/和及与或\s]+", text) if i]
    for alias in aliases:
        alias = normalize_for_search(alias)
        if alias in text:
            return True
        # Only for a self-description: a known kind (中等职业学校) must not pass for a sibling (高等职业学校).
        if (
            alias not in KNOWN_ALIASES
            and len(alias) >= 5
            and any(len(i) >= 4 and i[-4:] == alias[-4:] for i in items)
        ):
            return True
    return False
