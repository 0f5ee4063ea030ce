"""The answer contract every channel uses, as plain dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from common.types import Contact


@dataclass
class Citation:
    """A verbatim quote with where it comes from."""

    doc_id: str
    title: str
    section: str
    quote: str
    kind: str  # chunk | record | faq
    start: int | None = None
    end: int | None = None


@dataclass
class NoticeOption:
    """A notice the assistant asks the applicant to choose (the question fits several)."""

    doc_id: str
    title: str


@dataclass
class DeadlineRef:
    """A deadline an answer gives: `key` names it for a calendar file or a reminder."""

    key: str
    what: str
    date: str  # ISO


@dataclass
class Answer:
    """What applybot says back, with its evidence; `to_dict` gives the documented JSON contract."""

    answer: str
    citations: list[Citation] = field(default_factory=list)
    escalated: bool = False
    contacts: list[Contact] = field(default_factory=list)
    confidence: float = 0.0
    intent: str = "general"
    task: str | None = None
    session_id: str = ""
    message_id: str = ""
    language: str = "zh-Hans"
    degraded: bool = False
    clarify: list[NoticeOption] = field(default_factory=list)  # choose one; the choice is the next turn
    deadlines: list[DeadlineRef] = field(default_factory=list)  # for '加入日历' and reminders

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for citation in data["citations"]:
            citation.pop("start", None)
            citation.pop("end", None)
        return data
