"""What every staff page builds on: `StaffBase` (rendering, error pages, who is asking, CSRF, forms,
the audit log), the cookies and security headers, `Refused`, `Staff` and the sign-in limiter."""

from __future__ import annotations

import functools
import hmac
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bot.store import Store
from common.settings import Settings
from handlers.staff.forms import _text, waited

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent.parent / "templates" / "staff"
SESSION_COOKIE = "applybot_staff"
LOGIN_COOKIE = "applybot_staff_login"
COOKIE_PATH = "/staff"
DB_DOWN = "the database cannot be reached just now; try again in a moment"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "script-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


# What the templates call relations between notices and the status of a notice.
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


def _same_secret(a: str, b: str) -> bool:
    """Compare two secrets in constant time (as bytes: any text a client sends is comparable)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class StaffBase:
    """The state of the staff pages and the plumbing every page uses; `StaffPages` mixes in the pages."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None,
        assistant: Any,
        lock: AbstractContextManager[Any] | None,
        conversation: Any = None,
    ) -> None:
        self.settings = settings
        self._store, self._assistant, self._lock = store, assistant, lock
        self._conversation = conversation
        self._own_lock = threading.Lock()
        self.limiter = LoginLimiter(settings.staff_login_attempts, settings.staff_login_window_s)
        self.low_confidence = settings.review_low_confidence
        self.cluster_threshold = settings.review_cluster_threshold
        self.max_upload_bytes = settings.max_upload_bytes
        self.tz = ZoneInfo(settings.timezone)
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES_DIR)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = self._when
        self.env.filters["waited"] = waited
        self.env.filters["pct"] = lambda v: f"{float(v) * 100:.0f}%"
        self.env.globals["relation_labels"] = RELATION_LABELS
        self.env.globals["status_labels"] = STATUS_LABELS
        self.router = APIRouter(prefix="/staff")
        self._routes()

    def _routes(self) -> None:
        """Add every page and endpoint to `self.router` (`StaffPages` does, with all the parts mixed in)."""
        raise NotImplementedError

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

    def _live_handoffs(self, request: Request) -> int:
        """Threads waiting for staff, for the count beside 人工对话 in the menu (0 if unknown)."""
        try:
            return self.store(request).live_handoff_count()
        except Exception:  # the count is a hint: a page must not fail for it
            return 0

    def render(self, request: Request, template: str, *, code: int = 200, **context: Any) -> HTMLResponse:
        staff: Staff | None = context.pop("staff", None)
        html = self.env.get_template(template).render(
            staff=staff,
            live_handoffs=self._live_handoffs(request) if staff else 0,
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
