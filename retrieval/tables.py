"""Understand tables: recognise columns by what their header means, fill merged cells, make records.

A header is matched against keyword lists; the longest keyword found wins, so 联系方式 is a contact
column even though it contains 方式 (method). Columns no list claims keep their own header.
"""

from __future__ import annotations

import re

from retrieval.entities import find_dates, parse_contacts
from retrieval.model import Record, Table, stable_id
from retrieval.normalize import normalize_for_search

FIELD_KEYWORDS: dict[str, tuple[str, ...]] = {
    "index": ("序号", "编号", "序"),
    "task": (
        "重点工作",
        "重点任务",
        "任务名称",
        "任务",
        "项目名称",
        "项目类别",
        "项目",
        "工作内容",
        "事项",
        "类别",
        "类型",
        "名称",
        "专项",
    ),
    "eligibility": (
        "申报对象",
        "申报条件",
        "申报主体",
        "申请条件",
        "申请对象",
        "申报单位",
        "申请单位",
        "对象",
        "条件",
        "要求",
        "资格",
        "适用范围",
        "范围",
    ),
    "deadline": (
        "截止时间",
        "截止日期",
        "申报截止",
        "截止",
        "申报时限",
        "时限",
        "期限",
        "申报时间",
        "报送时间",
        "提交时间",
        "时间",
        "日期",
    ),
    "materials": ("申报材料", "提交材料", "报送材料", "所需材料", "申请材料", "材料"),
    "method": (
        "申报方式",
        "报送方式",
        "提交方式",
        "受理方式",
        "申请方式",
        "申报途径",
        "报送途径",
        "申报平台",
        "方式",
        "途径",
        "渠道",
        "平台",
    ),
    "contacts": (
        "联系人及联系方式",
        "联系人",
        "联系方式",
        "联系电话",
        "咨询电话",
        "联系部门",
        "咨询",
        "电话",
        "邮箱",
        "电子邮箱",
    ),
}


def classify_header(header: str) -> str | None:
    """Return the field a column header means, or None when no keyword list claims it."""
    text = normalize_for_search(header)
    best, best_len = None, 0
    for name, keywords in FIELD_KEYWORDS.items():
        for keyword in keywords:
            if keyword in text and len(keyword) > best_len:
                best, best_len = name, len(keyword)
    return best


def read_deadline(cell: str, default_year: int | None) -> tuple[str | None, str | None, str | None]:
    """Return (ISO date or window end, window start, time of day) for a deadline cell."""
    if not cell:
        return None, None, None
    time_of_day = None
    for entity in find_dates(cell, default_year=default_year):
        if entity.kind == "date":
            return str(entity.value["date"]), None, entity.value.get("time") or time_of_day
        if entity.kind == "date_range":
            value = entity.value
            return str(value["end"]), str(value["start"]), value.get("time")
        if entity.kind == "time" and time_of_day is None:
            time_of_day = str(entity.value["time"])
    return None, None, None


def looks_like_header(row: list[str]) -> bool:
    """Tell whether a row reads as a header: at least two cells name known fields."""
    return sum(classify_header(c) is not None for c in row if c) >= 2


def build_records(
    table: Table, *, doc_id: str, default_year: int | None, row_text: list[str]
) -> tuple[list[Record], list[str]]:
    """Turn a table's data rows into records; return them and any warnings."""
    warnings: list[str] = []
    columns = [classify_header(h) for h in table.headers]
    # Several columns may share a field (联系人 + 联系电话 + 电子邮箱): their cells are joined.
    previous: list[str] = [""] * len(table.headers)
    filled_from: list[int] = [0] * len(table.headers)
    records: list[Record] = []
    for r, cells in enumerate(table.rows, start=1):
        if not any(c.strip() for c in cells):
            continue
        fields: dict[str, str] = {}
        headers: dict[str, str] = {}
        extra: dict[str, str] = {}
        inferred: list[str] = []
        inferred_from: dict[str, int] = {}
        for c, header in enumerate(table.headers):
            value = cells[c].strip() if c < len(cells) else ""
            name = columns[c]
            if not value and previous[c] and name != "index" and r > 1:
                # An empty cell under a filled one stands for a merged cell of the original table.
                value = previous[c]
                key = name or header
                if key not in inferred:
                    inferred.append(key)
                inferred_from[key] = filled_from[c]
            elif value:
                filled_from[c] = r
            previous[c] = value
            if not value:
                continue
            if name is None or name == "index":
                extra[header or f"列{c + 1}"] = value
                continue
            if name in fields:
                fields[name] = f"{fields[name]} {value}"
                headers[name] = f"{headers[name]}/{header}"
            else:
                fields[name], headers[name] = value, header
        if "task" not in fields:
            # No task column: the first non-index text cell names the row.
            first = next((v for h, v in extra.items() if not re.fullmatch(r"\d+", v)), None)
            if first:
                fields["task"] = first
        deadline, deadline_start, deadline_time = read_deadline(fields.get("deadline", ""), default_year)
        if "deadline" in fields and deadline is None:
            warnings.append(
                f"table {table.table_id} row {r}: no date understood in deadline '{fields['deadline']}'"
            )
        start, end = table.row_spans[r]
        records.append(
            Record(
                record_id=stable_id(doc_id, table.table_id, str(r)),
                doc_id=doc_id,
                table_id=table.table_id,
                row=r,
                section=table.section,
                part=table.part,
                row_text=row_text[r],
                start=start,
                end=end,
                fields=fields,
                headers=headers,
                extra=extra,
                inferred=inferred,
                inferred_from=inferred_from,
                deadline=deadline,
                deadline_start=deadline_start,
                deadline_time=deadline_time,
                contacts=parse_contacts(fields.get("contacts", "")),
            )
        )
    return records, warnings
