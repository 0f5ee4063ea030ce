"""How errors leave the API: JSON `{"error": message}` with the right status, counted in the metrics."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.errors import ApplybotError
from handlers.api.limits import RateLimitedError
from handlers.api.middleware import Metrics

log = logging.getLogger(__name__)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        if err.get("type") == "json_invalid":
            return "invalid request: the body is not valid JSON"
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def add_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(ApplybotError)
    async def applybot_error(request: Request, exc: ApplybotError) -> JSONResponse:
        metrics.errors.labels(type(exc).__name__).inc()
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
        if exc.http_status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        return error_response(exc.http_status, str(exc) or type(exc).__name__, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.errors.labels("RequestValidationError").inc()
        return error_response(422, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code >= 400:
            metrics.errors.labels(f"HTTP{exc.status_code}").inc()
        return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        metrics.errors.labels("unexpected").inc()
        log.exception("unexpected error on %s", request.url.path)
        return error_response(500, "internal error")
