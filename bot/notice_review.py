"""Staff decisions about notices: confirm or reject a found relation, add one, retire a notice.

Relations are found from the text (retrieval.relations); staff have the last word. Decisions live in
the database, so every worker applies the same ones (the FAQ refresher re-reads them when their
fingerprint changes). A retired notice leaves answers and search but stays in the knowledge base and
in the logs; restoring it brings it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from bot.in_force import Decisions
from bot.store import Base, UtcDateTime, utcnow
from retrieval.relations import RELATION_KINDS

DECISIONS = ("confirmed", "rejected", "added", "retired", "restored")


class NoticeDecision(Base):
    """One staff decision; the latest one about a (source, target) pair, or a notice, holds."""

    __tablename__ = "notice_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))  # doc_id of the later notice (or the one retired)
    target: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decision: Mapped[str] = mapped_column(String(16))
    relation_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    staff: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class NoticeDecisions:
    """Records and reads staff decisions in the application's database."""

    def __init__(self, sessions: sessionmaker[Any]) -> None:
        self.sessions = sessions

    def record(
        self, *, source: str, decision: str, staff: str, target: str | None = None, kind: str | None = None
    ) -> None:
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        if decision == "added" and kind not in RELATION_KINDS:
            raise ValueError(f"unknown relation kind {kind!r}")
        with self.sessions.begin() as s:
            s.add(
                NoticeDecision(
                    source=source,
                    target=target,
                    decision=decision,
                    relation_kind=kind,
                    staff=staff,
                    at=utcnow(),
                )
            )

    def current(self) -> Decisions:
        """Replay the decisions in order: the latest about each pair or notice wins."""
        out = Decisions()
        with self.sessions() as s:
            rows = s.scalars(select(NoticeDecision).order_by(NoticeDecision.id)).all()
        for row in rows:
            if row.decision in ("retired", "restored"):
                (out.retired.add if row.decision == "retired" else out.retired.discard)(row.source)
                continue
            pair = (row.source, row.target or "")
            out.confirmed.discard(pair)
            out.rejected.discard(pair)
            out.added.pop(pair, None)
            if row.decision == "confirmed":
                out.confirmed.add(pair)
            elif row.decision == "rejected":
                out.rejected.add(pair)
            elif row.relation_kind:
                out.added[pair] = row.relation_kind
        return out

    def stamp(self) -> str:
        """A cheap fingerprint: it changes with every decision."""
        with self.sessions() as s:
            count, latest = s.execute(
                select(func.count(NoticeDecision.id), func.max(NoticeDecision.id))
            ).one()
        return f"{count}:{latest or 0}"
