"""Staff pages under /staff: the review queue, FAQ answers, notices, numbers, exports, and their JSON twins.

`staff_router(settings, ...)` returns an APIRouter to include in the API app. Pages are rendered on
the server with Jinja2 (autoescaped: every applicant- or staff-supplied string is escaped) and need
no JavaScript. Staff sign in with a name and an argon2-hashed password; the browser session is an
HttpOnly, SameSite=Lax cookie (Secure over HTTPS) whose token is stored hashed, and every form
carries the session's CSRF token. The JSON endpoints also accept `Authorization: Bearer <token>`
(tokens made by `applybot staff token NAME`, stored hashed, revocable). Login attempts are
rate-limited, and every staff action is written to the audit log.

The store, the assistant and the lock that serialises index changes with questions are taken from
the arguments, else from `request.app.state.store`, `.assistant` and `.ask_lock`.
"""

from __future__ import annotations

import csv
import functools
import hmac
import io
import logging
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from bot.faq import CLUSTER_THRESHOLD, edit_faq, group_questions, publish_faq, sync_faq
from bot.in_force import RETIRED
from bot.settings import Settings
from bot.store import FAQ_STATUSES, REVIEW_STATUSES, Store

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates" / "staff"
SESSION_COOKIE = "applybot_staff"
LOGIN_COOKIE = "applybot_staff_login"
COOKIE_PATH = "/staff"
UPLOAD_FORMATS = {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"}
DB_DOWN = "the database cannot be reached just now; try again in a moment"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_HANDOFF_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


class Refused(Exception):
    """A request the staff pages turn down, with the status and a message for the person."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class Staff:
    """Who is acting, and how they proved it."""

    name: str
    via: str  # session | token
    csrf: str | None = None


class LoginLimiter:
    """Failed sign-ins per client address and per user name in a sliding window, in memory."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keys: list[str], now: float | None = None) -> float:
        """0 when these keys may try again, else the seconds until they may."""
        if self.limit <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for key in keys:
                hits = self._fails.get(key)
                while hits and now - hits[0] >= self.window_s:
                    hits.popleft()
                if hits and len(hits) >= self.limit:
                    wait = max(wait, self.window_s - (now - hits[0]))
        return wait

    def fail(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._fails) > 50_000:
                self._fails.clear()
            for key in keys:
                self._fails.setdefault(key, deque()).append(now)

    def forget(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)


# -- JSON bodies ------------------------------------------------------------------------------------------


class FaqIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[str] = Field(min_length=1, max_length=50)
    answer: str = Field(min_length=1, max_length=10_000)
    source: str | None = Field(None, max_length=500)
    resolves: list[str] = Field(default_factory=list, max_length=1000)


class FaqPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[str] | None = Field(None, min_length=1, max_length=50)
    answer: str | None = Field(None, min_length=1, max_length=10_000)
    source: str | None = Field(None, max_length=500)
    status: str | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_ids: list[str] = Field(min_length=1, max_length=1000)
    status: str


# -- the router --------------------------------------------------------------------------------------------


def staff_router(
    settings: Settings,
    *,
    store: Store | None = None,
    assistant: Any = None,
    lock: AbstractContextManager[Any] | None = None,
    login_limit: int = 5,
    login_window_s: float = 300.0,
    low_confidence: float = 0.5,
    cluster_threshold: float = CLUSTER_THRESHOLD,
    max_upload_bytes: int = 20 * 1024 * 1024,
) -> APIRouter:
    """The staff pages and JSON endpoints, to be included in the app (they live under /staff)."""
    return StaffPages(
        settings,
        store=store,
        assistant=assistant,
        lock=lock,
        login_limit=login_limit,
        login_window_s=login_window_s,
        low_confidence=low_confidence,
        cluster_threshold=cluster_threshold,
        max_upload_bytes=max_upload_bytes,
    ).router


class StaffPages:
    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None,
        assistant: Any,
        lock: AbstractContextManager[Any] | None,
        login_limit: int,
        login_window_s: float,
        low_confidence: float,
        cluster_threshold: float,
        max_upload_bytes: int,
    ) -> None:
        self.settings = settings
        self._store, self._assistant, self._lock = store, assistant, lock
        self._own_lock = threading.Lock()
        self.limiter = LoginLimiter(login_limit, login_window_s)
        self.low_confidence = low_confidence
        self.cluster_threshold = cluster_threshold
        self.max_upload_bytes = max_upload_bytes
        self.tz = ZoneInfo(settings.timezone)
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES_DIR)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = self._when
        self.env.filters["pct"] = lambda v: f"{float(v) * 100:.0f}%"
        self.env.globals["relation_labels"] = RELATION_LABELS
        self.env.globals["status_labels"] = STATUS_LABELS
        self.router = APIRouter(prefix="/staff")
        self._routes()

    # -- plumbing --

    def store(self, request: Request) -> Store:
        store = self._store or getattr(request.app.state, "store", None)
        if store is None:
            raise Refused(503, "the staff store is not configured")
        return store

    def assistant(self, request: Request) -> Any:
        assistant = self._assistant or getattr(request.app.state, "assistant", None)
        if assistant is None:
            raise Refused(503, "the assistant is not ready yet")
        return assistant

    def lock(self, request: Request) -> AbstractContextManager[Any]:
        return self._lock or getattr(request.app.state, "ask_lock", None) or self._own_lock

    def _when(self, value: Any) -> str:
        if not value:
            return "—"
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def render(self, request: Request, template: str, *, code: int = 200, **context: Any) -> HTMLResponse:
        staff: Staff | None = context.pop("staff", None)
        html = self.env.get_template(template).render(
            staff=staff,
            csrf=staff.csrf if staff else None,
            path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=code, headers=SECURITY_HEADERS)

    def html_route(self, fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(fn)
        async def wrapper(request: Request, **kwargs: Any) -> Response:
            try:
                return await fn(request, **kwargs)
            except SQLAlchemyError as exc:
                log.error("staff page %s: database error: %s", request.url.path, exc)
                return self.render(request, "error.html", code=503, message=DB_DOWN)
            except Refused as exc:
                if exc.status == 401:
                    return self._login_redirect(request, exc)
                return self.render(request, "error.html", code=exc.status, message=exc.message)

        return wrapper

    def json_route(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(fn)
        async def wrapper(request: Request, **kwargs: Any) -> Response:
            try:
                result = await fn(request, **kwargs)
            except SQLAlchemyError as exc:
                log.error("staff API %s: database error: %s", request.url.path, exc)
                return JSONResponse({"error": DB_DOWN}, status_code=503, headers={"Retry-After": "10"})
            except Refused as exc:
                return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)
            if isinstance(result, Response):
                return result
            return JSONResponse(result, headers={"Cache-Control": "no-store"})

        return wrapper

    def _login_redirect(self, request: Request, exc: Refused) -> Response:
        """An anonymous browser asking for a page goes to the sign-in form; anything else gets a 401."""
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"{COOKIE_PATH}/login?{urlencode({'next': target})}",
                status_code=303,
                headers=SECURITY_HEADERS,
            )
        return self.render(request, "error.html", code=401, message=exc.message)

    # -- who is asking --

    async def who(self, request: Request, *, api: bool = False) -> Staff:
        store = self.store(request)
        if api:
            scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                name = await run_in_threadpool(store.verify_token, credentials.strip())
                if name is None:
                    raise Refused(401, "the token is invalid or revoked", {"WWW-Authenticate": "Bearer"})
                return Staff(name, "token")
        token = request.cookies.get(SESSION_COOKIE, "")
        found = await run_in_threadpool(store.staff_session, token) if token else None
        if found is None:
            raise Refused(401, "sign in first", {"WWW-Authenticate": "Bearer"} if api else None)
        return Staff(found[0], "session", found[1])

    def check_csrf(self, request: Request, staff: Staff, supplied: str | None) -> None:
        """Every state change from a browser session must carry the session's CSRF token."""
        if staff.via == "token":
            return  # a bearer token is not sent by browsers on their own: no cross-site forgery
        supplied = supplied or request.headers.get("x-csrf-token", "")
        if not supplied or not staff.csrf or not _same_secret(supplied, staff.csrf):
            raise Refused(403, "the form's security token is missing or out of date; reload the page")
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
            raise Refused(403, "cross-site form submissions are refused")

    async def form(self, request: Request, *, max_part_size: int = 1024 * 1024) -> FormData:
        try:
            return await request.form(max_files=1, max_fields=2000, max_part_size=max_part_size)
        except Exception as exc:  # a malformed multipart body
            raise Refused(400, f"the form could not be read ({type(exc).__name__})") from exc

    async def staff_form(self, request: Request) -> tuple[Staff, FormData]:
        staff = await self.who(request)
        form = await self.form(request)
        self.check_csrf(request, staff, _text(form, "csrf_token"))
        return staff, form

    async def audit(
        self, request: Request, staff: str, action: str, target: str | None = None, **detail: Any
    ) -> None:
        try:
            await run_in_threadpool(self.store(request).audit, staff, action, target, **detail)
        except Exception:
            log.exception("could not write the audit log (%s by %s)", action, staff)
            raise

    def secure(self, request: Request) -> bool:
        return request.url.scheme == "https"

    # -- routes --

    def _routes(self) -> None:
        r = self.router
        html, api = self.html_route, self.json_route
        r.add_api_route("", html(self.home), methods=["GET"], include_in_schema=False)
        r.add_api_route("/", html(self.home), methods=["GET"], include_in_schema=False)
        r.add_api_route("/login", html(self.login_form), methods=["GET"], include_in_schema=False)
        r.add_api_route("/login", html(self.login), methods=["POST"], include_in_schema=False)
        r.add_api_route("/logout", html(self.logout), methods=["POST"], include_in_schema=False)
        r.add_api_route("/queue", html(self.queue_page), methods=["GET"], include_in_schema=False)
        r.add_api_route("/queue/status", html(self.queue_status), methods=["POST"], include_in_schema=False)
        r.add_api_route("/queue/answer", html(self.queue_answer), methods=["POST"], include_in_schema=False)
        r.add_api_route(
            "/handoffs/{handoff_id}/reply",
            html(self.handoff_reply),
            methods=["POST"],
            include_in_schema=False,
        )
        r.add_api_route("/faq", html(self.faq_page), methods=["GET"], include_in_schema=False)
        r.add_api_route("/faq/new", html(self.faq_new), methods=["POST"], include_in_schema=False)
        r.add_api_route("/faq/{faq_id}", html(self.faq_edit), methods=["POST"], include_in_schema=False)
        r.add_api_route(
            "/faq/{faq_id}/status", html(self.faq_status), methods=["POST"], include_in_schema=False
        )
        r.add_api_route("/knowledge", html(self.knowledge_page), methods=["GET"], include_in_schema=False)
        r.add_api_route(
            "/knowledge/upload", html(self.knowledge_upload), methods=["POST"], include_in_schema=False
        )
        r.add_api_route(
            "/knowledge/publish", html(self.knowledge_publish), methods=["POST"], include_in_schema=False
        )
        r.add_api_route(
            "/knowledge/relation", html(self.knowledge_relation), methods=["POST"], include_in_schema=False
        )
        r.add_api_route(
            "/knowledge/status", html(self.knowledge_status), methods=["POST"], include_in_schema=False
        )
        r.add_api_route(
            "/knowledge/compare", html(self.knowledge_compare), methods=["GET"], include_in_schema=False
        )
        r.add_api_route("/numbers", html(self.numbers_page), methods=["GET"], include_in_schema=False)
        r.add_api_route("/audit", html(self.audit_page), methods=["GET"], include_in_schema=False)
        r.add_api_route(
            "/export/messages.csv", html(self.export_messages), methods=["GET"], include_in_schema=False
        )
        r.add_api_route("/export/faq.csv", html(self.export_faq), methods=["GET"], include_in_schema=False)
        r.add_api_route("/api/queue", api(self.api_queue), methods=["GET"], tags=["staff"])
        r.add_api_route("/api/stats", api(self.api_stats), methods=["GET"], tags=["staff"])
        r.add_api_route("/api/faq", api(self.api_faq_list), methods=["GET"], tags=["staff"])
        r.add_api_route("/api/faq", api(self.api_faq_create), methods=["POST"], tags=["staff"])
        r.add_api_route("/api/faq/{faq_id}", api(self.api_faq_edit), methods=["POST"], tags=["staff"])
        r.add_api_route("/api/queue/status", api(self.api_queue_status), methods=["POST"], tags=["staff"])

    # -- sign in and out --

    async def home(self, request: Request) -> Response:
        await self.who(request)
        return RedirectResponse(f"{COOKIE_PATH}/queue", status_code=303)

    async def login_form(self, request: Request) -> Response:
        return self._login_page(
            request, status=200, error=None, name="", next_url=request.query_params.get("next")
        )

    def _login_page(
        self, request: Request, *, status: int, error: str | None, name: str, next_url: str | None
    ) -> Response:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        response = self.render(
            request,
            "login.html",
            code=status,
            login_csrf=token,
            error=error,
            name=name,
            next_url=_safe_next(next_url),
        )
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            max_age=3600,
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
        )
        return response

    async def login(self, request: Request) -> Response:
        store = self.store(request)
        form = await self.form(request, max_part_size=64 * 1024)
        name = _text(form, "name").strip()[:64]
        password = _text(form, "password")
        next_url = _text(form, "next")
        client = request.client.host if request.client else "unknown"
        keys = [f"ip:{client}", f"user:{name.lower()}"]
        wait = self.limiter.retry_after(keys)
        if wait:
            await self.audit(request, name or "?", "login_throttled", client)
            response = self._login_page(
                request,
                status=429,
                error=f"登录失败次数过多，请 {int(wait) + 1} 秒后再试。",
                name=name,
                next_url=next_url,
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        expected = request.cookies.get(LOGIN_COOKIE, "")
        supplied = _text(form, "csrf_token")
        if not expected or not supplied or not _same_secret(expected, supplied):
            raise Refused(403, "the sign-in form's security token is missing or out of date; reload the page")
        user = await run_in_threadpool(store.verify_user, name, password) if name and password else None
        if user is None:
            self.limiter.fail(keys)
            await self.audit(request, name or "?", "login_failed", client)
            return self._login_page(
                request, status=401, error="用户名或密码错误。", name=name, next_url=next_url
            )
        self.limiter.forget(f"user:{name.lower()}")
        token, _ = await run_in_threadpool(store.start_staff_session, user)
        await self.audit(request, user, "login", client)
        response = RedirectResponse(_safe_next(next_url), status_code=303, headers=SECURITY_HEADERS)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=12 * 3600,
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
        )
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
        return response

    async def logout(self, request: Request) -> Response:
        staff, _ = await self.staff_form(request)
        await run_in_threadpool(
            self.store(request).end_staff_session, request.cookies.get(SESSION_COOKIE, "")
        )
        await self.audit(request, staff.name, "logout")
        response = RedirectResponse(f"{COOKIE_PATH}/login", status_code=303, headers=SECURITY_HEADERS)
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax")
        return response

    # -- review queue --

    def _filters(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        status = q.get("status", "open")
        return {
            "status": status if status in REVIEW_STATUSES else None,
            "channel": q.get("channel") or None,
            "intent": q.get("intent") or None,
            "task": q.get("task") or None,
            "since": _day(q.get("since")),
            "until": _day(q.get("until")),
        }

    def _queue(self, request: Request, filters: dict[str, Any]) -> list[dict[str, Any]]:
        store, assistant = self.store(request), self.assistant(request)
        items = store.review_items(**filters, low_confidence=self.low_confidence)
        return group_questions(items, assistant.index.embedder, threshold=self.cluster_threshold)

    async def queue_page(self, request: Request) -> Response:
        staff = await self.who(request)
        filters = self._filters(request)
        groups = await run_in_threadpool(self._queue, request, filters)
        store = self.store(request)
        facets = await run_in_threadpool(store.facets)
        handoffs = await run_in_threadpool(store.handoff_threads, status="open")
        return self.render(
            request,
            "queue.html",
            staff=staff,
            groups=groups,
            handoffs=handoffs,
            facets=facets,
            filters={k: (v.isoformat() if isinstance(v, date) else (v or "")) for k, v in filters.items()},
            status_raw=request.query_params.get("status", "open"),
            back=_back(request),
            statuses=REVIEW_STATUSES,
        )

    async def queue_status(self, request: Request) -> Response:
        staff, form = await self.staff_form(request)
        status = _text(form, "status")
        ids = _ids(form)
        if status not in REVIEW_STATUSES or not ids:
            raise Refused(422, "choose a status and at least one question")
        count = await run_in_threadpool(self.store(request).set_review_status, ids, status, actor=staff.name)
        await self.audit(
            request, staff.name, "review_status", f"{count} messages", status=status, message_ids=ids
        )
        return RedirectResponse(_safe_next(_text(form, "back"), "/staff/queue"), status_code=303)

    async def queue_answer(self, request: Request) -> Response:
        staff, form = await self.staff_form(request)
        questions = _lines(_text(form, "questions"))
        answer = _text(form, "answer").strip()
        source = _text(form, "source").strip()[:500] or None
        if not questions or not answer:
            raise Refused(422, "an FAQ answer needs at least one question and the answer text")
        item = await run_in_threadpool(self._publish, request, staff, questions, answer, source, _ids(form))
        await self.audit(
            request, staff.name, "faq_create", f"faq {item['id']}", questions=questions, resolves=_ids(form)
        )
        return RedirectResponse(f"{COOKIE_PATH}/faq?created={item['id']}#faq-{item['id']}", status_code=303)

    def _publish(
        self,
        request: Request,
        staff: Staff,
        questions: list[str],
        answer: str,
        source: str | None,
        resolves: list[str],
    ) -> dict[str, Any]:
        assistant = self.assistant(request)
        try:
            return publish_faq(
                self.store(request),
                assistant.index,
                assistant,
                questions,
                answer,
                source,
                staff.name,
                resolves=resolves,
                lock=self.lock(request),
            )
        except ValueError as exc:
            raise Refused(422, str(exc)) from exc

    async def handoff_reply(self, request: Request, handoff_id: str) -> Response:
        staff, form = await self.staff_form(request)
        if not _HANDOFF_ID.match(handoff_id):
            raise Refused(404, "no such handoff")
        text = _text(form, "text").strip()[:5000]
        status = _text(form, "status") or "answered"
        if status not in ("open", "answered", "closed"):
            raise Refused(422, "unknown handoff status")
        try:
            await run_in_threadpool(
                self.store(request).reply_handoff, handoff_id, author=staff.name, text=text, status=status
            )
        except KeyError as exc:
            raise Refused(404, "no such handoff") from exc
        await self.audit(request, staff.name, "handoff_reply", handoff_id, status=status, text=text)
        return RedirectResponse(_safe_next(_text(form, "back"), "/staff/queue"), status_code=303)

    # -- FAQ --

    async def faq_page(self, request: Request) -> Response:
        staff = await self.who(request)
        status = request.query_params.get("status", "active")
        entries = await run_in_threadpool(
            self.store(request).faq_entries, status=status if status in FAQ_STATUSES else None
        )
        return self.render(
            request,
            "faq.html",
            staff=staff,
            entries=entries,
            status=status if status in FAQ_STATUSES else "all",
            created=request.query_params.get("created", ""),
        )

    async def faq_new(self, request: Request) -> Response:
        staff, form = await self.staff_form(request)
        questions = _lines(_text(form, "questions"))
        answer = _text(form, "answer").strip()
        if not questions or not answer:
            raise Refused(422, "an FAQ answer needs at least one question and the answer text")
        source = _text(form, "source").strip()[:500] or None
        item = await run_in_threadpool(self._publish, request, staff, questions, answer, source, [])
        await self.audit(request, staff.name, "faq_create", f"faq {item['id']}", questions=questions)
        return RedirectResponse(f"{COOKIE_PATH}/faq?created={item['id']}#faq-{item['id']}", status_code=303)

    def _edit(self, request: Request, staff: Staff, faq_id: int, **changes: Any) -> dict[str, Any]:
        assistant = self.assistant(request)
        try:
            return edit_faq(
                self.store(request),
                assistant.index,
                assistant,
                faq_id,
                author=staff.name,
                lock=self.lock(request),
                **changes,
            )
        except KeyError as exc:
            raise Refused(404, f"no FAQ entry {faq_id}") from exc
        except ValueError as exc:
            raise Refused(422, str(exc)) from exc

    async def faq_edit(self, request: Request, faq_id: str) -> Response:
        staff, form = await self.staff_form(request)
        number = _faq_number(faq_id)
        questions = _lines(_text(form, "questions"))
        item = await run_in_threadpool(
            self._edit,
            request,
            staff,
            number,
            questions=questions,
            answer=_text(form, "answer"),
            source=_text(form, "source")[:500],
        )
        await self.audit(request, staff.name, "faq_edit", f"faq {number}", questions=item["questions"])
        return RedirectResponse(f"{COOKIE_PATH}/faq#faq-{number}", status_code=303)

    async def faq_status(self, request: Request, faq_id: str) -> Response:
        staff, form = await self.staff_form(request)
        number = _faq_number(faq_id)
        status = _text(form, "status")
        if status not in FAQ_STATUSES:
            raise Refused(422, "unknown FAQ status")
        await run_in_threadpool(self._edit, request, staff, number, status=status)
        action = "faq_retire" if status == "retired" else "faq_restore"
        await self.audit(request, staff.name, action, f"faq {number}")
        return RedirectResponse(f"{COOKIE_PATH}/faq?status={status}#faq-{number}", status_code=303)

    # -- knowledge --

    def _documents(self, request: Request) -> list[dict[str, Any]]:
        assistant = self.assistant(request)
        docs = assistant.index.store.documents()
        in_force = assistant.view.in_force
        retired: set[str] = getattr(assistant, "retired", set())
        return [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "path": d.path,
                "format": d.format,
                "records": len(d.records),
                "chunks": len(d.chunks),
                "warnings": len(d.warnings),
                "status": RETIRED if d.doc_id in retired else in_force.status(d.doc_id),
            }
            for d in docs
        ]

    def _relations(self, request: Request) -> list[dict[str, Any]]:
        """The relations in force (found and staff-added), then those staff rejected, for review."""
        assistant = self.assistant(request)
        titles = {d.doc_id: d.title for d in assistant.index.store.documents()}
        shown = [{**_relation_view(r, titles), "rejected": False} for r in assistant.view.in_force.relations]
        decided = getattr(assistant, "decided", None)
        for source, target in sorted(decided.rejected if decided else []):
            if source in titles and target in titles:
                view = {"source": source, "target": target, "kind": "", "via": "staff", "changes": []}
                view |= {"source_title": titles[source], "target_title": titles[target]}
                shown.append({**view, "confirmed": False, "rejected": True})
        return shown

    async def knowledge_page(self, request: Request) -> Response:
        return await self._knowledge(request)

    async def _knowledge(self, request: Request, *, error: str | None = None, status: int = 200) -> Response:
        staff = await self.who(request)
        documents = await run_in_threadpool(self._documents, request)
        return self.render(
            request,
            "knowledge.html",
            code=status,
            staff=staff,
            documents=documents,
            relations=await run_in_threadpool(self._relations, request),
            kinds=RELATION_LABELS,
            error=error,
            formats=", ".join(sorted(UPLOAD_FORMATS)),
            max_mb=self.max_upload_bytes // (1024 * 1024),
            published=request.query_params.get("published", ""),
        )

    @property
    def uploads_dir(self) -> Path:
        return Path(self.settings.data_dir) / "uploads"

    async def knowledge_upload(self, request: Request) -> Response:
        staff = await self.who(request)
        form = await self.form(request, max_part_size=64 * 1024)
        self.check_csrf(request, staff, _text(form, "csrf_token"))
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._knowledge(request, error="请选择要上传的文件。", status=422)
        name = _safe_filename(upload.filename)
        if Path(name).suffix.lower() not in UPLOAD_FORMATS:
            return await self._knowledge(request, error=f"{name}：不支持的文件格式。", status=415)
        upload_id = secrets.token_hex(16)
        folder = self.uploads_dir / upload_id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        size = 0
        with target.open("wb") as fh:
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                if size > self.max_upload_bytes:
                    fh.close()
                    shutil.rmtree(folder, ignore_errors=True)
                    return await self._knowledge(
                        request,
                        error=f"{name}：超过 {self.max_upload_bytes // (1024 * 1024)} MB。",
                        status=413,
                    )
                fh.write(chunk)
        try:
            preview = await run_in_threadpool(
                _preview, target, self.assistant(request).index.store.documents()
            )
        except Exception as exc:
            shutil.rmtree(folder, ignore_errors=True)
            await self.audit(request, staff.name, "upload_rejected", name, error=str(exc)[:500])
            return await self._knowledge(request, error=f"{exc}", status=422)
        existing = (Path(self.settings.knowledge_dir) / name).exists()
        await self.audit(request, staff.name, "upload_preview", name, upload_id=upload_id, bytes=size)
        return self.render(
            request,
            "preview.html",
            staff=staff,
            doc=preview,
            filename=name,
            upload_id=upload_id,
            replaces=existing,
        )

    async def knowledge_publish(self, request: Request) -> Response:
        staff, form = await self.staff_form(request)
        upload_id = _text(form, "upload_id")
        if not _UPLOAD_ID.match(upload_id):
            raise Refused(404, "no such upload")
        folder = self.uploads_dir / upload_id
        files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
        if len(files) != 1:
            raise Refused(404, "this upload is gone; upload the file again")
        report = await run_in_threadpool(self._ingest, request, files[0])
        shutil.rmtree(folder, ignore_errors=True)
        await self.audit(request, staff.name, "publish_notice", files[0].name, **report)
        # The relations the preview showed: each one staff left ticked is confirmed, an unticked one rejected.
        known = {d.doc_id for d in self.assistant(request).index.store.documents()}
        for shown in form.getlist("relation"):
            source, _, target = str(shown).partition("|")
            if source in known and target in known and source != target:
                decision = "confirmed" if f"{source}|{target}" in form.getlist("keep") else "rejected"
                await run_in_threadpool(
                    self._decide, request, source=source, target=target, decision=decision, staff=staff.name
                )
                await self.audit(request, staff.name, f"relation_{decision}", f"{source}->{target}")
        return RedirectResponse(
            f"{COOKIE_PATH}/knowledge?{urlencode({'published': files[0].name})}", status_code=303
        )

    async def knowledge_relation(self, request: Request) -> Response:
        """Confirm, reject or add a relation between two notices (the answers follow at once)."""
        staff, form = await self.staff_form(request)
        source, target = _text(form, "source"), _text(form, "target")
        decision, kind = _text(form, "decision"), _text(form, "kind") or None
        known = {d.doc_id for d in self.assistant(request).index.store.documents()}
        if source not in known or target not in known or source == target:
            return await self._knowledge(request, error="请选择两份不同的通知。", status=422)
        if decision not in ("confirmed", "rejected", "added") or (
            decision == "added" and kind not in RELATION_LABELS
        ):
            return await self._knowledge(request, error="请选择关系类型。", status=422)
        await run_in_threadpool(
            self._decide,
            request,
            source=source,
            target=target,
            decision=decision,
            kind=kind,
            staff=staff.name,
        )
        await self.audit(request, staff.name, f"relation_{decision}", f"{source}->{target}", kind=kind)
        return RedirectResponse(f"{COOKIE_PATH}/knowledge#relations", status_code=303)

    async def knowledge_status(self, request: Request) -> Response:
        """Retire a notice (out of answers, kept in the knowledge base and the logs) or restore it."""
        staff, form = await self.staff_form(request)
        doc_id, action = _text(form, "doc_id"), _text(form, "action")
        if doc_id not in {d.doc_id for d in self.assistant(request).index.store.documents()}:
            raise Refused(404, "no such notice")
        if action not in ("retired", "restored"):
            raise Refused(422, "unknown action")
        await run_in_threadpool(self._decide, request, source=doc_id, decision=action, staff=staff.name)
        await self.audit(request, staff.name, f"notice_{action}", doc_id)
        return RedirectResponse(f"{COOKIE_PATH}/knowledge#doc-{doc_id}", status_code=303)

    def _decide(self, request: Request, **decision: Any) -> None:
        from bot.notice_review import NoticeDecisions

        NoticeDecisions(self.store(request).sessions).record(**decision)
        with self.lock(request):
            self.assistant(request).refresh()

    async def knowledge_compare(self, request: Request) -> Response:
        """Two notices' facts side by side (dates, places, amounts, limits, contacts …)."""
        staff = await self.who(request)
        docs = {d.doc_id: d for d in self.assistant(request).index.store.documents()}
        a, b = docs.get(request.query_params.get("a", "")), docs.get(request.query_params.get("b", ""))
        if a is None or b is None:
            raise Refused(404, "no such notice")
        return self.render(request, "compare.html", staff=staff, rows=_compare(a, b), a=a, b=b)

    def _ingest(self, request: Request, upload: Path) -> dict[str, Any]:
        """Save the notice into the knowledge directory, ingest and index it, and show it to the assistant."""
        from bot.services import Retrieval, ingest_and_index

        assistant, store = self.assistant(request), self.store(request)
        knowledge = Path(self.settings.knowledge_dir)
        knowledge.mkdir(parents=True, exist_ok=True)
        target = knowledge / upload.name
        tmp = knowledge / f".{upload.name}.{secrets.token_hex(4)}.part"
        shutil.copyfile(upload, tmp)
        tmp.replace(target)
        index = assistant.index
        retrieval = Retrieval(settings=self.settings, store=index.store, embedder=index.embedder, index=index)
        with self.lock(request):
            report, stats = ingest_and_index(self.settings, [target], retrieval=retrieval)
            # The plain sync above drops the FAQ's pseudo document: put the FAQ entries back.
            sync_faq(store, index, assistant)
        if report.errors:
            raise Refused(422, "; ".join(m for _, m in report.errors))
        return {
            "documents": report.documents,
            "records": report.records,
            "added": list(report.added),
            "updated": list(report.updated),
            "indexed": stats.get("documents_indexed", 0),
        }

    # -- numbers --

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

    # -- exports --

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

    # -- JSON twins --

    async def api_queue(self, request: Request) -> Any:
        await self.who(request, api=True)
        filters = self._filters(request)
        if request.query_params.get("status") == "all":
            filters["status"] = None
        groups = await run_in_threadpool(self._queue, request, filters)
        return {"groups": groups, "count": sum(g["count"] for g in groups)}

    async def api_stats(self, request: Request) -> Any:
        await self.who(request, api=True)
        days = _int(request.query_params.get("days"), 30, 1, 365)
        return await run_in_threadpool(
            self.store(request).stats, days=days, low_confidence=self.low_confidence
        )

    async def api_faq_list(self, request: Request) -> Any:
        await self.who(request, api=True)
        status = request.query_params.get("status", "active")
        entries = await run_in_threadpool(
            self.store(request).faq_entries, status=status if status in FAQ_STATUSES else None
        )
        return {"entries": entries}

    async def _json(self, request: Request, model: type[BaseModel]) -> Any:
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            errors = exc.errors()
            where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
            message = errors[0]["msg"] if errors else "invalid"
            raise Refused(422, f"invalid request: {where or 'body'}: {message}") from exc

    async def api_faq_create(self, request: Request) -> Any:
        staff = await self.who(request, api=True)
        self.check_csrf(request, staff, None)
        body: FaqIn = await self._json(request, FaqIn)
        questions = [q.strip() for q in body.questions if q.strip()]
        if not questions or not body.answer.strip():
            raise Refused(422, "an FAQ answer needs at least one question and the answer text")
        item = await run_in_threadpool(
            self._publish, request, staff, questions, body.answer, body.source, body.resolves
        )
        await self.audit(
            request, staff.name, "faq_create", f"faq {item['id']}", questions=questions, via=staff.via
        )
        return JSONResponse({**item, "indexed": True}, status_code=201, headers={"Cache-Control": "no-store"})

    async def api_faq_edit(self, request: Request, faq_id: str) -> Any:
        staff = await self.who(request, api=True)
        self.check_csrf(request, staff, None)
        number = _faq_number(faq_id)
        body: FaqPatch = await self._json(request, FaqPatch)
        if body.status is not None and body.status not in FAQ_STATUSES:
            raise Refused(422, f"status must be one of {', '.join(FAQ_STATUSES)}")
        changes = body.model_dump(exclude_none=True)
        item = await run_in_threadpool(self._edit, request, staff, number, **changes)
        await self.audit(
            request, staff.name, "faq_edit", f"faq {number}", changes=sorted(changes), via=staff.via
        )
        return item

    async def api_queue_status(self, request: Request) -> Any:
        staff = await self.who(request, api=True)
        self.check_csrf(request, staff, None)
        body: StatusIn = await self._json(request, StatusIn)
        if body.status not in REVIEW_STATUSES:
            raise Refused(422, f"status must be one of {', '.join(REVIEW_STATUSES)}")
        count = await run_in_threadpool(
            self.store(request).set_review_status, body.message_ids, body.status, actor=staff.name
        )
        await self.audit(
            request, staff.name, "review_status", f"{count} messages", status=body.status, via=staff.via
        )
        return {"updated": count}


