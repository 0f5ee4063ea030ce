"""The Bot API methods the fake server answers (getMe, sendMessage, the webhook and the command
menu, …), over the state Telegram keeps: the bot, the messages of every chat, the webhook and the
commands. Like Telegram they reject HTML they cannot parse, texts over 4,096 characters and callback
data over 64 bytes. FakeTelegram (tests/support/fake_telegram.py) serves them over HTTP."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.support.telegram_wire import MAX_TEXT, BotApiError, chat, parse_html, utf16_len

BOT_ID = 123456789
BOT_USERNAME = "applybot_test_bot"


class BotApiMethods:
    """`_m_<method>` answers the Bot API method of that name (lower case); the server calls them
    under its lock, with the request's parameters."""

    def __init__(self) -> None:
        self.bot = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "ApplyBot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.webhook: dict[str, Any] = {"url": ""}
        self.commands: list[dict[str, Any]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._message_ids = itertools.count(1)

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
