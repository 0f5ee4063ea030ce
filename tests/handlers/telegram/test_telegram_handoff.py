"""The Telegram bot at the wire: the real python-telegram-bot Application against a fake Bot API
server (tests/support/fake_telegram.py), over a real assistant and the shipped notice, in polling and in
webhook mode. No test talks to Telegram."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from bot.contract import NoticeOption
from bot.store import Store
from common.errors import ConfigurationError
from common.settings import Settings
from handlers.telegram import (
    SECRET_HEADER,
    WEBHOOK_PATH,
    TelegramConfig,
    UserRateLimiter,
    bot_of,
    build_application,
    format_answer,
    handle_webhook_update,
    parse_chat_id,
    parse_user_ids,
    split_html,
    webhook_application,
)
from tests.support.fake_telegram import (
    ALICE,
    BOT_ID,
    BOT_USERNAME,
    EVE,
    STAFF,
    WANG,
    FakeTelegram,
    buttons,
    conversation_over,
    fake_telegram,
    make_config,
    parse_html,
    polling,
    press,
    reply,
    say,
    sent_html,
    user,
    visible,
)

GROUP = -1001000000777
BOB = user(1002, "Bob")
DEADLINE_Q = "社区学习中心啥时候截止"
UNANSWERABLE_Q = "火星移民补贴多少钱"
SECRET = "s3cret_token-for-tests"


# -- harness ----------------------------------------------------------------------------------------------


@pytest.fixture()
def tg() -> Any:
    with fake_telegram() as fake:
        yield fake


@pytest.fixture()
def journal(tmp_path: Path) -> Iterator[Store]:
    """The SQL store (SQLite here) the bot journals to and keeps handoff threads in."""
    store = Store(f"sqlite:///{tmp_path / 'db' / 'applybot.sqlite3'}", data_dir=tmp_path / "data")
    store.migrate()
    yield store
    store.close()


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


# -- commands -----------------------------------------------------------------------------------------------


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


# -- answers: escaping, citations, feedback, splitting ---------------------------------------------------


@pytest.mark.integration
def test_markup_in_questions_is_escaped(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    nasty = "<b>社区学习中心</b> & <script>alert(1)</script> 啥时候截止"
    nasty_unanswerable = "<b>火星</b> & <script>alert(1)</script> 移民补贴多少钱"

    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            _, since = say(tg, ALICE, nasty)
            answer = await reply(tg, ALICE["id"], since)
            assert "推进县域社区学习中心建设" in visible(answer)

            _, since = say(tg, ALICE, nasty_unanswerable)
            staff = await reply(tg, STAFF, since)
            assert "&lt;b&gt;火星&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in sent_html(staff)
            assert nasty_unanswerable in visible(staff)

            everything = tg.calls("sendMessage")
            assert_valid_html(everything)
            assert not any("<script>" in sent_html(r) for r in everything)
            assert not any(r.get("error") for r in tg.calls())

    run(scenario())
    # the journal keeps the question as asked
    assert journal.messages()[0]["question"] == nasty
    assert journal.messages()[0]["channel"] == "telegram"


@pytest.mark.unit
def test_format_answer_escapes_every_piece() -> None:
    data = {
        "answer": "见 <a href=x>链接</a> & 附件<1>",
        "message_id": "m1",
        "citations": [{"title": "T<i>", "section": "S & 1", "quote": "q", "doc_id": "d", "kind": "chunk"}],
    }
    markup = format_answer(data)
    assert "&lt;a href=x&gt;链接&lt;/a&gt; &amp; 附件&lt;1&gt;" in markup
    assert "T&lt;i&gt; › S &amp; 1" in markup
    assert parse_html(markup).startswith("见 <a href=x>链接</a> & 附件<1>")


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


class LongAnswers:
    """The real assistant, with the answer text replaced by a long one (as a long notice excerpt would be)."""

    def __init__(self, inner: Any, text: str) -> None:
        self.inner, self.text = inner, text

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def ask(self, question: str, **kw: Any) -> Any:
        answer = self.inner.ask(question, **kw)
        answer.answer = self.text
        return answer


@pytest.mark.integration
def test_long_answer_is_split_cleanly(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    notice = next(iter(assistant.view.documents.values())).text
    extra = "\n".join(
        f"第{i}行：A&B <b>不是标签</b> & “引号” " + "&" * (i % 7) + "字" * (i % 90) for i in range(200)
    )
    long_text = f"{notice}\n{extra}\n{notice}"
    assert len(long_text) > 3 * 4096
    long_assistant = LongAnswers(assistant, long_text)

    async def scenario() -> None:
        async with polling(tg, long_assistant, journal, tmp_path):
            question, since = say(tg, ALICE, DEADLINE_Q)
            await tg.wait_for(
                "sendMessage", chat_id=ALICE["id"], since=since, where=lambda r: bool(buttons(r))
            )
            parts = tg.calls("sendMessage", chat_id=ALICE["id"], since=since)
            assert len(parts) >= 4
            assert all(len(sent_html(p)) <= 4096 for p in parts)
            assert_valid_html(parts)
            whole = format_answer(journal.messages()[-1] | {"answer": long_text})
            assert "".join(visible(p) for p in parts) == visible({"params": {"text": whole}})
            # cut on line breaks, never inside an entity
            assert all(visible(p).endswith("\n") for p in parts[:-1])
            assert not any(re.search(r"&[#\w]*$", sent_html(p)) for p in parts)
            # replies to the question once; buttons on the last part only
            assert parts[0]["params"]["reply_parameters"]["message_id"] == question["message_id"]
            assert all("reply_parameters" not in p["params"] for p in parts[1:])
            assert [bool(buttons(p)) for p in parts] == [False] * (len(parts) - 1) + [True]

    run(scenario())


@pytest.mark.unit
def test_split_html_never_cuts_a_tag_or_an_entity() -> None:
    line = "&amp;&lt;字" * 700  # one 7,700-character line without a break
    for text in (line, f"<b>{line}</b>", "<i>" + "\n".join([line[:3000]] * 4) + "</i>", "短\n" * 3000):
        parts = split_html(text, limit=4096)
        assert len(parts) >= 2
        assert all(len(p) <= 4096 for p in parts)
        for p in parts:
            parse_html(p)  # balanced tags, whole entities
        assert "".join(html.unescape(re.sub(r"<[^>]*>", "", p)) for p in parts) == html.unescape(
            re.sub(r"<[^>]*>", "", text)
        )
    assert split_html("ok") == ["ok"]
    assert split_html("  \n ") == []
    # a cut inside <b> closes it and opens it again
    first, second = split_html("<b>" + "一二三四五六七八九十\n" * 3 + "</b>", limit=30)[:2]
    assert first.endswith("</b>") and second.startswith("<b>")


# -- handoff ------------------------------------------------------------------------------------------------


def thread_of(store: Store, session_id: str) -> dict[str, Any]:
    """The newest handoff thread of a session as /staff shows it (with its messages)."""
    return [t for t in store.handoff_threads(status=None) if t["session_id"] == session_id][-1]


@pytest.mark.integration
def test_handoff_round_trip(tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            _, since = say(tg, ALICE, DEADLINE_Q)
            await reply(tg, ALICE["id"], since)

            # the applicant asks for a person: staff get the question and the last turns
            _, since = say(tg, ALICE, "/human")
            staff_msg = await reply(tg, STAFF, since)
            shown = visible(staff_msg)
            assert f"chat id {ALICE['id']}" in shown and "Alice @alice" in shown
            assert DEADLINE_Q in shown and "推进县域社区学习中心建设" in shown  # the recent conversation
            assert [b["text"] for b in buttons(staff_msg)] == ["结束人工"]
            told = await reply(tg, ALICE["id"], since)
            assert "已转人工" in visible(told)
            thread = thread_of(journal, f"tg-{ALICE['id']}")
            assert thread["channel"] == "telegram" and thread["status"] == "open"

            # a staff member replies to the forwarded message: the applicant gets it
            since = tg.mark()
            staff_reply = tg.message(
                STAFF, WANG, "您好，<材料> & 盖章要求见附件2。", reply_to=staff_msg["result"]
            )
            tg.push({"message": staff_reply})
            delivered = await reply(tg, ALICE["id"], since)
            assert "工作人员回复" in visible(delivered)
            assert "您好，<材料> & 盖章要求见附件2。" in visible(delivered)

            # the applicant's next message goes to staff, not to the assistant
            answers_before = len(journal.messages())
            _, since = say(tg, ALICE, "好的，那要几份纸质版？")
            relayed = await reply(tg, STAFF, since)
            assert "好的，那要几份纸质版？" in visible(relayed)
            assert relayed["params"]["reply_parameters"]["message_id"] == staff_msg["result"]["message_id"]
            await asyncio.sleep(0.5)
            assert not tg.calls("sendMessage", chat_id=ALICE["id"], since=since)
            assert len(journal.messages()) == answers_before

            # staff may also answer the relayed message
            since = tg.mark()
            tg.push({"message": tg.message(STAFF, WANG, "两份。", reply_to=relayed["result"])})
            assert "两份。" in visible(await reply(tg, ALICE["id"], since))

            # a photo from the applicant is forwarded as it is
            since = tg.mark()
            tg.push(
                {
                    "message": tg.message(
                        ALICE["id"],
                        ALICE,
                        photo=[{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}],
                    )
                }
            )
            forward = (await tg.wait_for("forwardMessage", since=since))[0]
            assert forward["params"]["chat_id"] == STAFF and forward["params"]["from_chat_id"] == ALICE["id"]

            # staff close the thread; the applicant is told, and the bot answers again
            since = press(tg, WANG, staff_msg["result"], button_data(staff_msg, "结束人工"))
            closed = await reply(tg, ALICE["id"], since)
            assert "人工对话已结束" in visible(closed)
            assert (await tg.wait_for("editMessageReplyMarkup", since=since))[0]["params"]["chat_id"] == STAFF

            _, since = say(tg, ALICE, "学习型城市建设什么时候截止")
            again = await reply(tg, ALICE["id"], since)
            assert "加强新时代学习型城市建设" in visible(again)
            await asyncio.sleep(0.5)
            assert not tg.calls("sendMessage", chat_id=STAFF, since=since)

            # a late staff reply to the closed thread is not delivered
            since = tg.mark()
            tg.push({"message": tg.message(STAFF, WANG, "还有问题吗？", reply_to=staff_msg["result"])})
            late = await reply(tg, STAFF, since)
            assert "已结束" in visible(late)
            assert not tg.calls("sendMessage", chat_id=ALICE["id"], since=since)
            assert_valid_html(tg.calls())

    run(scenario())
    # the whole thread is in the database, as /staff shows it
    thread = thread_of(journal, f"tg-{ALICE['id']}")
    assert thread["status"] == "closed" and thread["claimed_by"] == "王老师 @teacher_wang"
    said = [(m["role"], m["text"]) for m in thread["replies"]]
    assert said[:3] == [
        ("staff", "您好，<材料> & 盖章要求见附件2。"),
        ("applicant", "好的，那要几份纸质版？"),
        ("staff", "两份。"),
    ]
    assert said[-1][0] == "system"
    assert ("王老师 @teacher_wang", "handoff_reply") in [
        (e["actor"], e["action"]) for e in journal.audit_entries()
    ]


@pytest.mark.integration
def test_only_listed_staff_answer_or_close_from_the_staff_group(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            _, since = say(tg, ALICE, "/human 我想问补报的事")
            staff_msg = await reply(tg, STAFF, since)

            since = tg.mark()
            tg.push({"message": tg.message(STAFF, EVE, "我来回答：不用交了", reply_to=staff_msg["result"])})
            refused = await reply(tg, STAFF, since)
            assert "只有工作人员名单中的成员" in visible(refused)
            since = press(tg, EVE, staff_msg["result"], button_data(staff_msg, "结束人工"))
            answer = (await tg.wait_for("answerCallbackQuery", since=since))[0]
            assert "只有工作人员" in answer["params"]["text"]
            await asyncio.sleep(0.5)
            assert not tg.calls("sendMessage", chat_id=ALICE["id"], since=since)

    run(scenario())
    thread = thread_of(journal, f"tg-{ALICE['id']}")
    assert thread["status"] == "open" and thread["replies"] == []


@pytest.mark.integration
def test_replies_typed_on_the_staff_page_reach_the_telegram_applicant(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path) as application:
            service = bot_of(application).conversation
            _, since = say(tg, ALICE, "/human 能否延期提交？")
            await reply(tg, STAFF, since)
            await reply(tg, ALICE["id"], since)  # 已转人工
            thread = thread_of(journal, f"tg-{ALICE['id']}")

            # what the staff page does (another worker may do it: only the database is shared)
            since = tg.mark()
            other = conversation_over(assistant, journal)
            await asyncio.to_thread(
                other.staff_reply, thread["handoff_id"], "可以，周五前。", staff="alice", via="staff page"
            )
            delivered = await reply(tg, ALICE["id"], since)
            assert "工作人员回复" in visible(delivered) and "可以，周五前。" in visible(delivered)

            since = tg.mark()
            await asyncio.to_thread(
                other.close, thread["handoff_id"], by="alice", role="staff", via="staff page"
            )
            assert "人工对话已结束" in visible(await reply(tg, ALICE["id"], since))
            await asyncio.sleep(1.0)  # the relay job runs every 0.2 s: each message went out once
            sent = [visible(r) for r in tg.calls("sendMessage", chat_id=ALICE["id"])]
            assert sum("可以，周五前。" in t for t in sent) == 1
            assert sum("人工对话已结束" in t for t in sent) == 1
            assert service.live_thread(f"tg-{ALICE['id']}") is None

    run(scenario())


@pytest.mark.integration
def test_a_web_handoff_is_announced_and_answered_from_the_staff_group(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            web = conversation_over(assistant, journal)  # the web widget's side, on another worker
            since = tg.mark()
            started = await asyncio.to_thread(
                web.handoff, session_id="web-abc", channel="web", note="网页上的问题"
            )
            announced = await reply(tg, STAFF, since)
            assert "网页用户" in visible(announced) and "网页上的问题" in visible(announced)

            since = tg.mark()
            await asyncio.to_thread(
                web.applicant_message, started.thread["handoff_id"], "补充一句", author="申请人"
            )
            relayed = await reply(tg, STAFF, since)
            assert "补充一句" in visible(relayed)

            tg.push({"message": tg.message(STAFF, WANG, "收到，稍后答复。", reply_to=relayed["result"])})
            for _ in range(100):
                messages = web.thread(started.thread["handoff_id"])["replies"]
                if any(m["role"] == "staff" for m in messages):
                    break
                await asyncio.sleep(0.05)
            assert [(m["role"], m["text"]) for m in messages] == [
                ("applicant", "补充一句"),
                ("staff", "收到，稍后答复。"),
            ]

    run(scenario())


@pytest.mark.integration
def test_escalated_answer_opens_a_handoff_that_the_applicant_can_close(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            _, since = say(tg, ALICE, UNANSWERABLE_Q)
            answer, told = await tg.wait_for("sendMessage", chat_id=ALICE["id"], since=since, count=2)
            assert "通知中没有找到" in visible(answer) and "李娟" in visible(answer)
            assert "已转人工" in visible(told)
            staff = await reply(tg, STAFF, since)
            assert "机器人未能回答" in visible(staff) and UNANSWERABLE_Q in visible(staff)
            assert thread_of(journal, f"tg-{ALICE['id']}")["note"] == UNANSWERABLE_Q

            # another chat cannot close someone else's thread
            handoff_data = button_data(told, "结束人工")
            since = press(tg, BOB, tg.message(BOB["id"], BOB, "x"), handoff_data)
            await tg.wait_for("answerCallbackQuery", since=since)
            assert not tg.calls("sendMessage", since=since)

            since = press(tg, ALICE, told["result"], handoff_data)
            assert "人工对话已结束" in visible(await reply(tg, ALICE["id"], since))
            assert "已结束" in visible(await reply(tg, STAFF, since))

    run(scenario())


@pytest.mark.integration
def test_human_without_a_staff_chat_records_the_thread_for_the_staff_page(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path, staff_chat_id=None):
            _, since = say(tg, ALICE, "/human 我想问补报的事")
            told = visible(await reply(tg, ALICE["id"], since))
            assert "工作人员会在这里回复您" in told and "您也可以直接联系" in told and "李娟" in told
            assert thread_of(journal, f"tg-{ALICE['id']}")["note"] == "我想问补报的事"
            _, since = say(tg, ALICE, "还有一件事")  # routed to the thread, shown on /staff
            await asyncio.sleep(0.5)
            assert not tg.calls("sendMessage", chat_id=ALICE["id"], since=since)

    run(scenario())
    assert [m["text"] for m in thread_of(journal, f"tg-{ALICE['id']}")["replies"]] == ["还有一件事"]


# -- webhook -------------------------------------------------------------------------------------------------


def webhook_app(config: TelegramConfig, assistant: Any, journal: Store) -> FastAPI:
    """The route the API mounts, as a tiny app: one process serves the API and the bot."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with webhook_application(config, conversation_over(assistant, journal)) as application:
            app.state.telegram = application
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post(WEBHOOK_PATH)
    async def telegram_webhook(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return Response(status_code=400)
        status = await handle_webhook_update(
            request.app.state.telegram, body, request.headers.get(SECRET_HEADER), config.webhook_secret
        )
        return Response(status_code=status)

    return app


@pytest.mark.integration
def test_webhook_mode(tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path) -> None:
    config = make_config(
        tg, tmp_path, webhook_url="https://bot.example.org/telegram/webhook", webhook_secret=SECRET
    )
    with TestClient(webhook_app(config, assistant, journal)) as client:
        hook = tg.calls("setWebhook")[0]["params"]
        assert hook["url"] == "https://bot.example.org/telegram/webhook"
        assert hook["secret_token"] == SECRET
        assert set(hook["allowed_updates"]) == {"message", "edited_message", "callback_query"}
        assert tg.commands  # the command menu is published in webhook mode too

        body = tg.update(message=tg.message(ALICE["id"], ALICE, DEADLINE_Q))
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
            assert client.post(WEBHOOK_PATH, json=body, headers=headers).status_code == 403
        assert (
            client.post(WEBHOOK_PATH, json={"no": "update"}, headers={SECRET_HEADER: SECRET}).status_code
            == 400
        )
        assert not tg.calls("sendMessage")

        since = tg.mark()
        assert client.post(WEBHOOK_PATH, json=body, headers={SECRET_HEADER: SECRET}).status_code == 200
        answer = tg.wait_for_sync("sendMessage", chat_id=ALICE["id"], since=since)[0]
        assert "推进县域社区学习中心建设" in visible(answer)

        # a button press through the webhook too
        since = tg.mark()
        press_body = tg.update(callback_query=tg.callback(ALICE, answer["result"], button_data(answer, "👍")))
        assert client.post(WEBHOOK_PATH, json=press_body, headers={SECRET_HEADER: SECRET}).status_code == 200
        tg.wait_for_sync("answerCallbackQuery", since=since)
        assert journal.feedbacks()[-1]["rating"] == "up"
    assert not tg.calls("getUpdates")


@pytest.mark.integration
def test_webhook_refuses_without_a_secret_and_when_stopped(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    application = build_application(make_config(tg, tmp_path), conversation_over(assistant, journal))
    body = tg.update(message=tg.message(ALICE["id"], ALICE, "hi"))
    assert run(handle_webhook_update(application, body, None, "")) == 403  # no secret configured
    assert run(handle_webhook_update(application, body, "", "")) == 403
    assert run(handle_webhook_update(application, body, SECRET, SECRET)) == 503  # not started
    assert run(handle_webhook_update(application, [1], SECRET, SECRET)) == 400


# -- limits, groups, media, edits, errors --------------------------------------------------------------------


@pytest.mark.integration
def test_rate_limit(tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path, rate_limit_per_minute=3):
            start = tg.mark()
            for text in ("/help", "/deadlines", "/contacts", "/help", "/help"):
                say(tg, ALICE, text)
            _, since = say(tg, BOB, "/help")  # another user is not limited
            await reply(tg, BOB["id"], since)
            to_alice = [visible(r) for r in tg.calls("sendMessage", chat_id=ALICE["id"], since=start)]
            assert len(to_alice) == 4  # three answers, then one polite note; the fifth is ignored
            assert "您发得太快了" in to_alice[3] and "秒后再问" in to_alice[3]

    run(scenario())


@pytest.mark.unit
def test_rate_limiter_window() -> None:
    limiter = UserRateLimiter(2, window_s=60)
    assert limiter.check(1, now=0) == 0 and limiter.check(1, now=1) == 0
    assert limiter.check(1, now=2) == pytest.approx(58)
    assert limiter.should_warn(1, now=2) and not limiter.should_warn(1, now=3)
    assert limiter.check(1, now=61) == 0


@pytest.mark.integration
def test_groups_answer_only_when_addressed(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            start = tg.mark()
            say(tg, ALICE, DEADLINE_Q, chat_id=GROUP)  # chatter: ignored
            say(tg, ALICE, "/help@some_other_bot", chat_id=GROUP)  # another bot's command: ignored
            tg.push(
                {
                    "message": tg.message(
                        GROUP, ALICE, photo=[{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]
                    )
                }
            )
            mention = f"@{BOT_USERNAME} {DEADLINE_Q}"
            asked, _ = say(
                tg,
                BOB,
                mention,
                chat_id=GROUP,
                entities=[{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}],
            )
            answer = await reply(tg, GROUP, start)
            sent = tg.calls("sendMessage", chat_id=GROUP, since=start)
            assert len(sent) == 1  # the first three got nothing
            assert answer["params"]["reply_parameters"]["message_id"] == asked["message_id"]
            assert "推进县域社区学习中心建设" in visible(answer)
            assert journal.messages()[-1]["question"] == DEADLINE_Q  # the mention is not part of the question
            assert journal.messages()[-1]["session_id"] == f"tg-{GROUP}"

            # a reply to the bot's message is addressed to it
            followed, since = say(tg, ALICE, "那联系人呢？", chat_id=GROUP, reply_to=answer["result"])
            follow = await reply(tg, GROUP, since)
            assert follow["params"]["reply_parameters"]["message_id"] == followed["message_id"]
            assert "联系人" in visible(follow)

            _, since = say(tg, ALICE, f"/help@{BOT_USERNAME}", chat_id=GROUP)
            assert "/deadlines" in visible(await reply(tg, GROUP, since))
            _, since = say(tg, ALICE, "/deadlines", chat_id=GROUP)
            assert "已截止" in visible(await reply(tg, GROUP, since))

    run(scenario())


@pytest.mark.integration
def test_media_gets_a_text_only_reply(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    media: list[dict[str, Any]] = [
        {"photo": [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}]},
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "su",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        },
        {"voice": {"file_id": "v", "file_unique_id": "vu", "duration": 2}},
        {"document": {"file_id": "d", "file_unique_id": "du", "file_name": "申报书.docx"}},
    ]

    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            for content in media:
                since = tg.mark()
                sent = tg.message(ALICE["id"], ALICE, **content)
                tg.push({"message": sent})
                answer = await reply(tg, ALICE["id"], since)
                assert visible(answer) == "请用文字发送您的问题。"
                assert answer["params"]["reply_parameters"]["message_id"] == sent["message_id"]
            assert journal.messages() == []

    run(scenario())


@pytest.mark.integration
def test_edited_message_is_answered_again(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            first, since = say(tg, ALICE, "学习型城市建设什么时候截止")
            assert "加强新时代学习型城市建设" in visible(await reply(tg, ALICE["id"], since))
            since = tg.mark()
            tg.push({"edited_message": tg.edit(first, DEADLINE_Q)})
            again = await reply(tg, ALICE["id"], since)
            assert "推进县域社区学习中心建设" in visible(again)
            assert again["params"]["reply_parameters"]["message_id"] == first["message_id"]
            assert [m["question"] for m in journal.messages()] == ["学习型城市建设什么时候截止", DEADLINE_Q]

    run(scenario())


@pytest.mark.integration
def test_too_long_question_is_refused_politely(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            _, since = say(tg, ALICE, "截止" * 400)
            text = visible(await reply(tg, ALICE["id"], since))
            assert "问题太长了（800 字）" in text and "500 字以内" in text

    run(scenario())


@pytest.mark.integration
def test_errors_are_logged_then_reported_once(
    tg: FakeTelegram, assistant: Any, journal: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(params: dict[str, Any]) -> bool:
        return params.get("chat_id") == ALICE["id"] and "出错" not in str(params.get("text"))

    async def scenario() -> None:
        async with polling(tg, assistant, journal, tmp_path):
            for _ in range(2):
                tg.fail_next("sendMessage", "Bad Request: something went wrong", where=failing)
                _, since = say(tg, ALICE, "/help")
                sorry = await reply(tg, ALICE["id"], since, where=lambda r: "error" not in r)
                assert "出错" in visible(sorry)
            reports = [r for r in tg.calls("sendMessage", chat_id=STAFF) if "applybot 出错" in visible(r)]
            assert len(reports) == 1  # the same error twice: reported once
            assert "BadRequest: Something went wrong" in visible(reports[0])
            # the bot keeps running
            _, since = say(tg, ALICE, DEADLINE_Q)
            assert "推进县域社区学习中心建设" in visible(await reply(tg, ALICE["id"], since))

    with caplog.at_level(logging.ERROR, logger="handlers.telegram"):
        run(scenario())
    assert sum("error while handling an update" in r.getMessage() for r in caplog.records) == 2


# -- configuration ------------------------------------------------------------------------------------------


@pytest.mark.unit
def test_config_from_settings() -> None:
    settings = Settings(
        telegram_token="t",
        telegram_staff_chat_id="-100123",
        telegram_webhook_url="https://x.example/telegram/webhook",
        telegram_webhook_secret="s",
        telegram_rate_limit_per_minute=30,
        telegram_staff_user_ids="7, 8",
    )
    config = TelegramConfig.from_settings(settings)
    assert config.staff_chat_id == -100123 and config.api_url == "https://api.telegram.org/bot"
    assert config.file_url == "https://api.telegram.org/file/bot"
    assert config.rate_limit_per_minute == 30 and config.staff_user_ids == frozenset({7, 8})
    local = replace(config, api_url="http://127.0.0.1:8081/bot")
    assert local.file_url == "http://127.0.0.1:8081/file/bot"
    with pytest.raises(ConfigurationError, match="not a user id"):
        parse_user_ids("7, @eve")
    assert parse_chat_id("") is None and parse_chat_id(" 42 ") == 42
    with pytest.raises(Exception, match="numeric chat id"):
        parse_chat_id("@staff")
    assert BOT_ID  # the fake's bot id is the one the bot learns from getMe


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
