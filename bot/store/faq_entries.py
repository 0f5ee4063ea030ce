"""Staff FAQ entries: answers to questions the notices do not answer, searched like passages while active."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.store.core import StoreCore
from bot.store.schema import FAQ_STATUSES, FaqEntry, _iso, _parse_at, utcnow


class FaqEntriesMixin(StoreCore):
    """Adding, editing, retiring and listing the staff FAQ."""

    def add_faq(
        self, *, questions: list[str], answer: str, source: str | None, author: str
    ) -> dict[str, Any]:
        questions = _clean_questions(questions)
        if not questions or not answer.strip():
            raise ValueError("an FAQ entry needs at least one question and an answer")
        now = utcnow()
        with self.session() as session:
            entry = FaqEntry(
                questions=questions,
                answer=answer.strip(),
                source=(source or "").strip() or None,
                author=author[:64],
                status="active",
                created_at=now,
                updated_at=now,
            )
            session.add(entry)
            session.flush()
            return _faq_dict(entry)

    def update_faq(
        self,
        faq_id: int,
        *,
        questions: list[str] | None = None,
        answer: str | None = None,
        source: str | None = None,
        status: str | None = None,
        author: str | None = None,
    ) -> dict[str, Any]:
        with self.session() as session:
            entry = session.get(FaqEntry, faq_id)
            if entry is None:
                raise KeyError(faq_id)
            if questions is not None:
                cleaned = _clean_questions(questions)
                if not cleaned:
                    raise ValueError("an FAQ entry needs at least one question")
                entry.questions = cleaned
            if answer is not None:
                if not answer.strip():
                    raise ValueError("an FAQ entry needs an answer")
                entry.answer = answer.strip()
            if source is not None:
                entry.source = source.strip() or None
            if status is not None:
                if status not in FAQ_STATUSES:
                    raise ValueError(f"unknown FAQ status {status!r}")
                entry.status = status
            if author:
                entry.author = author[:64]
            entry.updated_at = utcnow()
            session.flush()
            return _faq_dict(entry)

    def faq_entries(self, *, status: str | None = "active") -> list[dict[str, Any]]:
        with self.session() as session:
            query = select(FaqEntry)
            if status:
                query = query.where(FaqEntry.status == status)
            return [_faq_dict(e) for e in session.scalars(query.order_by(FaqEntry.id))]

    def faq_stamp(self) -> str:
        """A cheap fingerprint of the FAQ table: it changes whenever an entry is added, edited or retired."""
        with self.session() as session:
            count, latest = session.execute(
                select(func.count(FaqEntry.id), func.max(FaqEntry.updated_at))
            ).one()
        return f"{count}:{_iso(_parse_at(latest)) if latest else ''}"


def _clean_questions(questions: list[str]) -> list[str]:
    out: list[str] = []
    for q in questions:
        q = " ".join(str(q).split())[:500]
        if q and q not in out:
            out.append(q)
    return out[:50]


def _faq_dict(e: FaqEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "questions": list(e.questions),
        "answer": e.answer,
        "source": e.source,
        "author": e.author,
        "status": e.status,
        "created_at": _iso(e.created_at),
        "updated_at": _iso(e.updated_at),
    }
