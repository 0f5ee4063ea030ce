"""Handoff threads in the database: an applicant asked for a person; staff claim, reply and close.

A thread is a `handoffs` row (open → claimed → closed) and its messages (role applicant, staff or
system). Every channel reads and writes threads here, so a reply typed on /staff reaches a
Telegram applicant and a reply typed in the staff Telegram group reaches the web widget, whichever
worker handles either side. A message that must cross to Telegram waits with `delivered_at` unset
until exactly one sender claims it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.store.core import StoreCore
from bot.store.schema import Handoff, HandoffLink, HandoffMessage, Message, _iso, utcnow
from common.errors import HandoffClosedError, HandoffNotFoundError

OPEN, CLAIMED, CLOSED = "open", "claimed", "closed"
LIVE = (OPEN, CLAIMED)
ROLES = ("applicant", "staff", "system")


class HandoffsMixin(StoreCore):
    """Open, read, claim, write to and close handoff threads; hand Telegram what it must send."""

    def open_handoff(
        self,
        *,
        session_id: str,
        channel: str,
        note: str | None,
        applicant: str | None = None,
        token_hash: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """The session's live thread (with a new token hash if one is given), or a new thread.

        True when the thread was created now.
        """
        with self.session() as session:
            live = _live(session, session_id)
            now = utcnow()
            if live is not None:
                if token_hash:
                    live.token_hash, live.updated_at = token_hash, now
                return _thread_dict(session, live), False
            handoff = Handoff(
                handoff_id=uuid.uuid4().hex,
                session_id=session_id[:128],
                channel=channel[:16],
                note=note,
                status=OPEN,
                applicant=(applicant or "")[:200] or None,
                token_hash=token_hash,
                created_at=now,
                updated_at=now,
            )
            session.add(handoff)
            session.flush()
            return _handoff_dict(handoff, []), True

    def live_handoff(self, session_id: str) -> dict[str, Any] | None:
        """The session's open or claimed thread with its messages, if any."""
        with self.session() as session:
            live = _live(session, session_id)
            return _thread_dict(session, live) if live is not None else None

    def get_handoff(self, handoff_id: str, *, after: int = 0) -> dict[str, Any]:
        """A thread with its messages whose id is above `after` (all of them by default)."""
        with self.session() as session:
            return _thread_dict(session, _get(session, handoff_id), after=after)

    def add_handoff_message(
        self, handoff_id: str, *, role: str, author: str, text: str, delivered: bool = False
    ) -> dict[str, Any]:
        """Append a message to a live thread (HandoffClosedError once closed); staff claim it."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        with self.session() as session:
            handoff = _get(session, handoff_id)
            if handoff.status == CLOSED:
                raise HandoffClosedError("this conversation with staff has ended")
            now = utcnow()
            message = HandoffMessage(
                handoff_id=handoff_id,
                role=role,
                author=author[:64],
                text=text,
                created_at=now,
                delivered_at=now if delivered else None,
            )
            session.add(message)
            if role == "staff" and handoff.status == OPEN:
                handoff.status, handoff.claimed_by, handoff.claimed_at = CLAIMED, author[:64], now
            handoff.updated_at = now
            session.flush()
            return _message_dict(message)

    def claim_handoff(self, handoff_id: str, *, staff: str) -> dict[str, Any]:
        """Mark a live thread as handled by `staff` (taking it over from another staff member too)."""
        with self.session() as session:
            handoff = _get(session, handoff_id)
            if handoff.status == CLOSED:
                raise HandoffClosedError("this conversation with staff has ended")
            now = utcnow()
            handoff.status, handoff.claimed_by, handoff.claimed_at = CLAIMED, staff[:64], now
            handoff.updated_at = now
            session.flush()
            return _thread_dict(session, handoff)

    def close_handoff(
        self, handoff_id: str, *, by: str, text: str, delivered: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """Close a thread, leaving a system message `text`; False when it was closed already."""
        with self.session() as session:
            handoff = _get(session, handoff_id)
            if handoff.status == CLOSED:
                return _thread_dict(session, handoff), False
            now = utcnow()
            handoff.status, handoff.closed_by, handoff.closed_at = CLOSED, by[:120], now
            handoff.updated_at = now
            session.add(
                HandoffMessage(
                    handoff_id=handoff_id,
                    role="system",
                    author=by[:64],
                    text=text,
                    created_at=now,
                    delivered_at=now if delivered else None,
                )
            )
            session.flush()
            return _thread_dict(session, handoff), True

    # -- crossing to Telegram: each pending message or announcement is claimed by exactly one sender --

    def pending_deliveries(
        self, *, roles: tuple[str, ...], channels: tuple[str, ...], limit: int = 50
    ) -> list[dict[str, Any]]:
        """Messages of `roles` in threads on `channels` not yet sent across, oldest first."""
        with self.session() as session:
            rows = session.execute(
                select(HandoffMessage, Handoff)
                .join(Handoff, Handoff.handoff_id == HandoffMessage.handoff_id)
                .where(
                    HandoffMessage.delivered_at.is_(None),
                    HandoffMessage.role.in_(roles),
                    Handoff.channel.in_(channels),
                )
                .order_by(HandoffMessage.id)
                .limit(limit)
            ).all()
            return [{**_message_dict(m), "thread": _handoff_dict(h, [])} for m, h in rows]

    def claim_delivery(self, message_id: int) -> bool:
        """Take one pending message for sending; False when another sender took it first."""
        with self.session() as session:
            result = session.execute(
                update(HandoffMessage)
                .where(HandoffMessage.id == message_id, HandoffMessage.delivered_at.is_(None))
                .values(delivered_at=utcnow())
            )
            return bool(getattr(result, "rowcount", 0))

    def release_delivery(self, message_id: int) -> None:
        """Give a claimed message back (sending failed for a while): the next round tries again."""
        with self.session() as session:
            session.execute(
                update(HandoffMessage).where(HandoffMessage.id == message_id).values(delivered_at=None)
            )

    def unannounced_handoffs(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """Live threads the staff chat has not been told about, oldest first."""
        with self.session() as session:
            rows = session.scalars(
                select(Handoff)
                .where(Handoff.announced_at.is_(None), Handoff.status.in_(LIVE))
                .order_by(Handoff.created_at, Handoff.id)
                .limit(limit)
            ).all()
            return _with_questions(session, list(rows))

    def claim_announcement(self, handoff_id: str) -> bool:
        """Take a thread's announcement to the staff chat; False when another sender took it."""
        with self.session() as session:
            result = session.execute(
                update(Handoff)
                .where(Handoff.handoff_id == handoff_id, Handoff.announced_at.is_(None))
                .values(announced_at=utcnow())
            )
            return bool(getattr(result, "rowcount", 0))

    def release_announcement(self, handoff_id: str) -> None:
        with self.session() as session:
            session.execute(update(Handoff).where(Handoff.handoff_id == handoff_id).values(announced_at=None))

    def link_staff_message(self, chat_id: int, message_id: int, handoff_id: str) -> None:
        """Remember that a message in the staff chat belongs to a thread."""
        with self.session() as session:
            if session.get(HandoffLink, (chat_id, message_id)) is None:
                session.add(HandoffLink(chat_id=chat_id, message_id=message_id, handoff_id=handoff_id))

    def handoff_for_staff_message(self, chat_id: int, message_id: int) -> str | None:
        with self.session() as session:
            link = session.get(HandoffLink, (chat_id, message_id))
            return link.handoff_id if link is not None else None

    def first_staff_message(self, handoff_id: str, chat_id: int) -> int | None:
        """The staff-chat message that announced a thread (later ones reply to it)."""
        with self.session() as session:
            first: int | None = session.scalar(
                select(func.min(HandoffLink.message_id)).where(
                    HandoffLink.handoff_id == handoff_id, HandoffLink.chat_id == chat_id
                )
            )
            return first

    # -- the staff pages --

    def handoff_threads(self, *, status: str | None = "live", limit: int = 200) -> list[dict[str, Any]]:
        """Threads for /staff: live ones longest-waiting first, then closed ones newest first.

        `status` is "live" (open or claimed), one status, or None for all.
        """
        with self.session() as session:
            rows: list[Handoff] = []
            if status in ("live", None) or status in LIVE:
                wanted = LIVE if status in ("live", None) else (status,)
                rows += session.scalars(
                    select(Handoff)
                    .where(Handoff.status.in_(wanted))
                    .order_by(Handoff.created_at, Handoff.id)
                    .limit(limit)
                ).all()
            if status in (None, CLOSED) and len(rows) < limit:
                rows += session.scalars(
                    select(Handoff)
                    .where(Handoff.status == CLOSED)
                    .order_by(Handoff.updated_at.desc(), Handoff.id.desc())
                    .limit(limit - len(rows))
                ).all()
            return _with_questions(session, rows)

    def live_handoff_count(self) -> int:
        with self.session() as session:
            count = session.scalar(select(func.count()).select_from(Handoff).where(Handoff.status.in_(LIVE)))
            return int(count or 0)


