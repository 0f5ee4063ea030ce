"""The Telegram channel's settings (`TelegramConfig`) and its fixed limits, paths and commands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.constants import MessageLimit
from telegram.ext import Application

from common.errors import ConfigurationError
from common.settings import Settings

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# A webhook body carries a long message plus the one it replies to.
TELEGRAM_BODY_BYTES = 1_048_576
MAX_MESSAGE_CHARS = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
MAX_CITATION_BUTTONS = 8
MAX_CHOICE_BUTTONS = 3  # notices offered when a question fits several
CHOICE_LABEL_CHARS = 40
RECENT_TURNS = 6
ANSWER_CACHE = 2000  # answers whose citation and feedback buttons still work

COMMANDS = [
    ("start", "我能回答什么"),
    ("help", "使用说明"),
    ("deadlines", "各任务截止时间"),
    ("contacts", "联系人"),
    ("human", "转人工"),
    ("remind", "截止前提醒我"),
    ("reminders", "我的提醒"),
]

App = Application[Any, Any, Any, Any, Any, Any]


# -- configuration -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramConfig:
    """What the Telegram channel needs, read from the one Settings (`from_settings`); the defaults
    live there, not here."""

    token: str
    staff_chat_id: int | None
    api_url: str
    webhook_url: str
    webhook_secret: str
    rate_limit_per_minute: int
    timezone: str
    reminder_hour: int  # local hour at which reminders go out
    reminder_check_s: float
    # Telegram users who may answer or close handoffs from the staff chat (nobody else may).
    staff_user_ids: frozenset[int]
    handoff_poll_s: float

    @property
    def file_url(self) -> str:
        """The file download base that goes with api_url (…/bot → …/file/bot)."""
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("bot")] + "file/bot"
        return base + "/file/bot"

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramConfig:
        """Read the telegram_* (and the reminder and handoff) settings."""
        return cls(
            token=settings.telegram_token,
            staff_chat_id=parse_chat_id(settings.telegram_staff_chat_id),
            api_url=settings.telegram_api_url,
            webhook_url=settings.telegram_webhook_url,
            webhook_secret=settings.telegram_webhook_secret,
            rate_limit_per_minute=settings.telegram_rate_limit_per_minute,
            timezone=settings.timezone,
            reminder_hour=settings.reminder_hour,
            reminder_check_s=settings.reminder_check_seconds,
            staff_user_ids=parse_user_ids(settings.telegram_staff_user_ids),
            handoff_poll_s=settings.handoff_poll_seconds,
        )


def parse_chat_id(value: object) -> int | None:
    """A chat id from a setting: empty → None; '-1001234' → -1001234."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise ConfigurationError(f"APPLYBOT_TELEGRAM_STAFF_CHAT_ID must be a numeric chat id, not {text!r}")


def parse_user_ids(value: object) -> frozenset[int]:
    """User ids from a setting: '123, 456' → {123, 456}; anything not a number is refused."""
    ids = set()
    for part in str(value or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"\d+", part):
            raise ConfigurationError(f"APPLYBOT_TELEGRAM_STAFF_USER_IDS: {part!r} is not a user id")
        ids.add(int(part))
    return frozenset(ids)
