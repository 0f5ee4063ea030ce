"""The answer as sent: its lines said once, reworded (when a rephraser is set) without new names,
in the asker's script, with the contacts and the deadlines it states."""

from __future__ import annotations

import uuid

from bot.answer.draft import Draft
from bot.compose import contacts_out, show_date
from bot.contract import Answer, DeadlineRef
from bot.knowledge import KnowledgeView
from bot.rephrase import LlmRephraser
from bot.understand import Understanding
from retrieval.model import Contact, Record
from retrieval.normalize import to_traditional
from retrieval.search import SearchResult


def finish(
    view: KnowledgeView,
    draft: Draft,
    u: Understanding,
    intents: list[str],
    task: str | None,
    session_id: str,
    result: SearchResult,
    *,
    rephraser: LlmRephraser | None,
) -> Answer:
    """The answer as sent: its lines once each, reworded when a rephraser is set, in the asker's script."""
    text = "\n".join(dict.fromkeys(line for line in draft.lines if line))  # a line said once
    if rephraser is not None and draft.escalate_reason is None and text:
        reworded = rephraser.rephrase(
            question=u.question,
            answer=text,
            quotes=[c.quote for c in draft.citations],
            language=u.language,
            known_names=known_names(view),
        )
        text = reworded or text
    if u.language == "zh-Hant":
        text = to_traditional(text)
    primary = next((i for i in intents if i not in ("money",)), "general")
    if draft.escalate_reason:
        primary = "human" if draft.escalate_reason == "human" else primary
    return Answer(
        answer=text,
        citations=draft.citations,
        escalated=draft.escalate_reason is not None,
        contacts=contacts_out(_unique(draft.contacts)),
        confidence=round(float(draft.confidence), 3),
        intent=primary,
        task=task,
        session_id=session_id,
        message_id=uuid.uuid4().hex,
        language=u.language,
        degraded=result.degraded,
    )


def deadline_refs(view: KnowledgeView, draft: Draft, text: str, lang: str) -> list[DeadlineRef]:
    """The deadlines an answer states: of the tasks or passages it cites, whose date it gives."""
    if draft.clarify or draft.escalate_reason:
        return []
    cited = [(c.doc_id, c.quote) for c in draft.citations]
    refs = []
    for deadline in view.deadlines():
        about = deadline.what in draft.tasks or any(
            doc_id == deadline.doc_id and (deadline.quote in quote or quote in deadline.quote)
            for doc_id, quote in cited
        )
        month_day = f"{int(deadline.date[5:7])}月{int(deadline.date[8:10])}日"
        if about and (show_date(deadline.date, lang) in text or month_day in text):
            refs.append(DeadlineRef(deadline.key, deadline.what, deadline.date))
    return refs[:5]


def known_names(view: KnowledgeView) -> set[str]:
    """Every person the knowledge base names: a rewording must not bring in one the sources lack."""
    names = _names_of(view.all_records())
    for doc in view.documents.values():
        names.update(c.name for part in doc.parts for c in part.contacts if c.name)
    return names


def _names_of(records: list[Record]) -> set[str]:
    return {c.name for r in records for c in r.contacts if c.name}


def _unique(contacts: list[Contact]) -> list[Contact]:
    seen, out = set(), []
    for c in contacts:
        key = (c.name, c.department, c.phone, c.email)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
