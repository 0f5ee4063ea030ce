"""Ingestion: only changed files are parsed again, bad files are reported and skipped, nothing else is lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from common.settings import get_settings
from handlers.cli import app
from retrieval.ingest import ingest_paths
from retrieval.store import DocumentStore
from tests.support.builders import write_scanned_pdf
from tests.support.paths import DATA, SEED

pytestmark = pytest.mark.unit


@pytest.fixture()
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    shutil.copy(DATA / "notices" / "city-community-education-2026.txt", folder / "city.txt")
    return folder


def test_unchanged_files_are_skipped_and_changed_ones_replaced(tmp_path: Path, knowledge: Path) -> None:
    store = DocumentStore(tmp_path / "kb")
    first = ingest_paths([knowledge], store=store, root=knowledge)
    assert (first.documents, len(first.added), first.records) == (2, 2, 11)
    again = ingest_paths([knowledge], store=store, root=knowledge)
    assert (len(again.added), len(again.updated), len(again.unchanged)) == (0, 0, 2)

    city = knowledge / "city.txt"
    city.write_text(
        city.read_text(encoding="utf-8").replace("2027年1月10日前", "2027年1月12日前"), encoding="utf-8"
    )
    changed = ingest_paths([knowledge], store=store, root=knowledge)
    assert changed.updated == ["city.txt"] and changed.unchanged == [SEED.name]
    doc = next(d for d in DocumentStore(tmp_path / "kb").documents() if d.path == "city.txt")
    assert "2027-01-12" in {r.deadline for r in doc.records}


def test_prune_drops_documents_whose_files_are_gone(tmp_path: Path, knowledge: Path) -> None:
    store = DocumentStore(tmp_path / "kb")
    ingest_paths([knowledge], store=store, root=knowledge)
    (knowledge / "city.txt").unlink()
    kept = ingest_paths([knowledge], store=store, root=knowledge)
    assert len(store.documents()) == 2 and kept.removed == []
    pruned = ingest_paths([knowledge], store=store, root=knowledge, prune=True)
    assert pruned.removed == ["city.txt"] and [d.path for d in store.documents()] == [SEED.name]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.md", b"", "empty"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable docx"),
        ("broken.pdf", b"%PDF-1.4 garbage", "not a readable pdf"),
        ("notice.xlsx", b"whatever", "unsupported format '.xlsx'"),
        ("latin1.txt", "caf\xe9".encode("latin-1") + b"\xff\xfe\xfa", "not UTF-8 or GB18030"),
        ("blank.md", b"   \n\n  \t\n", "no text found"),
    ],
)
def test_bad_files_are_reported_and_the_rest_ingested(
    tmp_path: Path, knowledge: Path, name: str, content: bytes, message: str
) -> None:
    (knowledge / name).write_bytes(content)
    report = ingest_paths([knowledge], store=DocumentStore(tmp_path / "kb"), root=knowledge)
    assert [f for f, _ in report.errors] == [name]
    assert message in report.errors[0][1]
    assert report.documents == 2 and report.records == 11


def test_a_pdf_without_a_text_layer_is_reported(tmp_path: Path, knowledge: Path) -> None:
    write_scanned_pdf(knowledge / "scan.pdf")
    report = ingest_paths([knowledge], store=DocumentStore(tmp_path / "kb"), root=knowledge)
    assert report.errors == [("scan.pdf", "scan.pdf: no text found (a scanned PDF without a text layer?)")]


@pytest.fixture()
def cli_env(tmp_path: Path, knowledge: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("APPLYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("APPLYBOT_KNOWLEDGE_DIR", str(knowledge))
    get_settings.cache_clear()
    yield knowledge
    get_settings.cache_clear()


@pytest.mark.integration
def test_cli_ingest_and_inspect(cli_env: Path) -> None:
    runner = CliRunner()
    (cli_env / "bad.xlsx").write_bytes(b"x")
    result = runner.invoke(app, ["ingest", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["documents"], summary["records"], summary["tables"]) == (2, 11, 2)
    assert summary["errors"][0]["file"] == "bad.xlsx"
    assert summary["index"]["entries"] > 50

    result = runner.invoke(app, ["inspect", str(cli_env / SEED.name), "--json"])
    assert result.exit_code == 0, result.output
    [doc] = json.loads(result.output)["documents"]
    assert (doc["doc_number"], doc["issuer"]) == ("鄂教职成函〔2023〕9号", "湖北省教育厅")
    assert [r["deadline"] for r in doc["records"]] == [
        "2023-10-08",
        "2023-10-25",
        "2023-10-07",
        "2023-10-07",
        "2023-10-07",
    ]
    assert doc["records"][1]["inferred"] == ["contacts"]
    assert doc["records"][1]["contacts"][0] == {
        "name": "万婷",
        "department": "职成处",
        "phone": "027-87588886",
        "email": None,
    }
    assert {p["doc_number"] for p in doc["parts"]} >= {"鄂教职成函〔2023〕9号", "教职成函〔2023〕9号"}

    human = runner.invoke(app, ["inspect", str(cli_env / SEED.name)])
    assert "(inferred from the row above)" in human.output

    missing = runner.invoke(app, ["inspect", str(cli_env / "nope.md")])
    assert missing.exit_code == 1
