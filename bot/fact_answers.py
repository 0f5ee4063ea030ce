"""Typed answers from the facts of one notice: what is asked, and which stated fact fits it best.

A question asks for a kind of fact (when, where, which system, how much, how many, whom to contact,
what materials, how, who may, yes or no). Among the facts of that kind in the resolved notice, the
one whose sentence (and section) holds the question's own words answers it; when none does, the
notice is silent on it. Pure functions over plain data: the assistant composes and cites.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from retrieval.chunking import split_sentences
from retrieval.entities import chinese_number, find_dates
from retrieval.model import Document, Fact
from retrieval.normalize import normalize_for_search

_UNIT_GROUPS = {
    "人": ("人", "名", "位"),
    "名": ("人", "名", "位"),
    "位": ("人", "名", "位"),
    "天": ("天", "日"),
    "日": ("天", "日"),
    "个": ("个", "名", "人", "项", "家"),
}
_PLACE_LABELLED = re.compile(r"地点|地址|地點|场地|会场|举办地")
_DEADLINE_WORDS = re.compile(
    r"截止|截至|期限|最晚|到几号|到哪天|到什么时候|为止|(?:几号|哪天|几点|什么时候|何时)之?前|"
    r"deadline|\bdue\b|\bclose|来得及|还能"
)
_ASKS_EMAIL = re.compile(r"邮箱|邮件|e-?mail|信箱", re.I)
_ASKS_PHONE = re.compile(r"电话|手机|打|号码|phone|call", re.I)
_ASKS_GROUP = re.compile(r"群", re.I)  # QQ群, 微信群, 群号: the group's number, not a person's
_GROUP_LABEL = re.compile(r"[群羣]\s*(?:号|號|聊)?\s*[:：]?\s*$")
_EVENT_WORDS = re.compile(r"开始|举办|举行|开营|开课|开幕|哪几天|几天|持续|活动")
_EVENT_SENTENCE = re.compile(r"活动|举办|举行|开营|开课|开幕|时间：|日程")
_ASKS_WHO = re.compile(r"谁|哪位|哪个老师|\bwho\b|\bwhom\b")
_NAMES_PERSON = re.compile(r"联系人|联络人|老师|先生|小姐|女士|聯絡人|聯繫人")
_PUBLISHED_LINE = re.compile(r"^\s*(?:发布日期|发文日期|发布时间|发文字号|时间：\d{4}-)")
_ASKS_PUBLISHED = re.compile(r"发布|发文|印发|公布|哪天发|什么时候发|published|issued")
_DEADLINE_SENTENCE = re.compile(r"截止|截至|止|之前|以前|期限|前[，,。；\s）)送交提]|前$")
_PROHIBITION = re.compile(
    r"不得|不能|不可|不予|不允许|不再|禁止|严禁|不受理|不接受|取消|不参加|不纳入|不计入|不适用"
)
_PERMISSION = re.compile(r"均可|可以|可申请|可报名|可参加|允许|欢迎|优先|有资格")
_NUMBER_UNIT = re.compile(
    r"(\d+(?:\.\d+)?|[一二两三四五六七八九十]+)\s*(%|％|名|人|个|门|项|篇|分|学分|支|队|位|岁|天|次|案|家|份|年级)"
)
# Who an applicant says they are, and the words a notice uses for them (general student vocabulary).
_GRADES = {"大一": "一年级", "大二": "二年级", "大三": "三年级", "大四": "四年级", "研一": "研究生一年级"}
_GRADE = re.compile("|".join(_GRADES))
GROUP_WORDS = re.compile(
    r"[一二三四五]年级|本科生|研究生|硕士生|博士生|博士研究生|硕士研究生|新生|毕业生|留学生|教师|职工|校友"
)
_GROUP = GROUP_WORDS
_GROUP_NAMES = {
    "本科生": ("本科生", "本科"),
    "研究生": ("研究生", "硕士", "博士"),
    "硕士生": ("硕士", "研究生"),
    "博士生": ("博士", "研究生"),
    "新生": ("新生", "一年级", "新入学"),
    "毕业生": ("毕业生", "毕业班", "应届"),
    "教师": ("教师", "老师", "教职工"),
    "一年级": ("一年级", "大一", "新生"),
    "二年级": ("二年级", "大二"),
    "三年级": ("三年级", "大三"),
    "四年级": ("四年级", "大四", "毕业班"),
}
# "队长必须为本科生": only the group named after it may.
_ONLY = re.compile(r"(?:必须|须|只能|仅限|只限|限)(?:为|是|由)(?P<who>[^，。；,;]{1,20})")
_AUDIENCE_WORDS = re.compile(
    r"面向|对象|凡|均可|可以申请|可申请|可报名|可参加|招募|招聘|参评|参赛|申请人|具有|具备|范围"
)
# "Is there a requirement?" answered by "无…门槛", "不限…".
_NONE_WORDS = re.compile(r"无|没有|不限|不需要|不要求|不设|免费|不收取")
_ASKS_IF_ANY = re.compile(
    r"有没有|有.{0,6}[吗么]|要不要|需不需要|要.{0,8}[吗么]|需要.{0,8}[吗么]|收费吗|交费吗"
)
_MAX_WORDS = re.compile(r"不超过|不多于|最多|不高于|以内|以下|之内|限")
_MIN_WORDS = re.compile(r"不少于|至少|不低于|最少|以上|及以上")

Coverage = Callable[[set[str], str], float]
SHORT_ANSWER_CHARS = 150


@dataclass
class FactPick:
    """A fact chosen for a question, with how well its sentence fits."""

    fact: Fact
    score: float
    cover: float


def pick_facts(
    doc: Document,
    kinds: list[str],
    content: set[str],
    question: str,
    coverage: Coverage,
) -> list[FactPick]:
    """Rank the document's facts of the asked kinds by how well their sentence holds the question's words."""
    wants_deadline = _DEADLINE_WORDS.search(question) is not None
    wants_event = _EVENT_WORDS.search(question) is not None
    wants_hour = _ASKS_HOUR.search(question) is not None
    # A day the question names ('那10月10号要上课吗') points at the sentence about that day.
    named_days = {_month_day(e.value) for e in find_dates(question, default_year=2000) if e.kind == "date"}
    units = _asked_units(question)
    picks: dict[tuple[int, int], FactPick] = {}
    for order, fact in enumerate(doc.facts):
        if fact.kind not in kinds:
            continue
        if content:
            cover = coverage(content, fact.text)
            context = coverage(content, fact.section + " " + fact.text)
        else:
            cover = context = 0.5
        score = cover + 0.4 * context - 0.1 * kinds.index(fact.kind) - 0.0005 * order
        if fact.kind == "date" and wants_deadline and _DEADLINE_SENTENCE.search(fact.text):
            score += 0.3
        elif fact.kind == "date" and wants_event and not wants_deadline:
            # '几号开始' asks when the event is held, not until when one may apply for it.
            score += (
                0.15 if fact.value.get("kind") == "date_range" or _EVENT_SENTENCE.search(fact.text) else 0.0
            )
            score -= 0.15 if _DEADLINE_SENTENCE.search(fact.text) else 0.0
        if wants_hour and fact.kind == "date" and fact.value.get("time"):
            score += 0.3  # '几点' is answered by a date with a time of day
        if named_days and fact.kind == "date" and _month_day(fact.value) in named_days:
            score += 0.6
        if units and fact.kind == "limit" and normalize_for_search(str(fact.value)).endswith(units):
            score += 0.4  # '招多少人' is answered by a number of people, not of days
        if fact.kind == "place" and _PLACE_LABELLED.search(fact.text):
            score += 0.2
        if fact.kind == "date" and _PUBLISHED_LINE.search(normalize_for_search(fact.text)):
            if not _ASKS_PUBLISHED.search(question):
                continue  # the page's own date answers no question but 'when was it published'
            score += 0.3
        if fact.kind == "contact":
            if not content:
                score += 0.001 * order  # with nothing else to go on, the notice's closing contact lines
            is_email = "@" in str(fact.value)
            if (_ASKS_EMAIL.search(question) and is_email) or (_ASKS_PHONE.search(question) and not is_email):
                score += 0.3
            if _ASKS_GROUP.search(question):
                before = fact.text[: fact.value_start - fact.start]
                score += 0.5 if _GROUP_LABEL.search(before[-8:]) else -0.2
            if _ASKS_WHO.search(question) and _NAMES_PERSON.search(fact.text):
                score += 0.2  # '问谁' is answered by the line that names the person
        key = (fact.start, fact.end)
        if key not in picks or picks[key].score < score:
            picks[key] = FactPick(fact, score, max(cover, context))
    return sorted(picks.values(), key=lambda p: -p.score)


_ASKS_HOUR = re.compile(r"几点|什么时间点|哪个时间点|what time|\bat what hour")


def _asked_units(question: str) -> tuple[str, ...]:
    """The units a 'how many' question counts in: 多少人 -> (人, 名, 位), 比例 -> (%,)."""
    if re.search(r"比例|百分之|percent", question):
        return ("%", "％")
    if re.search(r"多久|多长时间|多長時間|how long", question):
        return ("天", "日", "工作日", "个月", "周", "小时", "年")  # a duration, not a headcount
    m = re.search(
        r"(?:多少|几)\s*(个月|个|名|人|位|天|日|家|份|门|项|篇|分|次|年|周|队|支|案|封|小时)", question
    )
    if not m:
        return ()
    unit = m.group(1)
    return _UNIT_GROUPS.get(unit, (unit,))


def _month_day(value: dict[str, object]) -> str:
    return str(value.get("date") or value.get("start") or "")[5:]


def rule_sentences(doc: Document, content: set[str], coverage: Coverage) -> list[tuple[float, int, int]]:
    """Sentences that allow or forbid something, ranked by the question's words they hold."""
    ranked = []
    for start, end in split_sentences(doc.text):
        sentence = doc.text[start:end]
        cover = coverage(content, sentence) if content else 0.0
        if cover >= 0.34:
            rule = 0.3 if _PROHIBITION.search(sentence) or _PERMISSION.search(sentence) else 0.0
            ranked.append((cover + rule, start, end))
    ranked.sort(key=lambda r: -r[0])
    return ranked


