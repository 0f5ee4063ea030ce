"""Understand a question: its language, what it asks, which task, and who is asking.

The vocabularies here describe how applicants ask in general (the genre), never what a particular
notice says: tasks and eligibility are matched against the knowledge base's own records.
"""

from bot.understand.applicant import APPLICANT_TYPES, find_applicant
from bot.understand.asked import (
    ASKED,
    CLOSED_YET,
    GENERIC_VERBS,
    KIND_NOUNS,
    PREDICATE_WORDS,
    PREDICATES,
    STILL_OPEN,
    asked_kinds,
    asked_parts,
    kinds_of,
)
from bot.understand.intents import INTENT_WORDS, STRUCTURED_INTENTS, detect_intents
from bot.understand.language import detect_language
from bot.understand.tasks import TaskMatcher, bigrams
from bot.understand.understanding import Understanding, understand

__all__ = [
    "APPLICANT_TYPES",
    "ASKED",
    "CLOSED_YET",
    "GENERIC_VERBS",
    "INTENT_WORDS",
    "KIND_NOUNS",
    "PREDICATES",
    "PREDICATE_WORDS",
    "STILL_OPEN",
    "STRUCTURED_INTENTS",
    "TaskMatcher",
    "Understanding",
    "asked_kinds",
    "asked_parts",
    "bigrams",
    "detect_intents",
    "detect_language",
    "find_applicant",
    "kinds_of",
    "understand",
]
