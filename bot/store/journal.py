"""The journal: recording answers, unanswered questions, feedback and handoff requests, and reading
them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from bot.store.core import StoreCore
from bot.store.handoffs import _handoff_dict
from bot.store.schema import Feedback, Handoff, Message, _iso, utcnow


class JournalMixin(StoreCore):
    """Logging writes go through the spool-backed write path; the reads list what was recorded."""

    def log_answer(self, *, channel: str, question: str, answer: dict[str, Any], latency_ms: float) -> None:
        """Record one question and the answer contract given for it."""
        self._submit(
            "answer",
            {
                "at": utcnow().isoformat(),
                "channel": channel,
                "question": question,
                "latency_ms": latency_ms,
                "answer": answer,
            },
        )

    def record_unanswered(
        self, *, question: str, session_id: str, answer: dict[str, Any], reason: str
    ) -> None:
        """Record a question the documents did not answer (merged with its log_answer record)."""
        self._submit(
            "unanswered",
            {
                "at": utcnow().isoformat(),
                "question": question,
                "session_id": session_id,
                "reason": reason or "unanswered",
                "answer": {**answer, "escalated": True},
            },
        )

    def feedback(
        self, *, session_id: str, message_id: str, rating: str, comment: str | None
    ) -> dict[str, Any]:
        """Record a thumbs up or down on one answer."""
        record = {
            "at": utcnow().isoformat(),
            "session_id": session_id,
            "message_id": message_id,
            "rating": rating,
            "comment": comment,
        }
        self._submit("feedback", record)
        return record

    def handoff(self, *, session_id: str, channel: str, note: str | None) -> dict[str, Any]:
        """Record that an applicant asked for a person; staff pick it up from the review pages."""
        record = {
            "at": utcnow().isoformat(),
            "handoff_id": uuid.uuid4().hex,
            "session_id": session_id,
            "channel": channel,
            "note": note,
            "status": "open",
        }
        self._submit("handoff", record)
        return record

    def messages(self) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.scalars(select(Message).order_by(Message.created_at, Message.id)).all()
            return [
                {
                    "at": _iso(r.created_at),
                    "channel": r.channel,
                    "question": r.question,
                    "latency_ms": r.latency_ms,
                    **r.answer,
                }
                for r in rows
            ]

    def feedbacks(self) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.scalars(select(Feedback).order_by(Feedback.created_at, Feedback.id)).all()
            return [_feedback_dict(r) for r in rows]

    def handoffs(self) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.scalars(select(Handoff).order_by(Handoff.created_at, Handoff.id)).all()
            return [_handoff_dict(r, []) for r in rows]

    def export_messages(self, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every message with its feedback, oldest first, read in batches."""
        last = 0
        while True:
            with self.session() as session:
                rows = session.scalars(
                    select(Message).where(Message.id > last).order_by(Message.id).limit(batch)
                ).all()
                if not rows:
                    return
                ids = [r.message_id for r in rows]
                ratings = {
                    m: r
                    for m, r in session.execute(
                        select(Feedback.message_id, Feedback.rating).where(Feedback.message_id.in_(ids))
                    )
                }
            for r in rows:
                yield {**_message_dict(r), "feedback": ratings.get(r.message_id, "")}
            last = rows[-1].id


def _message_dict(r: Message) -> dict[str, Any]:
    return {
        "message_id": r.message_id,
        "session_id": r.session_id,
        "channel": r.channel,
        "question": r.question,
        "answer": r.answer_text,
        "citations": list((r.answer or {}).get("citations") or []),
        "intent": r.intent,
        "task": r.task,
        "language": r.language,
        "confidence": r.confidence,
        "escalated": r.escalated,
        "reason": r.reason,
        "latency_ms": r.latency_ms,
        "degraded": r.degraded,
        "review_status": r.review_status,
        "reviewed_by": r.reviewed_by,
        "faq_id": r.faq_id,
        "at": _iso(r.created_at),
    }


def _feedback_dict(r: Feedback) -> dict[str, Any]:
    return {
        "at": _iso(r.created_at),
        "session_id": r.session_id,
        "message_id": r.message_id,
        "rating": r.rating,
        "comment": r.comment,
    }
