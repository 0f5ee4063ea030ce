"""Handoff to staff over Telegram: open a thread, carry messages both ways, close it.

The thread lives in the database (through the conversation service), so the staff page and the
staff Telegram group are two views of one conversation: a reply typed on /staff reaches the
Telegram applicant, and a reply typed in the staff group reaches the web widget. What must cross
to Telegram from elsewhere (a thread opened on the web, a reply typed on /staff, a web applicant's
message) is picked up by `relay_pending`, a JobQueue job; each item is claimed by exactly one sender.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ContextTypes

from bot.compose import contact_line
from common.errors import HandoffClosedError, HandoffNotFoundError, InvalidQueryError
from handlers.telegram.base import BotBase
from handlers.telegram.config import CHANNEL
from handlers.telegram.formatting import TEXT, _clip, close_keyboard, esc

log = logging.getLogger(__name__)

_HANDOFF_ID = re.compile(r"^[0-9a-f]{32}$")
# Sending failures worth another try later (the message goes back to pending); others are final.
_TRANSIENT = (NetworkError, TimedOut, RetryAfter)


@dataclass
class _Sender:
    """Who wrote: for staff messages and the journal."""

    chat_id: int
    user_id: int | None
    name: str

    @classmethod
    def of(cls, update: Update) -> _Sender:
        chat, user = update.effective_chat, update.effective_user
        chat_id = chat.id if chat else 0
        if user is None:
            return cls(chat_id, None, chat.title or str(chat_id) if chat else "?")
        name = user.full_name + (f" @{user.username}" if user.username else "")
        return cls(chat_id, user.id, name)


class HandoffRelay(BotBase):
    """Open a handoff, relay between the applicant and staff, close it; carry pending messages."""

    async def _live_thread(self, chat_id: int) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.conversation.live_thread, self.session_of(chat_id))

    async def _handoff(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, *, question: str, reason: str
    ) -> None:
        """Open (or find) the chat's thread; tell staff with the last turns; route the chat to staff."""
        sender = _Sender.of(update)
        chat_id = sender.chat_id
        started = await asyncio.to_thread(
            self.conversation.handoff,
            session_id=self.session_of(chat_id),
            channel=CHANNEL,
            note=question,
            applicant=sender.name,
        )
        handoff_id = started.thread["handoff_id"]
        if not started.created:
            await self._send(
                context, chat_id, esc(TEXT["handoff_already"]), markup=close_keyboard(handoff_id)
            )
            return
        if self.staff_chat_id is not None:
            try:
                await self._announce(context, started.thread, reason=reason, chat_id=chat_id)
            except TelegramError:
                log.exception("could not tell the staff chat %s about a handoff", self.staff_chat_id)
        text = TEXT["handoff_open"] if self.staff_chat_id is not None else TEXT["handoff_recorded"]
        await self._send(
            context, chat_id, esc(text + self._contacts_line(chat_id)), markup=close_keyboard(handoff_id)
        )

    async def _announce(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        thread: dict[str, Any],
        *,
        reason: str,
        chat_id: int | None = None,
    ) -> None:
        """Post a new thread to the staff chat once (whichever process gets there first)."""
        assert self.staff_chat_id is not None
        handoff_id = thread["handoff_id"]
        if not await asyncio.to_thread(self.store.claim_announcement, handoff_id):
            return
        if chat_id is not None:
            who = f"申请人：{esc(thread.get('applicant') or '?')}（Telegram，chat id <code>{chat_id}</code>）"
        else:
            who = f"申请人：网页用户（会话 <code>{esc(thread['session_id'])}</code>）"
        lines = [f"🙋 <b>转人工</b>：{esc(reason)}", who, f"问题：{esc(thread.get('note') or '—')}"]
        turns = list(self.turns.get(chat_id, ())) if chat_id is not None else []
        if turns:
            lines += ["", "<b>最近对话</b>"]
            lines += [f"{esc(who)}：{esc(_clip(text, 400))}" for who, text in turns]
        elif thread.get("questions"):
            lines += ["", "<b>本会话的问题</b>"]
            lines += [f"• {esc(_clip(q, 200))}" for q in thread["questions"][-5:]]
        lines += ["", "<i>" + esc("回复本消息即可答复申请人；点「结束人工」结束对话。") + "</i>"]
        try:
            sent = await self._send(
                context, self.staff_chat_id, "\n".join(lines), markup=close_keyboard(handoff_id)
            )
        except TelegramError:
            await asyncio.to_thread(self.store.release_announcement, handoff_id)
            raise
        for message in sent:
            await asyncio.to_thread(
                self.store.link_staff_message, self.staff_chat_id, message.message_id, handoff_id
            )

    def _contacts_line(self, chat_id: int) -> str:
        """Whom the applicant may also call meanwhile (the notices' contacts), or nothing."""
        line = contact_line(self.conversation.contacts(self.session_of(chat_id)), "zh")
        return f"您也可以直接联系：{line}。" if line else ""

    async def _to_staff_chat(self, context: ContextTypes.DEFAULT_TYPE, handoff_id: str, body: str) -> None:
        """Post into the thread's place in the staff chat (replying to its announcement)."""
        assert self.staff_chat_id is not None
        head = await asyncio.to_thread(self.store.first_staff_message, handoff_id, self.staff_chat_id)
        sent = await self._send(context, self.staff_chat_id, body, reply_to=head)
        for message in sent:
            await asyncio.to_thread(
                self.store.link_staff_message, self.staff_chat_id, message.message_id, handoff_id
            )

    async def _relay_to_staff(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        thread: dict[str, Any],
        text: str,
        *,
        edited: bool,
    ) -> None:
        """The applicant wrote while a thread is live: into the thread, and to the staff chat."""
        sender = _Sender.of(update)
        try:
            await self._into_thread(thread, text, sender)
        except HandoffClosedError:
            await self._send(context, sender.chat_id, esc(TEXT["handoff_closed"]))
            return
        except InvalidQueryError:
            await self._send(context, sender.chat_id, esc(TEXT["empty"]))
            return
        self._turn(sender.chat_id, "申请人", text)
        if self.staff_chat_id is None:
            return
        mark = "（已编辑）" if edited else ""
        body = (
            f"💬 <b>{esc(sender.name)}</b>（chat id <code>{sender.chat_id}</code>）{esc(mark)}：\n{esc(text)}"
        )
        await self._to_staff_chat(context, thread["handoff_id"], body)

    async def _into_thread(self, thread: dict[str, Any], text: str, sender: _Sender) -> None:
        """What the applicant wrote, into the thread (delivered: it came from their own chat)."""
        await asyncio.to_thread(
            self.conversation.applicant_message,
            thread["handoff_id"],
            text,
            author=sender.name,
            delivered=True,
        )

    async def _relay_media_to_staff(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, thread: dict[str, Any]
    ) -> None:
        message = update.effective_message
        assert message is not None and self.staff_chat_id is not None
        sender = _Sender.of(update)
        text = message.caption or "（图片或文件，见工作人员群）"
        try:
            await self._into_thread(thread, text, sender)
        except HandoffClosedError:  # closed between the check and now: the bot answers again
            await self._send(context, sender.chat_id, esc(TEXT["handoff_closed"]))
            return
        forwarded = await context.bot.forward_message(
            self.staff_chat_id, from_chat_id=message.chat_id, message_id=message.message_id
        )
        await asyncio.to_thread(
            self.store.link_staff_message, self.staff_chat_id, forwarded.message_id, thread["handoff_id"]
        )

    async def on_staff_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply in the staff chat to a thread's message answers in that thread (staff only)."""
        message = update.effective_message
        assert message is not None and message.reply_to_message is not None
        handoff_id = await asyncio.to_thread(
            self.store.handoff_for_staff_message, message.chat_id, message.reply_to_message.message_id
        )
        if handoff_id is None:
            return
        sender = _Sender.of(update)
        if not self.is_staff(sender.user_id):
            log.warning("user %s is not on the staff list; their reply was not passed on", sender.user_id)
            await self._send(context, message.chat_id, esc(TEXT["staff_only"]), reply_to=message.message_id)
            return
        text = message.text or message.caption or "（非文字消息）"
        try:
            reply = await asyncio.to_thread(
                self.conversation.staff_reply, handoff_id, text, staff=sender.name, via=CHANNEL
            )
            thread = await asyncio.to_thread(self.conversation.thread, handoff_id)
        except HandoffClosedError:
            await self._send(
                context, message.chat_id, esc(TEXT["thread_ended_staff"]), reply_to=message.message_id
            )
            return
        await asyncio.to_thread(
            self.store.link_staff_message, message.chat_id, message.message_id, handoff_id
        )
        chat_id = self.chat_of(thread["session_id"])
        if chat_id is None:
            return  # a web applicant: the widget picks the reply up from the thread
        if not await asyncio.to_thread(self.store.claim_delivery, reply["id"]):
            return
        try:
            if message.text:
                await self._send(context, chat_id, f"<b>{esc(TEXT['staff_reply'])}</b>\n{esc(message.text)}")
            else:
                await context.bot.copy_message(
                    chat_id, from_chat_id=message.chat_id, message_id=message.message_id
                )
        except TelegramError as exc:
            log.warning("a staff reply to chat %s was not delivered: %s", chat_id, exc)
            if isinstance(exc, _TRANSIENT):
                await asyncio.to_thread(self.store.release_delivery, reply["id"])
            await self._send(
                context, message.chat_id, esc(f"未能送达申请人：{exc}"), reply_to=message.message_id
            )
            return
        self._turn(chat_id, "工作人员", text)

    async def _close(self, update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
        """「结束人工」: the applicant in their chat, or a staff member in the staff chat."""
        query = update.callback_query
        assert query is not None and query.message is not None
        where = query.message.chat.id
        sender = _Sender.of(update)
        if not _HANDOFF_ID.match(rest):
            await query.answer()
            return
        try:
            thread = await asyncio.to_thread(self.conversation.thread, rest)
        except HandoffNotFoundError:
            await query.answer()
            return
        applicant_chat = self.chat_of(thread["session_id"])
        if where == self.staff_chat_id:
            if not self.is_staff(sender.user_id):
                await query.answer(TEXT["staff_only"], show_alert=True)
                return
            role, by = "staff", sender.name + "（工作人员）"
        elif where == applicant_chat:
            role, by = "applicant", sender.name + "（申请人）"
        else:
            await query.answer()
            return
        thread, closed = await asyncio.to_thread(
            self.conversation.close,
            rest,
            by=by,
            role=role,
            via=CHANNEL,
            delivered=applicant_chat is not None,  # told right here, not by the relay job
        )
        await query.answer("已结束人工对话" if closed else "该对话已结束")
        await query.edit_message_reply_markup(reply_markup=None)
        if not closed:
            return
        if self.staff_chat_id is not None:
            note = f"✅ 已结束与 {thread.get('applicant') or '网页用户'} 的人工对话（{by}）。"
            await self._to_staff_chat(context, rest, esc(note))
        if applicant_chat is not None:
            await self._send(context, applicant_chat, esc(TEXT["handoff_closed"]))

    # -- the relay job: what other channels and workers left for Telegram to carry --------------------

    async def relay_pending(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Announce new threads, deliver staff-page replies and closings to Telegram applicants,
        and pass web applicants' messages to the staff chat. Never raises (it runs every few seconds)."""
        try:
            await self._relay_pending(context)
        except Exception:
            log.exception("carrying handoff messages failed; the next round tries again")

    async def _relay_pending(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self.staff_chat_id is not None:
            for thread in await asyncio.to_thread(self.store.unannounced_handoffs):
                await self._announce(
                    context, thread, reason="申请人要求人工", chat_id=self.chat_of(thread["session_id"])
                )
        to_applicants = await asyncio.to_thread(
            self.store.pending_deliveries, roles=("staff", "system"), channels=(CHANNEL,)
        )
        for item in to_applicants:
            chat_id = self.chat_of(item["thread"]["session_id"])
            if chat_id is None or not await asyncio.to_thread(self.store.claim_delivery, item["id"]):
                continue
            if item["role"] == "staff":
                body = f"<b>{esc(TEXT['staff_reply'])}</b>\n{esc(item['text'])}"
            else:
                body = esc(TEXT["handoff_closed"])
            if not await self._deliver(context, chat_id, body, item["id"]):
                return
        if self.staff_chat_id is None:
            return
        from_web = await asyncio.to_thread(
            self.store.pending_deliveries, roles=("applicant", "system"), channels=("web",)
        )
        for item in from_web:
            if not await asyncio.to_thread(self.store.claim_delivery, item["id"]):
                continue
            if item["role"] == "applicant":
                body = f"💬 <b>网页用户</b>：\n{esc(item['text'])}"
            else:
                body = esc(f"✅ 人工对话已结束（{item['author']}）。")
            try:
                await self._to_staff_chat(context, item["handoff_id"], body)
            except _TRANSIENT:
                await asyncio.to_thread(self.store.release_delivery, item["id"])
                return

    async def _deliver(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, body: str, item_id: int
    ) -> bool:
        """Send one claimed message; False when Telegram is unreachable (it goes back to pending)."""
        try:
            await self._send(context, chat_id, body)
        except _TRANSIENT as exc:
            log.warning("Telegram is unreachable (%s); the message waits for the next round", exc)
            await asyncio.to_thread(self.store.release_delivery, item_id)
            return False
        except TelegramError as exc:  # blocked by the user, chat gone: no retry can fix it
            log.warning("a handoff message to chat %s was not delivered: %s", chat_id, exc)
        return True
