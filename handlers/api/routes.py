"""The API's routes: ask (and its stream), feedback, handoff, deadlines and calendars, health, metrics,
the demo page, the widget script and the Telegram webhook."""

from __future__ import annotations

import html
import logging
import time
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
    HandoffPublic,
    HandoffRequest,
    HealthPublic,
)
from handlers.api.sse import sse_stream
from handlers.telegram import SECRET_HEADER, WEBHOOK_PATH, handle_webhook_update

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
    @app.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        if request.app.state.telegram is None:
            return Response(status_code=404)
        try:
            body = await request.json()
        except ValueError:
            return Response(status_code=400)
        status = await handle_webhook_update(
            request.app.state.telegram,
            body,
            request.headers.get(SECRET_HEADER),
            request.app.state.telegram_secret,
        )
        return Response(status_code=status)

    state = app.state

    def ask(body: AskRequest) -> tuple[dict[str, Any], float]:
        """Answer in a worker thread; one question at a time per session, so its context is never raced."""
        started = time.perf_counter()
        if state.faq_refresher is not None:
            state.faq_refresher.maybe_refresh()  # an FAQ answer published by another worker
        with state.session_locks.for_session(body.session_id):
            answer = state.assistant.ask(body.question, session_id=body.session_id)
        latency_ms = (time.perf_counter() - started) * 1000
        data: dict[str, Any] = answer.to_dict()
        state.journal.log_answer(
            channel=body.channel, question=body.question, answer=data, latency_ms=round(latency_ms, 1)
        )
        state.metrics.answers.labels(body.channel, str(data.get("intent", "general"))).inc()
        if data.get("escalated"):
            state.metrics.escalations.labels(body.channel).inc()
        return data, latency_ms

    @app.post("/api/ask", response_model=AnswerPublic, responses=ERRORS, tags=["ask"])
    async def ask_route(body: AskRequest, request: Request) -> dict[str, Any]:
        """Answer one question with verbatim citations."""
        check_rate_limit(request)
        data, _ = await anyio.to_thread.run_sync(ask, body, limiter=state.answer_slots)
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
        data, _ = await anyio.to_thread.run_sync(ask, body, limiter=state.answer_slots)
        return StreamingResponse(
            sse_stream(data),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.post("/api/feedback", response_model=FeedbackPublic, responses=ERRORS, tags=["feedback"])
    async def feedback_route(body: FeedbackRequest) -> dict[str, Any]:
        """Record a thumbs up or down on one answer."""
        record: dict[str, Any] = await run_in_threadpool(
            state.journal.feedback,
            session_id=body.session_id,
            message_id=body.message_id,
            rating=body.rating,
            comment=body.comment,
        )
        state.metrics.feedback.labels(body.rating).inc()
        return record

    @app.post("/api/handoff", response_model=HandoffPublic, responses=ERRORS, tags=["feedback"])
    async def handoff_route(body: HandoffRequest) -> dict[str, Any]:
        """Record that the applicant wants a person, and give the people to contact."""
        record = await run_in_threadpool(
            state.journal.handoff, session_id=body.session_id, channel=body.channel, note=body.note
        )
        state.metrics.handoffs.labels(body.channel).inc()
        return {**record, "contacts": _handoff_contacts(state.assistant, body.session_id)}

    def _deadlines(upcoming: bool) -> list[Any]:
        today = state.assistant.clock.today()
        found = state.assistant.view.deadlines()
        return [d for d in found if not upcoming or d.days_left(today) >= 0]

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


def _handoff_contacts(assistant: Any, session_id: str) -> list[dict[str, Any]]:
    """The notice's general contacts, then the contacts of the task the session last asked about."""
    contacts = list(assistant.view.general_contacts())
    task = assistant.sessions.get(session_id).task
    record = assistant.view.record_for(task) if task else None
    if record is not None:
        contacts.extend(record.contacts)
    out: list[dict[str, Any]] = []
    for contact in contacts:
        item = {
            "name": contact.name,
            "department": contact.department,
            "phone": contact.phone,
            "email": contact.email,
        }
        if item not in out:
            out.append(item)
    return out
