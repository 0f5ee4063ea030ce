"""Keep the vector and lexical indexes in step with the document store, touching only what changed."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from retrieval.embeddings import Embedder
from retrieval.entries import Entry, entries_for_document
from retrieval.lexical import LexicalIndex, Tokenizer
from retrieval.model import Document, stable_id
from retrieval.search import HybridSearcher
from retrieval.store import DocumentStore
from retrieval.structure import HEADING_PATTERNS
from retrieval.vector_store import VectorStore

log = logging.getLogger(__name__)


def domain_words(doc: Document) -> list[str]:
    """Terms of the knowledge base itself: task names, heading titles, short table cells, departments."""
    words: list[str] = []
    for record in doc.records:
        words.append(record.task)
        words.extend(c.department for c in record.contacts if c.department)
    for section in doc.sections:
        title = section.title
        for pattern in HEADING_PATTERNS:
            title = pattern.sub("", title).strip()
        words.append(title)
    for table in doc.tables:
        for row in table.rows:
            words.extend(cell for cell in row if 2 <= len(cell) <= 12 and not re.search(r"\d", cell))
    for part in doc.parts:
        words.extend(w for w in (part.issuer, part.title) if w)
    return [w for w in words if w and len(w) <= 20]


class KnowledgeIndex:
    """The indexes over the document store (plus extra entries such as staff FAQ answers)."""

    def __init__(
        self, *, store: DocumentStore, vectors: VectorStore | None, embedder: Embedder, index_dir: Path
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.index_dir = index_dir
        self.lexical = LexicalIndex(Tokenizer())
        self.lexical.load(index_dir / "lexical.json")
        self.entries: dict[str, Entry] = {}
        self._load_entries()
        self.searcher = HybridSearcher(
            entries=self.entries, vectors=vectors, lexical=self.lexical, embedder=embedder
        )

    @property
    def _manifest_path(self) -> Path:
        return self.index_dir / "manifest.json"

    def _manifest(self) -> dict[str, str]:
        if self._manifest_path.exists():
            return dict(json.loads(self._manifest_path.read_text(encoding="utf-8")))
        return {}

    def _save_manifest(self, manifest: dict[str, str]) -> None:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self._manifest_path)

    def _load_entries(self) -> None:
        self.entries.clear()
        for doc in self.store.documents():
            for entry in entries_for_document(doc):
                self.entries[entry.entry_id] = entry

    def _version(self, entries: list[Entry]) -> str:
        """What the indexes hold for a document: its entries' texts and the model (a parser change counts)."""
        return stable_id(
            self.embedder.name, *sorted(f"{e.entry_id}:{e.index_text}" for e in entries), length=24
        )

    def sync(self, *, extra: dict[str, tuple[str, list[Entry]]] | None = None) -> dict[str, Any]:
        """Re-index documents whose content changed; drop those that are gone. Returns counts.

        `extra` maps a pseudo document id to (version, entries), e.g. the staff FAQ.
        """
        manifest = self._manifest()
        wanted: dict[str, tuple[str, list[Entry]]] = {}
        docs = self.store.documents()
        for doc in docs:
            entries = entries_for_document(doc)
            wanted[doc.doc_id] = (self._version(entries), entries)
        wanted.update(extra or {})
        stats = {"documents_indexed": 0, "documents_removed": 0, "entries": 0, "passages_embedded": 0}
        embedded_before = getattr(self.embedder, "passages_embedded", 0)
        for doc in docs:
            for word in domain_words(doc):
                self.lexical.tokenizer.add_word(word)
        changed = False
        for doc_id, (version, entries) in wanted.items():
            if manifest.get(doc_id) == version and self.lexical.document_hash(doc_id) == version:
                continue
            self._index_document(doc_id, version, entries)
            manifest[doc_id] = version
            stats["documents_indexed"] += 1
            changed = True
        for doc_id in list(manifest):
            if doc_id not in wanted:
                self._drop_document(doc_id)
                del manifest[doc_id]
                stats["documents_removed"] += 1
                changed = True
        if changed or len(self.lexical) == 0:
            self.lexical.rebuild()
            self.lexical.save(self.index_dir / "lexical.json")
            self._save_manifest(manifest)
        # Swap in a new mapping rather than edit the old one: searches running meanwhile keep a whole view.
        fresh = {entry.entry_id: entry for _, entries in wanted.values() for entry in entries}
        self.entries = fresh
        self.searcher.entries = fresh
        self.searcher.refresh_statistics()
        stats["entries"] = len(self.entries)
        stats["passages_embedded"] = getattr(self.embedder, "passages_embedded", 0) - embedded_before
        return stats

    def _index_document(self, doc_id: str, version: str, entries: list[Entry]) -> None:
        if self.vectors is not None:
            old_ids = set(self.vectors.ids_of_document(doc_id))
            if entries:
                vectors = self.embedder.embed_passages([e.index_text for e in entries])
                metadatas = [
                    {"doc_id": e.doc_id, "kind": e.kind, "section": e.section[:500], "title": e.title[:200]}
                    for e in entries
                ]
                self.vectors.upsert([e.entry_id for e in entries], vectors, metadatas)
            # New vectors are in before old ones go, so a search never finds the document missing.
            stale = sorted(old_ids - {e.entry_id for e in entries})
            if stale:
                self.vectors.delete(stale)
        self.lexical.set_document(doc_id, version, [(e.entry_id, e.index_text) for e in entries])

    def _drop_document(self, doc_id: str) -> None:
        if self.vectors is not None:
            ids = self.vectors.ids_of_document(doc_id)
            if ids:
                self.vectors.delete(ids)
        self.lexical.remove_document(doc_id)
