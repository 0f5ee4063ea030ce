"""Notices without tables: flattened web text, facts from prose, which notice, typed answers, silence.

The notices here are written for the tests (unit tests only); real notices nobody here wrote are
questioned in tests/system/test_real_notices.py and bench/real_eval.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.answer.facts import tier_for
from bot.answer.rules import yes_or_no
from bot.assistant import Assistant
from bot.notices import NoticeResolver
from bot.understand import asked_kinds
from retrieval.flattened import split_paragraph
from retrieval.loaders import load_file
from retrieval.parse import parse_document
from retrieval.search import SearchResult
from tests.support.factories import make_assistant
from tests.support.paths import SEED

CLUB = (
    "某某学院关于招募图书馆学生助理的通知\n"
    "为做好图书馆服务工作，现面向全院本科生招募学生助理，有关事项通知如下： 一、招募人数 共6名。 "
    "二、招募对象 1.我院全日制本科生； 2.每周能保证值班3个半天。 休学或保留学籍的学生不得报名。 "
    "三、薪酬标准 劳酬标准为20元/小时，每月最高800元。 四、报名方式 1.请于2026年3月10日17:00前填写报名表 "
    "https://forms.example.edu.cn/apply 2.面试地点：文理楼B305。 五、联系方式 联系人：周老师 "
    "联系电话：027-11112222 电子邮箱：lib@example.edu.cn 某某学院学生工作办公室 2026年3月1日"
)
LECTURE = (
    "学术讲座公告——材料表面的新现象\n"
    "报告时间：2026年3月12日（周四）上午9:30 报告地点：工学部西楼210 报告人：王某某 教授 "
    "欢迎感兴趣的师生参加，本次讲座不需要提前报名，现场签到即可，请准时到场。"
)


@pytest.fixture(scope="module")
def two_notices(tmp_path_factory: pytest.TempPathFactory, build_kb: Callable[..., tuple]) -> Assistant:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("prose-notices")
    (folder / "club.txt").write_text(CLUB, encoding="utf-8")
    (folder / "lecture.txt").write_text(LECTURE, encoding="utf-8")
    _, retrieval = build_kb([folder / "club.txt", folder / "lecture.txt"], "prose")
    return make_assistant(retrieval)


def parse(tmp_path: Path, text: str, name: str = "n.txt"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_document(load_file(path), rel_path=name)


def test_flattened_text_gets_headings_items_and_signature_back() -> None:
    pieces = split_paragraph(CLUB.split("\n", 1)[1])
    assert "一、招募人数" in pieces and "二、招募对象" in pieces
    assert "1.我院全日制本科生；" in pieces
    assert pieces[-2:] == ["某某学院学生工作办公室", "2026年3月1日"]
    # Nothing but whitespace between pieces is lost.
    assert "".join(pieces).replace(" ", "") == CLUB.split("\n", 1)[1].replace(" ", "")


def test_sections_come_back_from_flattened_text(tmp_path: Path) -> None:
    doc = parse(tmp_path, CLUB)
    titles = [s.title for s in doc.sections]
    assert "三、薪酬标准" in titles and "五、联系方式" in titles
    assert doc.parts[0].issuer == "某某学院学生工作办公室" and doc.parts[0].date == "2026-03-01"


def test_facts_are_typed_and_quote_the_notice_verbatim(tmp_path: Path) -> None:
    doc = parse(tmp_path, CLUB)
    kinds = {f.kind for f in doc.facts}
    assert {"date", "place", "url", "money", "limit", "contact", "audience"} <= kinds
    for fact in doc.facts:
        assert doc.text[fact.start : fact.end] == fact.text
        assert fact.start <= fact.value_start <= fact.value_end <= fact.end
    money = [f.value for f in doc.facts if f.kind == "money"]
    assert "20元/小时" in money and "800元" in money
    places = [f.value for f in doc.facts if f.kind == "place"]
    assert any("B305" in p for p in places)
    deadline = next(f for f in doc.facts if f.kind == "date" and "报名表" in f.text)
    assert deadline.value["date"] == "2026-03-10" and deadline.value["time"] == "17:00"
    assert any(f.section.endswith("三、薪酬标准") for f in doc.facts if f.kind == "money")


def test_what_a_question_asks() -> None:
    assert asked_kinds("报名截止到几号")[0] == "date"
    assert asked_kinds("面试在哪")[0] == "place"
    assert asked_kinds("工资多少钱一小时")[0] == "money"
    assert asked_kinds("招几个人")[0] == "limit"
    assert asked_kinds("联系电话是多少")[0] == "contact"
    assert asked_kinds("在哪个系统报名")[0] == "system"
    assert asked_kinds("when is the lecture")[0] == "date"
    assert asked_kinds("今天天气不错")[0] == ""
    assert asked_kinds("草案全文在哪里看？")[0] == "link"  # reading it somewhere is a link, not a place
    assert asked_kinds("企业参加要交费吗")[0] == "money"
    assert asked_kinds("申请文件要寄到哪？")[0] == "place"  # where to send the documents, not which ones


def test_a_bare_how_much_belongs_to_the_amount_asked_beside_it() -> None:
    from bot.understand import asked_parts

    assert asked_parts("助理有补贴吗？每月多少") == ["助理有补贴吗？每月多少"]  # one money question
    assert asked_parts("在哪？几点") == ["在哪", "几点"]  # two things asked


def test_yes_or_no_compares_numbers_with_limits() -> None:
    assert yes_or_no("每队不超过5人。", "我们队6人可以吗") is False
    assert yes_or_no("每队不超过5人。", "我们队4人可以吗") is True
    assert yes_or_no("绩点不低于3.0分。", "我3.2分能报吗") is True
    assert yes_or_no("休学的学生不得报名。", "休学能报吗") is False


def test_yes_or_no_by_the_group_a_condition_names() -> None:
    condition = "1.武汉大学某学院全日制在籍研究生，政治面貌为共青团员；"
    assert yes_or_no(condition, "本科生能报名吗", audience=True) is False
    assert yes_or_no(condition, "研究生能报名吗", audience=True) is True
    assert yes_or_no(condition, "本科生能报名吗") is None  # not known to be a condition on who may


def test_yes_or_no_when_the_asker_lacks_what_the_rule_requires() -> None:
    rule = "只有提交报名表并加入该群方视为报名成功。"
    assert yes_or_no(rule, "只交了报名表没进群算报名成功吗") is False
    assert yes_or_no("须经学院审核同意后方可申请。", "没经过学院审核能申请吗") is False
    # A missing thing the rule does not ask for decides nothing.
    assert yes_or_no("须经学院审核同意后方可申请。", "没有奖学金能申请吗") is not False


def test_a_notice_is_resolved_by_its_title_and_short_name(tmp_path: Path) -> None:
    club = parse(tmp_path, CLUB, "club.txt")
    lecture = parse(tmp_path, LECTURE + "（以下简称“表面讲座”）", "lecture.txt")
    resolver = NoticeResolver([club, lecture])
    assert resolver.resolve("图书馆学生助理几点截止", SearchResult([])).doc_id == club.doc_id
    assert resolver.resolve("表面讲座在哪", SearchResult([])).doc_id == lecture.doc_id
    # A follow-up without a name stays on the conversation's notice.
    assert resolver.resolve("在哪", SearchResult([]), current=lecture.doc_id).doc_id == lecture.doc_id


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("图书馆助理啥时候截止报名？", ["2026-03-10", "17:00"]),
        ("学生助理工资多少", ["20元/小时"]),
        ("图书馆助理面试在哪", ["B305"]),
        ("学生助理招几个人", ["6名"]),
        ("学生助理找谁咨询", ["027-11112222"]),
        ("材料表面讲座在哪里开", ["工学部西楼210"]),
        ("材料表面的讲座几点开始", ["9:30"]),
        ("學生助理報名截止時間", ["2026-03-10"]),
    ],
)
def test_typed_answers_come_from_the_resolved_notice(
    two_notices: Assistant, question: str, expected: list[str]
) -> None:
    answer = two_notices.ask(question, today=date(2026, 3, 5))
    assert not answer.escalated, answer.answer
    text = answer.answer + " ".join(c.phone or "" for c in answer.contacts)
    for fact in expected:
        assert fact in text or fact.replace("2026-03-10", "3月10日") in text, answer.answer
    assert len(answer.answer) <= 150
    for citation in answer.citations:
        assert citation.quote in two_notices.view.documents[citation.doc_id].text


def test_a_deadline_says_how_many_days_remain(two_notices: Assistant) -> None:
    answer = two_notices.ask("图书馆助理报名截止时间", today=date(2026, 3, 5))
    assert "还剩 5 天" in answer.answer or "还剩5天" in answer.answer, answer.answer


def test_yes_no_starts_with_the_verdict_and_gives_the_rule(two_notices: Assistant) -> None:
    answer = two_notices.ask("我休学了还能报名图书馆助理吗？", today=date(2026, 3, 5))
    assert answer.answer.startswith("不可以"), answer.answer
    assert "休学" in answer.answer


def test_follow_ups_stay_on_the_notice(two_notices: Assistant) -> None:
    first = two_notices.ask("材料表面的讲座在哪", today=date(2026, 3, 5))
    follow = two_notices.ask("几点开始？", session_id=first.session_id, today=date(2026, 3, 5))
    assert "9:30" in follow.answer, follow.answer


def test_a_silent_notice_escalates_to_its_own_contact(two_notices: Assistant) -> None:
    # 签到 is a word of the knowledge base (the lecture's), never used by the assistants' notice.
    answer = two_notices.ask("图书馆助理上岗要签到吗？", today=date(2026, 3, 5))
    assert answer.escalated, answer.answer
    phones = [c.phone for c in answer.contacts]
    assert "027-11112222" in " ".join(p or "" for p in phones)
    # The lecture names nobody: its silence names no other notice's contact.
    lecture = two_notices.ask("材料表面讲座有没有线上直播链接", today=date(2026, 3, 5))
    assert lecture.escalated, lecture.answer
    assert not lecture.contacts and "027-11112222" not in lecture.answer


def test_a_question_that_fits_several_notices_asks_which_one(two_notices: Assistant) -> None:
    first = two_notices.ask("这个几号？", today=date(2026, 3, 5))
    titles = [option.title for option in first.clarify]
    assert first.intent == "clarify" and not first.escalated, first.answer
    assert len(titles) == 2 and all(title in first.answer for title in titles)
    # The reply names one (by its number, as a chip or a button sends its title): the question is answered.
    lecture = next(i for i, t in enumerate(titles, start=1) if "讲座" in t)
    chosen = two_notices.ask(str(lecture), session_id=first.session_id, today=date(2026, 3, 5))
    assert not chosen.clarify and "3月12日" in chosen.answer, chosen.answer
    follow = two_notices.ask("在哪？", session_id=first.session_id, today=date(2026, 3, 5))
    assert "工学部西楼210" in follow.answer, follow.answer


def test_a_question_that_names_its_notice_is_not_asked_back(two_notices: Assistant) -> None:
    answer = two_notices.ask("图书馆助理几号截止？", today=date(2026, 3, 5))
    assert not answer.clarify and "3月10日" in answer.answer


def test_yes_no_rules_for_who_may() -> None:
    assert yes_or_no("凡全日制二年级及以上的本科生均可参加评选。", "大一新生能评奖学金么") is False
    assert yes_or_no("凡全日制二年级及以上的本科生均可参加评选。", "大三的能参加吗") is True
    assert yes_or_no("参赛对象：本科生和研究生", "研究生能参加吗") is True
    assert yes_or_no("招募对象：全日制在籍研究生", "本科生能报名吗") is False
    assert yes_or_no("已获得本校研究生入学资格的大四本科生可以参加。", "保研的大四学生可以参加吗") is True
    assert yes_or_no("每支队伍由3名学生组成，队长必须为本科生。", "队长可以是研究生吗") is False
    assert yes_or_no("赛事运营组：无专业门槛。", "有专业要求吗") is False


def test_a_question_that_asks_two_things_gets_both(two_notices: Assistant) -> None:
    answer = two_notices.ask("材料表面的讲座在哪？几点？", today=date(2026, 3, 5))
    assert "工学部西楼210" in answer.answer and "9:30" in answer.answer, answer.answer


def test_a_fact_the_notice_does_not_state_is_silence(two_notices: Assistant) -> None:
    answer = two_notices.ask("图书馆助理报名费多少钱？", today=date(2026, 3, 5))
    assert answer.escalated and "027-11112222" in answer.answer, answer.answer


def test_traditional_sentences_give_facts(tmp_path: Path) -> None:
    doc = parse(
        tmp_path,
        "衛生福利部公告\n一、撫慰金每位新臺幣二十萬元。\n二、申請書以掛號寄至臺北市大同區塔城街36號。\n"
        "三、洽詢電話：(02)2522-0730，諮詢電話：87228331，QQ群：915246849。",
        "trad.txt",
    )
    values = {(f.kind, str(f.value)) for f in doc.facts}
    assert ("money", "二十萬元") in values
    assert any(kind == "place" and "塔城街36號" in value for kind, value in values)
    phones = {value for kind, value in values if kind == "contact"}
    assert {"(02)2522-0730", "87228331", "915246849"} <= phones
    for fact in doc.facts:  # values are the notice's own characters, not their Simplified twins
        assert doc.text[fact.value_start : fact.value_end] == str(fact.value) or fact.kind in (
            "date",
            "audience",
            "materials",
            "steps",
        )


def test_an_amount_in_tiers_is_given_for_the_number_asked() -> None:
    tiers = "学习点满30人的补助1万元，满60人的补助2万元，满100人的补助3万元。"
    assert tier_for(tiers, "我们有45人能补助多少") == ("45人", "满30人的补助1万元")
    assert tier_for(tiers, "120人的话补多少") == ("120人", "满100人的补助3万元")
    assert tier_for(tiers, "我们只有20人") == ("20人", "未达到最低档（满30人的补助1万元）")
    assert tier_for("每人补助1000元。", "我们有45人") is None


def test_asking_for_a_person_gives_the_notice_s_own_contact(two_notices: Assistant) -> None:
    first = two_notices.ask("图书馆助理几号截止？", today=date(2026, 3, 5))
    human = two_notices.ask("转人工", session_id=first.session_id, today=date(2026, 3, 5))
    assert human.escalated and "027-11112222" in human.answer + " ".join(
        c.phone or "" for c in human.contacts
    )


FAIR = (
    "关于举办2026年春季校园招聘会的通知\n"
    "一、时间地点 2026年4月16日（星期四）14:30-17:30，体育馆。 "
    "二、相关说明 1.本次招聘会不收取任何参会费用，食宿差旅由参会单位自理。 "
    "2.请于2026年4月10日之前将参会回执发送至邮箱 fair@example.edu.cn。 联系人：钱老师 027-33334444"
)


def test_free_of_charge_is_a_money_fact_and_answers_a_fee_question(
    tmp_path: Path,
    build_kb: Callable[..., tuple],  # type: ignore[type-arg]
) -> None:
    doc = parse(tmp_path, FAIR, "fair.txt")
    money = [f.value for f in doc.facts if f.kind == "money"]
    assert money == ["不收取任何参会费用", "食宿差旅由参会单位自理"]
    path = tmp_path / "fair.txt"
    _, retrieval = build_kb([path], "fair")
    assistant = make_assistant(retrieval)
    fee = assistant.ask("用人单位参加招聘会要交费吗？", today=date(2026, 4, 1))
    assert "不收取任何参会费用" in fee.answer and not fee.escalated, fee.answer
    hour = assistant.ask("招聘会几点开始？", today=date(2026, 4, 1))
    assert "14:30" in hour.answer, hour.answer
    both = assistant.ask("招聘会几点开始，在哪里？", today=date(2026, 4, 1)).answer.splitlines()
    assert "体育馆" in "".join(both) and len(both) == len(set(both)), both  # one sentence, said once
    # '几号前' asks until when something is due, not when the event is held.
    due = assistant.ask("参会回执几号前发？", today=date(2026, 4, 1))
    assert "2026年4月10日之前" in due.answer and "4月16日" not in due.answer, due.answer


def test_a_duration_in_days_is_a_limit_and_answers_how_long(tmp_path: Path) -> None:
    doc = parse(
        tmp_path,
        "关于奖学金评审结果的公示\n对评审结果有异议的，请于公示之日起3日内向学院提出申诉。"
        "学院推荐不超过3名。请于4月13日前提交材料。",
    )
    limits = [f.value for f in doc.facts if f.kind == "limit"]
    assert "3日" in limits and "13日" not in limits  # a day of a date is not a duration
    assert asked_kinds("有异议多久内可以申诉")[0] == "limit"


def test_everyday_names_find_the_notice_s_wording() -> None:
    from retrieval.lexicon import expand_query

    assert "劳动节" in expand_query("五一放几天")  # the holiday as people call it, as notices write it
    assert "截止时间" in expand_query("啥时候交")


HOLIDAYS = (
    "某某学院关于2027年元旦、春节放假安排的通知\n"
    "全体学生： 2027年元旦1月1日（周五）至3日（周日）放假，共3天；春节2月6日（周六）至14日（周日）"
    "放假调休，共9天。 假期中请注意安全，按时返校。 某某学院学生工作办公室 2026年12月20日"
)


def test_a_title_naming_two_things_still_tells_them_apart(
    tmp_path_factory: pytest.TempPathFactory,
    build_kb: Callable[..., tuple],  # type: ignore[type-arg]
) -> None:
    """Both holidays are in the title, so the title word '春节' is what picks its own sentence."""
    folder = tmp_path_factory.mktemp("holiday-notice")
    (folder / "holidays.txt").write_text(HOLIDAYS, encoding="utf-8")
    _, retrieval = build_kb([folder / "holidays.txt"], "holidays")
    answer = make_assistant(retrieval).ask("春节放几天假，从哪天到哪天", today=date(2026, 12, 25))
    assert "2月6日" in answer.answer or "2027-02-06" in answer.answer, answer.answer
    assert "1月1日" not in answer.answer, answer.answer


def test_a_question_no_notice_is_about_names_no_notice_s_contact(
    tmp_path_factory: pytest.TempPathFactory,
    build_kb: Callable[..., tuple],  # type: ignore[type-arg]
) -> None:
    """Escalating with no notice in view: the best hit is unrelated, so its notice's contact (here
    the seed's 李娟) is not offered; with one notice only, that notice's contact still is."""
    folder = tmp_path_factory.mktemp("seed-and-lecture")
    (folder / "lecture.txt").write_text(LECTURE, encoding="utf-8")
    shutil.copy(SEED, folder / SEED.name)
    _, retrieval = build_kb([folder / "lecture.txt", folder / SEED.name], "seed-lecture")
    answer = make_assistant(retrieval).ask("火星移民补贴怎么申请", today=date(2026, 3, 5))
    assert answer.escalated, answer.answer
    assert answer.contacts == [] and "李娟" not in answer.answer, answer.answer
    # With a service desk configured, the applicant is sent there instead, and told it is the desk.
    desk = "招生服务中心 027-00000000"
    helped = make_assistant(retrieval, fallback_contact=desk).ask(
        "火星移民补贴怎么申请", today=date(2026, 3, 5)
    )
    assert desk in helped.answer and "李娟" not in helped.answer, helped.answer


FEE = (
    "某某学院关于暑期培训报名缴费的通知\n"
    "一、培训费用 每人1200元。 二、缴纳方式 网上转账：收款人全称：某某大学 收款人账号：6222000011112222 "
    "开户银行：某某银行某某支行，转账备注：暑期培训。 三、联系方式 联系人：陈老师 电话：027-33334444"
)


def test_an_account_to_pay_into_is_a_fact_of_its_own(
    tmp_path_factory: pytest.TempPathFactory,
    build_kb: Callable[..., tuple],  # type: ignore[type-arg]
) -> None:
    folder = tmp_path_factory.mktemp("fee-notice")
    (folder / "fee.txt").write_text(FEE, encoding="utf-8")
    _, retrieval = build_kb([folder / "fee.txt"], "fee")
    assistant = make_assistant(retrieval)
    answer = assistant.ask("培训费打到哪个账户？", today=date(2026, 6, 1))
    assert "6222000011112222" in answer.answer, answer.answer
    assert not answer.escalated
