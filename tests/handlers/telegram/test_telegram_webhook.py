"""The bot in webhook mode, mounted as the API mounts it (the secret header checked, bad bodies
refused, buttons pressed through the webhook too), and its configuration read from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from bot.store import Store
from common.errors import ConfigurationError
from common.settings import Settings
from handlers.telegram import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    TelegramConfig,
    build_application,
    handle_webhook_update,
    parse_chat_id,
    parse_user_ids,
    webhook_application,
)
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_harness import ALICE, DEADLINE_Q, button_data, conversation_over, make_config, run
from tests.support.telegram_methods import BOT_ID
from tests.support.telegram_wire import visible

SECRET = "s3cret_token-for-tests"


def webhook_app(config: TelegramConfig, assistant: Any, journal: Store) -> FastAPI:
    """The route the API mounts, as a tiny app: one process serves the API and the bot."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with webhook_application(config, conversation_over(assistant, journal)) as application:
            app.state.telegram = application
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post(WEBHOOK_PATH)
    async def telegram_webhook(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return Response(status_code=400)
        status = await handle_webhook_update(
            request.app.state.telegram, body, request.headers.get(SECRET_HEADER), config.webhook_secret
        )
        return Response(status_code=status)

    return app


@pytest.mark.integration
def test_webhook_mode(tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path) -> None:
    config = make_config(
        tg, tmp_path, webhook_url="https://bot.example.org/telegram/webhook", webhook_secret=SECRET
    )
    with TestClient(webhook_app(config, assistant, journal)) as client:
        hook = tg.calls("setWebhook")[0]["params"]
        assert hook["url"] == "https://bot.example.org/telegram/webhook"
        assert hook["secret_token"] == SECRET
        assert set(hook["allowed_updates"]) == {"message", "edited_message", "callback_query"}
        assert tg.commands  # the command menu is published in webhook mode too

        body = tg.update(message=tg.message(ALICE["id"], ALICE, DEADLINE_Q))
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
            assert client.post(WEBHOOK_PATH, json=body, headers=headers).status_code == 403
        assert (
            client.post(WEBHOOK_PATH, json={"no": "update"}, headers={SECRET_HEADER: SECRET}).status_code
            == 400
        )
        assert not tg.calls("sendMessage")

        since = tg.mark()
        assert client.post(WEBHOOK_PATH, json=body, headers={SECRET_HEADER: SECRET}).status_code == 200
        answer = tg.wait_for_sync("sendMessage", chat_id=ALICE["id"], since=since)[0]
        assert "推进县域社区学习中心建设" in visible(answer)

        # a button press through the webhook too
        since = tg.mark()
        press_body = tg.update(callback_query=tg.callback(ALICE, answer["result"], button_data(answer, "👍")))
        assert client.post(WEBHOOK_PATH, json=press_body, headers={SECRET_HEADER: SECRET}).status_code == 200
        tg.wait_for_sync("answerCallbackQuery", since=since)
        assert journal.feedbacks()[-1]["rating"] == "up"
    assert not tg.calls("getUpdates")


@pytest.mark.integration
def test_webhook_refuses_without_a_secret_and_when_stopped(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    application = build_application(make_config(tg, tmp_path), conversation_over(assistant, journal))
    body = tg.update(message=tg.message(ALICE["id"], ALICE, "hi"))
    assert run(handle_webhook_update(application, body, None, "")) == 403  # no secret configured
    assert run(handle_webhook_update(application, body, "", "")) == 403
    assert run(handle_webhook_update(application, body, SECRET, SECRET)) == 503  # not started
    assert run(handle_webhook_update(application, [1], SECRET, SECRET)) == 400


@pytest.mark.unit
def test_config_from_settings() -> None:
    settings = Settings(
        telegram_token="t",
        telegram_staff_chat_id="-100123",
        telegram_webhook_url="https://x.example/telegram/webhook",
        telegram_webhook_secret="s",
        telegram_rate_limit_per_minute=30,
        telegram_staff_user_ids="7, 8",
    )
    config = TelegramConfig.from_settings(settings)
    assert config.staff_chat_id == -100123 and config.api_url == "https://api.telegram.org/bot"
    assert config.file_url == "https://api.telegram.org/file/bot"
    assert config.rate_limit_per_minute == 30 and config.staff_user_ids == frozenset({7, 8})
    local = replace(config, api_url="http://127.0.0.1:8081/bot")
    assert local.file_url == "http://127.0.0.1:8081/file/bot"
    with pytest.raises(ConfigurationError, match="not a user id"):
        parse_user_ids("7, @eve")
    assert parse_chat_id("") is None and parse_chat_id(" 42 ") == 42
    with pytest.raises(Exception, match="numeric chat id"):
        parse_chat_id("@staff")
    assert BOT_ID  # the fake's bot id is the one the bot learns from getMe
