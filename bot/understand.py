"""Understand a question: its language, what it asks (intents), which task, and who is asking.

The vocabularies here describe how applicants ask in general (the genre), never what a particular
notice says: tasks and eligibility are matched against the knowledge base's own records.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from retrieval.lexicon import expand_query
from retrieval.normalize import CJK_CLASS, has_cjk, is_traditional, normalize_for_search

INTENT_WORDS: dict[str, tuple[str, ...]] = {
    "deadline": (
        "截止",
        "什么时候",
        "啥时候",
        "何时",
        "几号",
        "哪天",
        "期限",
        "最晚",
        "几月",
        "来得及",
        "过期",
        "晚了",
        "deadline",
        "due",
        "when",
        "closing",
        "时间节点",
        "还能报",
        "还能申报",
        "日期",
        "按哪个",
        "以哪个为准",
        "为准",
        "还能交",
        "来不来得及",
        "时限",
        "几点",
        "还剩几天",
        "剩几天",
        "还有几天",
        "多少天",
        "多久",
        "截止时间",
        "how long",
        "days left",
    ),
    "eligibility": (
        "谁可以",
        "谁能",
        "能不能",
        "可不可以",
        "可以申报",
        "能申报",
        "能报",
        "可以报",
        "申报对象",
        "申报条件",
        "资格",
        "哪些单位",
        "什么单位",
        "哪类",
        "能否",
        "是否可以",
        "符合",
        "条件",
        "eligible",
        "eligibility",
        "who can",
        "can we",
        "can i",
        "can a",
        "can an",
        "allowed",
        "qualify",
        "有资格",
    ),
    "materials": (
        "材料",
        "交什么",
        "交啥",
        "准备什么",
        "准备啥",
        "提交什么",
        "要交",
        "申请表",
        "表格",
        "要啥",
        "什么东西",
        "materials",
        "documents",
        "what to submit",
        "what do we need",
        "paperwork",
        "需要提交",
    ),
    "method": (
        "怎么报",
        "怎么交",
        "如何申报",
        "怎么申报",
        "如何提交",
        "怎么提交",
        "方式",
        "平台",
        "系统",
        "网址",
        "账号",
        "在哪",
        "哪里报",
        "哪里交",
        "途径",
        "渠道",
        "链接",
        "how to",
        "how do",
        "platform",
        "account",
        "website",
        "url",
        "link",
        "submit",
        "where",
        "报送",
        "填报",
    ),
    "contact": (
        "联系人",
        "联系",
        "电话",
        "找谁",
        "问谁",
        "咨询",
        "邮箱",
        "号码",
        "contact",
        "phone",
        "call",
        "email",
        "e-mail",
        "who should",
        "who do",
        "whom",
    ),
    "quantity": (
        "多少个",
        "几个",
        "多少项",
        "多少门",
        "多少",
        "数量",
        "覆盖",
        "比例",
        "名额",
        "几项",
        "几门",
        "最多",
        "至少",
        "不超过",
        "how many",
        "how much",
        "percentage",
        "percent",
        "number of",
        "share",
    ),
    "doc_facts": (
        "文号",
        "发文",
        "哪个部门发",
        "谁发",
        "印发",
        "成文",
        "落款",
        "发文机关",
        "哪天发",
        "什么时候发",
        "document number",
        "issued",
        "issuer",
        "who published",
        "附件",
        "attachment",
        "发给",
        "主送",
        "下发给",
        "哪些单位收",
    ),
    "list_tasks": (
        "哪些任务",
        "有哪些",
        "几项任务",
        "任务列表",
        "都有啥",
        "都有什么",
        "哪几个",
        "哪几项",
        "几个任务",
        "所有任务",
        "what tasks",
        "which tasks",
        "list of tasks",
        "list the tasks",
        "all tasks",
        "哪些项目",
        "能报哪些",
        "可以报哪些",
        "可以申报哪些",
        "能申报哪些",
        "which ones",
        "what can we apply",
        "分别",
        "各任务",
        "各项任务",
        "每个任务",
        "哪个任务",
        "列一下",
        "列出",
        "列举",
        "一共几",
        "总共几",
    ),
    "human": (
        "人工",
        "真人",
        "工作人员",
        "客服",
        "转人工",
        "找个人",
        "human",
        "real person",
        "talk to someone",
        "speak to",
        "staff member",
        "agent",
    ),
    "service_request": (
        "帮我写",
        "代写",
        "帮写",
        "写一份",
        "写个",
        "替我写",
        "帮我填",
        "代填",
        "帮我做",
        "write my",
        "write an",
        "write a",
        "draft my",
        "draft a",
        "fill in the form for",
    ),
    "money": (
        "经费",
        "资金",
        "多少钱",
        "金额",
        "资助金额",
        "资助经费",
        "资助多少钱",
        "补贴",
        "奖励",
        "拨款",
        "funding",
        "money",
        "budget",
        "grant amount",
    ),
}
STRUCTURED_INTENTS = ("deadline", "eligibility", "materials", "method", "contact")

# Kinds of applicant, with the ways people name them. Matched against each record's eligibility text.
APPLICANT_TYPES: dict[str, tuple[str, ...]] = {
    "开放大学": ("开放大学", "电大", "广播电视大学", "广播电视台大学", "open university"),
    "高等职业学校": (
        "高职",
        "高等职业学校",
        "高等职业院校",
        "职业技术学院",
        "高专",
        "higher vocational",
        "vocational college",
    ),
    "中等职业学校": (
        "中职",
        "中等职业学校",
        "中专",
        "职教中心",
        "技工学校",
        "secondary vocational",
        "vocational school",
    ),
    "普通本科高校": ("本科", "普通本科高校", "本科院校", "本科高校", "undergraduate"),
    "成人高校": ("成人高校", "成人高等学校", "成人学校", "adult college", "adult higher"),
    "地级市": ("地级市", "地市", "市政府", "市级", "prefecture", "city government"),
    "普通高校": ("普通高校", "高等院校", "高校", "大学", "university", "universities"),
    "老年大学": ("老年大学", "university for the elderly"),
    "科研机构": ("科研机构", "研究所", "research institute"),
    "企业": ("企业", "公司", "company", "enterprise"),
    "个人": ("个人", "本人", "individual", "myself"),
    "教师": ("教师", "老师", "青年教师", "teacher", "lecturer"),
    "博士后": ("博士后", "postdoc"),
    "学生": ("学生", "研究生", "博士生", "student"),
}
_SELF_INTRO = re.compile(
    r"(?:我们是|我是|我们|本单位是|我单位是|作为)(?:一[所家个名位])?(?P<who>[^，,。？?！!\s]{2,10}?)(?:的|，|,|。|？|\?|能|可以|可不可以|想|要|只|已|有|在|$)"
)


@dataclass
class Understanding:
    """What a question asks, in plain data."""

    question: str
    normalized: str
    expanded: str
    language: str  # zh-Hans | zh-Hant | en
    intents: list[str] = field(default_factory=list)
    applicant: str | None = None
    applicant_aliases: tuple[str, ...] = ()
    yes_no: bool = False


def detect_language(text: str) -> str:
    """Return 'en' for a question mostly in English words, 'zh-Hant' for Traditional characters, else 'zh-Hans'."""
    text = re.sub(r"<[^<>]*>", " ", text)  # markup in a question says nothing about its language
    english_words = re.findall(r"[A-Za-z]{2,}", text)
    cjk = re.findall(f"[{CJK_CLASS}]", text)
    # A quoted Chinese task name inside an English sentence keeps the question English.
    if english_words and (not has_cjk(text) or len(english_words) >= 3 and len(english_words) * 2 > len(cjk)):
        return "en"
    return "zh-Hant" if is_traditional(text) else "zh-Hans"


def detect_intents(normalized: str) -> list[str]:
    """Return the intents a question names, strongest first (by the longest cue word found)."""
    found: list[tuple[int, int, str]] = []
    for intent, words in INTENT_WORDS.items():
        hits = [w for w in words if _contains(normalized, w)]
        if hits:
            first = min(normalized.find(w) for w in hits)
            found.append((-max(len(w) for w in hits), first, intent))
    found.sort()
    intents = [intent for _, _, intent in found]
    # "可以申报哪些" is a list question, not a yes/no one, unless a task is also named (decided later).
    return intents


def _contains(text: str, word: str) -> bool:
    pattern = _whole_word(word)
    return pattern.search(text) is not None if pattern else word in text


@lru_cache(maxsize=4096)
def _whole_word(word: str) -> re.Pattern[str] | None:
    """An English cue word matches whole words only ('cost' is not in 'costume'); others match anywhere."""
    if re.fullmatch(r"[a-z][a-z \-]*", word):
        return re.compile(rf"(?<![a-z]){re.escape(word)}(?![a-z])")
    return None


def find_applicant(normalized: str) -> tuple[str | None, tuple[str, ...]]:
    """Return the kind of applicant a question says it is (and its aliases), or (None, ())."""
    best: tuple[int, str, tuple[str, ...]] | None = None
    for kind, aliases in APPLICANT_TYPES.items():
        for alias in aliases:
            if _contains(normalized, alias):
                position = normalized.find(alias)
                candidate = (len(alias) * 100 - position, kind, aliases)
                if best is None or candidate[0] > best[0]:
                    best = candidate
    if best:
        return best[1], best[2]
    m = _SELF_INTRO.search(normalized)
    if m and re.search(f"[{CJK_CLASS}]", m["who"]):
        who = m["who"]
        return who, (who,)
    return None, ()


_YES_NO = re.compile(
    r"(可以|能|能否|可否|是否|允许|可不可以|能不能|还能|要不要|需不需要|需要|算|有).*[吗么嘛]|能否|可否|是否|可不可以|能不能|是不是"
    r"|^(can|may|is|are|do|does|should|must)\b"
)
_CAN_APPLY = re.compile(r"(可以|能|能否|可否|允许|有资格).{0,12}(申报|报|申请)|(申报|申请).{0,6}(吗|么|不)")


def understand(question: str) -> Understanding:
    """Read a question into intents, language and applicant type."""
    normalized = normalize_for_search(question)
    expanded = expand_query(normalized)
    applicant, aliases = find_applicant(normalized)
    intents = detect_intents(normalized)
    if applicant and "eligibility" not in intents and _CAN_APPLY.search(normalized):
        intents.append("eligibility")  # "社区教育精品课程可以由开放大学申报吗" is a yes/no question
    return Understanding(
        question=question,
        normalized=normalized,
        expanded=expanded,
        language=detect_language(question),
        intents=intents,
        yes_no=_YES_NO.search(normalized) is not None,
        applicant=applicant,
        applicant_aliases=aliases,
    )


def bigrams(text: str) -> set[str]:
    """Character bigrams of every Chinese run, plus lower-case words (for name matching)."""
    norm = normalize_for_search(text)
    grams: set[str] = set()
    for run in re.findall(f"[{CJK_CLASS}]+", norm):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    grams.update(re.findall(r"[a-z0-9]{2,}", norm))
    return grams


class TaskMatcher:
    """Resolve the task a question is about against task names, tolerating partial names and typos.

    Each task name is scored by the idf-weighted share of its character bigrams found in the
    question; bigrams common to many names (建设, 推进) weigh little, distinctive ones decide.
    """

    def __init__(self, names: list[str], *, background: list[str] | None = None) -> None:
        self.names = list(dict.fromkeys(n for n in names if n))
        self._grams = {n: bigrams(n) for n in self.names}
        corpus = [self._grams[n] for n in self.names] + [bigrams(b) for b in background or []]
        df: dict[str, int] = {}
        for grams in corpus:
            for g in grams:
                df[g] = df.get(g, 0) + 1
        n = max(1, len(corpus))
        self._idf = {g: math.log(1 + n / c) for g, c in df.items()}
        self._unique_idf = math.log(1 + n)

    def scores(self, text: str) -> list[tuple[str, float]]:
        """Return (name, evidence) pairs: the summed idf of the name's bigrams found in the text."""
        q = bigrams(text)
        out = [(name, sum(self._idf[g] for g in self._grams[name] & q)) for name in self.names]
        return sorted((kv for kv in out if kv[1] > 0), key=lambda kv: -kv[1])

    def match(self, text: str) -> str | None:
        """Return the task name the text refers to, or None when no name (or no single one) fits."""
        ranked = self.scores(text)
        if not ranked:
            return None
        top = ranked[0][1]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        # Evidence is counted in units of one distinctive bigram (one found in a single name): about
        # one and a half of them clearly ahead of the next name, or more with a smaller lead.
        # Less is chance, and two names that fit about equally are not guessed between.
        clear_lead = top >= 1.3 * self._unique_idf and top > 1.6 * second
        strong = top >= 1.6 * self._unique_idf and second <= 0.8 * top
        return ranked[0][0] if clear_lead or strong else None
