"""Every deadline the notices in force set, as plain data, and as an iCalendar feed.

A deadline comes from a table record (a task's 申报截止时间) or from a sentence that states one (报名截止
时间为…, …前提交). Its `key` is stable across restarts and across an amendment that moves its date, so a
reminder subscribed to it follows the move. Notices revoked or replaced by a later round give none.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.in_force import AMENDED, CURRENT, DEADLINE_WORDS, InForce
from retrieval.model import Document, Record, stable_id
from retrieval.normalize import to_simplified


@dataclass
class Deadline:
    """One date by which something must be done, from one notice."""

    key: str
    doc_id: str
    notice: str  # the notice's title
    what: str  # the task, or the sentence's words before the date
    date: str  # ISO, the date in force
    time: str | None = None  # HH:MM when the notice gives one
    start: str | None = None  # ISO, when the deadline closes a window that opens on this day
    quote: str = ""  # the passage that states it, verbatim
    changed_from: str | None = None  # ISO, when a later notice moved it
    changed_by: str | None = None  # the title of that notice

    def days_left(self, today: dt.date) -> int:
        return (dt.date.fromisoformat(self.date) - today).days


def find_deadlines(
    documents: dict[str, Document], in_force: InForce, records: list[Record]
) -> list[Deadline]:
    """Every deadline of the notices in force, by date (records carry the deadlines in force already)."""
    found: list[Deadline] = []
    live = {d for d in documents if in_force.status(d) in (CURRENT, AMENDED)}
    for record in records:
        if record.doc_id not in live or not record.deadline:
            continue
        doc = documents[record.doc_id]
        applied = in_force.record_changes.get(record.record_id)
        found.append(
            Deadline(
                key=stable_id("deadline", record.record_id),
                doc_id=doc.doc_id,
                notice=doc.title,
                what=record.task,
                date=record.deadline,
                time=record.deadline_time,
                start=record.deadline_start,
                quote=doc.text[record.start : record.end],
                changed_from=applied.replaced if applied else None,
                changed_by=applied.source.title if applied else None,
            )
        )
    for doc_id in sorted(live):
        doc = documents[doc_id]
        if any(r.kind in ("postpones", "amends", "corrects") for r in in_force.by_source.get(doc_id, [])):
            continue  # an amendment's own dates are its target's, said there
        seen: set[str] = set()
        for fact in doc.facts:
            if fact.kind != "date" or not isinstance(fact.value, dict):
                continue
            sentence = doc.text[fact.start : fact.end]
            end = fact.value.get("end") or fact.value.get("date")
            if not end or not DEADLINE_WORDS.search(to_simplified(sentence)) or end in seen:
                continue
            seen.add(str(end))
            deadline = Deadline(
                key=stable_id("deadline", doc_id, str(fact.start)),
                doc_id=doc_id,
                notice=doc.title,
                what=_what(doc.text[fact.start : fact.value_start]) or doc.title,
                date=str(end),
                time=fact.value.get("time"),
                start=fact.value.get("start"),
                quote=sentence,
            )
            moved = in_force.superseded_dates(doc, sentence, int(str(end)[:4]))
            if moved:
                applied = moved[-1][1]
                deadline.changed_from, deadline.date = deadline.date, str(applied.change.new_iso)
                deadline.changed_by, deadline.time = applied.source.title, None
                if deadline.start and deadline.start >= deadline.date:
                    deadline.start = None
            found.append(deadline)
    return sorted(found, key=lambda d: (d.date, d.notice, d.what))


def _what(text: str) -> str:
    """The words before a date that say what it is for ('报名截止时间为' -> '报名截止时间')."""
    text = re.sub(r"^[\s一二三四五六七八九十\d、.（()）]+", "", text)
    text = re.sub(r"(?:为|是|于|在|：|:|，|,|\s)+$", "", text)
    return text[-30:]


def calendar(deadlines: list[Deadline], *, name: str, tz: str) -> bytes:
    """The deadlines as an iCalendar file (RFC 5545): one event each, all day unless a time is given."""
    from zoneinfo import ZoneInfo

    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//applybot//deadlines//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz)
    stamp = dt.datetime.now(ZoneInfo("UTC"))
    for deadline in deadlines:
        event = Event()
        event.add("uid", f"{deadline.key}@applybot")
        event.add("dtstamp", stamp)
        event.add("summary", f"截止：{deadline.what}")
        day = dt.date.fromisoformat(deadline.date)
        if deadline.time:
            hour, minute = (int(x) for x in deadline.time.split(":"))
            at = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(tz))
            event.add("dtstart", at)
            event.add("dtend", at)
        else:
            event.add("dtstart", day)
            event.add("dtend", day + dt.timedelta(days=1))
        note = f"{deadline.notice}\n「{deadline.quote.strip()}」"
        if deadline.changed_from:
            note += f"\n已由{deadline.changed_from}调整为{deadline.date}（{deadline.changed_by}）"
        event.add("description", note)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"截止：{deadline.what}")
        alarm.add("trigger", dt.timedelta(days=-1))
        event.add_component(alarm)
        cal.add_component(event)
    return bytes(cal.to_ical())
