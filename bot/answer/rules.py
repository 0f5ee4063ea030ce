"""Yes or no from a notice's rules: the sentences that allow or forbid, against what the asker says
(a number against a limit, the group they belong to, a condition they lack)."""

from __future__ import annotations

import re

from bot.answer.facts import Coverage
from retrieval.chunking import split_sentences
from retrieval.entities import chinese_number
from retrieval.model import Document

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
