"""The Telegram channel: a python-telegram-bot `Application` over the one Assistant and the Journal.

`build_application(config, assistant, journal)` builds the bot once; its handlers are thin (parse,
call `assistant.ask`, format). Two ways to run it:

- long polling: `run_polling(config, assistant, journal)` (blocking; `applybot telegram`);
- webhook, inside the API process: `webhook_application(...)` starts the bot in the API's lifespan
  and calls `setWebhook`; the route `POST /telegram/webhook` hands each body to
  `handle_webhook_update(...)`, which checks Telegram's secret header and queues the update.

Every text the bot sends is HTML with every piece of text escaped; long messages are split on line
breaks, never inside a tag or an entity. A handoff forwards the question and the last turns to the
staff chat; a staff member's reply to that message goes back to the applicant, and the applicant's
messages go to staff until someone presses 「结束人工」.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageLimit, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.compose import contact_line, deadline_status, show_date, window_status
from bot.errors import ConfigurationError, InvalidQueryError
from bot.journal import Journal
from bot.reminders import ReminderBook
from handlers.telegram_reminders import TelegramReminders

log = logging.getLogger(__name__)

CHANNEL = "telegram"
DEFAULT_API_URL = "https://api.telegram.org/bot"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
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
_SECRET_OK = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_ANSWER_ID = re.compile(r"^[0-9A-Za-z_-]{1,48}$")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

App = Application[Any, Any, Any, Any, Any, Any]

# -- configuration -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramConfig:
    """What the Telegram channel needs; `from_settings` reads the `APPLYBOT_TELEGRAM_*` settings."""

    token: str
    staff_chat_id: int | None = None
    api_url: str = DEFAULT_API_URL
    webhook_url: str = ""
    webhook_secret: str = ""
    rate_limit_per_minute: int = 20
    data_dir: Path = Path(".applybot")
    timezone: str = "Asia/Shanghai"
    reminder_hour: int = 9  # local hour at which reminders go out
    reminder_check_s: float = 60.0

    @property
    def file_url(self) -> str:
        """The file download base that goes with api_url (…/bot → …/file/bot)."""
        base = self.api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("bot")] + "file/bot"
        return base + "/file/bot"

    @classmethod
    def from_settings(cls, settings: Any) -> TelegramConfig:
        """Read the telegram_* fields of bot.settings.Settings (missing fields take the defaults)."""
        return cls(
            token=str(getattr(settings, "telegram_token", "") or ""),
            staff_chat_id=parse_chat_id(getattr(settings, "telegram_staff_chat_id", None)),
            api_url=str(getattr(settings, "telegram_api_url", "") or DEFAULT_API_URL),
            webhook_url=str(getattr(settings, "telegram_webhook_url", "") or ""),
            webhook_secret=str(getattr(settings, "telegram_webhook_secret", "") or ""),
            rate_limit_per_minute=int(
                getattr(settings, "telegram_rate_limit_per_minute", None)
                or getattr(settings, "rate_limit_per_minute", None)
                or 20
            ),
            data_dir=Path(getattr(settings, "data_dir", ".applybot")),
            timezone=str(getattr(settings, "timezone", "Asia/Shanghai")),
            reminder_hour=int(getattr(settings, "reminder_hour", 9)),
            reminder_check_s=float(getattr(settings, "reminder_check_seconds", 60.0)),
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


# -- the handoff store -----------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat()


class TelegramHandoffs:
    """Handoff threads between applicant chats and the staff chat, persisted under the data dir.

    `handoffs.json` holds each applicant chat's thread (open or closed) and which staff-chat
    messages belong to which applicant chat, so a staff reply finds its applicant after a restart.
    `handoff_messages.jsonl` records every message that crossed a thread, and every closing.
    """

    MAX_LINKS = 50_000

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "handoffs.json"
        self.log_path = directory / "handoff_messages.jsonl"
        self._lock = threading.Lock()
        self._threads: dict[str, dict[str, Any]] = {}
        self._links: dict[str, int] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._threads = dict(data.get("threads", {}))
            self._links = {k: int(v) for k, v in data.get("links", {}).items()}

    def _save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(
            json.dumps({"threads": self._threads, "links": self._links}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)

    def open(self, *, chat_id: int, handoff_id: str, applicant: str, question: str) -> dict[str, Any]:
        thread = {
            "handoff_id": handoff_id,
            "chat_id": chat_id,
            "applicant": applicant,
            "question": question,
            "status": "open",
            "opened_at": _now(),
            "closed_at": None,
            "closed_by": None,
            "staff_message_id": None,
        }
        with self._lock:
            self._threads[str(chat_id)] = thread
            self._save()
        self.record("open", chat_id=chat_id, text=question, by=applicant)
        return dict(thread)

    def thread(self, chat_id: int) -> dict[str, Any] | None:
        with self._lock:
            thread = self._threads.get(str(chat_id))
            return dict(thread) if thread else None

    def is_open(self, chat_id: int) -> bool:
        thread = self.thread(chat_id)
        return bool(thread and thread["status"] == "open")

    def link(self, staff_message_id: int, chat_id: int, *, head: bool = False) -> None:
        """Remember that a staff-chat message belongs to an applicant's thread."""
        with self._lock:
            self._links[str(staff_message_id)] = chat_id
            while len(self._links) > self.MAX_LINKS:
                self._links.pop(next(iter(self._links)))
            thread = self._threads.get(str(chat_id))
            if head and thread is not None:
                thread["staff_message_id"] = staff_message_id
            self._save()

    def chat_for(self, staff_message_id: int) -> int | None:
        with self._lock:
            return self._links.get(str(staff_message_id))

    def close(self, chat_id: int, *, by: str) -> dict[str, Any] | None:
        """Close an open thread; None when there is none open."""
        with self._lock:
            thread = self._threads.get(str(chat_id))
            if not thread or thread["status"] != "open":
                return None
            thread.update(status="closed", closed_at=_now(), closed_by=by)
            self._save()
            closed = dict(thread)
        self.record("close", chat_id=chat_id, text=None, by=by)
        return closed

    def record(self, event: str, *, chat_id: int, text: str | None, by: str | None) -> dict[str, Any]:
        """Append one event (open, applicant, staff_reply, close, undelivered) to the message log."""
        thread = self.thread(chat_id)
        entry = {
            "at": _now(),
            "event": event,
            "handoff_id": thread["handoff_id"] if thread else None,
            "chat_id": chat_id,
            "by": by,
            "text": text,
        }
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def events(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


# -- the rate limit ------------------------------------------------------------------------------------


class UserRateLimiter:
    """At most `limit` messages per user in any sliding window, in memory; warns once per window."""

    def __init__(self, limit: int, window_s: float = 60.0, max_users: int = 100_000) -> None:
        self.limit, self.window_s, self.max_users = limit, window_s, max_users
        self._hits: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> float:
        """Record a message; 0 when allowed, else the seconds until the user may write again."""
        if self.limit <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(user_id, deque())
        self._hits.move_to_end(user_id)
        while hits and now - hits[0] >= self.window_s:
            hits.popleft()
        while len(self._hits) > self.max_users:
            old, _ = self._hits.popitem(last=False)
            self._warned.pop(old, None)
        if len(hits) >= self.limit:
            return max(self.window_s - (now - hits[0]), 0.001)
        hits.append(now)
        self._warned.pop(user_id, None)
        return 0.0

    def should_warn(self, user_id: int, now: float | None = None) -> bool:
        """True the first time in a window that a user is over the limit (later ones are ignored)."""
        now = time.monotonic() if now is None else now
        last = self._warned.get(user_id)
        if last is not None and now - last < self.window_s:
            return False
        self._warned[user_id] = now
        return True


# -- the bot ---------------------------------------------------------------------------------------------

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
    "handoff_unavailable": "目前无法在这里转人工，已记录您的请求。",
    "handoff_closed": "人工对话已结束，您可以继续向我提问。",
    "error_user": "抱歉，处理您的消息时出错了，请稍后再试。",
    "unknown_command": "没有这个命令。发送 /help 查看用法。",
    "no_records": "通知中没有列出各任务的截止时间。",
    "no_contacts": "通知中没有列出联系人。",
}
CLOSE_LABEL = "结束人工"


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


