"""Pure helpers that turn facts into short answer text: dates with their status, contacts, lists.

Chinese is composed in Simplified and converted to Traditional at the end when the user wrote
Traditional; quotes are never converted (they live in citations, verbatim).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from common.types import Contact


def zh_date(iso: str) -> str:
    """2023-10-08 -> 2023年10月8日."""
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def show_date(iso: str, lang: str) -> str:
    return iso if lang == "en" else zh_date(iso)


def deadline_status(iso: str, today: date, lang: str) -> str:
    """Say whether a deadline has passed or how many days remain."""
    days = (date.fromisoformat(iso) - today).days
    if lang == "en":
        if days < 0:
            return f"passed {-days} days ago"
        return "due today" if days == 0 else f"{days} days left"
    if days < 0:
        return f"已截止，已过去 {-days} 天"
    return "今天截止" if days == 0 else f"还剩 {days} 天"


def window_status(start_iso: str, end_iso: str, today: date, lang: str) -> str:
    """Say whether a date window has not opened, is open (days left), or has closed ('ended', not 'passed')."""
    start, end = date.fromisoformat(start_iso), date.fromisoformat(end_iso)
    if today < start:
        days = (start - today).days
        return f"opens in {days} days" if lang == "en" else f"尚未开始，{days} 天后开始"
    if today > end:
        return "closed" if lang == "en" else "已结束"
    return deadline_status(end_iso, today, lang)


def next_occurrence(month: int, day: int, today: date) -> date:
    """Return the next date (today included) that falls on month/day."""
    for year in (today.year, today.year + 1, today.year + 2):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 February in a common year
            continue
        if candidate >= today:
            return candidate
    return date(today.year + 1, month, min(day, 28))


def contact_line(contacts: list[Contact], lang: str) -> str:
    """One line naming people with their department, phones and e-mails, without repeating shared ones."""
    if not contacts:
        return ""
    departments = list(dict.fromkeys(c.department for c in contacts if c.department))
    names = [c.name for c in contacts if c.name]
    phones = list(dict.fromkeys(p for c in contacts if c.phone for p in c.phone.split("、")))
    emails = list(dict.fromkeys(e for c in contacts if c.email for e in c.email.split("、")))
    sep = ", " if lang == "en" else "、"
    who = " ".join(x for x in ("/".join(departments), sep.join(names)) if x)
    bits = [who] if who else []
    if phones:
        bits.append(("phone " if lang == "en" else "电话 ") + sep.join(phones))
    if emails:
        bits.append(("e-mail " if lang == "en" else "邮箱 ") + sep.join(emails))
    return ("; " if lang == "en" else "，").join(bits)


def contacts_out(contacts: list[Contact]) -> list[Contact]:
    """Copies for an answer (an answer never shares a contact with the knowledge base)."""
    return [replace(c) for c in contacts]


def quoted(task: str, lang: str) -> str:
    return f"“{task}”" if lang == "en" else f"「{task}」"


PHRASES: dict[str, dict[str, str]] = {
    "deadline": {
        "zh": "{task}申报截止：{date}（{status}）。",
        "en": "Deadline for {task}: {date} ({status}).",
    },
    "materials": {"zh": "{task}需提交：{value}", "en": "Materials for {task}: {value}"},
    "method": {"zh": "{task}申报方式：{value}", "en": "How to submit {task}: {value}"},
    "contact": {"zh": "{task}联系人：{value}。", "en": "Contact for {task}: {value}."},
    "eligibility": {"zh": "{task}申报对象：{value}", "en": "Who may apply for {task}: {value}"},
    "inferred": {
        "zh": "（表中此格为合并单元格，沿用上一行）",
        "en": " (a merged cell in the table: taken from the row above)",
    },
    "yes": {
        "zh": "可以。{task}的申报对象包括{who}：{value}",
        "en": "Yes. {who} is among those who may apply for {task}: {value}",
    },
    "no": {
        "zh": "不可以。{task}的申报对象是：{value}，其中没有{who}。",
        "en": "No. {task} is open to: {value} — {who} is not listed.",
    },
    "instead": {"zh": "{who}可以申报：{tasks}。", "en": "{who} may apply for: {tasks}."},
    "none_instead": {
        "zh": "通知中没有列出{who}可以申报的任务。",
        "en": "The notice lists no task open to {who}.",
    },
    "list_for": {"zh": "{who}可以申报以下 {n} 项任务：", "en": "{who} may apply for {n} task(s):"},
    "list_all": {"zh": "通知列出的 {n} 项任务：", "en": "The notice lists {n} task(s):"},
    "window": {
        "zh": "另：{issuer}规定的平台填报时间为 {start}—{end}（{status}）；上面的截止时间是{scope}对各任务的要求。",
        "en": "Also: {issuer} set a platform window of {start} to {end} ({status}); the date above is {scope}'s deadline for the task.",
    },
    "recurring": {
        "zh": "{what}：每年{month}月{day}日前，下一次是 {next}（{status}）。",
        "en": "{what}: every year by {month}/{day}; next on {next} ({status}).",
    },
    "docfacts": {"zh": "《{title}》{facts}。", "en": "{title}: {facts}."},
    "list_matching": {"zh": "符合的任务有 {n} 项：", "en": "{n} task(s) match:"},
    "contact_tasks": {"zh": "{who} 负责 {n} 项任务：{tasks}。", "en": "{who} handles {n} task(s): {tasks}."},
    "ask_in_words": {
        "zh": "请用文字描述您的问题，例如：某项任务什么时候截止？需要哪些材料？找谁咨询？",
        "en": "Please type your question in words, e.g. when is the deadline, which materials, whom to contact?",
    },
    "general_contact": {"zh": "通知的总联系人：{who}。", "en": "General contact of the notice: {who}."},
    "escalate_contact": {"zh": "可以联系：{who}。", "en": "Please contact: {who}."},
    "clarify": {
        "zh": "您问的是哪一个通知？请回复序号或点选：",
        "en": "Which notice do you mean? Reply with its number or pick one:",
    },
    "no_contact_fallback": {
        "zh": "通知没有写明联系人，请联系：{desk}。",
        "en": "The notice names nobody to contact; please ask: {desk}.",
    },
    "no_answer_en": {"en": "The notice does not answer this question."},
    "service": {
        "zh": "这个我帮不了：我只能依据通知原文回答问题，不能代写或代填申报材料。",
        "en": "I can't do that: I only answer from the notice's text and cannot write or fill in applications.",
    },
    "human": {"zh": "已为您转人工。", "en": "I've passed your request to staff."},
    "moved": {
        "zh": "已延期：原定{old}，现为{new}（{status}）。见《{title}》。",
        "en": "Moved: originally {old}, now {new} ({status}); see “{title}”.",
    },
    "moved_earlier": {
        "zh": "已提前：原定{old}，现为{new}（{status}）。见《{title}》。",
        "en": "Brought forward: originally {old}, now {new} ({status}); see “{title}”.",
    },
    "moved_record": {
        "zh": "截止时间已由{old}调整为{new}，见《{title}》。",
        "en": "The deadline was moved from {old} to {new}; see “{title}”.",
    },
    "corrected": {
        "zh": "已更正：{new}（见《{title}》）。",
        "en": "Corrected: {new} (see “{title}”).",
    },
    "corrected_from": {
        "zh": "（已更正，原为{old}，见《{title}》）",
        "en": " (corrected from {old}; see “{title}”)",
    },
    "revoked": {
        "zh": "注意：该通知已被《{title}》撤销或停止。",
        "en": "Note: this notice was revoked or stopped by “{title}”.",
    },
    "round_passed": {
        "zh": "这一轮的截止日期都已过；最新一轮见《{title}》，截止 {date}（{status}）。",
        "en": "Every deadline of this round has passed; the latest round is “{title}”, closing {date} ({status}).",
    },
    "round_passed_no_date": {
        "zh": "这一轮的截止日期都已过；最新一轮见《{title}》。",
        "en": "Every deadline of this round has passed; the latest round is “{title}”.",
    },
    "newer_round": {
        "zh": "这是较早一轮的通知；最新一轮见《{title}》。",
        "en": "This is an earlier round; the latest is “{title}”.",
    },
}


def phrase(key: str, lang: str, **values: object) -> str:
    table = PHRASES[key]
    template = table.get("en" if lang == "en" else "zh") or next(iter(table.values()))
    return template.format(**values)