def _get(session: Session, handoff_id: str) -> Handoff:
    handoff = session.scalar(select(Handoff).where(Handoff.handoff_id == handoff_id))
    if handoff is None:
        raise HandoffNotFoundError("no such conversation with staff")
    return handoff


def _live(session: Session, session_id: str) -> Handoff | None:
    live: Handoff | None = session.scalar(
        select(Handoff)
        .where(Handoff.session_id == session_id, Handoff.status.in_(LIVE))
        .order_by(Handoff.created_at.desc(), Handoff.id.desc())
        .limit(1)
    )
    return live


def _thread_dict(session: Session, handoff: Handoff, *, after: int = 0) -> dict[str, Any]:
    messages = _messages_of(session, [handoff.handoff_id], after=after).get(handoff.handoff_id, [])
    return _handoff_dict(handoff, messages)


def _with_questions(session: Session, handoffs: list[Handoff]) -> list[dict[str, Any]]:
    """Threads with their messages and the questions their session asked the assistant."""
    messages = _messages_of(session, [h.handoff_id for h in handoffs])
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
        {**_handoff_dict(h, messages.get(h.handoff_id, [])), "questions": questions.get(h.session_id, [])}
        for h in handoffs
    ]


def _threads(session: Session, session_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The handoff threads (with messages) of each of these sessions, for the review queue."""
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        handoffs = session.scalars(
            select(Handoff).where(Handoff.session_id.in_(chunk)).order_by(Handoff.created_at)
        ).all()
        messages = _messages_of(session, [h.handoff_id for h in handoffs])
        for h in handoffs:
            out.setdefault(h.session_id, []).append(_handoff_dict(h, messages.get(h.handoff_id, [])))
    return out


def _handoff_dict(h: Handoff, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "at": _iso(h.created_at),
        "handoff_id": h.handoff_id,
        "session_id": h.session_id,
        "channel": h.channel,
        "note": h.note,
        "status": h.status,
        "applicant": h.applicant,
        "claimed_by": h.claimed_by,
        "claimed_at": _iso(h.claimed_at),
        "closed_by": h.closed_by,
        "closed_at": _iso(h.closed_at),
        "token_hash": h.token_hash,
        "updated_at": _iso(h.updated_at),
        "replies": messages,
    }


def _message_dict(m: HandoffMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "handoff_id": m.handoff_id,
        "role": m.role,
        "author": m.author,
        "text": m.text,
        "at": _iso(m.created_at),
    }


def _messages_of(
    session: Session, handoff_ids: list[str], *, after: int = 0
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(handoff_ids), 500):
        for m in session.scalars(
            select(HandoffMessage)
            .where(HandoffMessage.handoff_id.in_(handoff_ids[start : start + 500]), HandoffMessage.id > after)
            .order_by(HandoffMessage.id)
        ):
            out.setdefault(m.handoff_id, []).append(_message_dict(m))
    return out
