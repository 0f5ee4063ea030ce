"""Convert real, third-party notice sources into plain notice texts for evaluation.

Each source has a converter registered in ``CONVERTERS`` (name -> function). A converter
reads its raw download (default path in ``DEFAULT_INPUTS``) and writes one ``.txt`` file
per notice into the output folder, returning the paths it wrote.

Sources:
  baoyan      EiraJY/physics-baoyan-monitor, data/notices.json (structured summaries of
              physics 保研 / 夏令营 / 预推免 notices) -> baoyan-<NNN>.txt
  ey-gazette  kong0107/ey-gazette-data daily XML files of the Executive Yuan Gazette
              (行政院公報) -> ey-gazette-<MetaId>.txt for the records in EY_GAZETTE_IDS
  whu-eis     learner8-bit/whu-campus-notice, data/eis/notices.jsonl (notices of the School of
              Electronic Information, Wuhan University; one JSON object a line)
              -> whu-eis-<NNN>.txt, NNN = 0-based line number; lines with empty body_text skipped

Usage:
    python bench/real_notices.py --source baoyan
    python bench/real_notices.py --source ey-gazette
    python bench/real_notices.py --source whu-eis
    python bench/real_notices.py --source all --out /work/realdata/notices/

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

DEFAULT_OUT = Path("/work/realdata/notices/")
DEFAULT_INPUTS: dict[str, Path] = {
    "baoyan": Path("/work/realdata/raw/baoyan-notices.json"),
    "ey-gazette": Path("/work/realdata/raw/ey-gazette/"),
    "whu-eis": Path("/work/realdata/raw/whu-eis-notices.jsonl"),
}

# --------------------------------------------------------------------------- baoyan

# (label, key) pairs in output order; a line is written only when the field is non-empty.
BAOYAN_FIELDS: list[tuple[str, str]] = [
    ("发布日期", "published_at"),
    ("报名类型", "route"),
    ("学位类型", "degree"),
    ("截止时间", "deadline"),
    ("截止说明", "deadline_context"),
    ("考核方式", "exam"),
    ("申请材料", "materials"),
]
BAOYAN_TAIL_FIELDS: list[tuple[str, str]] = [
    ("状态", "status"),
    ("说明", "excerpt"),
    ("备注", "remark"),
    ("网址", "url"),
]


def _clean(value: object) -> str:
    """Return a field value as a single trimmed line ('' for missing values)."""
    if value is None:
        return ""
    text = str(value)
    return re.sub(r"\s+", " ", text).strip()


def baoyan_text(notice: dict[str, object]) -> str:
    """Render one notice of physics-baoyan-monitor as a small plain-text notice."""
    school = _clean(notice.get("school"))
    college = _clean(notice.get("college"))
    title = _clean(notice.get("title"))
    prefix = f"{school}{college}："
    if title.startswith(prefix):  # many titles already start with school+college
        title = title[len(prefix) :]
    lines = [f"{school}{college}：{title}", ""]
    for label, key in BAOYAN_FIELDS:
        value = _clean(notice.get(key))
        if value:
            lines.append(f"{label}：{value}")
    detail = str(notice.get("materials_text") or "").strip()
    if detail:
        lines.append("材料清单：")
        lines.extend(_clean(line) for line in detail.splitlines() if line.strip())
    for label, key in BAOYAN_TAIL_FIELDS:
        value = _clean(notice.get(key))
        if value:
            lines.append(f"{label}：{value}")
    return "\n".join(lines) + "\n"


def convert_baoyan(src: Path, out_dir: Path) -> list[Path]:
    """Write baoyan-<NNN>.txt for every entry of the ``notices`` list in ``src``."""
    data = json.loads(src.read_text(encoding="utf-8"))
    written: list[Path] = []
    for index, notice in enumerate(data["notices"]):
        path = out_dir / f"baoyan-{index:03d}.txt"
        path.write_text(baoyan_text(notice), encoding="utf-8")
        written.append(path)
    return written


# ----------------------------------------------------------------------- ey-gazette

# MetaIds of the gazette records chosen for evaluation (notices an applicant asks about).
EY_GAZETTE_IDS: list[str] = [
    "73872",  # 104-01-26 工程會 公開徵求採購專業人員訓練代訓機關（構）
    "73905",  # 104-01-27 國防部 原眷戶補建列管申請
    "74057",  # 104-02-04 農委會 科技農企業多元創新提案補助申請
    "75896",  # 104-05-08 經濟部 全球研發創新夥伴計畫申請事項
    "77697",  # 104-07-29 衛福部 受理申請油症患者遺屬撫慰金
    "80796",  # 104-12-21 經濟部 受理利澤工業區用地變更規劃申請
    "81074",  # 105-01-04 經濟部 歐盟多邊創新研發成員補助計畫申請事項
    "81298",  # 105-01-11 教育部 運動服務業人才培育補助作業申請時程
    "82486",  # 105-03-08 體育署 受理申請救生員資格檢定及複訓工作認可
    "82504",  # 105-03-09 教育部 預告「教育業務志願服務獎勵辦法」修正草案
]

_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "center",
    "hr",
    "tr",
    "td",
    "th",
}
_CELL_SEP = "\x1f"  # stands for a tab until whitespace has been normalised
_LAYOUT_SUMMARY = "本期公報內容表格"  # the gazette's page-layout table, not data


class _Table:
    """State of one open <table>."""

    def __init__(self, layout: bool) -> None:
        self.layout = layout
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def close_cell(self) -> None:
        """Finish the current cell, if any."""
        if self.cell is not None:
            if self.row is None:
                self.row = []
            self.row.append(_squash("".join(self.cell)))
            self.cell = None

    def close_row(self) -> None:
        """Finish the current row, keeping it only if some cell has text."""
        self.close_cell()
        if self.row is not None and any(self.row):
            self.rows.append(self.row)
        self.row = None


class GazetteHTML(HTMLParser):
    """Strip the gazette's Word-exported HTML to text; data tables become tab-separated rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.tables: list[_Table] = []
        self.skip = 0
        self.div_skips: list[bool] = []

    def _data_table(self) -> _Table | None:
        """Innermost open table that holds data (not the page layout)."""
        for table in reversed(self.tables):
            if not table.layout:
                return table
        return None

    def _emit(self, text: str) -> None:
        table = self._data_table()
        if table is None:
            self.out.append(text)
            return
        if table.cell is None:
            if not text.strip():
                return
            table.cell = []
        table.cell.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "div":
            hidden = attr.get("class") == "top"  # the "Top" back-link
            self.div_skips.append(hidden)
            if hidden:
                self.skip += 1
        if tag in ("script", "style"):
            self.skip += 1
        if self.skip:
            return
        if tag == "table":
            self.tables.append(_Table(attr.get("summary") == _LAYOUT_SUMMARY))
            self._emit("\n")
            return
        table = self._data_table()
        if table is not None and self.tables[-1] is table:
            if tag == "tr":
                table.close_row()
                table.row = []
            elif tag in ("td", "th"):
                table.close_cell()
                table.cell = []
            elif tag in _BLOCK_TAGS:
                self._emit(" ")
            return
        if tag in _BLOCK_TAGS:
            self._emit("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr") and not self.skip:
            self._emit(" " if self._data_table() is not None else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.div_skips and self.div_skips.pop():
            self.skip = max(0, self.skip - 1)
            return
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "table" and self.tables:
            closed = self.tables.pop()
            if closed.layout:
                self._emit("\n")
                return
            closed.close_row()
            rows = [_CELL_SEP.join(row) for row in closed.rows]
            if self._data_table() is not None:  # nested data table: flatten into the cell
                self._emit(" " + " ".join(r.replace(_CELL_SEP, " ") for r in rows) + " ")
            else:
                self._emit("\n" + "\n".join(rows) + "\n")
            return
        table = self._data_table()
        if table is not None and self.tables[-1] is table:
            if tag in ("td", "th"):
                table.close_cell()
            elif tag == "tr":
                table.close_row()
            elif tag in _BLOCK_TAGS:
                self._emit(" ")
            return
        if tag in _BLOCK_TAGS:
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self._emit(data)

    def text(self) -> str:
        """The collected text: one paragraph or table row a line, blank lines dropped."""
        lines = (_squash(line) for line in "".join(self.out).split("\n"))
        return "\n".join(line.replace(_CELL_SEP, "\t") for line in lines if line)


def _squash(text: str) -> str:
    """Collapse ASCII whitespace runs; drop lines holding only (full-width) spaces."""
    text = re.sub(r"[ \t\r\n\f\v\u00a0]+", " ", text).strip(" ")
    text = text.strip("\u3000 ")  # centring padding only; inner full-width spaces stay
    return text


def gazette_html_to_text(html_text: str) -> str:
    """Plain text of a gazette record's HTMLContent."""
    parser = GazetteHTML()
    parser.feed(html_text)
    parser.close()
    return parser.text()


def gazette_text(record: ET.Element) -> str:
    """Render one <Record> as: title, blank, agency/date/number lines, blank, body."""

    def field(name: str) -> str:
        return (record.findtext(name) or "").strip()

    lines = [field("Title"), ""]
    for label, name in (("發布機關", "PubGovName"), ("發文日期", "Date_Created"), ("發文字號", "GazetteId")):
        if field(name):
            lines.append(f"{label}：{field(name)}")
    lines.append("")
    lines.append(gazette_html_to_text(field("HTMLContent")))
    return "\n".join(lines) + "\n"


def convert_ey_gazette(src: Path, out_dir: Path) -> list[Path]:
    """Write ey-gazette-<MetaId>.txt for each record of EY_GAZETTE_IDS found in src/*.xml."""
    files = sorted(src.glob("*.xml")) if src.is_dir() else [src]
    wanted = set(EY_GAZETTE_IDS)
    written: list[Path] = []
    for xml_file in files:
        for record in ET.parse(xml_file).getroot().iter("Record"):
            meta_id = (record.findtext("MetaId") or "").strip()
            if meta_id not in wanted:
                continue
            path = out_dir / f"ey-gazette-{meta_id}.txt"
            path.write_text(gazette_text(record), encoding="utf-8")
            written.append(path)
            wanted.discard(meta_id)
    if wanted:
        print(f"ey-gazette: records not found in {src}: {sorted(wanted)}", file=sys.stderr)
    return written


# -------------------------------------------------------------------------- whu-eis


def whu_eis_text(notice: dict[str, object]) -> str:
    """Render one crawled WHU EIS notice: title, date, the body as crawled, attachment names.

    ``body_text`` is written exactly as given: the crawler flattened each page to one line, and
    that flat text is what the evaluation is meant to exercise.
    """
    lines = [str(notice.get("title") or "").strip(), "", f"发布日期：{notice.get('published_at') or ''}", ""]
    lines.append(str(notice.get("body_text") or ""))
    attachments = notice.get("attachments")
    items = attachments if isinstance(attachments, list) else []
    names = [str(item.get("text") or "").strip() for item in items if isinstance(item, dict)]
    names = [name for name in names if name]
    if names:
        lines += ["", "附件：", *names]
    return "\n".join(lines) + "\n"


def convert_whu_eis(src: Path, out_dir: Path) -> list[Path]:
    """Write whu-eis-<NNN>.txt for every line of ``src`` whose body_text is not empty."""
    written: list[Path] = []
    for index, line in enumerate(src.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        notice = json.loads(line)
        if not str(notice.get("body_text") or "").strip():
            continue
        path = out_dir / f"whu-eis-{index:03d}.txt"
        path.write_text(whu_eis_text(notice), encoding="utf-8")
        written.append(path)
    return written


# --------------------------------------------------------------------------- main

CONVERTERS: dict[str, Callable[[Path, Path], list[Path]]] = {
    "baoyan": convert_baoyan,
    "ey-gazette": convert_ey_gazette,
    "whu-eis": convert_whu_eis,
}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen converter(s)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, choices=[*CONVERTERS, "all"])
    parser.add_argument("--input", type=Path, help="raw file/folder (default: per source)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder ({DEFAULT_OUT})")
    args = parser.parse_args(argv)
    names = list(CONVERTERS) if args.source == "all" else [args.source]
    if args.input is not None and len(names) > 1:
        parser.error("--input needs a single --source")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = args.input or DEFAULT_INPUTS[name]
        written = CONVERTERS[name](src, args.out)
        print(f"{name}: wrote {len(written)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
