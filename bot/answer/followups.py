"""Follow-up questions: what a question is about once the conversation so far is taken into account
('那联系人呢？' asks the last question about another field, '它' names the last task), and asking
back which notice is meant (the choice is the next turn)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer.draft import Draft
from bot.answer.words import FILLER, grams
from bot.compose import phrase
from bot.knowledge import KnowledgeView
from bot.notices import Resolution
from bot.sessions import SessionContext
from bot.understand import INTENT_WORDS, Understanding
from retrieval.lexical import STOPWORDS
from retrieval.normalize import normalize_for_search

_PRONOUN = re.compile(r"(它|这个|那个|该任务|这项|那项|这一项|\bit\b|\bthat\b|\bthis\b|\bthey\b)")


@dataclass
class Turn:
    """What a question is about once the conversation so far is taken into account."""

    task: str | None
    intents: list[str]
    follow_up: bool  # it goes on with the last question's task (a pronoun, or little beyond cue words)
    carried_content: set[str]  # the last question's own words, when this one asks it again
    applicant: str | None
    aliases: tuple[str, ...]


def read_turn(u: Understanding, context: SessionContext, view: KnowledgeView) -> Turn:
    """The task a question names or goes on with, what it asks, and who asks."""
    task = view.matcher.match(u.expanded)
    elliptical = is_elliptical(u, task)
    has_context = bool(context.task or context.applicant)
    follow_up = has_context and task is None and (elliptical or _PRONOUN.search(u.normalized) is not None)
    intents = list(u.intents)
    carried = [i for i in context.intents if i not in ("human", "service_request", "money")]
    carried_content: set[str] = set()
    if has_context and elliptical and not intents:
        intents = carried  # "三教统筹呢？" asks the last question again about another task
        carried_content = set(context.content)
    if follow_up:
        task = context.task if context.task in view.records_by_task else None
        if "list_tasks" in carried and not task and context.applicant:
            intents = ["list_tasks", *[i for i in intents if i != "list_tasks"]]
    applicant, aliases = u.applicant, u.applicant_aliases
    if (
        applicant
        and task
        and not any(
            normalize_for_search(a) in u.normalized.replace(normalize_for_search(task), "") for a in aliases
        )
    ):
        applicant, aliases = (
            None,
            (),
        )  # '教师' inside the task's own name ('青年教师…项目') is not who asks
    if applicant is None and follow_up and context.applicant:
        applicant, aliases = context.applicant, tuple(context.applicant_aliases) or (context.applicant,)
    return Turn(task, intents, follow_up, carried_content, applicant, aliases)


def is_elliptical(u: Understanding, task: str | None) -> bool:
    """Tell whether a question says little beyond intent words (and a task name): '那联系人呢？'."""
    rest = u.normalized
    for word in sorted({w for words in INTENT_WORDS.values() for w in words}, key=len, reverse=True):
        rest = rest.replace(word, " ")
    if task:
        for gram in grams(task):
            rest = rest.replace(gram, " ")
    leftover = [w for w in re.findall(r"[a-z]+|[\u4e00-\u9fff]", rest) if w not in STOPWORDS]
    leftover = [w for w in leftover if w not in FILLER]
    return len(leftover) <= 2


def clarify(resolution: Resolution, lang: str) -> Draft:
    """Ask which notice is meant, offering the few that fit best (the choice is the next turn)."""
    draft = Draft(confidence=0.0, clarify=True)
    draft.lines.append(phrase("clarify", lang))
    draft.lines += [f"{i}. {c.title}" for i, c in enumerate(resolution.candidates, start=1)]
    return draft