class TelegramBot:
    """The handlers and their state; one per Application (`application.bot_data['applybot']`)."""

    def __init__(
        self,
        config: TelegramConfig,
        assistant: Any,
        journal: Journal,
        *,
        handoffs: TelegramHandoffs | None = None,
        ask_lock: threading.Lock | None = None,
        reminders: ReminderBook | None = None,
    ) -> None:
        self.config = config
        self.assistant = assistant
        self.journal = journal
        self.staff_chat_id = config.staff_chat_id
        self.handoffs = handoffs or TelegramHandoffs(Path(config.data_dir) / "telegram")
        self.limiter = UserRateLimiter(config.rate_limit_per_minute)
        self.ask_lock = ask_lock or threading.Lock()
        self.answers: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.rated: set[str] = set()
        self.turns: dict[int, deque[tuple[str, str]]] = {}
        self.reported_errors: set[str] = set()
        self.reminders = TelegramReminders(
            reminders,
            assistant,
            lambda context, chat_id, text: self._send(context, chat_id, text),
            check_seconds=config.reminder_check_s,
        )

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

    # -- commands -------------------------------------------------------------------------------------

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
        today = today or self.assistant.clock.today()
        view = self.assistant.view
        found = view.deadlines()
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

    # -- questions ------------------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        text = self._question_text(message, context)
        edited = update.edited_message is not None
        if self.handoffs.is_open(message.chat_id):
            await self._relay_to_staff(update, context, text, edited=edited)
            return
        await self._answer(update, context, text, reply_to=message.message_id)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        if self.handoffs.is_open(message.chat_id) and self.staff_chat_id is not None:
            await self._relay_media_to_staff(update, context)
            return
        await self._send(context, message.chat_id, esc(TEXT["text_only"]), reply_to=message.message_id)

    def _ask(self, question: str, session_id: str) -> dict[str, Any]:
        """In a worker thread: answer and journal one question (one at a time per process)."""
        started = time.perf_counter()
        with self.ask_lock:
            answer = self.assistant.ask(question, session_id=session_id)
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        data: dict[str, Any] = answer.to_dict()
        self.journal.log_answer(channel=CHANNEL, question=question, answer=data, latency_ms=latency_ms)
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
            data = await asyncio.to_thread(self._ask, question, f"tg-{chat.id}")
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

    def _turn(self, chat_id: int, who: str, text: str) -> None:
        self.turns.setdefault(chat_id, deque(maxlen=RECENT_TURNS)).append((who, text))

    def _last_question(self, chat_id: int) -> str | None:
        for who, text in reversed(self.turns.get(chat_id, ())):
            if who == "申请人":
                return text
        return None

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
        session_id = entry["session_id"] if entry else f"tg-{query.message.chat.id}"
        await asyncio.to_thread(
            self.journal.feedback, session_id=session_id, message_id=answer_id, rating=rating, comment=None
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
        if self.handoffs.is_open(query.message.chat.id):
            await self._relay_to_staff(update, context, question, edited=False)
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
        if self.handoffs.is_open(query.message.chat.id):
            await self._relay_to_staff(update, context, title, edited=False)
            return
        await self._answer(update, context, title, reply_to=query.message.message_id, echo=True)

    # -- handoff ----------------------------------------------------------------------------------------

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


def close_keyboard(chat_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(CLOSE_LABEL, callback_data=f"h:{chat_id}")]])