# -- helpers ----------------------------------------------------------------------------------------------


def _same_secret(a: str, b: str) -> bool:
    """Compare two secrets in constant time (as bytes: any text a client sends is comparable)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


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


def _faq_number(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise Refused(404, "no such FAQ entry")
    return int(value)


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


def _safe_filename(name: str) -> str:
    """The file's base name with path separators, control characters and leading dots removed."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"[<>:\"|?*]", "_", base).strip().lstrip(".")
    stem, suffix = Path(base).stem[:120] or "notice", Path(base).suffix.lower()[:10]
    return f"{stem}{suffix}"


def _preview(path: Path, existing: list[Any] | None = None) -> dict[str, Any]:
    """What applybot understands of an uploaded notice, without storing it, and how it relates to the
    notices already published (an amendment of one, its next round …)."""
    from retrieval.describe import describe_document
    from retrieval.loaders import load_file
    from retrieval.parse import parse_document
    from retrieval.relations import find_relations

    doc = parse_document(load_file(path), rel_path=path.name)
    described = describe_document(doc)
    described["entity_counts"] = {}
    for entity in described["entities"]:
        described["entity_counts"][entity["kind"]] = described["entity_counts"].get(entity["kind"], 0) + 1
    others = [d for d in existing or [] if d.path != doc.path]
    titles = {d.doc_id: d.title for d in [*others, doc]}
    described["relations"] = [
        _relation_view(r, titles)
        for r in find_relations([*others, doc])
        if doc.doc_id in (r.source, r.target)
    ]
    return described


