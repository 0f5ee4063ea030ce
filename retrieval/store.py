"""The parsed knowledge base on disk: one JSON file per document plus a manifest of content hashes.

Writes go to a temporary file that then replaces the old one, so a reader never sees half a document.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from retrieval.model import Document


def _write_json_atomic(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
    os.replace(tmp, path)


class DocumentStore:
    """Parsed documents under `<data_dir>/kb`, keyed by document id (a hash of the file's relative path)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._docs_dir = root / "documents"
        self._manifest_path = root / "manifest.json"
        self._cache: dict[str, Document] = {}
        self._parsers: dict[str, str | None] = {}  # parser version of each cached document

    def manifest(self) -> dict[str, dict[str, str]]:
        """Return {doc_id: {"path", "content_hash"}} for every stored document."""
        if not self._manifest_path.exists():
            return {}
        return dict(json.loads(self._manifest_path.read_text(encoding="utf-8")))

    def put(self, doc: Document, *, version: str = "") -> None:
        """Store a document, replacing any earlier version of the same file; `version` is the parser's."""
        _write_json_atomic(self._docs_dir / f"{doc.doc_id}.json", doc.to_dict())
        manifest = self.manifest()
        manifest[doc.doc_id] = {"path": doc.path, "content_hash": doc.content_hash, "parser": version}
        _write_json_atomic(self._manifest_path, manifest)
        self._cache[doc.doc_id] = doc
        self._parsers[doc.doc_id] = version

    def remove(self, doc_id: str) -> None:
        """Forget a document."""
        manifest = self.manifest()
        manifest.pop(doc_id, None)
        _write_json_atomic(self._manifest_path, manifest)
        (self._docs_dir / f"{doc_id}.json").unlink(missing_ok=True)
        self._cache.pop(doc_id, None)

    def get(self, doc_id: str) -> Document | None:
        """Return a stored document, or None (read again when another process replaced it)."""
        cached = self._cache.get(doc_id)
        if cached is not None:
            entry = self.manifest().get(doc_id)
            if (
                entry is None
                or entry.get("content_hash") != cached.content_hash
                or entry.get("parser") != self._parsers.get(doc_id)
            ):
                self._cache.pop(doc_id, None)
        if doc_id not in self._cache:
            path = self._docs_dir / f"{doc_id}.json"
            if not path.exists():
                return None
            self._cache[doc_id] = Document.from_dict(json.loads(path.read_text(encoding="utf-8")))
            self._parsers[doc_id] = self.manifest().get(doc_id, {}).get("parser")
        return self._cache[doc_id]

    def documents(self) -> list[Document]:
        """Return every stored document, ordered by path."""
        docs = [self.get(doc_id) for doc_id in self.manifest()]
        return sorted((d for d in docs if d is not None), key=lambda d: d.path)
