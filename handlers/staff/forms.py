"""Reading what a staff page was sent: form fields, message ids, dates and numbers in the query, and
the page to go back to."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import FormData


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _ids(form: FormData) -> list[str]:
    out: list[str] = []
    for value in form.getlist("message_ids"):
        if isinstance(value, str):
            out.extend(v for v in re.split(r"[\s,]+", value) if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", v))
    return list(dict.fromkeys(out))[:1000]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()][:50]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value))) if value else default
    except ValueError:
        return default


def _safe_next(value: str | None, default: str = "/staff/queue") -> str:
    """Only a path inside the staff pages: never another site, never a scheme-relative URL."""
    if not value or not value.startswith("/staff") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def _back(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def waited(at: str | None, now: datetime | None = None) -> str:
    """How long ago `at` was, in words a person reads at a glance: 刚刚, 5 分钟, 2 小时, 3 天."""
    if not at:
        return "—"
    seconds = ((now or datetime.now(UTC)) - datetime.fromisoformat(at)).total_seconds()
    if seconds < 60:
        return "刚刚"
    if seconds < 3600:
        return f"{int(seconds // 60)} 分钟"
    if seconds < 86400:
        return f"{int(seconds // 3600)} 小时"
    return f"{int(seconds // 86400)} 天"
