"""The API's routes: ask (and its stream), feedback, deadlines and calendars, health, metrics, the demo
page and the widget script. Handoff threads are in `handlers.api.handoffs`."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from handlers.api.errors import error_response
from handlers.api.limits import check_rate_limit
from handlers.api.models import (
    ERRORS,
    AnswerPublic,
    AskRequest,
    DeadlinePublic,
    ErrorPublic,
    FeedbackPublic,
    FeedbackRequest,
    HealthPublic,
)
from handlers.api.sse import sse_stream

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent.parent / "static"
READY_QUERY = "申报截止时间"


def render_demo_page(assistant: Any) -> str:
    """Fill the demo page from the knowledge base (nothing about a notice is written in the page itself)."""
    view = assistant.view
    docs = sorted(view.documents.values(), key=lambda d: d.path)
    first = docs[0].parts[0] if docs and docs[0].parts else None
    title = first.title if first else "申报咨询"
    subtitle = " · ".join(x for x in ((first.doc_number, first.issuer) if first else ()) if x)
    rows = []
    for record in view.all_records():
        cells = (record.task, record.fields.get("eligibility", ""), record.fields.get("deadline", ""))
        rows.append("      <tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    records = view.all_records()
    example = f"{records[0].task}什么时候截止？" if records else "申报什么时候截止？"
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    values = {"title": title, "subtitle": subtitle, "example": example}
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", html.escape(value))
    return page.replace("{{rows}}", "\n".join(rows) or '      <tr><td colspan="3">（知识库为空）</td></tr>')


def add_routes(app: FastAPI) -> None:
    state = app.state

    def ask(body: AskRequest) -> dict[str, Any]:
        """Answer in a worker thread, through the conversation service."""
        asked = state.conversation.ask(body.question, session_id=body.session_id, channel=body.channel)
        data: dict[str, Any] = asked.data
        return data

    @app.post("/api/ask", response_model=AnswerPublic, responses=ERRORS, tags=["ask"])
    async def ask_route(body: AskRequest, request: Request) -> dict[str, Any]:
        """Answer one question with verbatim citations."""
        check_rate_limit(request)
        data: dict[str, Any] = await anyio.to_thread.run_sync(ask, body, limiter=state.answer_slots)
        return data

    @app.post(
        "/api/ask/stream",
        responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
        response_class=StreamingResponse,
        tags=["ask"],
    )
    async def ask_stream_route(body: AskRequest, request: Request) -> StreamingResponse:
        """Server-Sent Events: `delta` events with pieces of the answer text, then one `answer` event."""
        check_rate_limit(request)
        # errors leave as JSON before the stream starts
        data = await anyio.to_thread.run_sync(ask, body, limiter=state.answer_slots)
        return StreamingResponse(
            sse_stream(data),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post("/api/feedback", response_model=FeedbackPublic, responses=ERRORS, tags=["feedback"])
    async def feedback_route(body: FeedbackRequest) -> dict[str, Any]:
        """Record a thumbs up or down on one answer."""
        record: dict[str, Any] = await run_in_threadpool(
            state.conversation.feedback,
            session_id=body.session_id,
            message_id=body.message_id,
            rating=body.rating,
            comment=body.comment,
        )
        return record

    def _deadlines(upcoming: bool) -> list[Any]:
        found: list[Any] = state.conversation.deadlines(upcoming=upcoming)
        return found

    @app.get("/api/deadlines", response_model=list[DeadlinePublic], tags=["deadlines"])
    async def deadlines_route(all: bool = False) -> list[dict[str, Any]]:
        """Deadlines of the notices in force, soonest first (upcoming only unless `all`)."""
        today = state.assistant.clock.today()
        return [
            {**vars(d), "days_left": d.days_left(today), "calendar": f"/api/deadlines/{d.key}.ics"}
            for d in await run_in_threadpool(_deadlines, not all)
        ]

    @app.get("/api/deadlines.ics", tags=["deadlines"], response_class=Response)
    async def calendar_feed(all: bool = False) -> Response:
        """An iCalendar feed of every upcoming deadline (subscribe to it in a calendar app)."""
        from bot.deadlines import calendar

        found = await run_in_threadpool(_deadlines, not all)
        body = calendar(found, name="申报截止日期", tz=state.settings.timezone)
        return Response(body, media_type="text/calendar; charset=utf-8")

    @app.get(
        "/api/deadlines/{key}.ics",
        tags=["deadlines"],
        response_class=Response,
        responses={404: {"model": ErrorPublic}},
    )
    async def calendar_file(key: str) -> Response:
        """One deadline as an .ics file ('加入日历')."""
        from bot.deadlines import calendar

        found = [d for d in await run_in_threadpool(_deadlines, False) if d.key == key]
        if not found:
            return error_response(404, "no such deadline")
        return Response(
            calendar(found, name="申报截止日期", tz=state.settings.timezone),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="deadline-{key}.ics"'},
        )

    @app.get("/healthz", response_model=HealthPublic, response_model_exclude_none=True, tags=["ops"])
    async def healthz() -> dict[str, Any]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=HealthPublic, responses={503: {"model": ErrorPublic}}, tags=["ops"])
    async def readyz() -> Any:
        """The index is loaded and a real search finds something; 503 otherwise."""
        try:
            result = await run_in_threadpool(state.assistant.index.searcher.search, READY_QUERY, k=1)
        except Exception as exc:  # any failure here means "not ready", whatever raised it
            log.warning("readiness search failed: %s", exc)
            return error_response(503, f"not ready: the search failed ({type(exc).__name__})")
        if not result.hits:
            return error_response(503, "not ready: the index is empty")
        return {
            "status": "ready",
            "documents": len(state.assistant.view.documents),
            "degraded": bool(result.degraded),
        }

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics_route() -> Response:
        """Prometheus text format."""
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    async def demo_page(request: Request) -> HTMLResponse:
        return HTMLResponse(render_demo_page(request.app.state.assistant))

    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "widget.js",
            media_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"},
        )
