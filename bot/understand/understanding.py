"""A question read into plain data: language, intents, whether it asks yes or no, and who asks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.understand.applicant import find_applicant
from bot.understand.intents import detect_intents
from bot.understand.language import detect_language
from retrieval.lexicon import expand_query
from retrieval.normalize import normalize_for_search


@dataclass
class Understanding:
    """What a question asks, in plain data."""

    question: str
    normalized: str
    expanded: str
    language: str  # zh-Hans | zh-Hant | en
    intents: list[str] = field(default_factory=list)
    applicant: str | None = None
    applicant_aliases: tuple[str, ...] = ()
    yes_no: bool = False


_YES_NO = re.compile(
    r"(可以|能|能否|可否|是否|允许|可不可以|能不能|还能|要不要|需不需要|需要|算|有).*[吗么嘛]|能否|可否|是否|可不可以|能不能|是不是"
    r"|^(can|may|is|are|do|does|should|must)\b"
)
_CAN_APPLY = re.compile(r"(可以|能|能否|可否|允许|有资格).{0,12}(申报|报|申请)|(申报|申请).{0,6}(吗|么|不)")


def understand(question: str) -> Understanding:
    """Read a question into intents, language and applicant type."""
    normalized = normalize_for_search(question)
    expanded = expand_query(normalized)
    applicant, aliases = find_applicant(normalized)
    intents = detect_intents(normalized)
    if applicant and "eligibility" not in intents and _CAN_APPLY.search(normalized):
        intents.append("eligibility")  # "社区教育精品课程可以由开放大学申报吗" is a yes/no question
    return Understanding(
        question=question,
        normalized=normalized,
        expanded=expanded,
        language=detect_language(question),
        intents=intents,
        yes_no=_YES_NO.search(normalized) is not None,
        applicant=applicant,
        applicant_aliases=aliases,
    )
