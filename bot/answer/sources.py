"""What every answer is composed from: the notices as the assistant sees them, their search index,
the prose answerer, and the settings that decide when the notices answer."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answer.prose import ProseAnswerer
from bot.knowledge import KnowledgeView
from retrieval.index import KnowledgeIndex


@dataclass
class Sources:
    """What the answer functions read; the assistant gathers it for each question (a refresh may
    bring other documents, and the wording of 'no answer' is a setting, between two questions)."""

    view: KnowledgeView
    index: KnowledgeIndex
    prose: ProseAnswerer
    min_relevance: float
    no_answer_text: str
