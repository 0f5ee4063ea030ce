"""Notices over time, answered: when a later notice postpones, corrects, revokes or repeats an
earlier one, answers give the value in force, say what changed and cite both notices (the real model
and Chroma). The notices in tests/data/amendments were written here; those in
tests/data/real/ey-gazette-amend are real gazette records. How the relations are found is tested in
tests/retrieval/test_relations.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.assistant import Assistant
from tests.support.factories import make_assistant
from tests.support.paths import DATA, SEED

AMENDMENTS = sorted((DATA / "amendments").glob("*.txt"))
REAL_AMEND = sorted((DATA / "real" / "ey-gazette-amend").glob("*.txt"))


@pytest.fixture(scope="module")
def over_time(build_kb: Callable[..., tuple[Any, Any]]) -> tuple[Any, Any]:
    return build_kb([*AMENDMENTS, SEED, *REAL_AMEND], "over-time")


@pytest.fixture()
def assistant(over_time: tuple[Any, Any]) -> Assistant:
    return make_assistant(over_time[1])  # today: 2026-11-28


def _cited(answer: Any) -> set[str]:
    return {c.title for c in answer.citations}


@pytest.mark.slow
def test_a_postponed_task_deadline_is_the_new_one_with_both_notices_cited(assistant: Assistant) -> None:
    answer = assistant.ask("推进学历继续教育教学改革创新什么时候截止？")
    first = answer.answer.splitlines()[0]
    assert "2023年10月15日" in first and "10月7日" not in first
    assert "调整为2023年10月15日" in answer.answer  # the change is said, old date only as the old one
    assert "省教育厅关于延长学习型社会建设重点任务申报时间的通知" in _cited(answer)
    assert any("2023年10月7日" in c.quote for c in answer.citations)  # the original row, verbatim
    # A task whose date the postponement does not name keeps its own.
    other = assistant.ask("加强新时代学习型城市建设的申报截止时间")
    assert "2023年10月8日" in other.answer.splitlines()[0]


@pytest.mark.slow
def test_every_deadline_listed_is_the_one_in_force(assistant: Assistant) -> None:
    answer = assistant.ask("申报什么时候截止")
    listed = [line for line in answer.answer.splitlines() if re.match(r"\d+\. ", line)]
    assert len(listed) == 5
    assert not any("10月7日" in line for line in listed)
    assert sum("2023年10月15日" in line for line in listed) == 3


@pytest.mark.slow
def test_a_corrected_phone_replaces_the_old_one(assistant: Assistant) -> None:
    answer = assistant.ask("节能创意设计大赛的联系电话是多少？")
    assert "027-68750099" in answer.answer
    assert "原为027-68750001" in answer.answer and answer.answer.count("027-68750001") == 1
    assert [c.phone for c in answer.contacts] == ["027-68750099"]
    assert "关于2026年校园节能创意设计大赛联系方式更正的通知" in _cited(answer)


@pytest.mark.slow
def test_rounds_the_current_one_unless_another_is_named(assistant: Assistant) -> None:
    current = assistant.ask("节能创意设计大赛报名什么时候截止？")
    assert "2026年12月18日" in current.answer and "2025年" not in current.answer
    last_year = assistant.ask("去年的节能创意设计大赛报名截止是哪天？")
    assert "2025年5月20日" in last_year.answer
    # An older round whose dates have all passed says so, and when the latest one closes.
    assert (
        "这一轮的截止日期都已过；最新一轮见《关于举办2026年校园节能创意设计大赛的通知》，截止 2026年12月18日"
        in last_year.answer
    )
    named = assistant.ask("2025年节能创意设计大赛每队最多几个人？")
    assert "4人" in named.answer and "5人" not in named.answer
    follow = assistant.ask("今年每队最多几个人？", session_id=named.session_id)
    assert "5人" in follow.answer


@pytest.mark.slow
def test_a_revoked_notice_says_so(assistant: Assistant) -> None:
    answer = assistant.ask("青年教师教学午餐会什么时候举办？")
    assert answer.answer.startswith(
        "注意：该通知已被《关于停止开展青年教师教学午餐会系列活动的通知》撤销或停止"
    )
    assert "关于停止开展青年教师教学午餐会系列活动的通知" in _cited(answer)


@pytest.mark.slow
def test_a_real_extension_gives_the_new_date(assistant: Assistant) -> None:
    answer = assistant.ask("原住民族影視音樂補助101年度受理截止日？")
    assert "5月18日" in answer.answer.splitlines()[0]
    assert "5月4日" not in answer.answer.replace("原定4月2日（一）至5月4日", "")
    assert len({c.doc_id for c in answer.citations}) == 2