RELATION_LABELS = {
    "postpones": "延期",
    "amends": "补充/调整",
    "corrects": "更正",
    "revokes": "撤销/停止",
    "next_round": "下一轮",
    "attachment_of": "附件",
}
STATUS_LABELS = {
    "current": "现行",
    "amended": "已被修改",
    "superseded": "已有新一轮",
    "revoked": "已撤销",
    "retired": "已停用",
}
_COMPARED_KINDS = ("date", "place", "money", "limit", "contact", "url", "system", "audience")


def _relation_view(relation: Any, titles: dict[str, str]) -> dict[str, Any]:
    return {
        "source": relation.source,
        "target": relation.target,
        "kind": relation.kind,
        "source_title": titles.get(relation.source, relation.source),
        "target_title": titles.get(relation.target, relation.target),
        "via": relation.via,
        "confirmed": relation.confirmed,
        "changes": [
            {"kind": c.kind, "old": c.old or "（未写明）", "new": c.new, "subject": c.subject}
            for c in relation.changes
        ],
    }


def _compare(a: Any, b: Any) -> list[dict[str, Any]]:
    """Rows of facts of each kind, the earlier notice's beside the later one's; differing rows marked."""
    rows = []
    for kind in _COMPARED_KINDS:
        left = [f.text.strip() for f in a.facts if f.kind == kind]
        right = [f.text.strip() for f in b.facts if f.kind == kind]
        left, right = list(dict.fromkeys(left)), list(dict.fromkeys(right))
        if left or right:
            rows.append({"kind": kind, "a": left, "b": right, "same": left == right})
    return rows


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


