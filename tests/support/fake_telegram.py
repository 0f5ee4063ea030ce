"""A fake Telegram Bot API server at the wire, for tests: real HTTP on a loopback port.

It answers the Bot API methods applybot's bot uses, in the Bot API's JSON format
(`{"ok": true, "result": ...}` with Message objects that have message_id, chat, date, from), and
records every request. Like Telegram it rejects HTML it cannot parse, texts over 4,096 characters,
callback data over 64 bytes and getUpdates while a webhook is set. Tests fill the update queue
with the builders (`message`, `callback`, …) and wait for what the bot sends with `wait_for`.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bot.conversation import ConversationService
from common.settings import Settings
from handlers.telegram import ALLOWED_UPDATES, TelegramConfig, build_application

TOKEN = "123456789:TEST-token_for-the-fake"
BOT_ID = 123456789
BOT_USERNAME = "applybot_test_bot"
MAX_TEXT = 4096
LONG_POLL_CAP_S = 1.0  # getUpdates never holds a request longer than this

# Parameters the Bot API takes as plain strings (PTB sends everything else JSON-encoded).
STRING_PARAMS = frozenset(
    [
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "inline_message_id",
        "action",
        "language_code",
        "ip_address",
        "emoji",
    ]
)
HTML_TAGS = frozenset(
    [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
        "tg-emoji",
    ]
)
_HTML_TOKEN = re.compile(
    r"<(/?)([^\s<>/]*)([^<>]*)>|&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|([<>&])|([^<>&]+)", re.S
)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class BotApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


def parse_html(text: str) -> str:
    """Telegram's HTML parse mode, strictly: return the visible text or raise a 400 like Telegram."""
    out: list[str] = []
    stack: list[str] = []
    for match in _HTML_TOKEN.finditer(text):
        closing, name, _attrs, entity, bare, plain = match.groups()
        offset = len(text[: match.start()].encode("utf-8"))
        if plain is not None:
            out.append(plain)
        elif bare is not None:
            raise BotApiError(
                400, f"Bad Request: can't parse entities: unescaped {bare!r} at byte offset {offset}"
            )
        elif entity is not None:
            if entity.startswith("#x"):
                out.append(chr(int(entity[2:], 16)))
            elif entity.startswith("#"):
                out.append(chr(int(entity[1:])))
            elif entity in _NAMED:
                out.append(_NAMED[entity])
            else:
                raise BotApiError(
                    400,
                    f"Bad Request: can't parse entities: Unsupported HTML entity &{entity}; at byte offset {offset}",
                )
        else:
            tag = name.lower()
            if tag not in HTML_TAGS:
                kind = "end" if closing else "start"
                raise BotApiError(
                    400,
                    f'Bad Request: can\'t parse entities: Unsupported {kind} tag "{tag}" at byte offset {offset}',
                )
            if closing:
                if not stack or stack[-1] != tag:
                    raise BotApiError(
                        400,
                        f'Bad Request: can\'t parse entities: Unmatched end tag at byte offset {offset}, expected "</{stack[-1] if stack else ""}>", found "</{tag}>"',
                    )
                stack.pop()
            else:
                stack.append(tag)
    if stack:
        raise BotApiError(
            400,
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"",
        )
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class FakeTelegram:
    """The fake server and its state; use `with fake_telegram() as tg:`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "ApplyBot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.requests: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {"url": ""}
        self.commands: list[dict[str, Any]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._failures: list[tuple[str, Callable[[dict[str, Any]], bool], int, str]] = []
        self._cond = threading.Condition()
        self._generation = 0  # bumped by release_polls()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    # -- serving ------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """What to give TelegramConfig.api_url: the token is appended after /bot, as with Telegram."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                fake._serve(self)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                fake._serve(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            with self._cond:
                self._cond.notify_all()
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0]
        prefix = f"/bot{self.token}/"
        status, payload = 200, None
        if not path.startswith(prefix):
            status, payload = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            method, params = path.rsplit("/", 1)[-1], {}
        else:
            method = path[len(prefix) :]
            params = _decode(raw, handler.headers.get("Content-Type", ""), handler.path)
            try:
                result = self._call(method, params)
                payload = {"ok": True, "result": result}
            except BotApiError as exc:
                status = exc.code
                payload = {"ok": False, "error_code": exc.code, "description": exc.description}
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a long poll cut short at shutdown)

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        if name == "getupdates":
            return self._get_updates(params)
        entry: dict[str, Any] = {"method": method, "params": params, "at": time.monotonic()}
        try:
            with self._cond:
                for i, (fail_method, where, code, description) in enumerate(self._failures):
                    if fail_method.lower() == name and where(params):
                        del self._failures[i]
                        raise BotApiError(code, description)
                handler = getattr(self, f"_m_{name}", None)
                if handler is None:
                    raise BotApiError(404, "Not Found")
                result = handler(params)
            entry["result"] = result
            return result
        except BotApiError as exc:
            entry["error"] = exc.description
            raise
        finally:
            with self._cond:
                self.requests.append(entry)
                self._cond.notify_all()

    # -- Bot API methods (called under the lock) ------------------------------------------------------

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP_S)
        deadline = time.monotonic() + timeout
        with self._cond:
            generation = self._generation
            if self.webhook["url"]:
                raise BotApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                )
            while True:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
                left = deadline - time.monotonic()
                if ready or left <= 0 or generation != self._generation:
                    return ready
                self._cond.wait(left)

    def _m_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot

    def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        visible = parse_html(text) if str(params.get("parse_mode", "")).upper() == "HTML" else text
        if not visible.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > MAX_TEXT:
            raise BotApiError(400, "Bad Request: message is too long")
        self._check_markup(params.get("reply_markup"))
        chat_id = self._chat_id(params)
        message = self._new_message(chat_id, self.bot, text=visible)
        reply = params.get("reply_parameters") or {}
        if reply.get("message_id"):
            original = self.messages.get((chat_id, int(reply["message_id"])))
            if original is None and not reply.get("allow_sending_without_reply"):
                raise BotApiError(400, "Bad Request: message to be replied not found")
            if original is not None:
                message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._existing(params)
        text = str(params.get("text") or "")
        visible = parse_html(text) if str(params.get("parse_mode", "")).upper() == "HTML" else text
        if utf16_len(visible) > MAX_TEXT:
            raise BotApiError(400, "Bad Request: message is too long")
        self._check_markup(params.get("reply_markup"))
        message["text"] = visible
        message["edit_date"] = int(time.time())
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._existing(params)
        self._check_markup(params.get("reply_markup"))
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise BotApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return True

    def _m_forwardmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        source = self.messages.get((int(params["from_chat_id"]), int(params["message_id"])))
        if source is None:
            raise BotApiError(400, "Bad Request: message to forward not found")
        chat_id = self._chat_id(params)
        content = {
            k: v
            for k, v in source.items()
            if k in ("text", "photo", "sticker", "voice", "document", "caption")
        }
        message = self._new_message(chat_id, self.bot, **content)
        origin = source.get("from") or {}
        message["forward_origin"] = {"type": "user", "date": source["date"], "sender_user": origin}
        return message

    def _m_copymessage(self, params: dict[str, Any]) -> dict[str, Any]:
        source = self.messages.get((int(params["from_chat_id"]), int(params["message_id"])))
        if source is None:
            raise BotApiError(400, "Bad Request: message to copy not found")
        content = {
            k: v
            for k, v in source.items()
            if k in ("text", "photo", "sticker", "voice", "document", "caption")
        }
        message = self._new_message(self._chat_id(params), self.bot, **content)
        return {"message_id": message["message_id"]}

    def _m_sendchataction(self, params: dict[str, Any]) -> bool:
        self._chat_id(params)
        return True

    def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise BotApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
        }
        return True

    def _m_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": ""}
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": 0,
            **(
                {"allowed_updates": self.webhook["allowed_updates"]}
                if self.webhook.get("allowed_updates")
                else {}
            ),
        }

    def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    def _m_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands

    def _m_deletemycommands(self, params: dict[str, Any]) -> bool:
        self.commands = []
        return True

    def _m_close(self, params: dict[str, Any]) -> bool:
        return True

    def _m_logout(self, params: dict[str, Any]) -> bool:
        return True

    # -- helpers ----------------------------------------------------------------------------------------

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise BotApiError(400, "Bad Request: chat not found")
        return chat_id

    def _existing(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get((self._chat_id(params), int(params.get("message_id") or 0)))
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        return message

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if not markup:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise BotApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")

    def _new_message(self, chat_id: int, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat(chat_id),
            "from": sender,
            **content,
        }
        self.messages[(chat_id, message["message_id"])] = message
        return message

    # -- the test's side: updates ---------------------------------------------------------------------

    def release_polls(self) -> None:
        """End the long polls now waiting (so a stopping updater need not wait out the timeout)."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (an update_id is given when missing)."""
        with self._cond:
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def update(self, **payload: Any) -> dict[str, Any]:
        """An update with its id, not queued (for the webhook)."""
        with self._cond:
            return {"update_id": next(self._update_ids), **payload}

    def message(
        self,
        chat_id: int,
        user: dict[str, Any],
        text: str | None = None,
        *,
        reply_to: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """A message a user sends (text, or content such as photo=[…], sticker={…})."""
        if text is not None:
            content["text"] = text
            if entities is None and text.startswith("/"):
                entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]
            if entities:
                content["entities"] = entities
        with self._cond:
            message = self._new_message(chat_id, user, **content)
            if reply_to is not None:
                message["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        return dict(message)

    def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """The same message with new text, as an edited_message carries it."""
        with self._cond:
            stored = self.messages[(message["chat"]["id"], message["message_id"])]
            stored.update(text=text, edit_date=int(time.time()))
            return dict(stored)

    def callback(self, user: dict[str, Any], message: dict[str, Any], data: str) -> dict[str, Any]:
        """A CallbackQuery: `user` pressed a button with `data` under the bot's `message`."""
        return {
            "id": str(next(self._callback_ids)),
            "from": user,
            "message": message,
            "chat_instance": f"ci-{message['chat']['id']}",
            "data": data,
        }

    def fail_next(
        self,
        method: str,
        description: str,
        *,
        code: int = 400,
        where: Callable[[dict[str, Any]], bool] = lambda params: True,
    ) -> None:
        """Make the next matching call of `method` fail as Telegram would."""
        with self._cond:
            self._failures.append((method, where, code, description))

    # -- the test's side: what the bot did ------------------------------------------------------------

    def calls(
        self, method: str | None = None, *, chat_id: int | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        with self._cond:
            found = self.requests[since:]
        return [
            r
            for r in found
            if (method is None or r["method"].lower() == method.lower())
            and (chat_id is None or r["params"].get("chat_id") == chat_id)
        ]

    def mark(self) -> int:
        """A position in the request log, for `since=`."""
        with self._cond:
            return len(self.requests)

    def _matching(
        self,
        method: str,
        chat_id: int | None,
        since: int,
        where: Callable[[dict[str, Any]], bool] | None,
    ) -> list[dict[str, Any]]:
        return [r for r in self.calls(method, chat_id=chat_id, since=since) if where is None or where(r)]

    async def wait_for(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        since: int = 0,
        where: Callable[[dict[str, Any]], bool] | None = None,
        count: int = 1,
        timeout: float = 20.0,
    ) -> list[dict[str, Any]]:
        """Wait (without blocking the event loop) until the bot made `count` matching calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, chat_id, since, where)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(self._timeout_message(method, chat_id, since, count, found))
            await asyncio.sleep(0.02)

    def wait_for_sync(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        since: int = 0,
        where: Callable[[dict[str, Any]], bool] | None = None,
        count: int = 1,
        timeout: float = 20.0,
    ) -> list[dict[str, Any]]:
        """`wait_for` for a test thread that runs no event loop."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    r
                    for r in self.requests[since:]
                    if r["method"].lower() == method.lower()
                    and (chat_id is None or r["params"].get("chat_id") == chat_id)
                    and (where is None or where(r))
                ]
                left = deadline - time.monotonic()
                if len(found) >= count:
                    return found
                if left <= 0:
                    raise AssertionError(self._timeout_message(method, chat_id, since, count, found))
                self._cond.wait(min(left, 0.1))

    def _timeout_message(
        self, method: str, chat_id: int | None, since: int, count: int, found: list[dict[str, Any]]
    ) -> str:
        seen = [(r["method"], r["params"].get("chat_id"), r.get("error")) for r in self.requests[since:]]
        return f"waited for {count} × {method} to {chat_id}, found {len(found)}; calls since: {seen}"


def chat(chat_id: int, title: str | None = None) -> dict[str, Any]:
    """A Chat object: positive ids are private chats, negative ids supergroups."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": title or f"group{chat_id}"}


def user(user_id: int, first_name: str = "Applicant", username: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": "zh-hans",
    }
    if username:
        data["username"] = username
    return data


def sent_html(request: dict[str, Any]) -> str:
    """The text parameter of a sendMessage request, as the bot sent it."""
    return str(request["params"].get("text", ""))


def visible(request: dict[str, Any]) -> str:
    """What the reader sees of a sendMessage request."""
    return html.unescape(re.sub(r"<[^<>]*>", "", sent_html(request)))


def buttons(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline buttons of a request, row after row."""
    markup = request["params"].get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _decode(raw: bytes, content_type: str, path: str) -> dict[str, Any]:
    """Parameters from a JSON body, a form body or the query string; PTB JSON-encodes non-strings."""
    if "application/json" in content_type:
        data = json.loads(raw or b"{}")
        return dict(data) if isinstance(data, dict) else {}
    pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    if "?" in path:
        pairs += parse_qsl(path.split("?", 1)[1], keep_blank_values=True)
    params: dict[str, Any] = {}
    for key, value in pairs:
        if key in STRING_PARAMS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


@contextmanager
def fake_telegram(token: str = TOKEN) -> Iterator[FakeTelegram]:
    fake = FakeTelegram(token)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


# -- harness: the real Application against this fake, for channel tests ----------------------------

STAFF = -1001000000001
ALICE = user(1001, "Alice", "alice")
WANG = user(2001, "王老师", "teacher_wang")  # on the staff list
EVE = user(2002, "Eve", "eve")  # in the staff group, but not on the staff list


def make_config(tg: FakeTelegram, tmp_path: Path, **overrides: Any) -> TelegramConfig:
    """The bot's configuration as `applybot telegram` reads it, pointed at the fake; `overrides`
    replace fields of the result (e.g. `staff_chat_id=None`)."""
    settings = Settings(
        data_dir=tmp_path,
        telegram_token=TOKEN,
        telegram_staff_chat_id=str(STAFF),
        telegram_api_url=tg.api_url,
        telegram_rate_limit_per_minute=1000,
        telegram_staff_user_ids=str(WANG["id"]),
        handoff_poll_seconds=0.2,
    )
    return replace(TelegramConfig.from_settings(settings), **overrides)


def conversation_over(assistant: Any, store: Any) -> ConversationService:
    """The conversation service a channel gets, over `store` (it journals and keeps the threads)."""
    return ConversationService(assistant, store)


@asynccontextmanager
async def polling(
    tg: FakeTelegram, assistant: Any, store: Any, tmp_path: Path, **overrides: Any
) -> AsyncIterator[Any]:
    """The real Application, long-polling the fake server in this event loop."""
    config = make_config(tg, tmp_path, **overrides)
    application = build_application(config, conversation_over(assistant, store))
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)  # run_polling calls it: it publishes the command menu
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    try:
        yield application
    finally:
        stopping = asyncio.ensure_future(application.updater.stop())
        while not stopping.done():
            tg.release_polls()
            await asyncio.sleep(0.01)
        await stopping
        await application.stop()
        await application.shutdown()


def say(
    tg: FakeTelegram, sender: dict[str, Any], text: str, chat_id: int | None = None, **kw: Any
) -> tuple[dict[str, Any], int]:
    """The user sends a text; returns the message and the request-log mark before it."""
    since = tg.mark()
    message = tg.message(chat_id if chat_id is not None else sender["id"], sender, text, **kw)
    tg.push({"message": message})
    return message, since


def press(tg: FakeTelegram, sender: dict[str, Any], message: dict[str, Any], data: str) -> int:
    since = tg.mark()
    tg.push({"callback_query": tg.callback(sender, message, data)})
    return since


async def reply(tg: FakeTelegram, chat_id: int, since: int, **kw: Any) -> dict[str, Any]:
    """The first message the bot sent to chat_id after `since`."""
    return (await tg.wait_for("sendMessage", chat_id=chat_id, since=since, **kw))[0]
