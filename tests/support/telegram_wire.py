"""Telegram's Bot API at the wire, as the fake server (tests/support/fake_telegram.py) applies it:
the HTML parse mode checked as strictly as Telegram checks it, the errors it answers with, its Chat and
User objects, how request parameters arrive, and what a reader sees of a message the bot sent."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl

MAX_TEXT = 4096

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


def decode_params(raw: bytes, content_type: str, path: str) -> dict[str, Any]:
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
