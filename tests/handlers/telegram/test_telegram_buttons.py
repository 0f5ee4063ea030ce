"""The buttons under the bot's messages: 原文 n shows the quoted passage, 👍/👎 are journaled once,
a forgotten answer's button says so, and a question that fits two notices offers one button each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.contract import NoticeOption
from bot.store import Store
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_harness import (
    ALICE,
    DEADLINE_Q,
    assert_valid_html,
    button_data,
    polling,
    press,
    reply,
    run,
    say,
)
from tests.support.telegram_wire import buttons, sent_html, visible


@pytest.mark.integration
def test_citation_and_feedback_buttons(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            _, since = say(tg, ALICE, DEADLINE_Q)
            answer = await reply(tg, ALICE["id"], since)
            logged = journal.messages()[-1]
            citations = logged["citations"]
            assert len(citations) >= 2
            labels = [b["text"] for b in buttons(answer)]
            cites = [f"原文 {i}" for i in range(1, len(citations) + 1)]
            assert labels == [*cites, "⏰ 截止前提醒我", "👍", "👎"]  # a deadline: reminders are offered
            assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(answer))

            # 原文 2 → the quoted passage with its document and section
            since = press(tg, ALICE, answer["result"], button_data(answer, "原文 2"))
            await tg.wait_for("answerCallbackQuery", since=since)
            passage = await reply(tg, ALICE["id"], since)
            shown = visible(passage)
            assert citations[1]["quote"] in shown
            assert citations[1]["title"] in shown and citations[1]["section"] in shown
            assert "<blockquote>" in sent_html(passage)
            assert passage["params"]["reply_parameters"]["message_id"] == answer["result"]["message_id"]

            # 👎 → journal; the rating buttons go, the citation buttons stay
            since = press(tg, ALICE, answer["result"], button_data(answer, "👎"))
            edit = (await tg.wait_for("editMessageReplyMarkup", since=since))[0]
            assert [b["text"] for b in buttons(edit)] == cites
            thanks = (await tg.wait_for("answerCallbackQuery", since=since))[0]
            assert "谢谢" in thanks["params"]["text"]
            assert [(f["session_id"], f["message_id"], f["rating"]) for f in journal.feedbacks()] == [
                (f"tg-{ALICE['id']}", logged["message_id"], "down")
            ]

            # a second press does not count twice
            since = press(tg, ALICE, answer["result"], button_data(answer, "👍"))
            again = (await tg.wait_for("answerCallbackQuery", since=since))[0]
            assert "已收到" in again["params"]["text"]
            assert len(journal.feedbacks()) == 1

            # a button of a forgotten answer
            since = press(tg, ALICE, answer["result"], "c:0123456789abcdef:0")
            expired = (await tg.wait_for("answerCallbackQuery", since=since))[0]
            assert expired["params"]["show_alert"] is True
            assert_valid_html(tg.calls())

    run(scenario())


class AskingBack:
    """The real assistant, except that the first question fits two notices and is asked back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def ask(self, question: str, **kw: Any) -> Any:
        self.asked.append(question)
        answer = self.inner.ask(DEADLINE_Q if len(self.asked) > 1 else question, **kw)
        if len(self.asked) == 1:
            answer.answer, answer.citations, answer.intent = "您问的是哪一个通知？", [], "clarify"
            answer.clarify = [
                NoticeOption("a", "关于<b>奖学金</b>评选的通知"),
                NoticeOption("b", "关于学生助理招募的通知"),
            ]
        return answer


def test_choosing_a_notice_with_buttons(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    asking = AskingBack(assistant)

    async def scenario() -> None:
        async with polling(tg, asking, journal, tmp_path):
            _, since = say(tg, ALICE, "什么时候截止？")
            answer = await reply(tg, ALICE["id"], since)
            labels = [b["text"] for b in buttons(answer)]
            assert labels[:2] == [
                "关于<b>奖学金</b>评选的通知",
                "关于学生助理招募的通知",
            ]  # button text is plain
            assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(answer))
            since = press(tg, ALICE, answer["result"], button_data(answer, "关于学生助理招募的通知"))
            await tg.wait_for("answerCallbackQuery", since=since)
            chosen = await reply(tg, ALICE["id"], since, where=lambda r: "2023" in sent_html(r))
            assert asking.asked == ["什么时候截止？", "关于学生助理招募的通知"]  # the title is the next turn
            assert "2023年10月25日" in visible(chosen)
            assert_valid_html(tg.calls())

    run(scenario())
