"""Telegram deadline reminders: `/remind`, `/reminders`, the 「⏰ 提醒我」 button, and the job that sends them.

The channel only translates: commands and buttons become calls on bot.reminders.ReminderBook, and due
messages become Telegram messages. The job runs every `check_seconds` on PTB's JobQueue in every
worker; the book's claims make each message go out once however many workers check.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.compose import deadline_status, show_date
from bot.conversation import ConversationService
from bot.deadlines import Deadline
from bot.reminders import DueMessage, ReminderBook

log = logging.getLogger(__name__)

CHANNEL = "telegram"
REMIND_LABEL = "⏰ 截止前提醒我"
MAX_REMIND_BUTTONS = 3
TEXT = {
    "subscribed": (
        "好的：「{what}」{date}截止，我会在截止前 7 天和 1 天提醒您；截止日期调整时也会告诉您。"
        "发送 /reminders 查看或取消。"
    ),
    "already": "您已订阅「{what}」的截止提醒（{date}）。发送 /reminders 查看或取消。",
    "none": "请先问一个截止时间的问题（例如「××什么时候截止」），再点回答下面的「⏰ 截止前提醒我」；或发送 /remind 加关键词。",
    "no_match": "没有找到与「{words}」有关的截止日期。发送 /deadlines 查看全部。",
    "passed": "「{what}」已于{date}截止，不再设置提醒。",
    "list_head": "您订阅的截止提醒：",
    "list_empty": "您还没有订阅截止提醒。",
    "cancelled": "已取消「{what}」的提醒。",
    "cancel_gone": "这条提醒已取消。",
    "unavailable": "提醒功能暂不可用。",
    "before": "⏰ 提醒：「{what}」将于{date}截止（{status}）。\n《{notice}》",
    "moved": "📅 截止日期已调整：「{what}」原定{old}，现为{date}（{status}）。\n《{notice}》",
    "gone": "「{what}」所在的通知已撤销或已被新一轮通知取代，这条提醒已停止。\n《{notice}》",
}

Send = Callable[[ContextTypes.DEFAULT_TYPE, int, str], Awaitable[Any]]


class TelegramReminders:
    """The reminder commands, buttons and job of one bot."""

    def __init__(
        self,
        book: ReminderBook | None,
        conversation: ConversationService,
        send: Send,
        *,
        check_seconds: float = 60.0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.book = book
        self.conversation = conversation
        self.send = send
        self.check_seconds = check_seconds
        self.now = now or (lambda: datetime.now(UTC))
        self.last_deadlines: dict[int, list[str]] = {}  # chat -> keys of the deadlines last answered

    def install(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Start the job (the commands and buttons are routed by the bot)."""
        if self.book is not None and application.job_queue is not None:
            application.job_queue.run_repeating(
                self._job, interval=self.check_seconds, first=self.check_seconds
            )

    # -- applicant side ------------------------------------------------------------------------------

    def remember(self, chat_id: int, data: dict[str, Any]) -> None:
        keys = [d["key"] for d in data.get("deadlines") or []]
        if keys:
            self.last_deadlines[chat_id] = keys

    def keyboard_row(self, data: dict[str, Any]) -> list[list[InlineKeyboardButton]]:
        """Buttons under an answer that gives deadlines: one per deadline (at most three)."""
        if self.book is None:
            return []
        deadlines = (data.get("deadlines") or [])[:MAX_REMIND_BUTTONS]
        if len(deadlines) == 1:
            return [[InlineKeyboardButton(REMIND_LABEL, callback_data=f"r:{deadlines[0]['key']}")]]
        return [
            [InlineKeyboardButton(f"⏰ {_short(d['what'], 24)}", callback_data=f"r:{d['key']}")]
            for d in deadlines
        ]

    async def on_remind(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/remind [关键词]`: subscribe to the deadline last answered, or to the ones the words name."""
        message = update.effective_message
        assert message is not None
        if self.book is None:
            await self.send(context, message.chat_id, _esc(TEXT["unavailable"]))
            return
        words = " ".join(context.args or []).strip()
        known = {d.key: d for d in self.conversation.deadlines(upcoming=False)}
        if words:
            chosen = [d for d in known.values() if _mentions(words, d)]
            if not chosen:
                await self.send(context, message.chat_id, _esc(TEXT["no_match"].format(words=words)))
                return
        else:
            chosen = [known[k] for k in self.last_deadlines.get(message.chat_id, []) if k in known]
            if not chosen:
                await self.send(context, message.chat_id, _esc(TEXT["none"]))
                return
        lines = [self._subscribe(message.chat_id, d) for d in chosen[:MAX_REMIND_BUTTONS]]
        await self.send(context, message.chat_id, _esc("\n".join(lines)))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, key: str) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        deadline = next((d for d in self.conversation.deadlines(upcoming=False) if d.key == key), None)
        if self.book is None or deadline is None:
            await query.answer(
                TEXT["unavailable"] if self.book is None else TEXT["cancel_gone"], show_alert=True
            )
            return
        await query.answer()
        await self.send(
            context, query.message.chat.id, _esc(self._subscribe(query.message.chat.id, deadline))
        )

    async def on_list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`/reminders`: the chat's reminders, each with a cancel button."""
        message = update.effective_message
        assert message is not None
        if self.book is None:
            await self.send(context, message.chat_id, _esc(TEXT["unavailable"]))
            return
        rows = self.book.active(CHANNEL, str(message.chat_id))
        if not rows:
            await self.send(context, message.chat_id, _esc(TEXT["list_empty"]))
            return
        today = self.conversation.today()
        lines = [TEXT["list_head"]] + [
            f"{i}. {r['what']}：{show_date(r['due'], 'zh')}（{deadline_status(r['due'], today, 'zh')}）"
            for i, r in enumerate(rows, start=1)
        ]
        buttons = [
            [InlineKeyboardButton(f"取消 {i}", callback_data=f"u:{r['id']}")] for i, r in enumerate(rows, 1)
        ]
        await context.bot.send_message(
            message.chat_id,
            _esc("\n".join(lines)),
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(buttons),
        )

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        chat_id = query.message.chat.id
        rows = {r["id"]: r for r in self.book.active(CHANNEL, str(chat_id))} if self.book else {}
        if not rest.isdigit() or self.book is None or not self.book.cancel(CHANNEL, str(chat_id), int(rest)):
            await query.answer(TEXT["cancel_gone"], show_alert=True)
            return
        await query.answer()
        await self.send(context, chat_id, _esc(TEXT["cancelled"].format(what=rows[int(rest)]["what"])))

    def _subscribe(self, chat_id: int, deadline: Deadline) -> str:
        assert self.book is not None
        when = show_date(deadline.date, "zh")
        if deadline.days_left(self.conversation.today()) < 0:
            return TEXT["passed"].format(what=deadline.what, date=when)
        _, created = self.book.subscribe(CHANNEL, str(chat_id), deadline)
        return TEXT["subscribed" if created else "already"].format(what=deadline.what, date=when)

    # -- sending -------------------------------------------------------------------------------------

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.send_due(context.bot)

    async def send_due(self, bot: Bot) -> int:
        """Send every reminder message due now; return how many this worker sent."""
        if self.book is None:
            return 0
        deadlines = {d.key: d for d in self.conversation.deadlines(upcoming=False)}
        sent = 0
        for due in self.book.due(self.now(), deadlines):
            if not self.book.claim(due):
                continue  # another worker has it
            try:
                await bot.send_message(int(due.address), _esc(_text(due)), parse_mode=ParseMode.HTML)
            except TelegramError as exc:
                log.warning(
                    "reminder %s to %s not sent (%s); tried again at the next check",
                    due.claim,
                    due.address,
                    exc,
                )
                self.book.release(due)
                continue
            self.book.sent(due)
            if due.kind == "gone":
                self.book.cancel(CHANNEL, due.address, due.reminder_id)
            sent += 1
        return sent


def _text(due: DueMessage) -> str:
    today_left = due.days_left
    status = "今天截止" if today_left == 0 else f"还剩 {today_left} 天"
    return TEXT[due.kind].format(
        what=due.what,
        notice=due.notice,
        date=show_date(due.date, "zh"),
        old=show_date(due.old_date, "zh") if due.old_date else "",
        status=status,
    )


def _mentions(words: str, deadline: Deadline) -> bool:
    text = deadline.what + deadline.notice
    return all(w in text for w in words.split())


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _esc(text: str) -> str:
    return html.escape(text, quote=False)
