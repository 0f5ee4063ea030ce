"""Dates, contacts and phone numbers parsed from notice text."""

from __future__ import annotations

import pytest

from retrieval.entities import find_dates, find_labelled_contacts, parse_contacts

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("2023年10月8日", "date", {"date": "2023-10-08", "time": None}),
        ("二〇二三年八月三十日", "date", {"date": "2023-08-30", "time": None}),
        ("2023 年 8 月 30 日", "date", {"date": "2023-08-30", "time": None}),
        ("2026年12月20日17:00前", "date", {"date": "2026-12-20", "time": "17:00"}),
        ("2023年9月6日—10月7日", "date_range", {"start": "2023-09-06", "end": "2023-10-07", "time": None}),
        (
            "2026年12月1日至2027年1月5日",
            "date_range",
            {"start": "2026-12-01", "end": "2027-01-05", "time": None},
        ),
        ("每年12月15日前", "recurring_date", {"month": 12, "day": 15, "before": True}),
        ("2023—2025年", "year_range", {"start": 2023, "end": 2025}),
        ("2025年基本实现", "year", {"year": 2025}),
        ("下午14:30开始", "time", {"time": "14:30"}),
    ],
)
def test_dates(text: str, kind: str, value: dict) -> None:  # type: ignore[type-arg]
    found = find_dates(text)
    assert found and found[0].kind == kind and found[0].value == value
    assert text[found[0].start : found[0].end] == found[0].text


def test_a_month_and_day_take_the_year_of_the_date_before() -> None:
    found = find_dates("2026年12月1日开始受理，12月20日截止")
    assert [e.value["date"] for e in found] == ["2026-12-01", "2026-12-20"]


def test_impossible_dates_are_not_dates() -> None:
    assert find_dates("2023年2月30日") == []


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (
            "职成处万婷、刘长军 027-87588886",
            [("万婷", "职成处", "027-87588886"), ("刘长军", "职成处", "027-87588886")],
        ),
        (
            "高等教育处周婷、马璐， 027-87328007、 027-87588886",
            [("周婷", "高等教育处", "027-87328007"), ("马璐", "高等教育处", "027-87588886")],
        ),
        ("社会科学处 李静怡 0712-6391230 skc@ymlg.edu.cn", [("李静怡", "社会科学处", "0712-6391230")]),
        ("陈思远 0736-2851102", [("陈思远", None, "0736-2851102")]),
    ],
)
def test_contact_cells(cell: str, expected: list[tuple[str, str | None, str]]) -> None:
    assert [(c.name, c.department, c.phone) for c in parse_contacts(cell)] == expected


def test_labelled_contacts_take_the_phone_and_email_that_follow() -> None:
    text = "省教育厅联系人：李娟\n联系电话：027-87328019\n电子邮箱：hbhvte@126.com。"
    [(entity, contact)] = find_labelled_contacts(text)
    assert (contact.department, contact.name, contact.phone, contact.email) == (
        "省教育厅",
        "李娟",
        "027-87328019",
        "hbhvte@126.com",
    )
    assert text[entity.start : entity.end] == entity.text


def test_asking_someone_is_not_a_contact_line() -> None:
    assert find_labelled_contacts("可直接联系省教育厅各任务相关联系人获取账号。") == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("電話：﹝02﹞87711538，傳真", "﹝02﹞87711538"),  # small-form brackets, as the gazette prints them
        ("洽詢電話：(02)2391-1368分機1078", "(02)2391-1368分機1078"),
        ("联系电话：027-68756263", "027-68756263"),
        ("原民教字第10100247063號", None),  # a document number, not a phone
    ],
)
def test_phones_as_notices_print_them(text: str, phone: str | None) -> None:
    from retrieval.entities import PHONE

    found = PHONE.search(text)
    assert (found.group(0) if found else None) == phone


def test_a_year_said_just_before_a_month_and_day_is_its_year() -> None:
    """'2027年元旦1月1日' in a notice dated 2026 is 1 January 2027; a year cut off by a comma is not."""
    found = find_dates("2027年元旦1月1日（周五）至3日（周日）放假；春节2月6日至14日放假", default_year=2026)
    ranges = [e.value for e in found if e.kind == "date_range"]
    assert [(r["start"], r["end"]) for r in ranges] == [
        ("2027-01-01", "2027-01-03"),
        ("2027-02-06", "2027-02-14"),
    ]
    apart = find_dates("2025年工作总结，6月1日前提交", default_year=2026)
    assert [e.value["date"] for e in apart if e.kind == "date"] == ["2026-06-01"]
