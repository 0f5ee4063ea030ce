"""Notices over time, related from the notices themselves: which later notice postpones, corrects,
revokes, amends or repeats which earlier one (by their titles, 文号 and sentences), in any format, and
what `applybot inspect` shows of it. The notices in tests/data/amendments were written here; those in
tests/data/real/ey-gazette-amend are real gazette records. The answers these relations give are
tested in tests/bot/test_notices_over_time.py."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from handlers.cli import app
from retrieval.loaders import load_file
from retrieval.model import Block, Document
from retrieval.parse import parse_document
from retrieval.relations import find_relations
from tests.support.builders import write_docx, write_html
from tests.support.paths import DATA, SEED

AMENDMENTS = sorted((DATA / "amendments").glob("*.txt"))
REAL_AMEND = sorted((DATA / "real" / "ey-gazette-amend").glob("*.txt"))
GAZETTE = sorted((DATA / "real" / "ey-gazette").glob("*.txt"))


def _parse(paths: list[Path]) -> list[Document]:
    return [parse_document(load_file(p), rel_path=p.name) for p in paths]


def _pairs(docs: list[Document]) -> set[tuple[str, str, str]]:
    files = {d.doc_id: Path(d.path).stem for d in docs}
    return {(r.kind, files[r.source], files[r.target]) for r in find_relations(docs)}


def test_relations_among_written_notices() -> None:
    docs = _parse([*AMENDMENTS, SEED])
    assert _pairs(docs) == {
        ("postpones", "seed-postponement", SEED.stem),
        ("corrects", "contest-2026-correction", "contest-2026"),
        ("next_round", "contest-2026", "contest-2025"),
        ("revokes", "lecture-series-stopped", "lecture-series"),
    }
    postponement = next(r for r in find_relations(docs) if r.kind == "postpones")
    assert postponement.via == "doc_number"  # the 文号 it quotes is the seed's
    (change,) = postponement.changes
    assert (change.old_iso, change.new_iso, change.old, change.new) == (
        "2023-10-07",
        "2023-10-15",
        "2023年10月7日",
        "2023年10月15日",
    )
    correction = next(r for r in find_relations(docs) if r.kind == "corrects")
    assert [(c.kind, c.new) for c in correction.changes] == [("contact", "027-68750099")]


def test_relations_do_not_depend_on_the_format(tmp_path: Path) -> None:
    """The same postponement as Word, and the correction as a web page, relate the same way."""
    text = (DATA / "amendments" / "seed-postponement.txt").read_text(encoding="utf-8").split("\n\n")
    docx = write_docx(
        tmp_path / "postponement.docx",
        [Block("heading", text[0], level=1), *[Block("paragraph", p.strip()) for p in text[1:]]],
    )
    lines = (DATA / "amendments" / "contest-2026-correction.txt").read_text(encoding="utf-8").split("\n\n")
    html = write_html(
        tmp_path / "correction.html",
        [Block("heading", lines[0], level=1), *[Block("paragraph", p.strip()) for p in lines[1:]]],
    )
    docs = _parse([docx, html, SEED, DATA / "amendments" / "contest-2026.txt"])
    assert _pairs(docs) == {
        ("postpones", "postponement", SEED.stem),
        ("corrects", "correction", "contest-2026"),
    }


def test_relations_among_real_gazette_records() -> None:
    """Seven real pairs (extensions, corrections, amendments, yearly rounds) and no relation invented
    among the ten unrelated records beside them."""
    docs = _parse([*REAL_AMEND, *GAZETTE])
    found = _pairs(docs)
    assert found == {
        ("postpones", "ey-gazette-82070", "ey-gazette-81756"),
        ("postpones", "ey-gazette-52865", "ey-gazette-52308"),
        ("postpones", "ey-gazette-28559", "ey-gazette-27986"),
        ("corrects", "ey-gazette-3061", "ey-gazette-2806"),
        ("amends", "ey-gazette-50195", "ey-gazette-50051"),
        ("next_round", "ey-gazette-82486", "ey-gazette-74409"),
        ("next_round", "ey-gazette-82662", "ey-gazette-74057"),
    }
    by_file = {d.doc_id: Path(d.path).stem for d in docs}
    extension = next(r for r in find_relations(docs) if by_file[r.source] == "ey-gazette-82070")
    moved = [(c.old_iso, c.new_iso) for c in extension.changes if c.old_iso]
    assert moved == [("2016-02-04", "2016-02-19")]
    assert find_relations(_parse(GAZETTE)) == []


def test_inspect_shows_relations(tmp_path: Path) -> None:
    runner = CliRunner()
    files = [DATA / "amendments" / "contest-2026.txt", DATA / "amendments" / "contest-2026-correction.txt"]
    human = runner.invoke(app, ["inspect", *map(str, files)])
    assert human.exit_code == 0, human.output
    assert "—corrects→" in human.output and "contact: ? → 027-68750099" in human.output
    result = runner.invoke(app, ["inspect", "--json", *map(str, files)])
    data = json.loads(result.output)
    assert {d["title"]: d["status"] for d in data["documents"]} == {
        "关于举办2026年校园节能创意设计大赛的通知": "amended",
        "关于2026年校园节能创意设计大赛联系方式更正的通知": "current",
    }
    (relation,) = data["relations"]
    assert relation["kind"] == "corrects" and relation["changes"][0]["new"] == "027-68750099"
