"""Facts in running text: what each sentence of a notice states, typed, with its verbatim span.

Most notices have no table: their dates, places, systems, amounts, limits, target groups, materials
and contacts sit in sentences. Each fact keeps the sentence it is stated in (`start`, `end`), the
value's own span inside it, and the section path, so an answer can pick the fact of the asked kind
whose sentence fits the question, and cite exactly what the notice says. The patterns describe how
notices are written in general; nothing here names a particular notice.
"""

from __future__ import annotations

import re
from typing import Any

from retrieval.chunking import split_sentences
from retrieval.entities import EMAIL, PHONE, URL, find_dates
from retrieval.model import Document, Fact
from retrieval.normalize import to_simplified

_PLACE_LABEL = re.compile(
    r"(?:地点|地址|地點|场地|会场|考场|报到处|集合地点|报告地点|举办地点)\s*[:：]\s*(?P<v>[^，。；;\n\s]{2,40})"
)
_PLACE_VERB = re.compile(
    r"(?:在|于|到|至|送至|交至|提交至|递交至|报送至|送到|交到)(?P<v>[\u4e00-\u9fffA-Za-z0-9（）()·\-]{2,30}?"
    r"(?:楼|馆|厅|室|中心|大厦|校区|会议室|办公室|报告厅|教室|礼堂|广场|宾馆|酒店)(?:[A-Za-z]?\d{1,4}(?:室|房间)?)?)"
)
_ROOM = re.compile(
    r"(?<![A-Za-z0-9\-/.])(?:[\u4e00-\u9fff]{1,10}(?:楼|馆|区|座)[A-Z]?\d{2,4}|[A-Z]\d{3,4}|\d{3,4}(?=室|教室|会议室))"
    r"(?:室|教室|会议室)?(?![\d年月日号:：%元\-/.])"
)
_SYSTEM = re.compile(
    r"[“\"「《]?(?P<v>[\u4e00-\u9fffA-Za-z0-9\-—·]{2,30}?(?:系统|平台|网站|官网|小程序|公众号|门户|办事大厅|网上报名|问卷|表单))[”\"」》]?"
)
_MONEY = re.compile(
    r"(?:人民币|新台币)?\d[\d,，.]*\s*(?:万元|元|万|亿元|块)(?:\s*/\s*(?:人|小时|月|年|次|天|项|队|篇|门))?"
    r"|[一二三四五六七八九十百千两]+(?:万元|千元|百元|元)"
)
# What a thing costs when the notice gives no amount: free of charge, or at one's own expense.
_NO_CHARGE = re.compile(
    r"免费|免收[^，。；]{0,6}费|不收取[^，。；]{0,8}费用?|不收费|无需(?:缴|交|支付)[^，。；]{0,4}费|"
    r"(?:费用|食宿|住宿|交通费?|路费)[^，。；]{0,8}?自理|自行(?:承担|负担)[^，。；]{0,6}费用?|费用由[^，。；]{1,12}承担|自费"
)
_UNITS = r"(?:%|％|个工作日|個工作日|工作日|个月|個月|名|人|个|個|项|項|门|門|篇|次|页|頁|字|分|学分|學分|支|队|隊|位|所|家|件|本|份|周|週|小时|小時|天|日(?=内|內|以内|以內|之内|之內)|年|岁|歲|封|案|式|班|期)"
_LIMIT = re.compile(
    r"(?:不超过|不超過|不多于|不少于|不低于|不高于|至少|最多|最少|最长|最長|限|共|前|原则上|每[人队组项位名个案]?)?\s*"
    rf"(?<![\d.年月])\d+(?:\.\d+)?\s*{_UNITS}(?![\d月])"
    rf"|(?:不超过|不超過|不少于|至少|最多|最长|最長|限|共|每|一式|以)?\s*[一二两兩三四五六七八九十百]+\s*{_UNITS}(?![月\d])"
)
_ADDRESS = re.compile(
    r"(?:[\u4e00-\u9fff]{2,3}[市县縣])?(?:[\u4e00-\u9fff]{1,3}[区區])?[\u4e00-\u9fff]{1,6}(?:路|街|大道)"
    r"(?:[一二三四五六七八九十\d]+段)?(?:[\d一二三四五六七八九十]+[巷弄])?[\d一二三四五六七八九十之]+[号號]"
    r"(?:[\d一二三四五六七八九十]+[楼樓F层層])?(?:[\d一二三四五六七八九十]+室)?"
    r"|[\d]+(?:附\d+)?[号號]?信箱"
)
_AUDIENCE = re.compile(
    r"(?:面向|凡是?|招募对象|招聘对象|申请对象|申报对象|参评对象|测评对象|评选范围|报名对象|参赛对象|适用对象|对象为|对象是|范围为)"
    r"|(?:均可|可以|可)(?:申请|申报|报名|参加|参评|参赛)"
)
_MATERIALS = re.compile(
    r"材料|資料|申請書|計畫書|申请表|推荐表|登记表|证明|复印件|扫描件|成绩单|简历|证书|身份证|学生证|照片|附件|PDF|pdf|word|Word|电子版|纸质版"
)
_MATERIAL_VERB = re.compile(r"提交|提供|上传|携带|附|报送|交|填写|准备|发送")
_LABELLED_NUMBER = re.compile(
    r"(?:电话|热线|手机|联系方式|咨询电话|qq群号?|QQ群号?|QQ|微信群号?|群号)\s*[:：]?\s*(?P<n>\d{5,12})(?![\d\-])"
)
# A bank account to pay into: '收款人账号：576857528447', '帳號：0123-456-789'.
_ACCOUNT = re.compile(
    r"(?:收款人?|收款單位|收款单位|汇款|匯款|銀行|银行|转账|轉帳)?(?:账号|帐号|账户|帐户|帳號|帳戶)\s*[:：]?\s*"
    r"(?P<n>\d[\d\s\-]{5,30}\d)"
)
_PLACE_EVENT = re.compile(r"(?:在|于)(?P<v>[\u4e00-\u9fff]{2,12}?)(?:举办|举行|召开|进行|开展)")
_METADATA_LINE = re.compile(
    r"^\s*(?:发文字号|发布机关|发文机关|发文日期|发布日期|发布时间|来源|作者|浏览次数|点击)\s*[:：]"
)
_STEPS_SECTION = re.compile(
    r"流程|程序|步骤|(?:报名|申请|申报|提交|参与|参加|选聘|评选|推荐)(?:方式|办法|流程|程序)|办理"
)
_AUDIENCE_SECTION = re.compile(r"对象|条件|范围|资格|要求|對象|條件|資格")
_MATERIALS_SECTION = re.compile(r"材料|附件")


