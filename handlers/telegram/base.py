"""The bot's state and how it sends: what every part of `TelegramBot` builds on."""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.conversation import ConversationService
from bot.reminders import ReminderBook
from handlers.telegram.config import RECENT_TURNS, TelegramConfig
from handlers.telegram.formatting import split_html
from handlers.telegram.ratelimit import UserRateLimiter
from handlers.telegram.reminders import TelegramReminders

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class BotBase:
    """The state of one bot (answers, ratings, recent turns, reminders) and `_send`.

    Everything that must outlive the process or be shared with other workers (answers, ratings,
    handoff threads) goes through the conversation service; what stays here is a cache for buttons.
    """

    def __init__(
        self,
        config: TelegramConfig,
        conversation: ConversationService,
        *,
        reminders: ReminderBook | None = None,
    ) -> None:
        self.config = config
        self.conversation = conversation
        self.assistant = conversation.assistant
        self.store = conversation.store  # the SQL store: handoff threads, staff-chat links, reminders
        self.staff_chat_id = config.staff_chat_id
        self.limiter = UserRateLimiter(config.rate_limit_per_minute)
        self.answers: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.rated: set[str] = set()
        self.turns: dict[int, deque[tuple[str, str]]] = {}
        self.reported_errors: set[str] = set()
        self.reminders = TelegramReminders(
            reminders,
            conversation,
            lambda context, chat_id, text: self._send(context, chat_id, text),
            check_seconds=config.reminder_check_s,
        )

    @staticmethod
    def session_of(chat_id: int) -> str:
        """The conversation id of a Telegram chat."""
        return f"tg-{chat_id}"

    @staticmethod
    def chat_of(session_id: str) -> int | None:
        """The chat of a Telegram conversation id (None for another channel's)."""
        prefix, _, rest = session_id.partition("-")
        return int(rest) if prefix == "tg" and rest.lstrip("-").isdigit() else None

    def is_staff(self, user_id: int | None) -> bool:
        """May this Telegram user answer or close handoffs? Only the configured staff user ids."""
        return user_id is not None and user_id in self.config.staff_user_ids

    def _turn(self, chat_id: int, who: str, text: str) -> None:
        self.turns.setdefault(chat_id, deque(maxlen=RECENT_TURNS)).append((who, text))

    def _last_question(self, chat_id: int) -> str | None:
        for who, text in reversed(self.turns.get(chat_id, ())):
            if who == "申请人":
                return text
        return None

    # -- sending ----------------------------------------------------------------------------------------

    async def _send(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        markup_text: str,
        *,
        reply_to: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> list[Message]:
        """Send HTML, split into messages of at most 4,096 characters; buttons go on the last one."""
        chunks = split_html(markup_text)
        sent = []
        for i, chunk in enumerate(chunks):
            sent.append(
                await context.bot.send_message(
                    chat_id,
                    chunk,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                    reply_parameters=(
                        ReplyParameters(reply_to, allow_sending_without_reply=True)
                        if reply_to is not None and i == 0
                        else None
                    ),
                    reply_markup=markup if i == len(chunks) - 1 else None,
                )
            )
        return sent
