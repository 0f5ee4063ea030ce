"""Deadline reminders and calendar files: subscriptions in the database, messages at the right local
time exactly once (several workers, restarts), a message when an amendment moves the date, valid
.ics files; and the same through Telegram (wire-level fake Bot API) and the HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from bot.deadlines import Deadline, calendar
from bot.reminders import ReminderBook
from bot.store import Store
from handlers.app import create_app
from handlers.telegram.reminders import TelegramReminders
from tests.support.factories import make_assistant, make_settings
from tests.support.fake_telegram import fake_telegram
from tests.support.paths import DATA, SEED
from tests.support.telegram_harness import ALICE, polling, press, reply, say
from tests.support.telegram_wire import buttons, visible

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int, minute: int = 0) -> datetime:
    """A local (Asia/Shanghai) time, as the job's clock gives it (UTC)."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}").replace(tzinfo=SHANGHAI).astimezone(UTC)


def deadline(key: str = "k1", day: str = "2026-12-18") -> Deadline:
    return Deadline(
        key=key,
        doc_id="d",
        notice="关于举办比赛的通知",
        what="报名截止时间",
        date=day,
        quote="报名截止时间为…",
    )


def book_of(store: Store) -> ReminderBook:
    return ReminderBook(store.sessions, timezone="Asia/Shanghai", hour=9)


def send_all(book: ReminderBook, now: datetime, deadlines: list[Deadline]) -> list[str]:
    """What one worker's check sends: claim, 'send', record."""
    out = []
    for due in book.due(now, {d.key: d for d in deadlines}):
        if book.claim(due):
            out.append(f"{due.kind}:{due.date}:{due.days_left}")
            book.sent(due)
    return out


def test_reminders_fire_once_at_nine_seven_days_and_one_day_before(backend: Callable[..., Store]) -> None:
    book = book_of(backend())
    d = deadline()
    with_time = [d]
    book.subscribe("telegram", "42", d)
    assert send_all(book, at("2026-12-11", 8, 59), with_time) == []  # 7 days before, before 09:00
    assert send_all(book, at("2026-12-11", 9, 0), with_time) == ["before:2026-12-18:7"]
    assert send_all(book, at("2026-12-11", 9, 1), with_time) == []  # once
    assert send_all(book, at("2026-12-16", 12, 0), with_time) == []
    assert send_all(book, at("2026-12-17", 9, 0), with_time) == ["before:2026-12-18:1"]
    assert send_all(book, at("2026-12-18", 9, 0), with_time) == []
    assert send_all(book, at("2026-12-19", 9, 0), with_time) == []  # passed: nothing more


def test_a_late_subscription_gets_only_the_nearest_reminder(backend: Callable[..., Store]) -> None:
    book = book_of(backend())
    d = deadline(day="2026-12-03")  # subscribed (now) less than 7 days before it
    book.subscribe("telegram", "42", d)
    assert send_all(book, at("2026-12-01", 10, 0), [d]) == []  # the 7-day one was missed: not sent late
    assert send_all(book, at("2026-12-02", 9, 30), [d]) == ["before:2026-12-03:1"]


def test_two_workers_and_a_restart_send_each_message_once(backend: Callable[..., Store]) -> None:
    first, second = book_of(backend()), book_of(backend())
    d = deadline()
    first.subscribe("telegram", "42", d)
    first.subscribe("telegram", "43", d)
    now = at("2026-12-11", 9, 5)
    # Both workers see the same due messages; only one claim of each succeeds.
    due_a, due_b = first.due(now, {d.key: d}), second.due(now, {d.key: d})
    assert len(due_a) == len(due_b) == 2
    won = [m for m in due_a if first.claim(m)] + [m for m in due_b if second.claim(m)]
    assert sorted(m.address for m in won) == ["42", "43"]
    restarted = book_of(backend())  # a new process on the same database
    assert send_all(restarted, at("2026-12-11", 15, 0), [d]) == []


def test_a_failed_send_is_tried_again(backend: Callable[..., Store]) -> None:
    book = book_of(backend())
    d = deadline()
    book.subscribe("telegram", "42", d)
    (due,) = book.due(at("2026-12-11", 9, 0), {d.key: d})
    assert book.claim(due)
    book.release(due)  # the send failed
    assert send_all(book, at("2026-12-11", 9, 1), [d]) == ["before:2026-12-18:7"]


def test_a_moved_deadline_is_told_once_and_reminders_follow_the_new_date(
    backend: Callable[..., Store],
) -> None:
    book = book_of(backend())
    book.subscribe("telegram", "42", deadline(day="2026-12-18"))
    moved = deadline(day="2026-12-28")
    assert send_all(book, at("2026-12-05", 10, 0), [moved]) == ["moved:2026-12-28:23"]
    assert send_all(book, at("2026-12-05", 10, 1), [moved]) == []
    assert book.active("telegram", "42")[0]["due"] == "2026-12-28"
    assert send_all(book, at("2026-12-11", 9, 0), [moved]) == []  # the old date's reminder is gone
    assert send_all(book, at("2026-12-21", 9, 0), [moved]) == ["before:2026-12-28:7"]
    assert send_all(book, at("2026-12-30", 9, 0), []) == ["gone:2026-12-28:-2"]  # its notice was revoked


def test_subscribe_list_cancel(backend: Callable[..., Store]) -> None:
    book = book_of(backend())
    row, created = book.subscribe("telegram", "42", deadline())
    assert created and not book.subscribe("telegram", "42", deadline())[1]
    assert [r["id"] for r in book.active("telegram", "42")] == [row["id"]]
    assert book.active("telegram", "7") == []
    assert not book.cancel("telegram", "7", row["id"])  # not someone else's
    assert book.cancel("telegram", "42", row["id"]) and not book.cancel("telegram", "42", row["id"])
    assert book.active("telegram", "42") == []
    assert send_all(book, at("2026-12-11", 9, 0), [deadline()]) == []
    assert book.subscribe("telegram", "42", deadline())[1]  # subscribing again renews it