# -- building and running ---------------------------------------------------------------------------------


def build_application(
    config: TelegramConfig,
    assistant: Any,
    journal: Journal,
    *,
    handoffs: TelegramHandoffs | None = None,
    ask_lock: threading.Lock | None = None,
    reminders: ReminderBook | None = None,
) -> App:
    """Build the bot once: its HTTP clients, handlers and state (`application.bot_data['applybot']`).

    Pass the API's `ask_lock` when the API and the bot share one assistant in one process.
    """
    if not config.token:
        raise ConfigurationError("APPLYBOT_TELEGRAM_TOKEN is not set (get one from @BotFather)")
    sessions = getattr(journal, "sessions", None)  # the SQL store keeps reminders beside everything else
    if reminders is None and sessions is not None:
        reminders = ReminderBook(sessions, timezone=config.timezone, hour=config.reminder_hour)
    bot = TelegramBot(config, assistant, journal, handoffs=handoffs, ask_lock=ask_lock, reminders=reminders)

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


def run_polling(config: TelegramConfig, assistant: Any, journal: Journal) -> None:
    """Run the bot with long polling until interrupted (deletes any webhook first)."""
    application = build_application(config, assistant, journal)
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
    config: TelegramConfig,
    assistant: Any,
    journal: Journal,
    *,
    ask_lock: threading.Lock | None = None,
) -> AsyncIterator[App]:
    """For the API's lifespan: build, start and set the webhook; stop on exit."""
    application = build_application(config, assistant, journal, ask_lock=ask_lock)
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


def run_from_settings(settings: Any) -> None:
    """`applybot telegram`: long polling, or (webhook URL set) the API server, which serves the webhook."""
    config = TelegramConfig.from_settings(settings)
    if not config.token:
        raise ConfigurationError("APPLYBOT_TELEGRAM_TOKEN is not set (get one from @BotFather)")
    if config.webhook_url:
        from handlers.api import run_server

        run_server(settings)
        return
    from bot.services import build_assistant
    from bot.store import open_store

    # The same store as the API: answers, feedback and handoffs reach the staff pages.
    store = open_store(settings)
    try:
        assistant = build_assistant(settings, store=store)
        run_polling(config, assistant, store)  # type: ignore[arg-type]
    finally:
        store.close()
