"""Which kind of answer a question gets: from records, a notice's facts, a sentence of the text, the
notice's metadata, a staff FAQ entry, or an escalation; and the task a question is about when it
names none."""

from __future__ import annotations

import re
from datetime import date

from bot.answer.doc_facts import doc_facts
from bot.answer.draft import Draft, draft_of
from bot.answer.escalation import escalate, general_contact, lists_tasks
from bot.answer.extractive import extractive, states_money
from bot.answer.faq import faq_answers
from bot.answer.records import (
    all_record_text,
    all_tasks,
    applicant_list,
    birth_date_rule,
    contact_named,
    eligibility_yes_no,
    record_fields,
    records_matching,
    task_list,
)
from bot.answer.sources import Sources
from bot.answer.words import content_tokens, coverage, grams, question_words
from bot.compose import phrase
from bot.knowledge import KnowledgeView
from bot.notices import Resolution
from bot.understand import INTENT_WORDS, STRUCTURED_INTENTS, Understanding
from retrieval.model import Document
from retrieval.normalize import to_simplified
from retrieval.search import SearchFilter, SearchResult

# Words that say "the tasks" in a list question rather than what the list is about.
_LIST_NOUNS = frozenset(
    [
        "任务",
        "项目",
        "类别",
        "申报",
        "要求",
        "省里",
        "省级",
        "通知",
        "这次",
        "本次",
        "全部",
        "所有",
        "一共",
        "总共",
        "重点",
        "事项",
        "几项",
        "几个",
        "多少",
        "哪些",
        "tasks",
        "task",
        "list",
    ]
)

# Words that ask "when" and nothing more: '申报时间是什么时候' asks for every task's date.
_WHEN_WORDS = frozenset(["时间", "时候", "日期", "哪天", "几号", "截止", "截至", "期限", "deadline", "when"])


def draft_answer(
    sources: Sources,
    u: Understanding,
    intents: list[str],
    task: str | None,
    applicant: str | None,
    aliases: tuple[str, ...],
    result: SearchResult,
    day: date,
    carried_content: set[str] | None = None,
    resolution: Resolution | None = None,
    asked_before: str | None = None,
) -> Draft:
    """The answer a question gets, before wording: the first source below that answers it, else escalation."""
    lang = "en" if u.language == "en" else "zh"
    record = sources.view.record_for(task) if task else None
    doc = sources.view.documents.get(resolution.doc_id) if resolution and resolution.doc_id else None
    if record and not applicant and "list_tasks" in intents:
        # "X的申请条件有哪些" lists X's conditions, not the tasks.
        intents = [i for i in intents if i != "list_tasks"]
    content = carried_content or content_tokens(sources.index, u, task)
    if "service_request" in intents:
        return escalate(sources, "service", record, result, lang, lead=phrase("service", lang), doc=doc)
    if "human" in intents:
        return escalate(sources, "human", record, result, lang, lead=phrase("human", lang), doc=doc)
    if record is None and doc is not None and not lists_tasks(doc):
        # A notice whose table lists tasks is answered from its records; any other from its facts.
        return from_prose(sources, u, intents, doc, result, lang, day, asked_before)
    if "money" in intents and not states_money(sources, result) and not faq_answers(sources.index, u, result):
        return escalate(sources, "not_stated", record, result, lang)
    if intents[:1] == ["doc_facts"]:
        draft = doc_facts(sources.view, u, lang)
        if draft:
            return draft
    wants_list = "list_tasks" in intents or ("eligibility" in intents and record is None)
    if applicant and wants_list and sources.view.records_by_task:
        listed = applicant_list(sources, applicant, aliases, intents, lang, day)
        if listed.escalate_reason is None:
            return listed
        # No row lists this applicant: the running text may still say something about them.
        return extractive(sources, u, intents, result, lang, day, content=content, task=None) or listed
    if record and applicant and "eligibility" in intents:
        return eligibility_yes_no(sources.view, record, applicant, aliases, lang)
    if record and u.yes_no:
        by_birth = birth_date_rule(sources.view, record, u, lang)
        if by_birth:
            return by_birth
    if record is None:
        named = contact_named(sources.view, u, intents)
        if named:
            return named
    if "list_tasks" in intents and record is None and content:
        matching = records_matching(sources.view, content)
        if 0 < len(matching) < len(sources.view.all_records()):
            return task_list(sources.view, matching, intents, lang, day)
    if record and intents and intents[0] in STRUCTURED_INTENTS:
        asked = [i for i in intents if i in STRUCTURED_INTENTS]
        asks_email = any(w in u.normalized for w in ("邮箱", "email", "e-mail", "mail"))
        return record_fields(sources, record, asked, lang, day, content=content, asks_email=asks_email)
    if record and intents and {*intents} & set(STRUCTURED_INTENTS):
        # The strongest cue is not a table field ('最多能报几门'): the text may say it better.
        scoped = extractive(sources, u, intents, result, lang, day, content=content, task=record.task)
        if scoped:
            return scoped
        asked = [i for i in intents if i in STRUCTURED_INTENTS]
        return record_fields(sources, record, asked, lang, day, content=content)
    if record and not intents:
        # A task and no question word: the sentence about the task that matches best, else a summary.
        scoped = extractive(sources, u, intents, result, lang, day, content=content, task=record.task)
        if scoped:
            return scoped
        return record_fields(sources, record, ["deadline", "method", "contact"], lang, day, content=content)
    # "Who are the reviewers" asks for people, not for the list of tasks.
    asks_people = re.search(r"哪些人|谁|\bwho\b", u.normalized) is not None and "eligibility" not in intents
    if (
        "list_tasks" in intents
        and sources.view.records_by_task
        and not asks_people
        and (intents[0] == "list_tasks" or not {*intents} & {"quantity", "doc_facts"})
    ):
        unrelated = {w for w in content if w not in _LIST_NOUNS}
        if not unrelated or coverage(unrelated, all_record_text(sources.view)) >= 0.34:
            return all_tasks(sources.view, lang, day)
    if "doc_facts" in intents:
        draft = doc_facts(sources.view, u, lang)
        if draft:
            return draft
    if "contact" in intents and not task:
        return general_contact(sources, result, lang)
    if (
        intents[:1] == ["deadline"]
        and sources.view.records_by_task
        and not {
            w for w in content if w not in _LIST_NOUNS | _WHEN_WORDS and w not in INTENT_WORDS["deadline"]
        }
    ):
        # '申报什么时候截止': every task's date (of the notice asked about), not the sentence '见附表'.
        own = [r for r in sources.view.all_records() if doc is None or r.doc_id == doc.doc_id]
        if own:
            return task_list(sources.view, own, [], lang, day, key="list_all")
    sentences = extractive(sources, u, intents, result, lang, day, content=content, task=task)
    if sentences:
        return sentences
    if "deadline" in intents and sources.view.records_by_task and not content:
        return all_tasks(sources.view, lang, day)
    return escalate(sources, "no_answer", record, result, lang)


