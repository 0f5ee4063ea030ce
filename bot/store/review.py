"""The review queue and the numbers: what staff should look at, marking it reviewed, and the stats page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from bot.store.core import StoreCore
from bot.store.handoffs import _threads
from bot.store.journal import _feedback_dict, _message_dict
from bot.store.schema import REVIEW_STATUSES, FaqEntry, Feedback, Handoff, Message, _parse_at, utcnow


class ReviewMixin(StoreCore):
    """The review queue (escalated, low-confidence or 👎 answers) and the stats page's numbers."""

    def review_items(
        self,
        *,
        status: str | None = "open",
        channel: str | None = None,
        intent: str | None = None,
        task: str | None = None,
        since: date | None = None,
        until: date | None = None,
        low_confidence: float = 0.5,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Questions staff should look at: escalated, low-confidence or rated 👎, newest first."""
        with self.session() as session:
            down = select(Feedback.message_id).where(Feedback.rating == "down")
            query = select(Message).where(
                or_(
                    Message.escalated.is_(True),
                    Message.confidence < low_confidence,
                    Message.message_id.in_(down),
                )
            )
            if status:
                query = query.where(Message.review_status == status)
            if channel:
                query = query.where(Message.channel == channel)
            if intent:
                query = query.where(Message.intent == intent)
            if task:
                query = query.where(Message.task == task)
            if since:
                query = query.where(Message.created_at >= self._day_start(since))
            if until:
                query = query.where(Message.created_at < self._day_start(until + timedelta(days=1)))
            rows = session.scalars(
                query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
            ).all()
            ids = [r.message_id for r in rows]
            feedback: dict[str, list[dict[str, Any]]] = {}
            for start in range(0, len(ids), 500):
                for fb in session.scalars(
                    select(Feedback).where(Feedback.message_id.in_(ids[start : start + 500]))
                ):
                    feedback.setdefault(fb.message_id, []).append(_feedback_dict(fb))
            threads = _threads(session, sorted({r.session_id for r in rows}))
            return [
                {
                    **_message_dict(r),
                    "feedback": feedback.get(r.message_id, []),
                    "handoffs": threads.get(r.session_id, []),
                }
                for r in rows
            ]

    def facets(self) -> dict[str, list[str]]:
        """The channels, intents and tasks messages have, for the review filters."""
        with self.session() as session:
            out = {}
            for name, column in (
                ("channels", Message.channel),
                ("intents", Message.intent),
                ("tasks", Message.task),
            ):
                values = session.scalars(select(column).where(column.is_not(None)).distinct().limit(500))
                out[name] = sorted(str(v) for v in values if v)
            return out

    def _day_start(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(UTC)

    def set_review_status(
        self, message_ids: list[str], status: str, *, actor: str, faq_id: int | None = None
    ) -> int:
        if status not in REVIEW_STATUSES:
            raise ValueError(f"unknown review status {status!r}")
        if not message_ids:
            return 0
        with self.session() as session:
            values: dict[str, Any] = {"review_status": status, "reviewed_by": actor, "reviewed_at": utcnow()}
            if faq_id is not None:
                values["faq_id"] = faq_id
            result = session.execute(
                update(Message).where(Message.message_id.in_(message_ids)).values(**values)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # -- numbers --

    def stats(
        self, *, days: int = 30, low_confidence: float = 0.5, today: date | None = None
    ) -> dict[str, Any]:
        """Totals, rates and questions per day (in the store's time zone) over the last `days` days."""
        today = today or datetime.now(self.tz).date()
        first = today - timedelta(days=days - 1)
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(Message)) or 0
            escalated = session.scalar(select(func.count()).where(Message.escalated.is_(True))) or 0
            low = (
                session.scalar(
                    select(func.count()).where(
                        Message.escalated.is_(False), Message.confidence < low_confidence
                    )
                )
                or 0
            )
            ratings = dict(
                session.execute(select(Feedback.rating, func.count()).group_by(Feedback.rating))
                .tuples()
                .all()
            )
            handoffs = dict(
                session.execute(select(Handoff.status, func.count()).group_by(Handoff.status)).tuples().all()
            )
            open_review = session.scalar(
                select(func.count()).where(Message.review_status == "open", Message.escalated.is_(True))
            )
            faq_active = session.scalar(select(func.count()).where(FaqEntry.status == "active")) or 0
            recent = session.execute(
                select(Message.created_at, Message.escalated).where(
                    Message.created_at >= self._day_start(first)
                )
            ).all()
        per_day = {first + timedelta(days=i): {"questions": 0, "escalated": 0} for i in range(days)}
        for at, was_escalated in recent:
            day = _parse_at(at).astimezone(self.tz).date()
            if day in per_day:
                per_day[day]["questions"] += 1
                per_day[day]["escalated"] += int(bool(was_escalated))
        answered = total - escalated
        return {
            "questions": total,
            "answered": answered,
            "escalated": escalated,
            "answered_rate": round(answered / total, 3) if total else 0.0,
            "escalated_rate": round(escalated / total, 3) if total else 0.0,
            "low_confidence": low,
            "feedback_up": int(ratings.get("up", 0)),
            "feedback_down": int(ratings.get("down", 0)),
            "handoffs": int(sum(handoffs.values())),
            "handoffs_open": int(handoffs.get("open", 0)),
            "open_review": int(open_review or 0),
            "faq_active": faq_active,
            "per_day": [
                {"day": d.isoformat(), "questions": v["questions"], "escalated": v["escalated"]}
                for d, v in sorted(per_day.items())
            ],
        }

    def recent_feedback(self, *, limit: int = 50) -> list[dict[str, Any]]:
        with self.session() as session:
            rows = session.execute(
                select(Feedback, Message.question)
                .join(Message, Message.message_id == Feedback.message_id, isouter=True)
                .order_by(Feedback.created_at.desc())
                .limit(limit)
            ).all()
            return [{**_feedback_dict(fb), "question": q} for fb, q in rows]
