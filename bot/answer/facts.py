"""Which stated fact of one notice answers a question, and a piece of its sentence short enough to show.

A question asks for a kind of fact (bot.understand.asked). Among the facts of that kind in the
resolved notice, the one whose sentence (and section) holds the question's own words answers it;
when none does, the notice is silent on it. Pure functions over plain data: the caller composes and cites.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from retrieval.entities import find_dates
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


def pick_confidence(pick: FactPick) -> float:
    """The confidence of an answer from a picked fact: higher the more of the question it holds."""
    return round(min(1.0, 0.5 + 0.5 * pick.cover), 3)


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
