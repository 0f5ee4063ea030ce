"""`TelegramBot`: the handlers python-telegram-bot calls, wired in `install`.

The class is built in layers: `BotBase` (state, sending) ← `HandoffRelay` (handoff to staff) ←
`BotCommands` (slash commands) ← `TelegramBot` (wiring, the gate, questions, buttons, errors).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from telegram import BotCommand, Message, MessageEntity, Update
from telegram.constants import ChatAction, ChatType
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from common.errors import InvalidQueryError
from handlers.telegram.commands import BotCommands
from handlers.telegram.config import (
    ANSWER_CACHE,
    CHANNEL,
    COMMANDS,
    MAX_CHOICE_BUTTONS,
    MAX_CITATION_BUTTONS,
    App,
)
from handlers.telegram.formatting import TEXT, answer_keyboard, citation_keyboard, esc, format_answer

log = logging.getLogger(__name__)

_ANSWER_ID = re.compile(r"^[0-9A-Za-z_-]{1,48}$")


class TelegramBot(BotCommands):
    """The handlers and their state; one per Application (`application.bot_data['applybot']`)."""

    # -- wiring --------------------------------------------------------------------------------------

    def install(self, application: App) -> None:
        staff = filters.Chat(chat_id=self.staff_chat_id) if self.staff_chat_id is not None else None
        not_staff = ~staff if staff is not None else filters.ALL
        messages = filters.UpdateType.MESSAGES & not_staff
        application.add_handler(TypeHandler(Update, self.gate), group=-1)
        if staff is not None:
            application.add_handler(
                MessageHandler(staff & filters.UpdateType.MESSAGE & filters.REPLY, self.on_staff_message)
            )
        for name, callback in (
            ("start", self.on_start),
            ("help", self.on_help),
            ("deadlines", self.on_deadlines),
            ("contacts", self.on_contacts),
            ("human", self.on_human),
            ("remind", self.reminders.on_remind),
            ("reminders", self.reminders.on_list),
        ):
            application.add_handler(CommandHandler(name, callback, filters=messages))
        application.add_handler(MessageHandler(messages & filters.COMMAND, self.on_unknown_command))
        application.add_handler(MessageHandler(messages & filters.TEXT, self.on_text))
        application.add_handler(
            MessageHandler(messages & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_media)
        )
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_error_handler(self.on_error)
        self.reminders.install(application)
        if application.job_queue is not None and self.store is not None:
            application.job_queue.run_repeating(
                self.relay_pending, interval=self.config.handoff_poll_s, first=1.0, name="handoff-relay"
            )

    async def announce(self, application: App) -> None:
        """Publish the command menu."""
        await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])

    # -- the gate: groups and the rate limit --------------------------------------------------------

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Drop group chatter not addressed to the bot, and users over the rate limit."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.id == self.staff_chat_id:
            return
        query = update.callback_query
        message = update.effective_message
        if query is None:
            if message is None:
                raise ApplicationHandlerStop
            if chat.type != ChatType.PRIVATE and not self._addressed(message, context):
                raise ApplicationHandlerStop
        wait = self.limiter.check(user.id)
        if not wait:
            return
        text = TEXT["rate"].format(s=max(1, round(wait)))
        if query is not None:
            await query.answer(text)
        elif self.limiter.should_warn(user.id) and message is not None:
            await self._send(context, chat.id, esc(text), reply_to=message.message_id)
        raise ApplicationHandlerStop

    def _addressed(self, message: Message, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """In a group: a command for us, a mention of us, or a reply to one of our messages."""
        bot = context.bot
        text = message.text or message.caption or ""
        if text.startswith("/"):
            command = text.split()[0]
            target = command.partition("@")[2]
            return not target or target.lower() == (bot.username or "").lower()
        reply = message.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
            return True
        entities = (
            message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
            if message.text
            else message.parse_caption_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        )
        for entity, value in entities.items():
            if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
                return True
            if entity.type == MessageEntity.MENTION and value.lower() == f"@{bot.username}".lower():
                return True
        return False

    def _question_text(self, message: Message, context: ContextTypes.DEFAULT_TYPE) -> str:
        text = message.text or ""
        username = context.bot.username
        if username:
            text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.I)
        return text.strip()

    # -- questions ------------------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        text = self._question_text(message, context)
        edited = update.edited_message is not None
        thread = await self._live_thread(message.chat_id)
        if thread is not None:
            await self._relay_to_staff(update, context, thread, text, edited=edited)
            return
        await self._answer(update, context, text, reply_to=message.message_id)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        thread = await self._live_thread(message.chat_id)
        if thread is not None and self.staff_chat_id is not None:
            await self._relay_media_to_staff(update, context, thread)
            return
        await self._send(context, message.chat_id, esc(TEXT["text_only"]), reply_to=message.message_id)

    def _ask(self, question: str, session_id: str) -> dict[str, Any]:
        """In a worker thread: answer one question through the conversation service."""
        data: dict[str, Any] = self.conversation.ask(question, session_id=session_id, channel=CHANNEL).data
        return data

    async def _answer(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        question: str,
        *,
        reply_to: int | None,
        echo: bool = False,
    ) -> None:
        chat = update.effective_chat
        assert chat is not None
        limit = int(getattr(self.assistant, "max_question_chars", 500))
        if not question.strip():
            await self._send(context, chat.id, esc(TEXT["empty"]), reply_to=reply_to)
            return
        await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
        try:
            data = await asyncio.to_thread(self._ask, question, self.session_of(chat.id))
        except InvalidQueryError:
            too_long = len(question.strip()) > limit
            text = (
                TEXT["too_long"].format(n=len(question.strip()), limit=limit) if too_long else TEXT["empty"]
            )
            await self._send(context, chat.id, esc(text), reply_to=reply_to)
            return
        self._remember(data)
        self.reminders.remember(chat.id, data)
        body = format_answer(data)
        if echo:
            body = f"<b>问：</b>{esc(question)}\n\n{body}"
        markup = answer_keyboard(data, extra=self.reminders.keyboard_row(data))
        await self._send(context, chat.id, body, reply_to=reply_to, markup=markup)
        self._turn(chat.id, "申请人", question)
        self._turn(chat.id, "机器人", str(data["answer"]))
        if data.get("escalated"):
            reason = "申请人要求人工" if data.get("intent") == "human" else "机器人未能回答"
            await self._handoff(update, context, question=question, reason=reason)

    def _remember(self, data: dict[str, Any]) -> None:
        self.answers[str(data["message_id"])] = {
            "session_id": data["session_id"],
            "citations": data["citations"][:MAX_CITATION_BUTTONS],
            "clarify": [c["title"] for c in data.get("clarify") or []][:MAX_CHOICE_BUTTONS],
        }
        while len(self.answers) > ANSWER_CACHE:
            old, _ = self.answers.popitem(last=False)
            self.rated.discard(old)

    # -- buttons ---------------------------------------------------------------------------------------

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        kind, _, rest = (query.data or "").partition(":")
        if kind == "c":
            await self._show_citation(update, context, rest)
        elif kind == "f":
            await self._feedback(update, context, rest)
        elif kind == "x":
            await self._example(update, context, rest)
        elif kind == "k":
            await self._choose(update, context, rest)
        elif kind == "h":
            await self._close(update, context, rest)
        elif kind == "r":
            await self.reminders.on_button(update, context, rest)
        elif kind == "u":
            await self.reminders.on_cancel(update, context, rest)
        else:
            await query.answer()

    async def _show_citation(self, update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        answer_id, _, index = rest.rpartition(":")
        entry = self.answers.get(answer_id)
        if entry is None or not index.isdigit() or int(index) >= len(entry["citations"]):
            await query.answer(TEXT["expired"], show_alert=True)
            return
        citation = entry["citations"][int(index)]
        await query.answer()
        text = (
            f"<b>原文 {int(index) + 1}</b>｜{esc(citation['title'])}\n"
            f"<i>{esc(citation['section'])}</i>\n"
            f"<blockquote>{esc(citation['quote'])}</blockquote>"
        )
        await self._send(context, query.message.chat.id, text, reply_to=query.message.message_id)

    async def _feedback(self, update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        code, _, answer_id = rest.partition(":")
        rating = {"u": "up", "d": "down"}.get(code)
        if rating is None or not _ANSWER_ID.match(answer_id):
            await query.answer()
            return
        if answer_id in self.rated:
            await query.answer(TEXT["rated"])
            return
        self.rated.add(answer_id)
        entry = self.answers.get(answer_id)
        session_id = entry["session_id"] if entry else self.session_of(query.message.chat.id)
        await asyncio.to_thread(
            self.conversation.feedback, session_id=session_id, message_id=answer_id, rating=rating
        )
        await query.answer(TEXT["thanks_up"] if rating == "up" else TEXT["thanks_down"])
        citations = entry["citations"] if entry else []
        await query.edit_message_reply_markup(
            reply_markup=citation_keyboard(answer_id, citations) if citations else None
        )

    async def _example(self, update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        examples = self.examples()
        if not rest.isdigit() or int(rest) >= len(examples):
            await query.answer(TEXT["expired"], show_alert=True)
            return
        await query.answer()
        question = examples[int(rest)]
        thread = await self._live_thread(query.message.chat.id)
        if thread is not None:
            await self._relay_to_staff(update, context, thread, question, edited=False)
            return
        await self._answer(update, context, question, reply_to=query.message.message_id, echo=True)

    async def _choose(self, update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
        """A notice picked from the ones offered: its title is the next turn of the conversation."""
        query = update.callback_query
        assert query is not None and query.message is not None
        answer_id, _, index = rest.rpartition(":")
        entry = self.answers.get(answer_id)
        if entry is None or not index.isdigit() or int(index) >= len(entry.get("clarify", [])):
            await query.answer(TEXT["expired"], show_alert=True)
            return
        await query.answer()
        title = entry["clarify"][int(index)]
        thread = await self._live_thread(query.message.chat.id)
        if thread is not None:
            await self._relay_to_staff(update, context, thread, title, edited=False)
            return
        await self._answer(update, context, title, reply_to=query.message.message_id, echo=True)

    # -- errors -----------------------------------------------------------------------------------------

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log first; then tell staff once per kind of error, and the applicant that something failed."""
        error = context.error
        log.error("error while handling an update: %r", error, exc_info=error)
        key = f"{type(error).__name__}: {error}"[:300]
        if self.staff_chat_id is not None and key not in self.reported_errors:
            self.reported_errors.add(key)
            if len(self.reported_errors) > 1000:
                self.reported_errors.clear()
            text = f"⚠️ <b>applybot 出错</b>\n<code>{esc(key)}</code>\n" + esc(
                "（同类错误只报告一次，详见日志）"
            )
            try:
                await self._send(context, self.staff_chat_id, text)
            except Exception:  # the staff chat itself may be what fails
                log.exception("could not report an error to the staff chat")
        if isinstance(update, Update) and update.effective_chat is not None:
            chat_id = update.effective_chat.id
            if chat_id != self.staff_chat_id:
                try:
                    await self._send(context, chat_id, esc(TEXT["error_user"]))
                except Exception:
                    log.warning("could not tell chat %s about an error", chat_id)