def asker_groups(question: str) -> set[str]:
    """The groups a question says the asker belongs to: 研究生, 本科生, 一年级 (for 大一) …"""
    question = _GRADE.sub(lambda m: _GRADES[m.group(0)], question)
    return {m.group(0) for m in _GROUP.finditer(question)}


def _covers_group(sentence: str, group: str) -> bool:
    return any(name in sentence for name in _GROUP_NAMES.get(group, (group,)))


def yes_or_no(sentence: str, question: str, *, lead: str = "", audience: bool = False) -> bool | None:
    """Decide a yes/no question from the rule sentence: a number against a limit, else its wording.

    `lead` is the sentence that introduces a list item ('出现下列情况之一者，不得参加：'). A question
    that names who asks ('研究生能参加吗') against a sentence saying who may: yes when it names them;
    `audience` says the sentence is one of the notice's conditions on who may apply.
    """
    question = _GRADE.sub(lambda m: _GRADES[m.group(0)], question)
    asked = _NUMBER_UNIT.findall(question)
    if asked:
        for value, unit in asked:
            for m in re.finditer(rf"(\d+(?:\.\d+)?|[一二两三四五六七八九十]+)\s*{re.escape(unit)}", sentence):
                before = sentence[max(0, m.start() - 6) : m.start()]
                after = sentence[m.end() : m.end() + 4]
                if unit == "年级" and not (re.match(r"及?以[上下]", after) or _MAX_WORDS.search(before)):
                    continue  # a grade named, not a bound
                limit, mine = _number(m.group(1)), _number(value)
                if _MAX_WORDS.search(before) or re.match(r"以内|以下|之内", after):
                    return mine <= limit
                if _MIN_WORDS.search(before) or re.match(r"及?以上", after):
                    return mine >= limit
    if _ASKS_IF_ANY.search(question) and _NONE_WORDS.search(sentence):
        return False
    if _lacks_condition(sentence, question):
        return False
    groups = asker_groups(question)
    if groups and audience and _GROUP.search(sentence) and not _PROHIBITION.search(sentence):
        return all(_covers_group(sentence, g) for g in groups)  # '全日制在籍研究生' against '本科生'
    only = _ONLY.search(sentence)
    if groups and only and _GROUP.search(only["who"]):
        return all(_covers_group(only["who"], g) for g in groups)
    if groups and _AUDIENCE_WORDS.search(lead + sentence) and not _PROHIBITION.search(sentence):
        return all(_covers_group(sentence, g) for g in groups)
    if _PROHIBITION.search(sentence) or (lead and _PROHIBITION.search(lead)):
        return False
    if _PERMISSION.search(sentence) or (lead and _PERMISSION.search(lead)):
        return True
    return None


