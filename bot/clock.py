"""Today's date in the notices' time zone; a fixed clock lets tests and evaluations set 'today'."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def today(self) -> date: ...


class ZoneClock:
    """The real date in a time zone (Asia/Shanghai by default)."""

    def __init__(self, tz: str = "Asia/Shanghai") -> None:
        self._tz = ZoneInfo(tz)

    def today(self) -> date:
        return datetime.now(self._tz).date()


class FixedClock:
    """A clock that always says the same day."""

    def __init__(self, day: date) -> None:
        self.day = day

    def today(self) -> date:
        return self.day


def make_clock(*, timezone: str, today: str = "") -> Clock:
    """Return a fixed clock when `today` (YYYY-MM-DD) is given, else the real one."""
    return FixedClock(date.fromisoformat(today)) if today else ZoneClock(timezone)
