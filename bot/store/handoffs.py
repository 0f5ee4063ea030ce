"""Handoff threads: applicants who asked for a person, and the staff replies to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.core import StoreCore
from bot.store.schema import Handoff, HandoffReply, Message, _iso, utcnow


class HandoffsMixin(StoreCore):
    """Open handoffs with the questions asked before them, and staff replies that answer them."""

    def handoff_threads(self, *, status: str | None = "open", limit: int = 200) -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(Handoff)
            if status:
                query = query.where(Handoff.status == status)
            handoffs = session.scalars(query.order_by(Handoff.created_at.desc()).limit(limit)).all()
            replies = _replies_by_handoff(session, [h.handoff_id for h in handoffs])
            questions: dict[str, list[str]] = {}
            sessions = sorted({h.session_id for h in handoffs})
            for start in range(0, len(sessions), 500):
                for sid, q in session.execute(
                    select(Message.session_id, Message.question)
                    .where(Message.session_id.in_(sessions[start : start + 500]))
                    .order_by(Message.created_at)
                ):
                    questions.setdefault(sid, []).append(q)
            return [
                {
                    **_handoff_dict(h, replies.get(h.handoff_id, [])),
                    "questions": questions.get(h.session_id, []),
                }
                for h in handoffs
            ]

    def reply_handoff(
        self, handoff_id: str, *, author: str, text: str, status: str = "answered"
    ) -> dict[str, Any]:
        with self.session() as session:
            handoff = session.scalar(select(Handoff).where(Handoff.handoff_id == handoff_id))
            if handoff is None:
                raise KeyError(handoff_id)
            now = utcnow()
            if text.strip():
                session.add(HandoffReply(handoff_id=handoff_id, author=author, text=text, created_at=now))
            handoff.status, handoff.updated_at = status, now
            session.flush()
            replies = _replies_by_handoff(session, [handoff_id]).get(handoff_id, [])
            return _handoff_dict(handoff, replies)


def _threads(session: Session, session_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The handoff threads (with replies) of each of these sessions, for the review queue."""
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        handoffs = session.scalars(
            select(Handoff).where(Handoff.session_id.in_(chunk)).order_by(Handoff.created_at)
        ).all()
        replies = _replies_by_handoff(session, [h.handoff_id for h in handoffs])
        for h in handoffs:
            out.setdefault(h.session_id, []).append(_handoff_dict(h, replies.get(h.handoff_id, [])))
    return out


def _handoff_dict(h: Handoff, replies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "at": _iso(h.created_at),
        "handoff_id": h.handoff_id,
        "session_id": h.session_id,
        "channel": h.channel,
        "note": h.note,
        "status": h.status,
        "updated_at": _iso(h.updated_at),
        "replies": replies,
    }


def _replies_by_handoff(session: Session, handoff_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(handoff_ids), 500):
        for r in session.scalars(
            select(HandoffReply)
            .where(HandoffReply.handoff_id.in_(handoff_ids[start : start + 500]))
            .order_by(HandoffReply.created_at, HandoffReply.id)
        ):
            out.setdefault(r.handoff_id, []).append(
                {"author": r.author, "text": r.text, "at": _iso(r.created_at)}
            )
    return out
