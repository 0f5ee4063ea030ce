"""What a question asks for, finely: the kind of fact (when, where, which system, how much, how many,
whom to contact, what materials, how, who may) and the fact kinds that answer it.

These are the genre's question words, not any notice's content.
"""

from __future__ import annotations

import re

# What a question asks for, in the order a question's words are tried; each maps to the fact kinds
# that can answer it, best first. These are the genre's question words, not any notice's content.
ASKED: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = [
    (
        "contact",
        re.compile(
            r"联系人|联系方式|联系电话|电话|邮箱|找谁|问谁|咨询谁|找哪个老师|联系谁|打给谁|打谁|洽询|联络|联路|信箱|"
            r"咨询(?=电|方式|热线|$|[?？])|qq群|微信群|群号|电话几号|电话多少|号码多少|电话是多少|"
            r"\bcontact|\bphone|e-?mail|\bwho should i (?:ask|call)|\bwhom\b"
        ),
        ("contact",),
    ),
    (
        "money",
        re.compile(
            r"多少钱|费用|收费|缴费|金额|奖金|报酬|工资|薪酬|薪资|时薪|补助多少|补贴多少|资助多少|奖励多少|多少元|几块|"
            r"领多少|拿多少|给多少|补多少|发多少|多少万|审查费|报名费|补贴|津贴|工资|报酬|薪酬|"
            r"交费|付费|自费|要钱|花钱|自己出|免费|路费|住宿费|"
            r"\bhow much\b|\bfee|\bcost|\bpay\b|\bpaid\b|salary|stipend|\bamount|\bwage"
        ),
        ("money",),
    ),
    (
        "link",
        re.compile(
            r"链接|网址|网站|官网|网页|全文|在哪里?(?:看|查看|查询|查|下载|获取|浏览)|哪里(?:看|查看|查询|查|下载)|"
            r"\blink\b|\burl\b|website|web page|where (?:can|do) i (?:read|see|find|download)"
        ),
        ("url", "system"),
    ),
    (
        "system",
        re.compile(
            r"哪个系统|什么系统|哪个平台|什么平台|在哪(?:个)?(?:系统|平台|网站)|"
            r"在哪里?(?:报名|申请|提交|填报|登记|上传)|哪里(?:报名|申请|提交|填报|登记)|怎么报名|"
            r"\bsystem\b|platform|where (?:do|can|should) i (?:apply|register|sign up|submit)"
        ),
        ("url", "system", "place"),
    ),
    (
        "account",
        re.compile(
            r"账户|账号|帐号|帐户|帳號|帳戶|(?:打|转|汇|匯|轉)(?:钱|款|賬|账)?(?:到|至)哪|开户行|开户银行|開戶|"
            r"bank account|account number|which account"
        ),
        ("account",),
    ),
    (
        "place",
        re.compile(
            r"在哪里|在哪儿|在哪|哪里|地点|地址|哪儿|什么地方|哪个教室|哪栋|几楼|(?:送|交|寄|递|发|投)(?:到|至)哪|"
            r"\bwhere\b|venue|location|room"
        ),
        ("place", "system", "url"),
    ),
    (
        "date",
        re.compile(
            r"哪几天|哪几日|哪些天|几号到几号|什么时候|啥时候|几号|哪天|何时|截止|几点|时间|日期|几月|最晚|开始|结束|公示|放假|"
            r"\bwhen\b|deadline|\bdue\b|what time|what date|\bdate\b|\bstart|\bend\b"
        ),
        ("date",),
    ),
    (
        "limit",
        re.compile(
            r"多少(?:人|名|个|门|项|篇|分|学分|天|支|队)|几(?:个|名|人|门|项|篇|支|队|天|次)|名额|比例|上限|下限|"
            r"不超过|最多|至少|分数线|绩点|排名|前百分之|几封|几份|几年|几家|几案|多久|多长时间|how long|"
            r"\bhow many\b|quota|\blimit|maximum|minimum|percent"
        ),
        ("limit", "money"),
    ),
    (
        "materials",
        re.compile(
            r"材料|资料|文件|交什么|交啥|准备什么|准备啥|需要提交|要提交|证明|附件|表格|带什么|附什么|"
            r"materials|documents|paperwork"
        ),
        ("materials",),
    ),
    (
        "audience",
        re.compile(
            r"谁可以|谁能|哪些人|什么人|对象|面向|资格|条件|要求|\bwho can\b|eligib|qualif|requirement"
        ),
        ("audience", "limit"),
    ),
    (
        "steps",
        re.compile(r"怎么|如何|流程|步骤|程序|咋|怎样|\bhow (?:do|to|can|should)\b|procedure|process"),
        ("steps", "system", "url"),
    ),
    # A bare '多少' or '几' asks for a number of some kind: weaker than any cue above.
    ("limit", re.compile(r"多少|几"), ("limit", "money")),
]
# Verbs of the events notices date: what a 'when' question is about, kept as the question's own words.
PREDICATES = re.compile(
    r"开始|结束|公示|放假|报名|提交|开放|举办|举行|考试|面试|复试|缴费|评审|答辩|开课|选课|报到|考核|"
    r"申请|录取|公布|发布|出结果|评选|推荐|上传|确认|开营|收件|受理"
)
PREDICATE_WORDS = frozenset(PREDICATES.pattern.split("|"))
# The ways notices say "hand in", "take place": asked with another word ('收件' for '受理', '开始'
# for a lecture's time) it is still the event the notice dates.
GENERIC_VERBS = re.compile(
    r"报名|提交|申请|收件|受理|上传|报送|递交|送交|登记|填报|开始|举行|举办|进行|召开|结束|开"
)
# Nouns that name the kind of fact asked ('哪个教室', '带什么证件'), not what it is about.
KIND_NOUNS = re.compile(
    r"教室|房间|地方|位置|证件|东西|资料|文件|人数|名额|费用|时间|日期|电话|号码|邮箱|网址|链接|网站|系统|平台|账户|账号|"
    r"要求|条件|问题|情况|具体|安排|方式|流程|一个|一个月|每个|包括"
)
# "Can I still apply?" is answered by the deadline against today.
STILL_OPEN = re.compile(r"还能|还可以|还来得及|来得及|现在能|现在可以|still")
CLOSED_YET = re.compile(r"截止了吗|截止了没|结束了吗|过期了吗|过了吗|closed yet|is it closed")


