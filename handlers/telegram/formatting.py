"""What the bot says and how: escaped Telegram HTML, messages split at 4,096 characters, answers
with their sources, and the inline keyboards."""

from __future__ import annotations

import html
import re
from collections import deque
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.telegram.config import (
    CHOICE_LABEL_CHARS,
    MAX_CHOICE_BUTTONS,
    MAX_CITATION_BUTTONS,
    MAX_MESSAGE_CHARS,
)

# -- HTML ------------------------------------------------------------------------------------------------


def esc(text: object) -> str:
    """Escape text for Telegram's HTML parse mode (&, < and >)."""
    return html.escape(str(text), quote=False)


_ATOM = re.compile(r"<[^<>]*>|&#?[0-9A-Za-z]+;|[^<&]", re.S)
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)")
_SOFT_BREAKS = frozenset("。！？；!?; ")


def _units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _closing(stack: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _opening(stack: tuple[tuple[str, str], ...]) -> str:
    return "".join(tag for _, tag in stack)


def _after(stack: tuple[tuple[str, str], ...], atom: str) -> tuple[tuple[str, str], ...]:
    match = _TAG.match(atom) if atom.startswith("<") else None
    if match is None:
        return stack
    closing, name = match.group(1), match.group(2).lower()
    if not closing:
        return (*stack, (name, atom))
    for i in range(len(stack) - 1, -1, -1):
        if stack[i][0] == name:
            return stack[:i] + stack[i + 1 :]
    return stack


def split_html(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` characters.

    Cuts fall after a line break when the piece has one, else after a sentence end or a space, else
    between characters; never inside a tag or an entity. Tags open at a cut are closed at the end
    of the piece and reopened at the start of the next. Pieces with no visible text are dropped.
    """
    if _units(text) <= limit:
        return [text] if visible_text(text).strip() else []
    pending = deque(_ATOM.findall(text))
    chunks: list[str] = []
    stack: tuple[tuple[str, str], ...] = ()
    cur: list[str] = [""]
    size = 0
    line_cut: tuple[int, tuple[tuple[str, str], ...]] | None = None
    soft_cut: tuple[int, tuple[tuple[str, str], ...]] | None = None
    while pending:
        atom = pending.popleft()
        after = _after(stack, atom)
        if size + _units(atom) + _units(_closing(after)) > limit and len(cur) > 1:
            index, snapshot = line_cut or soft_cut or (len(cur), stack)
            chunks.append("".join(cur[:index]) + _closing(snapshot))
            pending.appendleft(atom)
            pending.extendleft(reversed(cur[index:]))
            stack = snapshot
            cur = [_opening(snapshot)]
            size = _units(cur[0])
            line_cut = soft_cut = None
            continue
        cur.append(atom)
        size += _units(atom)
        stack = after
        if atom == "\n":
            line_cut = (len(cur), stack)
        elif atom in _SOFT_BREAKS:
            soft_cut = (len(cur), stack)
    if len(cur) > 1:
        chunks.append("".join(cur) + _closing(stack))
    return [c for c in chunks if visible_text(c).strip()]


def visible_text(markup: str) -> str:
    """The text a reader sees: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^<>]*>", "", markup))


# -- the bot's words ---------------------------------------------------------------------------------------

TEXT = {
    "start": (
        "您好！我依据申报通知原文回答申报问题：截止时间、申报对象、材料、方式和联系人，"
        "每个回答都附原文出处。直接发送问题即可，也可以点下面的例子；/help 查看全部功能。"
    ),
    "text_only": "请用文字发送您的问题。",
    "empty": "请用文字发送您的问题。",
    "too_long": "问题太长了（{n} 字），请精简到 {limit} 字以内再发。",
    "rate": "您发得太快了，请 {s} 秒后再问。",
    "expired": "这条回答已过期，请重新提问。",
    "thanks_up": "谢谢反馈！",
    "thanks_down": "谢谢反馈，我们会改进。",
    "rated": "已收到您的反馈。",
    "handoff_open": (
        "已转人工：您的问题和最近的对话已发给工作人员，他们会在这里回复您。"
        "在此期间您发来的消息都会转给工作人员；点「结束人工」可回到机器人问答。"
    ),
    "handoff_already": "您已在人工对话中，请直接发送消息，工作人员会在这里回复。",
    "handoff_recorded": "已记录您的请求，工作人员会在这里回复您；在此期间您发来的消息都会转给工作人员。",
    "staff_reply": "工作人员回复：",
    "staff_only": "只有工作人员名单中的成员可以答复或结束人工对话（APPLYBOT_TELEGRAM_STAFF_USER_IDS）。",
    "thread_ended_staff": "该人工对话已结束，申请人不会收到这条回复。",
    "handoff_closed": "人工对话已结束，您可以继续向我提问。",
    "error_user": "抱歉，处理您的消息时出错了，请稍后再试。",
    "unknown_command": "没有这个命令。发送 /help 查看用法。",
    "no_records": "通知中没有列出各任务的截止时间。",
    "no_contacts": "通知中没有列出联系人。",
}
CLOSE_LABEL = "结束人工"


# -- formatting ------------------------------------------------------------------------------------------


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _where(citation: dict[str, Any]) -> str:
    title, section = str(citation.get("title") or ""), str(citation.get("section") or "")
    if not section or section == title:
        return title
    return section if section.startswith(title) else f"{title} › {section}"


def format_answer(data: dict[str, Any]) -> str:
    """An answer as Telegram HTML: the text, then the numbered sources of the 「原文 N」 buttons."""
    lines = [esc(data["answer"])]
    citations = data.get("citations") or []
    if citations:
        lines += ["", "<i>" + esc("依据（点「原文」按钮查看原文）：") + "</i>"]
        lines += [f"{i}. {esc(_where(c))}" for i, c in enumerate(citations[:MAX_CITATION_BUTTONS], start=1)]
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def citation_keyboard(answer_id: str, citations: list[dict[str, Any]]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(f"原文 {i}", callback_data=f"c:{answer_id}:{i - 1}")
        for i in range(1, min(len(citations), MAX_CITATION_BUTTONS) + 1)
    ]
    return InlineKeyboardMarkup([buttons[i : i + 4] for i in range(0, len(buttons), 4)])


def answer_keyboard(
    data: dict[str, Any], *, extra: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup:
    """Choice buttons, 原文 buttons, any extra rows (reminders), then 👍/👎."""
    answer_id = str(data["message_id"])
    rows = [
        [
            InlineKeyboardButton(
                _short(option["title"], CHOICE_LABEL_CHARS), callback_data=f"k:{answer_id}:{i}"
            )
        ]
        for i, option in enumerate((data.get("clarify") or [])[:MAX_CHOICE_BUTTONS])
    ]
    rows += [list(row) for row in citation_keyboard(answer_id, data.get("citations") or []).inline_keyboard]
    rows += extra or []
    rows.append(
        [
            InlineKeyboardButton("👍", callback_data=f"f:u:{answer_id}"),
            InlineKeyboardButton("👎", callback_data=f"f:d:{answer_id}"),
        ]
    )
    return InlineKeyboardMarkup(rows)


def close_keyboard(handoff_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(CLOSE_LABEL, callback_data=f"h:{handoff_id}")]])