def test_calendar_files_parse() -> None:
    items = [deadline(), Deadline("k2", "d", "通知二", "提交材料", "2026-12-20", time="17:00", quote="…")]
    items[0].changed_from, items[0].changed_by = "2026-12-10", "延期通知"
    parsed = Calendar.from_ical(calendar(items, name="申报截止日期", tz="Asia/Shanghai"))
    events = parsed.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["截止：报名截止时间", "截止：提交材料"]
    assert events[0].decoded("dtstart") == date(2026, 12, 18)
    assert events[1].decoded("dtstart") == datetime(2026, 12, 20, 17, 0, tzinfo=SHANGHAI)
    assert "已由2026-12-10调整为2026-12-18" in str(events[0]["description"])
    assert len({str(e["uid"]) for e in events}) == 2 and events[0].walk("VALARM")


# -- through the channels ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def over_time(build_kb: Callable[..., tuple[Any, Any]]) -> tuple[Any, Any]:
    return build_kb([*sorted((DATA / "amendments").glob("*.txt")), SEED], "reminders")


@pytest.mark.slow
def test_deadlines_feed_over_http(over_time: tuple[Any, Any], tmp_path: Path) -> None:
    settings, retrieval = over_time
    assistant = make_assistant(retrieval)  # today: 2026-11-28
    app = create_app(make_settings(tmp_path, settings.knowledge_dir), assistant=assistant)
    with TestClient(app) as client:
        upcoming = client.get("/api/deadlines").json()
        whats = {(d["what"], d["date"]) for d in upcoming}
        assert ("报名截止时间", "2026-12-18") in whats  # the 2026 round
        assert not any(d["date"].startswith("2025") for d in upcoming)  # the older round: passed, replaced
        assert not any("午餐会" in d["notice"] for d in upcoming)  # a revoked notice sets no deadline
        everything = client.get("/api/deadlines", params={"all": True}).json()
        moved = [d for d in everything if d["changed_from"] == "2023-10-07"]
        assert moved and all(d["date"] == "2023-10-15" for d in moved)
        feed = client.get("/api/deadlines.ics")
        assert feed.headers["content-type"].startswith("text/calendar")
        assert len(Calendar.from_ical(feed.content).walk("VEVENT")) == len(upcoming)
        answer = client.post("/api/ask", json={"question": "节能创意设计大赛什么时候截止？"}).json()
        (ref,) = answer["deadlines"]
        one = client.get(f"/api/deadlines/{ref['key']}.ics")
        assert one.status_code == 200 and "attachment" in one.headers["content-disposition"]
        (event,) = Calendar.from_ical(one.content).walk("VEVENT")
        assert event.decoded("dtstart") == date(2026, 12, 18)
        assert client.get("/api/deadlines/nosuchkey.ics").status_code == 404


@pytest.mark.slow
def test_telegram_remind_button_and_due_message(over_time: tuple[Any, Any], tmp_path: Path) -> None:
    _, retrieval = over_time
    assistant = make_assistant(retrieval)
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}", data_dir=tmp_path / "data")

    async def scenario(tg: Any) -> None:
        async with polling(tg, assistant, store, tmp_path) as application:
            reminders: TelegramReminders = application.bot_data["applybot"].reminders
            assert [c["command"] for c in tg.commands][-2:] == ["remind", "reminders"]
            _, since = say(tg, ALICE, "节能创意设计大赛什么时候截止？")
            answer = await reply(tg, ALICE["id"], since)
            remind = next(b for b in buttons(answer) if b["text"] == "⏰ 截止前提醒我")
            since = press(tg, ALICE, answer["result"], remind["callback_data"])
            assert "2026年12月18日截止" in visible(await reply(tg, ALICE["id"], since))
            _, since = say(tg, ALICE, "/reminders")
            listed = await reply(tg, ALICE["id"], since)
            assert "报名截止时间：2026年12月18日" in visible(listed)
            reminders.now = lambda: at("2026-12-11", 9, 0)
            since = tg.mark()
            assert await reminders.send_due(application.bot) == 1
            assert await reminders.send_due(application.bot) == 0
            due = await reply(tg, ALICE["id"], since)
            assert "将于2026年12月18日截止（还剩 7 天）" in visible(due)
            cancel = next(b for b in buttons(listed) if b["text"] == "取消 1")
            since = press(tg, ALICE, listed["result"], cancel["callback_data"])
            assert "已取消" in visible(await reply(tg, ALICE["id"], since))
            reminders.now = lambda: at("2026-12-17", 9, 0)
            assert await reminders.send_due(application.bot) == 0
            _, since = say(tg, ALICE, "/deadlines")  # deadlines from sentences too, a moved one marked
            listed_all = visible(await reply(tg, ALICE["id"], since))
            assert (
                "报名截止时间（《关于举办2026年校园节能创意设计大赛的通知》）：2026年12月18日（还剩 20 天）"
                in listed_all
            )
            assert "2023年10月15日（已截止" in listed_all and "原定2023年10月7日，已调整" in listed_all
            assert "午餐会" not in listed_all and "2025年5月20日" not in listed_all
            _, since = say(tg, ALICE, "/remind 午餐会")  # a revoked notice sets no deadline
            assert "没有找到" in visible(await reply(tg, ALICE["id"], since))

    try:
        with fake_telegram() as tg:
            asyncio.run(asyncio.wait_for(scenario(tg), 120))
    finally:
        store.close()