# -- command line: `applybot staff ...` ---------------------------------------------------------------------


def add_user(settings: Settings, name: str, password: str) -> dict[str, Any]:
    """Create a staff user, or set a new password for one (`applybot staff add-user`)."""
    from bot.store import open_store

    store = open_store(settings)
    try:
        user = store.add_user(name, password)
        store.audit("cli", "user_add", name)
        return user
    finally:
        store.close()


def issue_token(settings: Settings, name: str, label: str | None = None) -> str:
    """Make an API token for a staff user; it is printed once and stored hashed (`applybot staff token`)."""
    from bot.store import open_store

    store = open_store(settings)
    try:
        token = store.issue_token(name, label=label)
        store.audit("cli", "token_issue", name, token_id=token.split("_")[1], label=label)
        return token
    finally:
        store.close()


def revoke_token(settings: Settings, token: str) -> bool:
    """Revoke an API token, named by its id or given whole (`applybot staff revoke-token`)."""
    from bot.store import open_store

    store = open_store(settings)
    try:
        revoked = store.revoke_token(token)
        store.audit("cli", "token_revoke", token.split("_")[1] if token.startswith("abt_") else token)
        return revoked
    finally:
        store.close()


def staff_cli(get_settings: Callable[[], Settings]) -> Any:
    """A Typer app with the staff commands, for `app.add_typer(staff_cli(get_settings), name="staff")`."""
    import sys

    import typer

    cli = typer.Typer(help="Staff accounts and API tokens for the /staff pages.", no_args_is_help=True)

    @cli.command("add-user")
    def add_user_command(
        name: str = typer.Argument(..., help="The staff member's user name."),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input instead of a prompt."
        ),
    ) -> None:
        """Create a staff user (or set a new password); the password is stored as an argon2 hash."""
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            add_user(get_settings(), name, password)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"user {name} is ready")

    @cli.command("token")
    def token_command(
        name: str = typer.Argument(..., help="The staff user the token acts as."),
        label: str = typer.Option("", help="What the token is for (shown in the audit log)."),
    ) -> None:
        """Print a new API token (shown once) for `Authorization: Bearer ...` on /staff/api."""
        try:
            typer.echo(issue_token(get_settings(), name, label or None))
        except KeyError as exc:
            typer.echo(f"error: no staff user {name!r}", err=True)
            raise typer.Exit(2) from exc

    @cli.command("revoke-token")
    def revoke_command(
        token: str = typer.Argument(..., help="The token, or its id (the part after abt_)."),
    ) -> None:
        """Revoke an API token."""
        if not revoke_token(get_settings(), token):
            typer.echo("error: no live token with that id", err=True)
            raise typer.Exit(2)
        typer.echo("revoked")

    return cli
