"""Answers under construction, before they are worded: lines, citations, contacts, confidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
