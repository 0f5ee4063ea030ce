"""The channel harness: the real python-telegram-bot Application, long-polling the fake Bot API
server (tests/support/fake_telegram.py) over a real conversation service, and the people who talk to
it — an applicant, a listed staff member and one who is not, the staff group — with what they do:
say, press, and wait for the bot's reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.conversation import ConversationService
from common.settings import Settings
from handlers.telegram import ALLOWED_UPDATES, TelegramConfig, build_application
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.telegram_wire import buttons, parse_html, sent_html, user

STAFF = -1001000000001
ALICE = user(1001, "Alice", "alice")
WANG = user(2001, "王老师", "teacher_wang")  # on the staff list
EVE = user(2002, "Eve", "eve")  # in the staff group, but not on the staff list
BOB = user(1002, "Bob")  # another applicant
GROUP = -1001000000777  # a group the bot was added to
DEADLINE_Q = "社区学习中心啥时候截止"


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


def run(coro: Coroutine[Any, Any, Any], timeout: float = 120.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def button_data(request: dict[str, Any], label: str) -> str:
    return next(b["callback_data"] for b in buttons(request) if b["text"] == label)


def assert_valid_html(requests: list[dict[str, Any]]) -> None:
    for request in requests:
        if request["method"] == "sendMessage":
            parse_html(sent_html(request))  # raises like Telegram on bad HTML
            assert request["params"]["parse_mode"] == "HTML"
            assert "error" not in request, request.get("error")
