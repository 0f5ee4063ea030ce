"""Handing an applicant over to a person through Telegram: /human and an escalated answer open a
thread in the store, staff answer and close it from the staff group (only those on the staff list),
replies typed on the staff page reach the applicant, a web handoff is announced in the group, and
without a staff group the thread waits for the staff page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from handlers.telegram import bot_of
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_harness import (
    ALICE,
    BOB,
    DEADLINE_Q,
    EVE,
    STAFF,
    WANG,
    assert_valid_html,
    button_data,
    conversation_over,
    polling,
    press,
    reply,
    run,
    say,
)
from tests.support.telegram_wire import buttons, visible

UNANSWERABLE_Q = "火星移民补贴多少钱"


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