def from_prose(
    sources: Sources,
    u: Understanding,
    intents: list[str],
    doc: Document,
    result: SearchResult,
    lang: str,
    day: date,
    asked_before: str | None = None,
) -> Draft:
    """Answer from a notice without table records: a typed fact, the best sentence, or its silence.

    A staff FAQ entry written for the question comes first: staff answered it on purpose.
    """
    words = question_words(sources.index, u)
    if faq_answers(sources.index, u, result):
        staff = SearchResult([h for h in result.hits if h.entry.kind == "faq"])
        answered = extractive(sources, u, intents, staff, lang, day, content=words, task=None)
        if answered:
            return answered
    content = sources.prose.beyond_title(words, doc)
    prose = sources.prose.answer(doc, u.normalized, content, u.yes_no, lang, day, asked_before=asked_before)
    if prose is None and content:
        # Second stage: the passages of the resolved notice itself, not those that won overall
        # (already so when the notice was settled before the answer: no second search then).
        own = result
        if any(h.entry.kind != "faq" and h.entry.doc_id != doc.doc_id for h in result.hits):
            scoped = sources.index.searcher.search(
                u.question, k=8, filters=SearchFilter(doc_ids={doc.doc_id})
            )
            faq = [h for h in result.hits if h.entry.kind == "faq"]
            own = SearchResult(faq + scoped.hits, degraded=scoped.degraded)
        extracted = extractive(sources, u, intents, own, lang, day, content=content, task=None)
        if extracted:
            return extracted
    if prose is None:
        prose = sources.prose.silent(doc, lang)
    return draft_of(prose)


def task_by_meaning(sources: Sources, u: Understanding) -> str | None:
    """For English questions, find the task whose name the question's meaning is closest to."""
    if u.language != "en" or not sources.view.records_by_task:
        return None
    names = list(sources.view.records_by_task)
    embedder = sources.index.embedder
    vectors = embedder.embed_passages(names)
    query = embedder.embed_queries([u.expanded])[0]
    sims = vectors @ query
    order = sims.argsort()[::-1]
    best = names[int(order[0])]
    # Cosines bunch together: a clear winner counts, or a narrower one that the name's words confirm.
    if len(order) == 1 or sims[order[0]] - sims[order[1]] >= 0.02:
        return best
    lexical = sources.view.matcher.scores(u.expanded)
    if lexical and lexical[0][0] == best and (len(lexical) == 1 or lexical[0][1] > 1.5 * lexical[1][1]):
        return best
    return None


def task_from_hits(result: SearchResult, intents: list[str]) -> str | None:
    """With a structured question and no task named, take the task of a confidently found record."""
    if not any(i in STRUCTURED_INTENTS for i in intents):
        return None
    for hit in result.hits[:2]:
        if hit.entry.kind == "record" and hit.relevance >= 0.45:
            return str(hit.entry.meta.get("task")) or None
    return None


def title_says_more(view: KnowledgeView, u: Understanding, task: str, resolution: Resolution) -> bool:
    """Tell whether the resolved notice's title holds more of the question than the matched task's name."""
    record = view.record_for(task)
    doc = view.documents.get(resolution.doc_id or "")
    if record is None or doc is None or record.doc_id == doc.doc_id:
        return False
    asked = set(grams(u.normalized))
    in_title = len(asked & set(grams(to_simplified(doc.title))))
    return in_title >= 3 and in_title > len(asked & set(grams(task)))
