"""Fuzzing: the HTTP API against its own OpenAPI schema (schemathesis), and the parsers (hypothesis).

- Every operation in /openapi.json, called in-process with generated valid and invalid input: never
  a 5xx, and every response conforms to the schema (status, content type, body, headers). The staff
  JSON API is called with a real staff token, so its handlers run rather than only the auth check.
- Any text through the text reader and the parser: no crash, and every chunk, record and entity
  points at exactly the characters it claims (`doc.text[start:end]`).
- Any bytes through the file loader as .md/.html/.docx/.pdf: blocks or an `IngestError`, nothing else.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from bot.services import Retrieval, build_assistant
from bot.store import open_store
from common.errors import IngestError
from common.settings import Settings
from handlers.app import create_app
from retrieval.entities import find_entities
from retrieval.formats.text import read_text_blocks
from retrieval.loaders import LoadedFile, load_file
from retrieval.parse import parse_document
from tests.support.paths import SEED

MAX_EXAMPLES = 30  # per API operation and phase: keeps the schema run to about a minute
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]
STAFF_NAME, STAFF_PASSWORD = "fuzzer", "fuzz-password-1234"

# -- the API against its schema ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_app(
    build_kb: Callable[..., tuple[Settings, Retrieval]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str]]:
    """The real app (assistant, SQLite store, staff router) over a knowledge base of its own."""
    settings, retrieval = build_kb([SEED], "fuzz")
    settings = settings.model_copy(
        update={"rate_limit_per_minute": 1_000_000, "data_dir": tmp_path_factory.mktemp("fuzz-store")}
    )
    store = open_store(settings)
    store.add_user(STAFF_NAME, STAFF_PASSWORD)
    token = store.issue_token(STAFF_NAME, label="fuzz")
    assistant = build_assistant(settings, retrieval, store=store)
    app = create_app(settings, assistant=assistant, store=store)
    yield app, token
    store.close()


@pytest.fixture(scope="module")
def api_schema(api_app: tuple[Any, str]) -> Any:
    app, token = api_app
    config = SchemathesisConfig.from_dict(
        {
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "headers": {"Authorization": f"Bearer {token}"},
            "phases": {"stateful": {"enabled": False}},
            # A body over APPLYBOT_MAX_BODY_BYTES is refused with 413 before it is parsed: a rejection too.
            "checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "413"]}},
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.integration
@pytest.mark.slow
@schema.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema_and_never_fails(case: Any) -> None:
    path = case.operation.path
    if path.startswith("/staff/"):
        # The staff JSON API reads its bodies itself and declares neither them nor its 201/401/422
        # answers in the schema: only "never a server error" can be asked of it (see the report).
        case.call_and_validate(checks=[not_a_server_error])
        return
    excluded = [unsupported_method]  # Starlette's 405 lists only the first route's methods on a path
    if path.startswith("/api/ask"):
        # "" and "   " are schema-valid strings that the assistant refuses (422 "the question is empty").
        excluded.append(positive_data_acceptance)
    case.call_and_validate(excluded_checks=excluded)


# -- the parsers, with any text ------------------------------------------------------------------------

# Characters notices are made of, and the ones that steer the readers: CJK, full-width punctuation,
# digits and date words, table separators (tab, pipe), Markdown and HTML markup, line breaks.
NOTICE_CHARS = (
    "申报通知任务截止时间材料方式联系人电话邮箱附件一二三四五六七八九十〇年月日号时分至前"
    "重点建设学习型社会中心教育处科室各有关单位：，。、；（）()《》【】—－～~-…"
    "0123456789 \t|\n\r#*_>`<>/&;=\"'abcxyzABC@.:"
)
FRAGMENTS = [
    "# 关于申报的通知",
    "## 一、申报要求",
    "（一）申报对象",
    "| 任务 | 申报对象 | 截止时间 | 联系人 |",
    "| --- | --- | --- | --- |",
    "| 推进社区学习中心建设 | 开放大学 | 2023年10月25日 | 职成处 万婷，027-87588886 |",
    "| 三教统筹 |  | 10月7日前 |  |",
    "任务\t截止时间\t联系人",
    "社区教育\t2023年9月6日—10月7日\t李娟 027-87328019",
    "联系人：李娟，电话：027-87328019，邮箱：a.b@example.cn",
    "2023年10月7日17:00前",
    "每年3月1日前",
    "2023—2025年",
    "<b>加粗</b> <script>alert(1)</script> &amp; &#x4e00;",
    "---",
    "附件：1. 申报书",
    "",
]
notice_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=NOTICE_CHARS, max_size=80)), max_size=25
).map("\n".join) | st.text(max_size=300)


def _check_offsets(doc: Any) -> None:
    text = doc.text
    for chunk in doc.chunks:
        assert 0 <= chunk.start <= chunk.end <= len(text)
        assert chunk.text == text[chunk.start : chunk.end]
    for record in doc.records:
        assert record.row_text == text[record.start : record.end]
    for entity in doc.entities:
        assert entity.text == text[entity.start : entity.end]
    for section in doc.sections:
        assert 0 <= section.start <= section.end <= len(text)


def _loaded(blocks: list[Any], name: str = "fuzz.md", fmt: str = "markdown") -> LoadedFile:
    return LoadedFile(path=Path(name), format=fmt, content_hash="0" * 64, blocks=blocks)


@pytest.mark.unit
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=notice_text)
@example(text="")
@example(text="| 任务 | 截止时间 |\n|---|---|\n|  |  |")
@example(text="任务\t截止时间\n\t\n社区\t")
def test_any_text_parses_and_every_span_points_at_its_text(text: str) -> None:
    blocks = read_text_blocks(text)
    doc = parse_document(_loaded(blocks), rel_path="fuzz.md")
    _check_offsets(doc)


@pytest.mark.unit
@settings(max_examples=300, deadline=None, database=None)
@given(text=notice_text, year=st.none() | st.integers(1990, 2100))
@example(text="2023年9月6日—10月7日，联系人：李娟 027-87328019", year=None)
@example(text="二〇二三年十月七日", year=2023)
def test_entities_are_slices_of_the_text(text: str, year: int | None) -> None:
    for entity in find_entities(text, default_year=year):
        assert entity.text == text[entity.start : entity.end]


# -- the loaders, with any bytes ------------------------------------------------------------------------


def _seed_files() -> dict[str, bytes]:
    """Small real files of each format, written once, for the mutation strategies below."""
    from tests.support.builders import write_docx, write_html, write_pdf

    blocks = read_text_blocks("\n".join(FRAGMENTS[:8]))
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, write in ((".docx", write_docx), (".html", write_html), (".pdf", write_pdf)):
            path = write(Path(tmp) / f"seed{suffix}", blocks)
            out[suffix] = path.read_bytes()
    out[".md"] = "\n".join(FRAGMENTS).encode("utf-8")
    return out


SEEDS = _seed_files()


@st.composite
def _mutated(draw: st.DrawFn, suffix: str) -> bytes:
    """A real file of this format, cut short, overwritten in places, or with bytes inserted."""
    data = bytearray(SEEDS[suffix])
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, max(0, len(data) - 1)))
        how = draw(st.sampled_from(["cut", "overwrite", "insert"]))
        chunk = draw(st.binary(min_size=1, max_size=64))
        if how == "cut":
            del data[where:]
        elif how == "overwrite":
            data[where : where + len(chunk)] = chunk
        else:
            data[where:where] = chunk
    return bytes(data)


def _docx_with(document_xml: str) -> bytes:
    """A DOCX (a zip) whose document part is whatever text was drawn, well-formed or not."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(SEEDS[".docx"])) as seed, zipfile.ZipFile(buffer, "w") as out:
        for item in seed.infolist():
            body = seed.read(item.filename)
            if item.filename == "word/document.xml":
                body = document_xml.encode("utf-8", "surrogatepass")
            out.writestr(item, body)
    return buffer.getvalue()


