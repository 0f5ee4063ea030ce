"""The bot's slash commands: /start, /help, /deadlines, /contacts, /human and unknown ones."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.compose import contact_line, deadline_status, show_date, window_status
from handlers.telegram.formatting import TEXT, esc
from handlers.telegram.handoff_relay import HandoffRelay


class BotCommands(HandoffRelay):
    """The commands; /human opens a handoff."""

    def examples(self) -> list[str]:
        """Two or three example questions, built from the knowledge base's task names."""
        tasks = list(self.assistant.view.records_by_task)
        patterns = ["{task}什么时候截止？", "{task}需要提交哪些材料？", "{task}的联系人是谁？"]
        out = [pattern.format(task=task) for pattern, task in zip(patterns, tasks, strict=False)]
        if len(out) < 2:
            out += ["申报截止时间是什么时候？", "联系人是谁？"][: 2 - len(out)]
        return out[:3]

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        rows = [
            [InlineKeyboardButton(question, callback_data=f"x:{i}")]
            for i, question in enumerate(self.examples())
        ]
        await self._send(
            context,
            message.chat_id,
            esc(TEXT["start"]),
            reply_to=message.message_id,
            markup=InlineKeyboardMarkup(rows),
        )

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        lines = [
            "<b>怎么用</b>",
            esc("直接发送问题，例如某项任务的截止时间、申报对象、需要的材料、申报方式或联系人。"),
            esc("回答下方的「原文 N」按钮显示所引用的通知原文；👍/👎 告诉我们回答是否有用。"),
            "",
            "/deadlines — " + esc("各任务截止时间与剩余天数"),
            "/contacts — " + esc("通知联系人与各任务联系人"),
            "/human — " + esc("转人工：工作人员会在这里回复您"),
            "/remind — " + esc("截止前 7 天和 1 天提醒您（先问截止时间，或 /remind 关键词）"),
            "/reminders — " + esc("查看或取消提醒"),
            "/start — " + esc("示例问题"),
        ]
        if context.bot.username:
            lines += ["", esc(f"在群里请 @{context.bot.username} 提问，或回复我的消息。")]
        await self._send(context, message.chat_id, "\n".join(lines), reply_to=message.message_id)

    async def on_deadlines(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await self._send(context, message.chat_id, self.deadlines_html(), reply_to=message.message_id)

    def deadlines_html(self, today: date | None = None) -> str:
        """Every deadline of the notices in force (tables and sentences), with 已截止 / 还剩 N 天, and
        a date a later notice moved marked as such; a task whose row gives no date says so."""
        today = today or self.conversation.today()
        view = self.assistant.view
        found = self.conversation.deadlines(upcoming=False)
        several = len({d.doc_id for d in found}) > 1
        lines, seen = [], set()
        for d in found:
            key = (d.what, d.date, d.start, d.time)
            if key in seen:
                continue
            seen.add(key)
            when = show_date(d.date, "zh")
            if d.start:
                when = f"{show_date(d.start, 'zh')}—{when}"
            if d.time:
                when = f"{when} {d.time}"
            if d.start and today < date.fromisoformat(d.start):
                status = window_status(d.start, d.date, today, "zh")
            else:
                status = deadline_status(d.date, today, "zh")
            if d.changed_from:
                status += f"；原定{show_date(d.changed_from, 'zh')}，已调整"
            what = f"{d.what}（《{d.notice}》）" if several and d.what != d.notice else d.what
            lines.append(f"• {esc(what)}：{esc(when)}（{esc(status)}）")
        for record in view.all_records():
            if not record.deadline and record.task not in {w for w, *_ in seen}:
                seen.add((record.task, None, None, None))
                lines.append(f"• {esc(record.task)}：{esc('通知未写明截止时间')}")
        if not lines:
            return esc(TEXT["no_records"])
        head = f"<b>各项截止时间</b>（今天 {esc(show_date(today.isoformat(), 'zh'))}）"
        return "\n".join([head, *lines])

    async def on_contacts(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await self._send(context, message.chat_id, self.contacts_html(), reply_to=message.message_id)

    def contacts_html(self) -> str:
        view = self.assistant.view
        lines = []
        general = contact_line(list(view.general_contacts()), "zh")
        if general:
            lines += ["<b>通知联系人</b>", esc(general)]
        per_task, seen = [], set()
        for record in view.all_records():
            line = contact_line(list(record.contacts), "zh")
            if line and (record.task, line) not in seen:
                seen.add((record.task, line))
                per_task.append(f"• {esc(record.task)}：{esc(line)}")
        if per_task:
            lines += ["", "<b>各任务联系人</b>", *per_task] if lines else ["<b>各任务联系人</b>", *per_task]
        return "\n".join(lines) if lines else esc(TEXT["no_contacts"])

    async def on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        note = " ".join(context.args or []) or self._last_question(message.chat_id) or "（申请人要求人工）"
        await self._handoff(update, context, question=note, reason="申请人要求人工（/human）")

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        text = message.text or ""
        target = text.split()[0].partition("@")[2] if text else ""
        if target and target.lower() != (context.bot.username or "").lower():
            return  # a command for another bot in the group
        await self._send(context, message.chat_id, esc(TEXT["unknown_command"]), reply_to=message.message_id)
