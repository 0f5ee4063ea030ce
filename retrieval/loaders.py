"""Pick the reader for a file by its extension and turn the file into blocks.

Every failure is an `IngestError` subclass with a message a person can act on, so the ingest
report can list it against the file and go on with the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common.errors import CorruptFileError, EmptyDocumentError, IngestError, UnsupportedFormatError
from retrieval.model import Block

MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class LoadedFile:
    """A file read into blocks, with the hash of its bytes (its identity for re-ingestion)."""

    path: Path
    format: str
    content_hash: str
    blocks: list[Block]


def _read_text(data: bytes, path: Path) -> list[Block]:
    from retrieval.formats.text import read_text_blocks

    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return read_text_blocks(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise CorruptFileError(f"{path.name}: not UTF-8 or GB18030 text")


def _read_html(data: bytes, path: Path) -> list[Block]:
    from retrieval.formats.html import read_html_blocks

    return read_html_blocks(data)


def _read_docx(data: bytes, path: Path) -> list[Block]:
    from retrieval.formats.docx import read_docx_blocks

    return read_docx_blocks(data)


def _read_pdf(data: bytes, path: Path) -> list[Block]:
    from retrieval.formats.pdf import read_pdf_blocks

    return read_pdf_blocks(data)


READERS: dict[str, tuple[str, Callable[[bytes, Path], list[Block]]]] = {
    ".md": ("markdown", _read_text),
    ".markdown": ("markdown", _read_text),
    ".txt": ("text", _read_text),
    ".html": ("html", _read_html),
    ".htm": ("html", _read_html),
    ".docx": ("docx", _read_docx),
    ".pdf": ("pdf", _read_pdf),
}
SUPPORTED_EXTENSIONS = tuple(READERS)


def load_file(path: Path) -> LoadedFile:
    """Read one file into blocks, or raise an `IngestError` that says what is wrong with it."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        supported = ", ".join(SUPPORTED_EXTENSIONS)
        raise UnsupportedFormatError(
            f"{path.name}: unsupported format '{suffix or '(none)'}' (supported: {supported})"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    if size == 0:
        raise EmptyDocumentError(f"{path.name}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise IngestError(f"{path.name}: {size} bytes is over the {MAX_FILE_BYTES} byte limit")
    data = path.read_bytes()
    fmt, reader = READERS[suffix]
    try:
        blocks = reader(data, path)
    except IngestError as exc:
        message = str(exc)
        if not message.startswith(path.name):
            raise type(exc)(f"{path.name}: {message}") from exc  # readers do not know the file name
        raise
    except Exception as exc:  # a reader library failing on a broken file
        raise CorruptFileError(
            f"{path.name}: not a readable {fmt} file ({type(exc).__name__}: {exc})"
        ) from exc
    if not any(b.text.strip() or any(c.strip() for row in b.rows for c in row) for b in blocks):
        hint = " (a scanned PDF without a text layer?)" if fmt == "pdf" else ""
        raise EmptyDocumentError(f"{path.name}: no text found{hint}")
    return LoadedFile(path=path, format=fmt, content_hash=hashlib.sha256(data).hexdigest(), blocks=blocks)
