"""A small, notice-independent vocabulary of how applicants ask, mapped to how notices write.

Nothing here names a task, date or contact of any notice: it is the genre's general vocabulary
(deadline, materials, contact, platform ...), in colloquial Chinese and in English, used to expand
queries and to recognise intents.
"""

from __future__ import annotations

import re

# Applicant wording (Simplified after normalisation, or lower-case English) -> notice wording.
COLLOQUIAL: dict[str, str] = {
    "啥时候": "截止时间",
    "什么时候": "截止时间",
    "几号": "截止日期",
    "哪天": "截止日期",
    "最晚": "截止",
    "截至": "截止",
    "找谁": "联系人 联系方式",
    "问谁": "联系人 联系方式",
    "电话": "联系电话",
    "交啥": "申报材料",
    "交什么": "申报材料",
    "准备什么": "申报材料",
    "准备啥": "申报材料",
    "要啥": "申报材料",
    "什么材料": "申报材料",
    "哪些材料": "申报材料",
    "在哪填": "申报方式 平台 填报",
    "在哪报": "申报方式 平台",
    "怎么报": "申报方式",
    "怎么交": "申报方式 报送",
    "怎么提交": "申报方式 报送",
    "怎么申报": "申报方式",
    "如何申报": "申报方式",
    "网址": "平台 系统 http",
    "账号": "账号 平台",
    "能报": "申报对象",
    "可以报": "申报对象",
    "能申报": "申报对象",
    "谁能": "申报对象",
    "哪些单位": "申报对象",
    "文号": "文号 号",
    "多少个": "个左右",
}

# English words and phrases -> Chinese notice wording. Longest phrases are matched first.
ENGLISH: dict[str, str] = {
    "deadline": "截止时间",
    "due": "截止时间",
    "closing date": "截止日期",
    "when": "时间",
    "window": "时间",
    "materials": "申报材料",
    "documents": "材料",
    "required": "材料",
    "submit": "报送 申报方式",
    "submitted": "报送 申报方式",
    "send": "报送",
    "submission": "报送 申报方式",
    "how to apply": "申报方式",
    "platform": "平台 系统",
    "system": "系统",
    "url": "平台 http",
    "website": "平台 http",
    "account": "账号",
    "email": "邮件 邮箱",
    "e-mail": "邮件 邮箱",
    "contact": "联系人 联系方式",
    "contact person": "联系人",
    "phone": "联系电话",
    "who can apply": "申报对象",
    "eligible": "申报对象",
    "eligibility": "申报对象 条件",
    "apply": "申报",
    "application": "申报",
    "community": "社区",
    "city": "城市",
    "county": "县域",
    "non-degree": "非学历",
    "learning": "学习",
    "centre": "中心",
    "center": "中心",
    "education": "教育",
    "continuing": "继续",
    "teaching": "教学",
    "construction": "建设",
    "build": "建设",
    "building": "建设",
    "promote": "推进",
    "new era": "新时代",
    "school": "学校",
    "schools": "学校",
    "national": "全国",
    "network": "网络",
    "member": "成员",
    "typical": "典型",
    "recommend": "推介",
    "cultivate": "培育",
    "path": "路径",
    "explore": "探索",
    "collaborative": "协同",
    "coordination": "统筹",
    "degree": "学历",
    "academic": "学历",
    "continuing education": "继续教育",
    "vocational": "职业",
    "higher vocational": "高等职业学校",
    "secondary vocational": "中职学校 中等职业学校",
    "open university": "开放大学",
    "undergraduate": "本科高校",
    "university": "高校",
    "universities": "高校",
    "college": "高校",
    "adult": "成人高校",
    "prefecture-level": "地级市",
    "prefecture": "地级市",
    "ministry": "教育部",
    "moe": "教育部",
    "ministry of education": "教育部",
    "province": "省",
    "provincial": "省级 省",
    "department": "处 厅",
    "document number": "文号",
    "issued": "印发",
    "issuer": "发文",
    "cases": "案例",
    "case": "案例",
    "how many": "多少 个左右",
    "coverage": "覆盖",
    "cover": "覆盖",
    "each year": "每年",
    "annual": "每年",
    "every year": "每年",
    "self-assessment": "自评",
    "performance data": "绩效数据",
    "report": "报告",
    "reform": "改革",
    "innovation": "创新",
    "integration": "统筹",
    "courses": "课程",
    "brand": "品牌",
    "pilot": "试点 试办",
    "requirements": "要求",
    "attachment": "附件",
    "funding": "资金",
    "money": "资金",
}

_ENGLISH_KEYS = sorted(ENGLISH, key=len, reverse=True)


def expand_query(normalized: str) -> str:
    """Append notice wording for the colloquial and English words a (normalised) query uses."""
    extra: list[str] = []
    for word, expansion in COLLOQUIAL.items():
        if word in normalized:
            extra.append(expansion)
    if re.search(r"[a-z]{2,}", normalized):
        rest = f" {normalized} "
        for phrase in _ENGLISH_KEYS:
            pattern = rf"(?<![a-z]){re.escape(phrase)}(?![a-z])"
            if re.search(pattern, rest):
                extra.append(ENGLISH[phrase])
                rest = re.sub(pattern, " ", rest)
    return normalized if not extra else f"{normalized} {' '.join(extra)}"
