"""The ASGI middlewares: Prometheus metrics, `nosniff` on every answer, and request body limits."""

from __future__ import annotations

import time

from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.conversation import ConversationMetrics

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
        self.conversation = ConversationMetrics(self.registry)
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


# -- body limits ---------------------------------------------------------------------------------


STAFF_FORM_BYTES = 262_144


class BodyLimitMiddleware:
    """Refuse request bodies above the limit with a 413, whether or not they declare a Content-Length.

    Questions get `max_bytes`; a staff form, a notice upload and the `paths` given (e.g. the
    Telegram webhook) get more room.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_bytes: int = 20 * 1024 * 1024,
        paths: dict[str, int] | None = None,
    ) -> None:
        self.app, self.max_bytes, self.upload_bytes = app, max_bytes, upload_bytes
        self.paths = paths or {}

    def limit_for(self, path: str) -> int:
        if path in self.paths:
            return self.paths[path]
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
