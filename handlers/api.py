"""The HTTP API and the embeddable web widget: thin routes over the one Assistant and the Journal.

`create_app(settings)` builds the FastAPI app; the assistant and the journal are built once in the
app's lifespan (or passed in, for tests) and kept on `app.state`. Every route parses its input,
calls one service and formats the output; errors leave as JSON `{"error": message}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import math
import os
import threading
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.errors import ApplybotError
from bot.settings import Settings
from handlers.telegram import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    TelegramConfig,
    handle_webhook_update,
    webhook_application,
)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
SESSION_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
STREAM_PIECE_CHARS = 6  # characters per "delta" event
STREAM_PIECE_DELAY_S = 0.012  # a short pause between deltas, so a reader sees the answer arrive
READY_QUERY = "申报截止时间"

# -- request and response models ------------------------------------------------------------------


class AskRequest(BaseModel):
    """A question; without a session id a new session is started."""

    model_config = ConfigDict(extra="ignore")

    question: str = Field(
        description="The applicant's question (its length limit is checked by the assistant)."
    )
    session_id: str | None = Field(
        None, pattern=SESSION_PATTERN, description="Session for follow-up questions."
    )
    channel: Literal["web", "api"] = Field("api", description="Who asks: the web widget or an API client.")


class CitationPublic(BaseModel):
    doc_id: str
    title: str
    section: str
    quote: str
    kind: str


class ContactPublic(BaseModel):
    name: str | None = None
    department: str | None = None
    phone: str | None = None
    email: str | None = None


class NoticeOptionPublic(BaseModel):
    doc_id: str
    title: str


class DeadlineRefPublic(BaseModel):
    key: str
    what: str
    date: str


class DeadlinePublic(BaseModel):
    """A deadline of a notice in force; `calendar` is its .ics file."""

    key: str
    doc_id: str
    notice: str
    what: str
    date: str
    time: str | None
    start: str | None = Field(None, description="When the deadline closes a window: the day it opens.")
    days_left: int
    changed_from: str | None
    changed_by: str | None
    calendar: str


class AnswerPublic(BaseModel):
    """The answer contract every channel shares."""

    answer: str
    citations: list[CitationPublic]
    escalated: bool
    contacts: list[ContactPublic]
    confidence: float
    intent: str
    task: str | None
    session_id: str
    message_id: str
    language: str
    degraded: bool
    clarify: list[NoticeOptionPublic] = Field(
        default_factory=list,
        description="Notices to choose from; send the chosen title as the next question.",
    )
    deadlines: list[DeadlineRefPublic] = Field(
        default_factory=list,
        description="Deadlines the answer gives; GET /api/deadlines/{key}.ics adds one to a calendar.",
    )


class FeedbackRequest(BaseModel):
    session_id: str = Field(pattern=SESSION_PATTERN)
    message_id: str = Field(pattern=SESSION_PATTERN)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


class FeedbackPublic(BaseModel):
    at: str
    session_id: str
    message_id: str
    rating: Literal["up", "down"]
    comment: str | None


class HandoffRequest(BaseModel):
    session_id: str = Field(pattern=SESSION_PATTERN)
    note: str | None = Field(None, max_length=2000)
    channel: Literal["web", "api"] = "api"


class HandoffPublic(BaseModel):
    handoff_id: str
    session_id: str
    status: str
    contacts: list[ContactPublic]


class ErrorPublic(BaseModel):
    error: str


class HealthPublic(BaseModel):
    status: str
    documents: int | None = None
    degraded: bool | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic} for status in (400, 413, 422, 429, 503)
}

# -- metrics -----------------------------------------------------------------------------------------


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (two apps in one process do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "applybot_http_requests",
            "HTTP requests by route and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "applybot_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["route"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.answers = Counter(
            "applybot_answers", "Answers given.", ["channel", "intent"], registry=self.registry
        )
        self.escalations = Counter(
            "applybot_escalations", "Answers that escalated to a person.", ["channel"], registry=self.registry
        )
        self.feedback = Counter(
            "applybot_feedback", "Ratings of answers.", ["rating"], registry=self.registry
        )
        self.handoffs = Counter(
            "applybot_handoffs", "Requests for a person.", ["channel"], registry=self.registry
        )
        self.errors = Counter(
            "applybot_errors", "Requests that ended in an error, by kind.", ["kind"], registry=self.registry
        )


class MetricsMiddleware:
    """Count every HTTP request by its route template (not its raw path) and status, and time it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)


