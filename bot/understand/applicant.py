"""Who is asking: the kind of applicant a question says it is, by name or by self-introduction."""

from __future__ import annotations

import re

from bot.understand.intents import contains
from retrieval.normalize import CJK_CLASS

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


def find_applicant(normalized: str) -> tuple[str | None, tuple[str, ...]]:
    """Return the kind of applicant a question says it is (and its aliases), or (None, ())."""
    best: tuple[int, str, tuple[str, ...]] | None = None
    for kind, aliases in APPLICANT_TYPES.items():
        for alias in aliases:
            if contains(normalized, alias):
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
