"""How the bot writes an answer in Telegram's HTML: markup in a question is escaped, so is every
piece of an answer, and a long answer is split on line breaks, never inside a tag or an entity."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from handlers.telegram import format_answer, split_html
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_harness import (
    ALICE,
    DEADLINE_Q,
    STAFF,
    assert_valid_html,
    polling,
    reply,
    run,
    say,
)
from tests.support.telegram_wire import buttons, parse_html, sent_html, visible


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