class NoSniffMiddleware:
    """Tell browsers to trust the declared content types (a JSON answer is never run as a script)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper if scope["type"] == "http" else send)


# -- limits --------------------------------------------------------------------------------------


TELEGRAM_BODY_BYTES = 1_048_576
STAFF_FORM_BYTES = 262_144


class BodyLimitMiddleware:
    """Refuse request bodies above the limit with a 413, whether or not they declare a Content-Length.

    Questions get `max_bytes`; a Telegram update, a staff form and a notice upload get more room.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int = 20 * 1024 * 1024) -> None:
        self.app, self.max_bytes, self.upload_bytes = app, max_bytes, upload_bytes

    def limit_for(self, path: str) -> int:
        if path == WEBHOOK_PATH:
            # A Telegram update carries a long message plus the one it replies to.
            return TELEGRAM_BODY_BYTES
        if path == "/staff/knowledge/upload":
            return self.upload_bytes + 65_536
        if path.startswith("/staff/"):
            return STAFF_FORM_BYTES
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        body, more = b"", True
        messages: list[Message] = []
        while more:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)  # a disconnect: hand it on
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await self._refuse(scope, receive, send, limit)
                return
        replay = [{"type": "http.request", "body": body, "more_body": False}, *messages]

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = JSONResponse(
            {"error": f"the request body is larger than the limit of {limit} bytes"}, status_code=413
        )
        await response(scope, receive, send)


class RateLimiter:
    """At most `limit` requests per client in any sliding 60-second window, in this process's memory."""

    def __init__(self, limit: int, window_s: float = 60.0, *, max_clients: int = 100_000) -> None:
        self.limit, self.window_s, self.max_clients = limit, window_s, max_clients
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> float:
        """Record a request; return 0 when allowed, else the seconds until the client may ask again."""
        if self.limit <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(client)
            if hits is None:
                if len(self._hits) >= self.max_clients:
                    self._prune(now)
                hits = self._hits[client] = deque()
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(self.window_s - (now - hits[0]), 0.001)
            hits.append(now)
            return 0.0

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window_s]:
            del self._hits[key]
        while len(self._hits) >= self.max_clients:
            self._hits.pop(next(iter(self._hits)))


class RateLimitedError(ApplybotError):
    """A client asked more often than the rate limit allows."""

    http_status = 429

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after_s))
        super().__init__(f"too many questions; try again in {self.retry_after} seconds")