# A rule that makes something depend on a condition: 只有A并B方视为…, 须A方可…, A后才能…
_CONDITION = re.compile(
    r"(?:只有|唯有|仅|必须|须|需)(?P<cond>[^，。；]{2,30}?)(?:方|才)(?:可|能|视为|算|予以)|"
    r"(?P<cond2>[^，。；]{2,20}?)后(?:方|才)(?:可|能|视为|算)"
)
_JOINING_VERBS = "进入加交提参报评拿获填签"
# What the asker says they did not do: 没进群, 未提交, 没评上…
_NEGATED = re.compile(r"(?:没有|没|未|不曾)(?P<what>[\u4e00-\u9fff]{2,6})")


def _lacks_condition(sentence: str, question: str) -> bool:
    """Tell whether the question says the asker lacks what the rule requires ('没进群' against
    '只有提交报名表并加入该群方视为报名成功')."""
    condition = _CONDITION.search(sentence)
    if condition is None:
        return False
    required = condition["cond"] or condition["cond2"] or ""
    for m in _NEGATED.finditer(question):
        what = m["what"]
        # The verb and its object right after the negation (进群, 经过学院…): required as written,
        # its object required (群 in 加入该群), or most of the words after it in the condition.
        core = what[:2]
        if core in required or sum(ch in required for ch in what[:4]) >= 3:
            return True
        if core[0] in _JOINING_VERBS and core[1] in required:
            return True  # 没进群 against 加入该群
    return False


