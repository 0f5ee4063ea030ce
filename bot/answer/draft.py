"""Answers under construction, before they are worded: lines, citations, contacts, confidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.contract import Citation
from retrieval.model import Contact, Document

Cite = Callable[[Document, int, int], Citation]


@dataclass
class ProseDraft:
    """What the prose path decided: lines, citations, contacts, and whether it escalates."""

    lines: list[str]
    citations: list[Citation]
    contacts: list[Contact]
    confidence: float
    escalate_reason: str | None = None


@dataclass
class Draft:
    """An answer under construction."""

    lines: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    confidence: float = 0.0
    escalate_reason: str | None = None
    tasks: list[str] = field(default_factory=list)  # tasks the answer is about (a single one becomes context)
    clarify: bool = False  # the reply asks which notice is meant

    def cite(self, citation: Citation) -> None:
        if not any(c.doc_id == citation.doc_id and c.quote == citation.quote for c in self.citations):
            self.citations.append(citation)


def draft_of(prose: ProseDraft) -> Draft:
    """The draft of what the prose path decided."""
    draft = Draft(lines=list(prose.lines), contacts=list(prose.contacts), confidence=prose.confidence)
    draft.escalate_reason = prose.escalate_reason
    for citation in prose.citations:
        draft.cite(citation)
    return draft