def _file_bytes(suffix: str) -> st.SearchStrategy[bytes]:
    options = [st.binary(max_size=2048), _mutated(suffix)]
    if suffix == ".md":
        options.append(notice_text.map(lambda t: t.encode("utf-8", "surrogatepass")))
        options.append(notice_text.map(lambda t: t.encode("gb18030", "replace")))
    if suffix == ".html":
        options.append(
            notice_text.map(
                lambda t: f"<html><body><p>{t}</p><table><tr><td>{t}</td></tr></table>".encode(
                    "utf-8", "surrogatepass"
                )
            )
        )
    if suffix == ".docx":
        xml = st.text(alphabet=NOTICE_CHARS, max_size=200).map(
            lambda t: (
                '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                f'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{t}</w:t></w:r></w:p></w:body></w:document>'
            )
        )
        options.append(xml.map(_docx_with))
    return st.one_of(options)


@pytest.mark.unit
@pytest.mark.parametrize("suffix", [".md", ".html", ".docx", ".pdf"])
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_bytes_load_as_blocks_or_an_ingest_error(suffix: str, data: st.DataObject) -> None:
    content = data.draw(_file_bytes(suffix), label="content")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"notice{suffix}"
        path.write_bytes(content)
        try:
            loaded = load_file(path)
        except IngestError as exc:
            event(f"refused: {type(exc).__name__}")
            assert str(exc).strip()  # a message a person can act on
            return
    event("loaded")
    assert loaded.blocks and loaded.format
    # What loads also parses, with every span pointing at its text.
    _check_offsets(parse_document(loaded, rel_path=path.name))
