"""Deadline reminders: who wants to be told about which deadline, and which messages are due.

A subscription names a deadline by its stable key (bot.deadlines), so when a later notice moves the
date the reminder follows it and says so. Each message a reminder sends — 7 days before, 1 day
before, the date moved — is claimed by inserting a row keyed by (reminder, kind and date) before it
is sent: with several workers checking at once only one insert succeeds, so exactly one message goes
out; a send that fails gives its claim back and is tried again at the next check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from bot.deadlines import Deadline
from bot.store import Base, UtcDateTime, utcnow

DAYS_BEFORE = (7, 1)


class Reminder(Base):
    """An applicant's subscription to one deadline on one channel."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("channel", "address", "deadline_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))  # where to send: a Telegram chat id
    deadline_key: Mapped[str] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(String(200))
    notice: Mapped[str] = mapped_column(String(300))
    due: Mapped[str] = mapped_column(String(10))  # the date the applicant was last told (ISO)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReminderSend(Base):
    """One message a reminder sent (or is sending): the primary key makes it happen once."""

    __tablename__ = "reminder_sends"

    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)  # '7d:2026-12-18', 'moved:2026-12-20'
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass
class DueMessage:
    """A reminder message to send now."""

    reminder_id: int
    address: str
    kind: str  # before | moved | gone
    claim: str  # the ReminderSend kind that makes it happen once
    what: str
    notice: str
    date: str  # the deadline in force (ISO)
    days_left: int
    old_date: str | None = None  # for 'moved'


class ReminderBook:
    """Subscriptions and due messages, in the application's database (shared by every worker)."""

    def __init__(
        self, sessions: sessionmaker[Any], *, timezone: str = "Asia/Shanghai", hour: int = 9
    ) -> None:
        self.sessions = sessions
        self.tz = ZoneInfo(timezone)
        self.hour = hour

    def subscribe(self, channel: str, address: str, deadline: Deadline) -> tuple[dict[str, Any], bool]:
        """Subscribe (again) to a deadline; return the reminder and whether it is new."""
        with self.sessions.begin() as s:
            row = s.scalars(
                select(Reminder).where(
                    Reminder.channel == channel,
                    Reminder.address == address,
                    Reminder.deadline_key == deadline.key,
                )
            ).first()
            created = row is None or row.cancelled_at is not None
            if row is None:
                row = Reminder(
                    channel=channel,
                    address=address,
                    deadline_key=deadline.key,
                    what=deadline.what[:200],
                    notice=deadline.notice[:300],
                    due=deadline.date,
                    created_at=utcnow(),
                )
                s.add(row)
            elif row.cancelled_at is not None:
                row.cancelled_at, row.created_at, row.due = None, utcnow(), deadline.date
            s.flush()
            return _reminder_dict(row), created

    def active(self, channel: str, address: str) -> list[dict[str, Any]]:
        with self.sessions() as s:
            rows = s.scalars(
                select(Reminder)
                .where(
                    Reminder.channel == channel, Reminder.address == address, Reminder.cancelled_at.is_(None)
                )
                .order_by(Reminder.due, Reminder.id)
            ).all()
            return [_reminder_dict(r) for r in rows]

    def cancel(self, channel: str, address: str, reminder_id: int) -> bool:
        """Cancel one of this address's reminders; False when there is no such active reminder."""
        with self.sessions.begin() as s:
            row = s.get(Reminder, reminder_id)
            if row is None or row.channel != channel or row.address != address or row.cancelled_at:
                return False
            row.cancelled_at = utcnow()
            return True

    def due(self, now: datetime, deadlines: dict[str, Deadline]) -> list[DueMessage]:
        """The messages due at `now` (not yet claimed) given the deadlines in force, by key."""
        local = now.astimezone(self.tz)
        out: list[DueMessage] = []
        with self.sessions() as s:
            rows = s.scalars(select(Reminder).where(Reminder.cancelled_at.is_(None))).all()
            sent = {(r.reminder_id, r.kind) for r in s.scalars(select(ReminderSend)).all()}
        for row in rows:
            deadline = deadlines.get(row.deadline_key)
            if deadline is None:
                claim = f"gone:{row.due}"
                if (row.id, claim) not in sent:
                    out.append(self._message(row, "gone", claim, row.due, local.date()))
                continue
            if deadline.date != row.due:
                claim = f"moved:{deadline.date}"
                if (row.id, claim) not in sent:
                    out.append(self._message(row, "moved", claim, deadline.date, local.date(), old=row.due))
                continue  # the 'before' messages follow once the move is told
            day = date.fromisoformat(deadline.date)
            if local.date() > day:
                continue
            subscribed = row.created_at.astimezone(self.tz)
            # The nearest reminder that is due; an earlier one missed (subscribed late) is not sent.
            for days in sorted(DAYS_BEFORE):
                at = datetime.combine(day - timedelta(days=days), time(self.hour), tzinfo=self.tz)
                if local >= at:
                    claim = f"{days}d:{deadline.date}"
                    if (row.id, claim) not in sent and (subscribed < at or days == min(DAYS_BEFORE)):
                        out.append(self._message(row, "before", claim, deadline.date, local.date()))
                    break
        return out

    def claim(self, message: DueMessage) -> bool:
        """Take a message for sending; False when another worker took it first."""
        try:
            with self.sessions.begin() as s:
                s.add(ReminderSend(reminder_id=message.reminder_id, kind=message.claim, sent_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def sent(self, message: DueMessage) -> None:
        """Record that a 'moved' message went out: the reminder now counts to the new date."""
        if message.kind == "moved":
            with self.sessions.begin() as s:
                row = s.get(Reminder, message.reminder_id)
                if row is not None:
                    row.due = message.date

    def release(self, message: DueMessage) -> None:
        """Give a claim back after a failed send, so the next check tries again."""
        with self.sessions.begin() as s:
            s.execute(
                delete(ReminderSend).where(
                    ReminderSend.reminder_id == message.reminder_id, ReminderSend.kind == message.claim
                )
            )

    def _message(
        self, row: Reminder, kind: str, claim: str, when: str, today: date, *, old: str | None = None
    ) -> DueMessage:
        return DueMessage(
            reminder_id=row.id,
            address=row.address,
            kind=kind,
            claim=claim,
            what=row.what,
            notice=row.notice,
            date=when,
            days_left=(date.fromisoformat(when) - today).days,
            old_date=old,
        )


def _reminder_dict(row: Reminder) -> dict[str, Any]:
    return {
        "id": row.id,
        "deadline_key": row.deadline_key,
        "what": row.what,
        "notice": row.notice,
        "due": row.due,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
