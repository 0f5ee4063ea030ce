"""The numbers page (questions per day, escalations, unanswered groups, recent feedback) and the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from handlers.staff.forms import _int
from handlers.staff.queue import ReviewQueue


class NumbersPages(ReviewQueue):
    """The numbers page and the audit log page."""

    async def numbers_page(self, request: Request) -> Response:
        staff = await self.who(request)
        days = _int(request.query_params.get("days"), 30, 7, 365)
        store = self.store(request)
        stats = await run_in_threadpool(store.stats, days=days, low_confidence=self.low_confidence)
        groups = await run_in_threadpool(
            self._queue,
            request,
            {"status": "open", "channel": None, "intent": None, "task": None, "since": None, "until": None},
        )
        unanswered = [g for g in groups if g["escalated"]][:10]
        feedback = await run_in_threadpool(store.recent_feedback, limit=20)
        return self.render(
            request,
            "numbers.html",
            staff=staff,
            stats=stats,
            chart=_chart(stats["per_day"]),
            groups=unanswered,
            feedback=feedback,
            days=days,
        )

    async def audit_page(self, request: Request) -> Response:
        staff = await self.who(request)
        entries = await run_in_threadpool(self.store(request).audit_entries, limit=300)
        return self.render(request, "audit.html", staff=staff, entries=entries)


def _chart(per_day: list[dict[str, Any]], *, width: int = 720, height: int = 220) -> dict[str, Any]:
    """Bar geometry for the questions-per-day chart: answered and escalated stacked, in SVG units."""
    left, bottom, top = 36, 28, 12
    plot_h = height - bottom - top
    n = max(1, len(per_day))
    step = (width - left - 8) / n
    peak = max([d["questions"] for d in per_day] + [1])
    nice = _nice_ceiling(peak)
    bars = []
    for i, d in enumerate(per_day):
        answered = d["questions"] - d["escalated"]
        h_ans = plot_h * answered / nice
        h_esc = plot_h * d["escalated"] / nice
        x = left + i * step + step * 0.15
        bars.append(
            {
                "x": round(x, 1),
                "w": round(step * 0.7, 1),
                "y_ans": round(top + plot_h - h_ans, 1),
                "h_ans": round(h_ans, 1),
                "y_esc": round(top + plot_h - h_ans - h_esc, 1),
                "h_esc": round(h_esc, 1),
                "day": d["day"],
                "label": d["day"][5:] if (i % max(1, n // 8) == 0 or i == n - 1) else "",
                "questions": d["questions"],
                "escalated": d["escalated"],
            }
        )
    ticks = [{"y": round(top + plot_h - plot_h * v / nice, 1), "value": v} for v in (0, nice // 2, nice)]
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "left": left,
        "right": width - 8,
        "base": top + plot_h,
        "label_y": height - 8,
    }


def _nice_ceiling(value: int) -> int:
    for nice in (2, 4, 6, 10, 20, 40, 60, 100, 200, 400, 600, 1000):
        if value <= nice:
            return nice
    magnitude = 10 ** (len(str(value)) - 1)
    return ((value + magnitude - 1) // magnitude) * magnitude
