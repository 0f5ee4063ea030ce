"""The conversation service: the one door every channel goes through.

Channels (the HTTP API and its widget, Telegram, anything added later) translate their input into
one of these calls and the result into their output. Answering, ordering within a session,
journaling, metrics, handoff threads and their audit trail live here, once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.conversation.locks import SessionLocks
from bot.conversation.metrics import ConversationMetrics
from common.errors import HandoffClosedError, HandoffNotFoundError, InvalidQueryError
from common.types import Contact

log = logging.getLogger(__name__)

MAX_THREAD_MESSAGE_CHARS = 2000
CLOSED_TEXT = "人工对话已结束"


@dataclass(frozen=True)
class Asked:
    """One answer as the channels receive it: the answer contract and the time it took."""

    data: dict[str, Any]
    latency_ms: float


@dataclass(frozen=True)
class HandoffStarted:
    """A request for a person: the thread, whether it is new, the applicant's token for reading the
    thread (web only; shown once), and whom to contact meanwhile."""

    thread: dict[str, Any]
    created: bool
    token: str | None
    contacts: list[dict[str, Any]] = field(default_factory=list)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConversationService:
    """Ask, rate, hand off to a person, and carry the messages of a handoff thread both ways.

    `store` is the SQL store: it journals answers and ratings and keeps handoff threads (SQLite
    under the data dir on one machine, PostgreSQL when several share it). `refresher` re-syncs the
    index when another worker published an FAQ entry or a notice.
    """

    def __init__(
        self,
        assistant: Any,
        store: Any,
        *,
        metrics: ConversationMetrics | None = None,
        refresher: Any = None,
        locks: SessionLocks | None = None,
    ) -> None:
        self.assistant = assistant
        self.store = store
        self.metrics = metrics or ConversationMetrics()
        self.refresher = refresher
        self.locks = locks or SessionLocks()

    # -- questions --

    def ask(self, question: str, *, session_id: str | None, channel: str) -> Asked:
        """Answer one question (in a worker thread); one question at a time per session."""
        started = time.perf_counter()
        if self.refresher is not None:
            self.refresher.maybe_refresh()  # an FAQ answer or a notice published by another worker
        with self.locks.for_session(session_id):
            answer = self.assistant.ask(question, session_id=session_id)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        data: dict[str, Any] = answer.to_dict()
        self.store.log_answer(channel=channel, question=question, answer=data, latency_ms=latency_ms)
        self.metrics.answers.labels(channel, str(data.get("intent", "general"))).inc()
        if data.get("escalated"):
            self.metrics.escalations.labels(channel).inc()
        return Asked(data, latency_ms)

    def feedback(
        self, *, session_id: str, message_id: str, rating: str, comment: str | None = None
    ) -> dict[str, Any]:
        """Record a thumbs up or down on one answer."""
        record: dict[str, Any] = self.store.feedback(
            session_id=session_id, message_id=message_id, rating=rating, comment=comment
        )
        self.metrics.feedback.labels(rating).inc()
        return record

    def deadlines(self, *, upcoming: bool = True) -> list[Any]:
        """Deadlines of the notices in force, soonest first (only those not passed when `upcoming`)."""
        today = self.today()
        found = self.assistant.view.deadlines()
        return [d for d in found if not upcoming or d.days_left(today) >= 0]

    def today(self) -> date:
        today: date = self.assistant.clock.today()
        return today

    def contacts(self, session_id: str | None) -> list[Contact]:
        """The notices' general contacts, then those of the task the session last asked about."""
        view = self.assistant.view
        contacts = list(view.general_contacts())
        task = self.assistant.sessions.get(session_id).task if session_id else None
        record = view.record_for(task) if task else None
        if record is not None:
            contacts.extend(record.contacts)
        unique: list[Contact] = []
        for contact in contacts:
            if contact not in unique:
                unique.append(contact)
        return unique

    # -- handoff threads --

    def handoff(
        self, *, session_id: str, channel: str, note: str | None, applicant: str | None = None
    ) -> HandoffStarted:
        """An applicant asks for a person: open (or return) the session's live thread.

        A web applicant gets a token that lets only them read and write the thread; asking again
        from the same session issues a new one (the page that asked last holds it).
        """
        contacts = [c.to_dict() for c in self.contacts(session_id)]
        token = secrets.token_urlsafe(24) if channel == "web" else None
        thread, created = self.store.open_handoff(
            session_id=session_id,
            channel=channel,
            note=note,
            applicant=applicant,
            token_hash=token_hash(token) if token else None,
        )
        if created:
            self.metrics.handoffs.labels(channel).inc()
        return HandoffStarted(thread, created, token, contacts)

    def live_thread(self, session_id: str) -> dict[str, Any] | None:
        """The session's open or claimed thread, if any (Telegram routes the next messages there)."""
        thread: dict[str, Any] | None = self.store.live_handoff(session_id)
        return thread

    def applicant_thread(self, handoff_id: str, token: str, *, after: int = 0) -> dict[str, Any]:
        """The thread (messages after `after`), if `token` is the one issued to its applicant
        (else HandoffNotFoundError)."""
        thread = self.thread(handoff_id, after=after)
        expected = thread.get("token_hash") or ""
        if not expected or not hmac.compare_digest(expected, token_hash(token or "")):
            raise HandoffNotFoundError("no such conversation with staff")
        return thread

    def thread(self, handoff_id: str, *, after: int = 0) -> dict[str, Any]:
        """A thread with its messages whose id is above `after` (what a client has not seen)."""
        thread: dict[str, Any] = self.store.get_handoff(handoff_id, after=after)
        return thread

    def applicant_message(
        self, handoff_id: str, text: str, *, author: str, delivered: bool = False
    ) -> dict[str, Any]:
        """An applicant writes in a live thread (HandoffClosedError once it is closed)."""
        text = _message_text(text)
        message: dict[str, Any] = self.store.add_handoff_message(
            handoff_id, role="applicant", author=author, text=text, delivered=delivered
        )
        return message

    def staff_reply(
        self, handoff_id: str, text: str, *, staff: str, via: str, delivered: bool = False
    ) -> dict[str, Any]:
        """A staff member answers in a thread (claiming it if nobody has); audited."""
        text = _message_text(text)
        message: dict[str, Any] = self.store.add_handoff_message(
            handoff_id, role="staff", author=staff, text=text, delivered=delivered
        )
        self.metrics.staff_replies.labels(via).inc()
        self._audit(staff, "handoff_reply", handoff_id, via=via, text=text)
        return message

    def claim(self, handoff_id: str, *, staff: str, via: str) -> dict[str, Any]:
        thread: dict[str, Any] = self.store.claim_handoff(handoff_id, staff=staff)
        self._audit(staff, "handoff_claim", handoff_id, via=via)
        return thread

    def close(
        self, handoff_id: str, *, by: str, role: str, via: str, delivered: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """Either side ends the thread; False when it had ended already."""
        thread, closed = self.store.close_handoff(handoff_id, by=by, text=CLOSED_TEXT, delivered=delivered)
        if closed and role == "staff":
            self._audit(by, "handoff_close", handoff_id, via=via)
        return thread, closed

    def _audit(self, actor: str, action: str, target: str, **detail: Any) -> None:
        self.store.audit(actor, action, target, **detail)


def _message_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidQueryError("the message is empty", code="empty")
    if len(text) > MAX_THREAD_MESSAGE_CHARS:
        raise InvalidQueryError(
            f"the message is too long; the limit is {MAX_THREAD_MESSAGE_CHARS} characters",
            code="too_long",
            limit=MAX_THREAD_MESSAGE_CHARS,
        )
    return text


__all__ = [
    "Asked",
    "ConversationService",
    "HandoffClosedError",
    "HandoffNotFoundError",
    "HandoffStarted",
    "token_hash",
]