def _number(text: str) -> float:
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    return float(chinese_number(text.replace("两", "二")))


_TIER = re.compile(
    r"(?:满|达到|超过|不少于|不低于)?\s*(?P<n>\d+)\s*(?P<unit>人|名|个|家|所|门|项)(?:以上|及以上)?(?:的|者)?"
    r"[^，。；,;]{0,16}?(?P<amount>\d[\d,.]*\s*万?元)"
)


def tier_for(sentence: str, question: str) -> tuple[str, str] | None:
    """The tier of an amount that applies to a number the question gives.

    '满30人的补助1万元，满60人的补助2万元' asked with '我们有45人': (45人, the 30-person tier's clause).
    """
    tiers = [m for m in _TIER.finditer(sentence)]
    if len(tiers) < 2:
        return None
    units = {m["unit"] for m in tiers}
    asked = re.search(rf"(\d+)\s*({'|'.join(sorted(units))})", question)
    if not asked:
        return None
    mine = int(asked.group(1))
    reached = [m for m in tiers if int(m["n"]) <= mine]
    if not reached:
        return (asked.group(0), "未达到最低档（" + tiers[0].group(0).strip() + "）")
    best = max(reached, key=lambda m: int(m["n"]))
    return (asked.group(0), best.group(0).strip())


def short_piece(text: str, value_at: int, value_to: int, content: set[str], coverage: Coverage) -> str:
    """Cut a long sentence to the clauses around the value (and the question's words), for a phone screen."""
    if len(text) <= SHORT_ANSWER_CHARS:
        return text
    # Clauses end at commas and semicolons, and at a colon that is not inside a time (20：00).
    bounds = [0] + [m.end() for m in re.finditer(r"[，,；;]|[：:](?!\d)", text)] + [len(text)]
    clauses = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i + 1] > bounds[i]]
    home = next((i for i, (a, b) in enumerate(clauses) if a <= value_at < b), 0)
    lo = hi = home
    while True:
        grown = False
        for j in (lo - 1, hi + 1):
            if 0 <= j < len(clauses):
                a, b = clauses[j]
                wanted = j == home - 1 or (content and coverage(content, text[a:b]) > 0)
                width = clauses[max(hi, j)][1] - clauses[min(lo, j)][0]
                if wanted and width <= SHORT_ANSWER_CHARS:
                    lo, hi = min(lo, j), max(hi, j)
                    grown = True
        if not grown:
            break
    end = max(clauses[hi][1], min(len(text), value_to))
    piece = text[clauses[lo][0] : end].strip(" ，,；;")
    return piece if len(piece) <= SHORT_ANSWER_CHARS + 40 else piece[:SHORT_ANSWER_CHARS] + "…"
