"""CSV exports of the messages and the FAQ, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from handlers.staff.base import StaffBase


class StaffExports(StaffBase):
    """messages.csv and faq.csv (a session or a bearer token)."""

    async def export_messages(self, request: Request) -> Response:
        staff = await self.who(request, api=True)
        store = self.store(request)
        await self.audit(request, staff.name, "export", "messages.csv")
        columns = [
            "at", "message_id", "session_id", "channel", "question", "answer", "intent", "task",
            "confidence", "escalated", "reason", "latency_ms", "degraded", "review_status", "feedback",
        ]  # fmt: skip

        def rows() -> Iterator[list[Any]]:
            for item in store.export_messages():
                yield [item.get(c) for c in columns]

        return _csv_response("applybot-messages.csv", columns, rows())

    async def export_faq(self, request: Request) -> Response:
        staff = await self.who(request, api=True)
        entries = await run_in_threadpool(self.store(request).faq_entries, status=None)
        await self.audit(request, staff.name, "export", "faq.csv")
        columns = ["id", "questions", "answer", "source", "author", "status", "created_at", "updated_at"]
        rows = (
            [(" | ".join(e["questions"]) if c == "questions" else e.get(c)) for c in columns] for e in entries
        )
        return _csv_response("applybot-faq.csv", columns, rows)


def _csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def _csv_response(filename: str, columns: list[str], rows: Any) -> StreamingResponse:
    def generate() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # a BOM, so spreadsheet programs read the Chinese as UTF-8
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    return StreamingResponse(
        generate(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
