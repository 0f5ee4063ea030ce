"""The app assembly: one FastAPI app serving the HTTP API and widget, the staff pages and (when
configured) the Telegram webhook, over one conversation service built in the lifespan; and serving
it with uvicorn. This is the top of the package graph: it may import every channel."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from bot import __version__
from bot.conversation import ConversationService
from common.settings import Settings
from handlers.api.errors import add_error_handlers
from handlers.api.handoffs import router as handoff_router
from handlers.api.limits import RateLimiter
from handlers.api.middleware import BodyLimitMiddleware, Metrics, MetricsMiddleware, NoSniffMiddleware
from handlers.api.routes import add_routes
from handlers.staff import staff_router
from handlers.telegram import TELEGRAM_BODY_BYTES, WEBHOOK_PATH, TelegramConfig, webhook_application
from handlers.telegram.webhook import webhook_router


def _origins(settings: Settings) -> list[str]:
    return [o.strip().rstrip("/") for o in settings.allowed_origins.split(",") if o.strip()]


@asynccontextmanager
async def _telegram(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """Run the Telegram bot's webhook side in this app when it is configured."""
    telegram = TelegramConfig.from_settings(settings)
    app.state.telegram, app.state.telegram_secret = None, telegram.webhook_secret
    # The bot keeps per-process state (rate limits, button cache): it runs beside one worker only.
    if telegram.token and telegram.webhook_url and settings.workers == 1:
        async with webhook_application(telegram, app.state.conversation) as application:
            app.state.telegram = application
            yield
    else:
        yield


def create_app(settings: Settings, *, assistant: Any = None, store: Any = None) -> FastAPI:
    """Build the app; the store and the assistant are built in the lifespan unless given (tests).

    The store (SQLite under the data dir, or APPLYBOT_DATABASE_URL) journals every answer and keeps
    sessions, handoff threads and the staff's data, so several workers share all of it.
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
        index = getattr(app.state.assistant, "index", None)
        app.state.faq_refresher = None
        if index is not None:
            app.state.faq_refresher = FaqRefresher(
                app.state.store, index, app.state.assistant, lock=app.state.index_lock
            )
            app.state.faq_refresher.mark_synced()
        app.state.conversation = ConversationService(
            app.state.assistant,
            app.state.store,
            metrics=metrics.conversation,
            refresher=app.state.faq_refresher,
        )
        try:
            async with _telegram(app, settings):
                yield
        finally:
            if store is None:
                app.state.store.close()

    app = FastAPI(
        title="applybot",
        version=__version__,
        description="Answers applicants' questions about calls for applications with verbatim citations.",
        lifespan=lifespan,
        # applybot exports Prometheus metrics (/metrics); FastAPI's OpenTelemetry hooks would only
        # cost a provider lookup on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.metrics = metrics = Metrics()
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.index_lock = threading.Lock()  # one index re-sync at a time (FAQ published, notice uploaded)

    # Outermost last: CORS headers go on every answer, 413s included; metrics see every status.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        upload_bytes=settings.max_upload_bytes,
        paths={WEBHOOK_PATH: TELEGRAM_BODY_BYTES},
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

    add_error_handlers(app, metrics)
    add_routes(app)
    app.include_router(handoff_router)
    app.include_router(webhook_router())
    app.include_router(staff_router(settings))
    return app


# -- serving -----------------------------------------------------------------------------------------


def app_from_env() -> FastAPI:
    """uvicorn factory for worker processes: the settings come from the `APPLYBOT_*` environment."""
    from common.settings import get_settings

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
            "handlers.app:app_from_env",
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