def extract_facts(doc: Document, *, default_year: int | None = None) -> list[Fact]:
    """Return every typed fact stated in the document's running text (table rows are records).

    `default_year` dates a day written without its year (9月20日), as the notice's own date does.
    """
    in_table = [(r.start, r.end) for r in doc.records] + [
        (t.row_spans[0][0], t.row_spans[-1][1]) for t in doc.tables if t.row_spans
    ]
    headings = {s.title for s in doc.sections} | {p.title for p in doc.parts}
    facts: list[Fact] = []
    for start, end in split_sentences(doc.text):
        if any(s <= start < e for s, e in in_table) or doc.text[start:end] in headings:
            continue
        sentence = doc.text[start:end]
        section = _section_path(doc, start)
        facts.extend(_sentence_facts(sentence, start, end, section, default_year))
    return facts


def _sentence_facts(
    original: str, start: int, end: int, section: str, default_year: int | None
) -> list[Fact]:
    # The patterns are written in Simplified Chinese; a Traditional sentence is read through its
    # Simplified twin (the same length, character for character), and values are cut from the original.
    probe = to_simplified(original)
    sentence = probe if len(probe) == len(original) else original
    heading_probe = to_simplified(section)
    found: list[Fact] = []

    def add(kind: str, value: Any, at: int, to: int, inferred: bool = False) -> None:
        if isinstance(value, str) and to - at == len(value):
            value = original[at:to]
        elif isinstance(value, str) and value == sentence:
            value = original
        found.append(Fact(kind, original, value, section, start, end, start + at, start + to, inferred))

    dates = find_dates(sentence, default_year=default_year)
    if _METADATA_LINE.match(sentence):
        # A page's own data (发文字号, 发布日期 …): its date, and nothing an applicant asks about.
        for entity in dates[:1]:
            add("date", {"kind": entity.kind, **entity.value}, entity.start, entity.end)
        return found
    # A date alone on its line is the notice's own date (a signature), not an event it announces.
    alone = len(dates) == 1 and len(sentence.strip()) <= len(dates[0].text) + 2
    for entity in [] if alone else dates:
        if entity.kind in ("date", "date_range", "recurring_date", "time"):
            add("date", {"kind": entity.kind, **entity.value}, entity.start, entity.end)
    urls = list(URL.finditer(sentence))
    for m in urls:
        add("url", m.group(0), m.start(), m.end())
    for m in _SYSTEM.finditer(sentence):
        if not any(u.start() <= m.start() < u.end() for u in urls):
            add("system", m["v"], m.start("v"), m.end("v"))
    places = [(m.group(0), m.start(), m.end()) for m in _ADDRESS.finditer(sentence)]
    places += [(m["v"], m.start("v"), m.end("v")) for m in _PLACE_LABEL.finditer(sentence)]
    places += [(m["v"], m.start("v"), m.end("v")) for m in _PLACE_VERB.finditer(sentence)]
    places += [
        (m["v"], m.start("v"), m.end("v"))
        for m in _PLACE_EVENT.finditer(sentence)
        if not re.search(r"[年月日时期间周]", m["v"])  # 于5月20日举行 is a date, not a place
    ]
    for m in _ROOM.finditer(sentence):
        if not PHONE.search(sentence[max(0, m.start() - 4) : m.end() + 4]):
            places.append((m.group(0), m.start(), m.end()))
    seen: set[tuple[int, int]] = set()
    for value, at, to in places:
        if not any(a <= at < b for a, b in seen):
            seen.add((at, to))
            add("place", value, at, to)
    for m in _MONEY.finditer(sentence):
        add("money", m.group(0), m.start(), m.end())
    for m in _NO_CHARGE.finditer(sentence):
        add("money", m.group(0), m.start(), m.end())  # '免费', '费用自理': what it costs, without a number
    for m in _LIMIT.finditer(sentence):
        if not re.fullmatch(r"\s*\d{4}\s*年?", m.group(0)):
            add("limit", m.group(0), m.start(), m.end())
    phones = list(PHONE.finditer(sentence))
    # A local number without its area code counts where a label says it is a phone (电话：87228331);
    # a QQ or WeChat group number is how many notices are contacted.
    phones += [
        m
        for m in _LABELLED_NUMBER.finditer(sentence)
        if not any(p.start() <= m.start() < p.end() for p in phones)
    ]
    emails = list(EMAIL.finditer(sentence))
    for m in phones + emails:
        # Which person a number belongs to is a guess when the sentence names several of each.
        at, to = (m.start("n"), m.end("n")) if "n" in m.re.groupindex else (m.start(), m.end())
        add("contact", sentence[at:to], at, to, inferred=len(phones) + len(emails) > 1)
    for m in _ACCOUNT.finditer(sentence):
        add("account", m["n"], m.start("n"), m.end("n"))
    heading = heading_probe.rsplit(" › ", 1)[-1]
    m_aud = _AUDIENCE.search(sentence)
    if m_aud:
        add("audience", sentence, m_aud.start(), len(sentence))
    elif _AUDIENCE_SECTION.search(heading):
        add("audience", sentence, 0, len(sentence))
    if (
        re.match(r"^[\u4e00-\u9fff]{0,6}(?:材料|资料|資料|文件)\s*[:：]", sentence)
        or _MATERIALS.search(sentence)
        and (_MATERIAL_VERB.search(sentence) or _MATERIALS_SECTION.search(heading_probe))
        or _MATERIALS_SECTION.search(heading)
    ):
        add("materials", sentence, 0, len(sentence))
    if _STEPS_SECTION.search(heading):
        add("steps", sentence, 0, len(sentence))
    return found


def _section_path(doc: Document, offset: int) -> str:
    best = None
    for section in doc.sections:
        if section.start <= offset < section.end and (best is None or section.start >= best.start):
            best = section
    return best.path_text if best else doc.title


def describe_fact(fact: Fact) -> dict[str, Any]:
    """The fact as `applybot inspect --json` prints it."""
    return {
        "kind": fact.kind,
        "text": fact.text,
        "value": fact.value,
        "section": fact.section,
        "start": fact.start,
        "end": fact.end,
        "inferred": fact.inferred,
    }
