"""The assistant: understand a question, find the facts, compose a short cited answer, or escalate.

Structured questions (deadline, eligibility, materials, method, contact) are answered from table
records; other questions get the sentence(s) that answer them. Every quote is a slice of its
document's text. When nothing answers, the reply says so, names the right person from the notice,
and the question is logged for staff. This class holds what lives between questions (the documents'
view, sessions, settings) and runs the steps in order; the steps are plain functions in bot/answer/.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.answer.citations import span_citation
from bot.answer.draft import Draft, draft_of
from bot.answer.faq import faq_answers
from bot.answer.followups import clarify, read_turn
from bot.answer.in_force import in_force_notice, revise_in_force
from bot.answer.prose import ProseAnswerer
from bot.answer.routing import draft_answer, task_by_meaning, task_from_hits, title_says_more
from bot.answer.sources import Sources
from bot.answer.wording import deadline_refs, finish
from bot.answer.words import beyond_notices, content_tokens, coverage, known_word, question_words
from bot.clock import Clock
from bot.compose import phrase
from bot.contract import Answer, NoticeOption
from bot.escalation import UnansweredLog
from bot.in_force import Decisions, apply_decisions
from bot.knowledge import KnowledgeView
from bot.notices import NoticeResolver, Resolution
from bot.rephrase import LlmRephraser
from bot.sessions import SessionContext, SessionStore
from bot.understand import PREDICATE_WORDS, asked_kinds, understand
from common.errors import InvalidQueryError
from retrieval.index import KnowledgeIndex
from retrieval.relations import find_relations
from retrieval.search import SearchFilter, SearchResult

log = logging.getLogger(__name__)

_TAG = re.compile(r"<[^<>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
            coverage=coverage,
            cite=span_citation,
            no_answer_text=no_answer_text,
            fallback_contact=fallback_contact,
            is_known=lambda word: known_word(self.index, word),
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
        self.notices = NoticeResolver(documents)

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
        sources = self._sources()
        if not re.search(r"[\w]", _TAG.sub("", u.normalized)):
            # Nothing to look up ('😀😀', '？？？'): ask again instead of filling the staff queue.
            return finish(
                self.view,
                Draft(lines=[phrase("ask_in_words", "en" if u.language == "en" else "zh")], confidence=0.0),
                u,
                [],
                None,
                session_id,
                SearchResult([]),
                rephraser=self.rephraser,
            )

        turn = read_turn(u, context, self.view)
        task, intents, follow_up = turn.task, turn.intents, turn.follow_up
        carried_content, applicant, aliases = turn.carried_content, turn.applicant, turn.aliases

        query = text if not (follow_up and task) else f"{task} {text}"
        if carried_content:
            query = f"{query} {' '.join(sorted(carried_content))}"
        result = self.index.searcher.search(query, k=8)
        if task is None and not applicant and intents[:1] != ["doc_facts"]:
            task = task_from_hits(result, intents) or task_by_meaning(sources, u)

        own_words = question_words(self.index, u)
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
        if task and resolution.doc_id and not follow_up and title_says_more(self.view, u, task, resolution):
            task = None  # '青年教师教学午餐会…' names a notice's title better than a task sharing '青年教师'
        if task and self.view.record_for(task):
            resolution = Resolution(self.view.record_for(task).doc_id, named=True)  # type: ignore[union-attr]
        if chosen:
            resolution = Resolution(chosen, named=True)
        resolution = in_force_notice(self.view, resolution, u.normalized, day)
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
            and not faq_answers(self.index, u, result)  # a staff answer was written for the question itself
        ):
            if beyond_notices(self.index, own_words):
                draft = draft_of(self.prose.silent(None, lang, reason="no_answer"))  # '明天天气怎么样'
            else:
                draft = clarify(resolution, lang)
                context.choices, context.pending = [c.doc_id for c in resolution.candidates], text
        else:
            draft = draft_answer(
                sources, u, intents, task, applicant, aliases, result, day, carried_content, resolution
            )
        revise_in_force(self.view, draft, lang, day)
        answer = finish(self.view, draft, u, intents, task, session_id, result, rephraser=self.rephraser)
        answer.deadlines = deadline_refs(self.view, draft, answer.answer, lang)
        if draft.clarify:
            answer.clarify = [NoticeOption(c.doc_id, c.title) for c in resolution.candidates]
            answer.intent = "clarify"
        context.doc_id = None if draft.clarify else resolution.doc_id
        context.asked = asked_kinds(u.normalized)[0] or context.asked
        if task is None and len(draft.tasks) == 1:
            task = draft.tasks[0]  # a list of one names the task the next question is about
        context.task = task or (context.task if follow_up else None)
        context.content = sorted(carried_content or content_tokens(self.index, u, task))
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

    # -- helpers ------------------------------------------------------------------------------------

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

    def _sources(self) -> Sources:
        """What this question's answer is composed from (read per question: settings may change)."""
        return Sources(self.view, self.index, self.prose, self.min_relevance, self.no_answer_text)

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
