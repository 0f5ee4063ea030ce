"""The reply when the notices do not answer: say so, and name the most relevant person to ask.

(bot/escalation.py logs the question for staff; this words the reply.)
"""

from __future__ import annotations

from bot.answer.citations import cite_contacts, record_citation
from bot.answer.draft import Draft, draft_of
from bot.answer.sources import Sources
from bot.compose import contact_line, phrase
from retrieval.model import Document, Record
from retrieval.search import SearchResult


def escalate(
    sources: Sources,
    reason: str,
    record: Record | None,
    result: SearchResult | None,
    lang: str,
    *,
    lead: str | None = None,
    doc: Document | None = None,
) -> Draft:
    """Say the notice does not answer, and give the most relevant person from the notice.

    `doc` is the notice the conversation is about; its own contact lines are given when it is a
    notice without a task table (whose rows carry their own contacts).
    """
    if doc is not None and not lists_tasks(doc) and record is None:
        prose = sources.prose.silent(doc, lang, reason=reason)
        if reason in ("human", "service"):
            prose.lines = prose.lines[1:]  # asked for a person: no 'the notice does not say'
        if lead:
            prose.lines.insert(0, lead)
        return draft_of(prose)
    draft = Draft(escalate_reason=reason)
    if lead:
        draft.lines.append(lead)
    if reason != "human" and reason != "service":
        draft.lines.append(sources.no_answer_text if lang != "en" else phrase("no_answer_en", lang))
    contacts = list(record.contacts) if record and record.contacts else []
    if contacts and record:
        draft.cite(record_citation(sources.view.documents[record.doc_id], record))
    else:
        contacts = sources.view.general_contacts(_notice_asked_about(sources, result))
        cite_contacts(sources.view, draft, contacts)
    if contacts:
        draft.lines.append(phrase("escalate_contact", lang, who=contact_line(contacts, lang)))
    elif sources.prose.fallback_contact:  # nobody in a notice to name: the service desk, said as such
        draft.lines.append(phrase("no_contact_fallback", lang, desk=sources.prose.fallback_contact))
    draft.contacts = contacts
    draft.confidence = 0.0
    return draft


def _notice_asked_about(sources: Sources, result: SearchResult | None) -> str | None:
    """The notice whose contact to give when none was resolved: the best hit's, if that passage is
    plausibly about the question at all. A contact is never guessed from an unrelated notice."""
    if not result or not result.hits or result.hits[0].relevance < sources.min_relevance:
        return None
    return result.hits[0].entry.doc_id


def general_contact(sources: Sources, result: SearchResult, lang: str) -> Draft:
    """Name the notice's general contact (of the best hit's notice); escalate when it has none."""
    doc_id = result.hits[0].entry.doc_id if result.hits else None
    contacts = sources.view.general_contacts(doc_id)
    if not contacts:
        return escalate(sources, "no_answer", None, result, lang)
    draft = Draft(confidence=0.8, contacts=list(contacts))
    draft.lines.append(phrase("escalate_contact", lang, who=contact_line(contacts, lang)))
    cite_contacts(sources.view, draft, contacts)
    return draft


def lists_tasks(doc: Document) -> bool:
    """Tell whether a notice's table lists tasks to apply for (names with their deadlines, who may
    apply, materials or contacts), as against a form or a table of figures."""
    fields = ("eligibility", "materials", "contacts", "method")
    return any(r.task and (r.deadline or any(r.fields.get(f) for f in fields)) for r in doc.records)
