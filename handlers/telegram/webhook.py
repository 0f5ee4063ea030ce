"""The webhook route Telegram posts updates to, when the bot runs inside the API process."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from handlers.telegram.config import SECRET_HEADER, WEBHOOK_PATH
from handlers.telegram.runner import handle_webhook_update


def webhook_router() -> APIRouter:
    """`POST /telegram/webhook`: 404 unless the bot runs here (app.state.telegram)."""
    router = APIRouter()

    @router.post(WEBHOOK_PATH, include_in_schema=False)
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

    return router
