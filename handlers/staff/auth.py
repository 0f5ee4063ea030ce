"""Signing in and out of the staff pages: the sign-in form (with its own CSRF cookie and the limiter
on failed attempts), the session cookie, and signing out."""

from __future__ import annotations

import secrets

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from handlers.staff.base import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    Refused,
    StaffBase,
    _same_secret,
)
from handlers.staff.forms import _safe_next, _text


class StaffAuth(StaffBase):
    """The home redirect, the sign-in form and sign-in, and sign-out."""

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
