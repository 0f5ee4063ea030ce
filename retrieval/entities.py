"""Find dates, times, contacts, phones, e-mails and URLs in text, each with its source span.

Dates come out in ISO form. A date without a year takes the year of the date before it in the same
text (as in 2023年9月6日—10月7日) or, failing that, a default year the caller gives.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from retrieval.model import Contact, Entity

_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUM = "〇零○Ｏ一二三四五六七八九十"
# A year: 2026, 二〇二六, or a Republic-of-China year as Taiwan's notices write it (民國115年 = 2026).
_YEAR = rf"(?P<y>\d{{4}}|[{_CN_NUM}]{{4}}|(?:中華民國|中华民国|民國|民国)?\s*(?:(?<!\d)1?\d{{2}}|一百[零〇一二三四五六七八九十]{{1,3}}|[九八][十][一二三四五六七八九]?)(?=\s*年))\s*年"
ROC_OFFSET = 1911
_MONTH = rf"(?P<m>\d{{1,2}}|[{_CN_NUM}]{{1,3}})\s*月"
_DAY = rf"(?P<d>\d{{1,2}}|[{_CN_NUM}]{{1,3}})\s*[日号]"
_TIME = r"(?P<time>\s*(?:\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*时(?:\s*\d{1,2}\s*分)?|\d{1,2}\s*点(?:\s*\d{1,2}\s*分)?))?"
_RANGE_SEP = r"\s*(?:—|–|－|-|~|～|至|到|—{2})\s*"

FULL_DATE = re.compile(rf"{_YEAR}\s*{_MONTH}\s*{_DAY}{_TIME}")
MONTH_DAY = re.compile(rf"(?<![\d年]){_MONTH}\s*{_DAY}{_TIME}")
RECURRING = re.compile(r"每年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]\s*(?P<before>前|之前|以前)?")
ISO_DATE = re.compile(
    r"(?<![\d.\-/])(?P<y>(?:19|20)\d{2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\d.\-/])"
    r"(?P<time>\s*\d{1,2}\s*[:：]\s*\d{2})?"
)
YEAR_RANGE = re.compile(r"(?P<y1>\d{4})\s*(?:—|–|－|-|~|～|至|到)\s*(?P<y2>\d{4})\s*年")
YEAR_ONLY = re.compile(
    r"(?<![\d—–\-~～至到])(?P<y>\d{4})\s*年(?!\s*\d{1,2}\s*月)(?!\s*[〇零一二三四五六七八九十]{1,3}\s*月)"
)
TIME_ONLY = re.compile(r"(?<![\d:])(?P<h>[01]?\d|2[0-3])\s*[:：]\s*(?P<mi>[0-5]\d)(?!\d)")
URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+[A-Za-z0-9/]")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Phones as notices print them: 027-12345678, (02)2345-6789, ﹝02﹞87711538, 02-2345-6789, 13812345678, with an
# extension (转 / 分機 / ext). Not a document number (字第0912345678号), which looks like one.
PHONE = re.compile(
    r"(?<![\d\-第])(?:[(（﹝〔]0\d{1,3}[)）﹞〕]\s*\d{3,4}[-－]?\d{3,4}|0\d{1,3}[-－]\d{3,4}[-－]\d{4}"
    r"|0\d{1,3}[-－\s]?\d{7,8}|1[3-9]\d{9})"
    r"(?:\s*(?:[-－转轉]|分机|分機|ext\.?\s*)\s*\d{1,5})?(?![\d号號])"
)

_DEPARTMENT = re.compile(
    r"^(?P<dept>[\u4e00-\u9fff（）()]{1,20}?(?:办公室|研究院|委员会|中心|处|科|室|司|局|厅|部|所|院|办|组|馆|站))"
)
_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
_DEPARTMENT_WHOLE = re.compile(
    r"^[\u4e00-\u9fff（）()]{1,20}(?:办公室|研究院|委员会|中心|处|科|室|司|局|厅|部|所|院|办|组|馆|站)$"
)
_CONTACT_LABEL = re.compile(
    r"(?P<dept>[\u4e00-\u9fff]{0,12}?)联系人\s*[:：]\s*(?P<names>[\u4e00-\u9fff·、，, ]{2,30}?)(?=$|\n|[，,。；;\s]*(?:联系|电话|手机|邮箱|电子|[\d(（]))"
)


def chinese_number(text: str) -> int:
    """Turn 12, 十二, 二十三, 二〇二三 or 2023 into an int."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if "百" in text:
        hundreds, _, rest = text.partition("百")
        rest = rest.lstrip("零〇")
        return (_CN_DIGITS.get(hundreds, 1) if hundreds else 1) * 100 + (chinese_number(rest) if rest else 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS[ch]
    return value


def _year_value(raw: str) -> int:
    """A written year as a Gregorian year: 2026, 二〇二六, 115 (民國) -> 2026."""
    digits = re.sub(r"[^\d〇零○Ｏ一二三四五六七八九十百]", "", raw)
    year = chinese_number(digits)
    return year + ROC_OFFSET if year < 1000 else year


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _time_value(raw: str | None) -> str | None:
    if not raw:
        return None
    numbers = [int(n) for n in re.findall(r"\d+", raw)]
    hour, minute = numbers[0], numbers[1] if len(numbers) > 1 else 0
    return f"{hour:02d}:{minute:02d}" if hour < 24 and minute < 60 else None


def find_dates(text: str, *, default_year: int | None = None) -> list[Entity]:
    """Return date, date-range, recurring-date, year and time entities in reading order."""
    entities: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for m in RECURRING.finditer(text):
        month, day = int(m["m"]), int(m["d"])
        value: dict[str, Any] = {"month": month, "day": day, "before": bool(m["before"])}
        entities.append(Entity("recurring_date", m.group(0), m.start(), m.end(), value))
        taken.append((m.start(), m.end()))

    last_year = default_year
    for m in FULL_DATE.finditer(text):
        year = _year_value(m["y"])
        iso = _iso(year, chinese_number(m["m"]), chinese_number(m["d"]))
        if iso is None or not free(m.start(), m.end()):
            continue
        start, end = m.start(), m.end()
        value = {"date": iso, "time": _time_value(m["time"])}
        # A range: 2023年9月6日—10月7日, 2026年12月1日至12月15日, 2026年12月1日至2027年1月5日.
        tail = re.match(_RANGE_SEP + rf"(?:{_YEAR}\s*)?(?:{_MONTH}\s*)?{_DAY}{_TIME}", text[end:])
        if tail:
            end_year = _year_value(tail["y"]) if tail["y"] else year
            end_month = chinese_number(tail["m"]) if tail["m"] else int(iso[5:7])
            end_iso = _iso(end_year, end_month, chinese_number(tail["d"]))
            if end_iso and end_iso >= iso:
                end = end + tail.end()
                range_value: dict[str, Any] = {
                    "start": iso,
                    "end": end_iso,
                    "time": _time_value(tail["time"]),
                }
                entities.append(Entity("date_range", text[start:end], start, end, range_value))
                taken.append((start, end))
                last_year = year
                continue
        entities.append(Entity("date", text[start:end], start, end, value))
        taken.append((start, end))
        last_year = year

    for m in ISO_DATE.finditer(text):
        iso = _iso(int(m["y"]), int(m["m"]), int(m["d"]))
        if iso is None or not free(m.start(), m.end()):
            continue
        start, end = m.start(), m.end()
        tail = re.match(_RANGE_SEP + ISO_DATE.pattern, text[end:])
        end_iso = _iso(int(tail["y"]), int(tail["m"]), int(tail["d"])) if tail else None
        if tail and end_iso and end_iso >= iso:
            end += tail.end()
            value_range = {"start": iso, "end": end_iso, "time": _time_value(tail["time"])}
            entities.append(Entity("date_range", text[start:end], start, end, value_range))
        else:
            entities.append(
                Entity("date", text[start:end], start, end, {"date": iso, "time": _time_value(m["time"])})
            )
        taken.append((start, end))
        last_year = int(m["y"])

    for m in MONTH_DAY.finditer(text):
        if not free(m.start(), m.end()) or last_year is None:
            continue
        year = _year_named_before(text, entities, m.start()) or _year_before(entities, m.start()) or last_year
        iso = _iso(year, chinese_number(m["m"]), chinese_number(m["d"]))
        if not iso:
            continue
        # A window within a year: 9月16日12:00-9月22日12:00, 6月19日（周五）至21日（周日）, 8月24日-26日.
        tail = re.match(
            r"(?:\s*[（(][^（()）]{1,4}[）)])?" + _RANGE_SEP + rf"(?:{_MONTH}\s*)?{_DAY}{_TIME}",
            text[m.end() :],
        )
        end_iso = None
        if tail and free(m.start(), m.end() + tail.end()):
            end_month = chinese_number(tail["m"]) if tail["m"] else int(iso[5:7])
            end_iso = _iso(year, end_month, chinese_number(tail["d"]))
        if tail and end_iso and end_iso > iso:
            end = m.end() + tail.end()
            window = {"start": iso, "end": end_iso, "time": _time_value(tail["time"]), "year_inferred": True}
            entities.append(Entity("date_range", text[m.start() : end], m.start(), end, window))
            taken.append((m.start(), end))
            continue
        value = {"date": iso, "time": _time_value(m["time"]), "year_inferred": True}  # type: ignore[dict-item]
        entities.append(Entity("date", m.group(0), m.start(), m.end(), value))
        taken.append((m.start(), m.end()))

    for m in YEAR_RANGE.finditer(text):
        if free(m.start(), m.end()):
            value = {"start": int(m["y1"]), "end": int(m["y2"])}
            entities.append(Entity("year_range", m.group(0), m.start(), m.end(), value))
            taken.append((m.start(), m.end()))
    for m in YEAR_ONLY.finditer(text):
        if free(m.start(), m.end()):
            entities.append(Entity("year", m.group(0), m.start(), m.end(), {"year": int(m["y"])}))
            taken.append((m.start(), m.end()))
    for m in TIME_ONLY.finditer(text):
        if free(m.start(), m.end()):
            value = {"time": f"{int(m['h']):02d}:{m['mi']}"}
            entities.append(Entity("time", m.group(0), m.start(), m.end(), value))
    entities.sort(key=lambda e: e.start)
    return entities


# A year said just before a month and day, with a few words between ('2027年元旦1月1日',
# '2026年中秋节9月25日'): the date is in that year, whatever the notice's own date says.
_NAMED_YEAR = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年(?P<gap>[^\d。；;！？!?，,、\s\n]{1,8})$")


def _year_named_before(text: str, entities: list[Entity], offset: int) -> int | None:
    """The year written a few characters before `offset`, unless a full date stands in between."""
    window_start = max(0, offset - 14)
    if any(window_start < e.end <= offset and e.kind in ("date", "date_range") for e in entities):
        return None
    m = _NAMED_YEAR.search(text[window_start:offset])
    return int(m["y"]) if m else None


def _year_before(entities: list[Entity], offset: int) -> int | None:
    years = [
        int(str(e.value.get("date", e.value.get("start", "")))[:4])
        for e in entities
        if e.end <= offset and e.kind in ("date", "date_range") and isinstance(e.value, dict)
    ]
    return years[-1] if years else None


def find_contact_bits(text: str) -> list[Entity]:
    """Return URL, e-mail and phone entities."""
    found: list[Entity] = []
    for kind, pattern in (("url", URL), ("email", EMAIL), ("phone", PHONE)):
        for m in pattern.finditer(text):
            if kind == "phone" and any(e.start <= m.start() < e.end for e in found):
                continue
            found.append(Entity(kind, m.group(0), m.start(), m.end(), m.group(0)))
    found.sort(key=lambda e: e.start)
    return found


def parse_contacts(text: str) -> list[Contact]:
    """Parse a contact cell such as '职成处万婷、刘长军 027-87588886' into one Contact per person.

    When there are as many phones as names they are paired in order; otherwise every person gets
    all the phones, since the cell does not say which is whose.
    """
    phones = [normalize_phone(m.group(0)) for m in PHONE.finditer(text)]
    emails = [m.group(0) for m in EMAIL.finditer(text)]
    rest = EMAIL.sub(" ", PHONE.sub(" ", URL.sub(" ", text)))
    rest = re.sub(
        r"(联系人|联系电话|联系方式|电话|手机|邮箱|电子邮箱|e-?mail|咨询)\s*[:：]?", " ", rest, flags=re.I
    )
    rest = re.sub(r"[（(][^）)]*[）)]", " ", rest).strip(" ，,；;：:、。")
    department = None
    kept: list[str] = []
    for token in re.split(r"[、，,；;/\s]+", rest):
        if not token:
            continue
        whole = _DEPARTMENT_WHOLE.match(token)
        if department is None and whole and len(token) >= 3 and not _NAME.match(token):
            department = token  # a separate department cell: 社会科学处
            continue
        m = _DEPARTMENT.match(token)
        if department is None and m and _NAME.match(token[m.end() :]):
            department, token = m["dept"], token[m.end() :]  # 职成处万婷
        kept.append(token)
    rest = " ".join(kept)
    names = [n for n in re.split(r"[、，,；;/\s]+", rest) if _NAME.match(n)]
    if not names and not phones and not emails:
        return []
    if not names:
        names = [None]  # type: ignore[list-item]
    contacts = []
    for i, name in enumerate(names):
        if len(phones) == len(names):
            phone: str | None = phones[i]
        else:
            phone = "、".join(phones) or None
        email = emails[i] if len(emails) == len(names) else ("、".join(emails) or None)
        contacts.append(Contact(name=name, department=department, phone=phone, email=email))
    return contacts


def normalize_phone(phone: str) -> str:
    """Write a phone number with ASCII digits and hyphens."""
    return re.sub(r"\s+", "-", phone.replace("－", "-").strip())


def find_labelled_contacts(text: str, *, window: int = 120) -> list[tuple[Entity, Contact]]:
    """Find '…联系人：NAME' lines and the phone and e-mail that follow them within a short window."""
    results: list[tuple[Entity, Contact]] = []
    for m in _CONTACT_LABEL.finditer(text):
        names = [n for n in re.split(r"[、，, ]+", m["names"].strip()) if _NAME.match(n)]
        if not names:
            continue
        # Stop the window at the next contact label, so two offices do not share a phone.
        nxt = text.find("联系人", m.end())
        end = min(len(text), m.end() + window, nxt if nxt != -1 else len(text))
        tail = text[m.end() : end]
        phones = [normalize_phone(p.group(0)) for p in PHONE.finditer(tail)]
        emails = [e.group(0) for e in EMAIL.finditer(tail)]
        dept = m["dept"].strip() or None
        bits_end = m.end()
        for p in list(PHONE.finditer(tail)) + list(EMAIL.finditer(tail)):
            bits_end = max(bits_end, m.end() + p.end())
        entity_span = Entity("contact", text[m.start() : bits_end], m.start(), bits_end)
        for i, name in enumerate(names):
            phone = phones[i] if len(phones) == len(names) else ("、".join(phones) or None)
            email = emails[i] if len(emails) == len(names) else ("、".join(emails) or None)
            contact = Contact(name=name, department=dept, phone=phone, email=email)
            entity_span.value = {**contact.to_dict()}
            results.append((entity_span, contact))
    return results


def find_entities(text: str, *, default_year: int | None = None) -> list[Entity]:
    """Return every entity applybot understands, in reading order."""
    entities = find_dates(text, default_year=default_year) + find_contact_bits(text)
    entities += [e for e, _ in find_labelled_contacts(text)]
    entities.sort(key=lambda e: (e.start, e.kind))
    return entities
