"""The bot's commands at the wire (the real Application against the fake Bot API, over a real
assistant and the shipped notice): the command menu, /start and its example questions, /help,
/deadlines with the days left, /contacts and an unknown command."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from handlers.telegram import bot_of, build_application
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_harness import (
    ALICE,
    assert_valid_html,
    conversation_over,
    make_config,
    polling,
    press,
    reply,
    run,
    say,
)
from tests.support.telegram_methods import BOT_USERNAME
from tests.support.telegram_wire import buttons, visible


@pytest.mark.integration
def test_commands(tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path) -> None:
    tasks = list(assistant.view.records_by_task)

    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            assert [c["command"] for c in tg.commands] == [
                "start",
                "help",
                "deadlines",
                "contacts",
                "human",
                "remind",
                "reminders",
            ]
            assert tg.calls("deleteWebhook")  # polling clears any webhook first

            start_msg, since = say(tg, ALICE, "/start")
            start = await reply(tg, ALICE["id"], since)
            assert "截止时间" in visible(start) and "原文出处" in visible(start)
            labels = [b["text"] for b in buttons(start)]
            assert 2 <= len(labels) <= 3
            assert labels[0] == f"{tasks[0]}什么时候截止？"  # from the knowledge base, not hard-coded
            assert all(any(task in label for task in tasks) for label in labels)
            assert start["params"]["reply_parameters"]["message_id"] == start_msg["message_id"]

            # pressing an example asks it
            since = press(
                tg,
                ALICE,
                start["result"],
                start["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
            )
            await tg.wait_for("answerCallbackQuery", since=since)
            answer = await reply(tg, ALICE["id"], since)
            assert labels[0] in visible(answer)
            assert f"「{tasks[0]}」申报截止：" in visible(answer)

            _, since = say(tg, ALICE, "/help")
            help_text = visible(await reply(tg, ALICE["id"], since))
            for command in ("/deadlines", "/contacts", "/human"):
                assert command in help_text
            assert f"@{BOT_USERNAME}" in help_text

            _, since = say(tg, ALICE, "/deadlines")
            deadlines = visible(await reply(tg, ALICE["id"], since))
            for record in assistant.view.all_records():
                assert record.task in deadlines
            assert deadlines.count("已截止") == len(assistant.view.all_records())  # today is 2026-11-28
            assert "2023年10月25日" in deadlines

            _, since = say(tg, ALICE, "/contacts")
            contacts = visible(await reply(tg, ALICE["id"], since))
            general = assistant.view.general_contacts()
            assert general and all(c.name in contacts for c in general)
            for record in assistant.view.all_records():
                assert all(c.name in contacts for c in record.contacts if c.name)

            _, since = say(tg, ALICE, "/nosuchcommand")
            assert "/help" in visible(await reply(tg, ALICE["id"], since))

            assert_valid_html(tg.calls())

    run(scenario())


@pytest.mark.integration
def test_deadlines_count_days_left(tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path) -> None:
    application = build_application(make_config(tg, tmp_path), conversation_over(assistant, journal))
    text = visible({"params": {"text": bot_of(application).deadlines_html(today=date(2023, 10, 1))}})
    assert "2023年10月8日（还剩 7 天）" in text
    assert "2023年10月25日（还剩 24 天）" in text