def _rate_limit(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.limiter.check(client)
    if wait:
        raise RateLimitedError(wait)


class SessionLocks:
    """Striped locks: two questions in the same session are answered one after the other."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]
        self._none = contextlib.nullcontext()

    def for_session(self, session_id: str | None) -> contextlib.AbstractContextManager[Any]:
        if session_id is None:
            return self._none  # a new session: nobody else can hold it yet
        return self._locks[zlib.crc32(session_id.encode()) % len(self._locks)]


# -- the app ---------------------------------------------------------------------------------------


def _origins(settings: Settings) -> list[str]:
    return [o.strip().rstrip("/") for o in settings.allowed_origins.split(",") if o.strip()]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        if err.get("type") == "json_invalid":
            return "invalid request: the body is not valid JSON"
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


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


@asynccontextmanager
async def _telegram(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Run the Telegram bot's webhook side in this app when it is configured."""
    telegram = TelegramConfig.from_settings(settings)
    app.state.telegram, app.state.telegram_secret = None, telegram.webhook_secret
    # The bot keeps per-process state (rate limits, button cache): it runs beside one worker only.
    if telegram.token and telegram.webhook_url and settings.workers == 1:
        async with webhook_application(telegram, app.state.assistant, app.state.journal) as application:
            app.state.telegram = application
            yield
    else:
        yield


def create_app(
    settings: Settings, *, assistant: Any = None, journal: Any = None, store: Any = None
) -> FastAPI:
    """Build the API app; the store, assistant and journal are built in the lifespan unless given.

    The store (SQLite under the data dir, or APPLYBOT_DATABASE_URL) is the journal by default and
    holds sessions, so several workers share follow-ups; staff pages live under /staff.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from bot.faq import FaqRefresher
        from bot.store import open_store

        # Answering is CPU work under one GIL: more threads than a few only take turns more often
        # (docs/benchmarks.md: with 40 threads, answers/s fell from 172 at 8 clients to 127 at 32).
        app.state.answer_slots = anyio.CapacityLimiter(settings.answer_threads)
        app.state.store = store or await run_in_threadpool(open_store, settings)
        if assistant is None:
            from bot.services import build_assistant

            app.state.assistant = await run_in_threadpool(
                lambda: build_assistant(settings, store=app.state.store)
            )
        else:
            app.state.assistant = assistant
        app.state.journal = journal or app.state.store
        index = getattr(app.state.assistant, "index", None)
        app.state.faq_refresher = None
        if index is not None:
            app.state.faq_refresher = FaqRefresher(
                app.state.store, index, app.state.assistant, lock=app.state.index_lock
            )
            app.state.faq_refresher.mark_synced()
        try:
            async with _telegram(app, settings):
                yield
        finally:
            if store is None:
                app.state.store.close()

    app = FastAPI(
        title="applybot",
        version="0.4.0",
        description="Answers applicants' questions about calls for applications with verbatim citations.",
        lifespan=lifespan,
        # applybot exports Prometheus metrics (/metrics); FastAPI's OpenTelemetry hooks would only
        # cost a provider lookup on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.metrics = metrics = Metrics()
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.session_locks = SessionLocks()
    app.state.index_lock = threading.Lock()  # one index re-sync at a time (FAQ published, notice uploaded)

    # Outermost last: CORS headers go on every answer, 413s included; metrics see every status.
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(NoSniffMiddleware)
    origins = _origins(settings)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    _add_error_handlers(app, metrics)
    _add_routes(app)
    from handlers.staff import staff_router

    app.include_router(
        staff_router(
            settings,
            login_limit=settings.staff_login_attempts,
            login_window_s=settings.staff_login_window_s,
            low_confidence=settings.review_low_confidence,
            cluster_threshold=settings.review_cluster_threshold,
            max_upload_bytes=settings.max_upload_bytes,
        )
    )
    return app


def _add_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(ApplybotError)
    async def applybot_error(request: Request, exc: ApplybotError) -> JSONResponse:
        metrics.errors.labels(type(exc).__name__).inc()
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
        if exc.http_status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        return _error(exc.http_status, str(exc) or type(exc).__name__, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.errors.labels("RequestValidationError").inc()
        return _error(422, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code >= 400:
            metrics.errors.labels(f"HTTP{exc.status_code}").inc()
        return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        metrics.errors.labels("unexpected").inc()
        log.exception("unexpected error on %s", request.url.path)
        return _error(500, "internal error")


def _add_routes(app: FastAPI) -> None:
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
        _rate_limit(request)
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
        _rate_limit(request)
        # errors leave as JSON before the stream starts
        data, _ = await anyio.to_thread.run_sync(ask, body, limiter=state.answer_slots)
        return StreamingResponse(
            _sse(data),
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
            return _error(404, "no such deadline")
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
            return _error(503, f"not ready: the search failed ({type(exc).__name__})")
        if not result.hits:
            return _error(503, "not ready: the index is empty")
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


def _pieces(text: str, size: int = STREAM_PIECE_CHARS) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def _sse(data: dict[str, Any]) -> AsyncIterator[bytes]:
    for piece in _pieces(str(data["answer"])):
        yield _event("delta", {"text": piece})
        await asyncio.sleep(STREAM_PIECE_DELAY_S)
    yield _event("answer", data)


# -- serving -----------------------------------------------------------------------------------------


def app_from_env() -> FastAPI:
    """uvicorn factory for worker processes: the settings come from the `APPLYBOT_*` environment."""
    from bot.settings import get_settings

    return create_app(get_settings())


# Idle keep-alive connections stay open longer than clients and proxies keep theirs (httpx 5 s,
# nginx 60 s): a server that closes first races a client reusing the connection, which then gets
# a reset instead of an answer (seen as httpx.ReadError under load with uvicorn's 5 s default).
KEEP_ALIVE_S = 75


def run_server(settings: Settings) -> None:
    """Serve the API and the widget with uvicorn on settings.host:settings.port (`applybot serve`)."""
    import uvicorn

    if settings.workers > 1:
        # Workers share two cores: one embedding thread each avoids OpenMP stalls (docs/benchmarks.md).
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        # Worker processes rebuild the settings from the environment: hand ours down that way.
        for name, value in settings.model_dump().items():
            os.environ[f"APPLYBOT_{name.upper()}"] = str(value)
        uvicorn.run(
            "handlers.api:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            proxy_headers=True,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
    else:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            proxy_headers=True,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
