"""Who the bot answers, and what it refuses: the per-user rate limit, groups (only when addressed),
media (a text-only reply), edited messages (answered again), a too long question, and errors
(logged, the applicant told, staff told once)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from handlers.telegram import UserRateLimiter
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_harness import ALICE, BOB, DEADLINE_Q, GROUP, STAFF, polling, reply, run, say
from tests.support.telegram_methods import BOT_USERNAME
from tests.support.telegram_wire import visible


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