def asked_parts(normalized: str) -> list[str]:
    """The parts of a question that each ask for something ('在哪？几点' -> ['在哪', '几点'])."""
    parts = [p for p in re.split(r"[？?，,；;]", normalized) if p.strip()]
    asking = [p for p in parts if asked_kinds(p)[0]]
    if any(asked_kinds(p)[0] in ("money", "limit") and not _bare_number(p) for p in asking):
        # '有补贴吗？每月多少': the bare '多少' asks the amount the other part names.
        asking = [p for p in asking if not _bare_number(p)]
    return asking if len(asking) > 1 and len({asked_kinds(p)[0] for p in asking}) > 1 else [normalized]


def _bare_number(part: str) -> bool:
    """Tell whether a part asks only '多少' / '几' of nothing it names."""
    return (
        all(not pattern.search(part) for name, pattern, _kinds in ASKED[:-1])
        and ASKED[-1][1].search(part) is not None
    )


def asked_kinds(normalized: str) -> tuple[str, list[str]]:
    """Return what a question asks ('date', 'place', …) and the fact kinds that answer it, or ('', [])."""
    best: tuple[int, str, tuple[str, ...]] | None = None
    for rank, (name, pattern, kinds) in enumerate(ASKED):
        matches = list(pattern.finditer(normalized))
        if matches:
            m = matches[-1]
            # The cue nearest the end of a question is usually what it asks ('报名截止后在哪查结果');
            # the bare number cue only when nothing else is asked.
            weak = 100 if rank == len(ASKED) - 1 else 0
            candidate = (len(normalized) - m.end() + weak, name, kinds)
            if best is None or candidate[0] < best[0]:
                best = candidate
    if best is None:
        return "", []
    return best[1], list(best[2])


def kinds_of(asked: str) -> list[str]:
    """The fact kinds that answer a kind of question ('date' -> ['date'])."""
    return next((list(kinds) for name, _pattern, kinds in ASKED if name == asked), [])
