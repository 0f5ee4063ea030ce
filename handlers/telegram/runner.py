"""Building the bot's Application and running it: long polling, or a webhook inside the API process."""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.conversation import ConversationService
from bot.reminders import ReminderBook
from common.errors import ConfigurationError
from handlers.telegram.bot import TelegramBot
from handlers.telegram.config import ALLOWED_UPDATES, App, TelegramConfig

log = logging.getLogger(__name__)

_SECRET_OK = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def build_application(
    config: TelegramConfig,
    conversation: ConversationService,
    *,
    reminders: ReminderBook | None = None,
) -> App:
    """Build the bot once: its HTTP clients, handlers and state (`application.bot_data['applybot']`)."""
    if not config.token:
        raise ConfigurationError("APPLYBOT_TELEGRAM_TOKEN is not set (get one from @BotFather)")
    # the SQL store keeps reminders beside everything else
    sessions = getattr(conversation.store, "sessions", None)
    if reminders is None and sessions is not None:
        reminders = ReminderBook(sessions, timezone=config.timezone, hour=config.reminder_hour)
    bot = TelegramBot(config, conversation, reminders=reminders)

    async def post_init(application: App) -> None:
        await bot.announce(application)

    application: App = (
        Application.builder()
        .token(config.token)
        .base_url(config.api_url)
        .base_file_url(config.file_url)
        .post_init(post_init)
        .build()
    )
    application.bot_data["applybot"] = bot
    bot.install(application)
    return application


def bot_of(application: App) -> TelegramBot:
    bot: TelegramBot = application.bot_data["applybot"]
    return bot


def run_polling(config: TelegramConfig, conversation: ConversationService) -> None:
    """Run the bot with long polling until interrupted (deletes any webhook first)."""
    application = build_application(config, conversation)
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


async def start_webhook(application: App, config: TelegramConfig) -> None:
    """Start the bot without polling and point Telegram at config.webhook_url with the secret."""
    if not config.webhook_url:
        raise ConfigurationError("APPLYBOT_TELEGRAM_WEBHOOK_URL is not set")
    if not _SECRET_OK.match(config.webhook_secret or ""):
        raise ConfigurationError(
            "APPLYBOT_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    await application.initialize()
    await application.start()
    await application.bot.set_webhook(
        url=config.webhook_url, secret_token=config.webhook_secret, allowed_updates=ALLOWED_UPDATES
    )
    await bot_of(application).announce(application)


async def stop_webhook(application: App) -> None:
    """Stop the bot; the webhook stays set, so Telegram keeps updates until the next start."""
    if application.running:
        await application.stop()
    await application.shutdown()


@asynccontextmanager
async def webhook_application(
    config: TelegramConfig, conversation: ConversationService
) -> AsyncIterator[App]:
    """For the API's lifespan: build, start and set the webhook; stop on exit."""
    application = build_application(config, conversation)
    await start_webhook(application, config)
    try:
        yield application
    finally:
        await stop_webhook(application)


async def handle_webhook_update(
    application: App, body: Any, secret_header: str | None, expected_secret: str
) -> int:
    """Queue one webhook update; return the HTTP status for Telegram.

    403 when the secret header is wrong (or no secret is configured: an open webhook would let
    anyone pose as staff), 400 for a body that is not an update, 503 when the bot is not running.
    """
    if not expected_secret or not hmac.compare_digest(
        (secret_header or "").encode(), expected_secret.encode()
    ):
        return 403
    if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
        return 400
    try:
        update = Update.de_json(body, application.bot)
    except Exception:  # a malformed update: Telegram must not retry it
        log.warning("a webhook body could not be read as an update", exc_info=True)
        return 400
    if not application.running:
        return 503
    await application.update_queue.put(update)
    return 200


def run_polling_from_settings(settings: Any) -> None:
    """`applybot telegram` without a webhook: long polling over the same database as the API, so
    answers, feedback and handoff threads reach the staff pages (and staff replies reach the bot)."""
    from bot.conversation import ConversationService
    from bot.services import build_assistant
    from bot.store import open_store

    config = TelegramConfig.from_settings(settings)
    if not config.token:
        raise ConfigurationError("APPLYBOT_TELEGRAM_TOKEN is not set (get one from @BotFather)")
    store = open_store(settings)
    try:
        assistant = build_assistant(settings, store=store)
        run_polling(config, ConversationService(assistant, store))
    finally:
        store.close()
