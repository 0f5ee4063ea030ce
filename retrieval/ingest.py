"""Ingest files into the document store: load, parse, and store only what changed.

A file's identity is its path relative to the knowledge directory; its version is the hash of its
bytes. An unchanged file is skipped, a changed one replaces its document whole, and with `prune`
documents whose files are gone are dropped. One bad file is reported and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import IngestError
from retrieval.loaders import load_file
from retrieval.model import Document, stable_id
from retrieval.parse import PARSER_VERSION, parse_document
from retrieval.store import DocumentStore

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What one ingest run did, file by file and in totals."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    documents: int = 0
    sections: int = 0
    chunks: int = 0
    tables: int = 0
    records: int = 0

    def count(self, doc: Document) -> None:
        self.documents += 1
        self.sections += len(doc.sections)
        self.chunks += len(doc.chunks)
        self.tables += len(doc.tables)
        self.records += len(doc.records)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into the files under them (hidden files skipped), in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and not any(s.startswith(".") for s in p.parts)
            )
        else:
            found.append(path)
    return found


def relative_name(path: Path, root: Path) -> str:
    """Name a file by its path under the knowledge directory (or its absolute path outside it)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def ingest_paths(
    paths: Iterable[Path],
    *,
    store: DocumentStore,
    root: Path,
    prune: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> IngestReport:
    """Ingest files and directories into the store and return the report."""
    report = IngestReport()
    manifest = store.manifest()
    seen: set[str] = set()
    for path in discover(paths):
        if on_file:
            on_file(path)
        rel = relative_name(path, root)
        doc_id = stable_id("doc", rel)
        seen.add(doc_id)
        if not path.exists():
            report.errors.append((rel, f"{path.name}: no such file"))
            continue
        try:
            loaded = load_file(path)
        except IngestError as exc:
            report.errors.append((rel, str(exc)))
            log.warning("skipped %s: %s", rel, exc)
            continue
        known = manifest.get(doc_id)
        if known and known["content_hash"] == loaded.content_hash and known.get("parser") == PARSER_VERSION:
            report.unchanged.append(rel)
            doc = store.get(doc_id)
            if doc:
                report.count(doc)
            continue
        try:
            doc = parse_document(loaded, rel_path=rel)
        except Exception as exc:  # a parser bug must not cost the other files
            log.exception("could not parse %s", rel)
            report.errors.append((rel, f"{path.name}: could not be parsed ({type(exc).__name__}: {exc})"))
            continue
        store.put(doc, version=PARSER_VERSION)
        (report.updated if known else report.added).append(rel)
        report.warnings.extend((rel, w) for w in doc.warnings)
        report.count(doc)
    if prune:
        for doc_id, entry in manifest.items():
            if doc_id not in seen and not (root / entry["path"]).exists():
                store.remove(doc_id)
                report.removed.append(entry["path"])
    return report
