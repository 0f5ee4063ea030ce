"""Handoff to staff: the request forwarded with the last turns, messages relayed both ways, the close."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.compose import contact_line
from handlers.telegram.base import BotBase
from handlers.telegram.config import CHANNEL
from handlers.telegram.formatting import TEXT, _clip, close_keyboard, esc

log = logging.getLogger(__name__)


@dataclass
class _Sender:
    """Who wrote: for staff messages and the journal."""

    chat_id: int
    name: str

    @classmethod
    def of(cls, update: Update) -> _Sender:
        chat, user = update.effective_chat, update.effective_user
        chat_id = chat.id if chat else 0
        if user is None:
            return cls(chat_id, chat.title or str(chat_id) if chat else "?")
        name = user.full_name + (f" @{user.username}" if user.username else "")
        return cls(chat_id, name)


class HandoffRelay(BotBase):
    """Open a handoff, relay between the applicant and the staff chat, close it."""

    async def _handoff(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, *, question: str, reason: str
    ) -> None:
        """Record the request; forward it with the last turns to staff; route the chat to staff."""
        sender = _Sender.of(update)
        chat_id = sender.chat_id
        if self.handoffs.is_open(chat_id):
            await self._send(context, chat_id, esc(TEXT["handoff_already"]), markup=close_keyboard(chat_id))
            return
        record = await asyncio.to_thread(
            self.journal.handoff, session_id=f"tg-{chat_id}", channel=CHANNEL, note=question
        )
        if self.staff_chat_id is None:
            await self._send(context, chat_id, self._unavailable_html(chat_id))
            return
        self.handoffs.open(
            chat_id=chat_id, handoff_id=record["handoff_id"], applicant=sender.name, question=question
        )
        lines = [
            f"🙋 <b>转人工</b>：{esc(reason)}",
            f"申请人：{esc(sender.name)}（chat id <code>{chat_id}</code>）",
            f"问题：{esc(question)}",
        ]
        turns = list(self.turns.get(chat_id, ()))
        if turns:
            lines += ["", "<b>最近对话</b>"]
            lines += [f"{esc(who)}：{esc(_clip(text, 400))}" for who, text in turns]
        lines += ["", "<i>" + esc("回复本消息即可答复申请人；点「结束人工」结束对话。") + "</i>"]
        try:
            sent = await self._send(
                context, self.staff_chat_id, "\n".join(lines), markup=close_keyboard(chat_id)
            )
        except TelegramError:
            log.exception("could not forward a handoff to the staff chat %s", self.staff_chat_id)
            self.handoffs.close(chat_id, by="system: staff chat unreachable")
            await self._send(context, chat_id, self._unavailable_html(chat_id))
            return
        for i, message in enumerate(sent):
            self.handoffs.link(message.message_id, chat_id, head=i == 0)
        await self._send(context, chat_id, esc(TEXT["handoff_open"]), markup=close_keyboard(chat_id))

    def _unavailable_html(self, chat_id: int) -> str:
        view = self.assistant.view
        contacts = list(view.general_contacts())
        task = self.assistant.sessions.get(f"tg-{chat_id}").task
        record = view.record_for(task) if task else None
        if record is not None:
            contacts.extend(record.contacts)
        line = contact_line(contacts, "zh")
        text = TEXT["handoff_unavailable"] + (f"请直接联系：{line}。" if line else "")
        return esc(text)

    async def _relay_to_staff(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, *, edited: bool
    ) -> None:
        sender = _Sender.of(update)
        thread = self.handoffs.thread(sender.chat_id)
        head = thread.get("staff_message_id") if thread else None
        mark = "（已编辑）" if edited else ""
        body = (
            f"💬 <b>{esc(sender.name)}</b>（chat id <code>{sender.chat_id}</code>）{esc(mark)}：\n{esc(text)}"
        )
        assert self.staff_chat_id is not None
        sent = await self._send(context, self.staff_chat_id, body, reply_to=head)
        for message in sent:
            self.handoffs.link(message.message_id, sender.chat_id)
        self.handoffs.record("applicant", chat_id=sender.chat_id, text=text, by=sender.name)
        self._turn(sender.chat_id, "申请人", text)

    async def _relay_media_to_staff(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and self.staff_chat_id is not None
        sender = _Sender.of(update)
        forwarded = await context.bot.forward_message(
            self.staff_chat_id, from_chat_id=message.chat_id, message_id=message.message_id
        )
        self.handoffs.link(forwarded.message_id, sender.chat_id)
        self.handoffs.record("applicant", chat_id=sender.chat_id, text=message.caption, by=sender.name)

    async def on_staff_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in the staff chat that replies to a forwarded one goes to that applicant."""
        message = update.effective_message
        assert message is not None and message.reply_to_message is not None
        chat_id = self.handoffs.chat_for(message.reply_to_message.message_id)
        if chat_id is None:
            return
        staff = _Sender.of(update).name
        if not self.handoffs.is_open(chat_id):
            await self._send(
                context,
                message.chat_id,
                esc("该人工对话已结束，申请人不会收到这条回复。"),
                reply_to=message.message_id,
            )
            return
        try:
            if message.text:
                await self._send(context, chat_id, f"<b>{esc('工作人员回复：')}</b>\n{esc(message.text)}")
            else:
                await context.bot.copy_message(
                    chat_id, from_chat_id=message.chat_id, message_id=message.message_id
                )
        except TelegramError as exc:
            log.warning("a staff reply to chat %s was not delivered: %s", chat_id, exc)
            self.handoffs.record("undelivered", chat_id=chat_id, text=message.text, by=staff)
            await self._send(
                context,
                message.chat_id,
                esc(f"未能送达申请人：{exc}"),
                reply_to=message.message_id,
            )
            return
        self.handoffs.link(message.message_id, chat_id)
        self.handoffs.record("staff_reply", chat_id=chat_id, text=message.text or message.caption, by=staff)
        self._turn(chat_id, "工作人员", message.text or "（非文字消息）")

    async def _close(self, update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        where = query.message.chat.id
        if not re.fullmatch(r"-?\d+", rest):
            await query.answer()
            return
        chat_id = int(rest)
        if where not in (self.staff_chat_id, chat_id):
            await query.answer()
            return
        by = _Sender.of(update).name + ("（工作人员）" if where == self.staff_chat_id else "（申请人）")
        thread = self.handoffs.close(chat_id, by=by)
        await query.answer("已结束人工对话" if thread else "该对话已结束")
        await query.edit_message_reply_markup(reply_markup=None)
        if thread is None:
            return
        if self.staff_chat_id is not None:
            note = f"✅ 已结束与 {thread['applicant']} 的人工对话（{by}）。"
            await self._send(context, self.staff_chat_id, esc(note), reply_to=thread.get("staff_message_id"))
        await self._send(context, chat_id, esc(TEXT["handoff_closed"]))
