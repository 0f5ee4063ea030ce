"""An in-memory VectorStore: exact cosine search over a numpy matrix, for tests and tiny deployments.

It needs no Chroma (no files, no server) and answers exactly rather than approximately (HNSW), which
suits tests and knowledge bases of a few thousand passages. Nothing is persisted: a new process starts
empty. KnowledgeIndex.sync skips documents its on-disk manifest says are indexed, so give it an index
directory that starts empty with the process too (the embedding cache still saves re-embedding).

It keeps the Chroma index's semantics as far as applybot relies on them, and
tests/retrieval/test_vector_store_contract.py runs the same tests on both: upsert merges metadata keys
as Chroma does, deleting an unknown id is ignored, the first upsert fixes the dimension, and duplicate
ids in one upsert, k < 1 and filters outside VectorStore's subset of Chroma's `where` syntax are
refused (here with ValueError; the Chroma index reports a refused query as IndexUnavailableError).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

Predicate = Callable[[dict[str, Any]], bool]
_MISSING = object()


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero: it is then similar to nothing)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1.0, norms), dtype=np.float32)


def compile_where(where: dict[str, Any]) -> Predicate:
    """Turn a VectorStore `where` filter into a test of one metadata dict; refuse what is not supported."""
    if not isinstance(where, dict) or not where:
        raise ValueError(f"a filter is a non-empty dict, got {where!r}")
    tests: list[Predicate] = []
    for key, condition in where.items():
        if key == "$and":
            if not isinstance(condition, list) or not condition:
                raise ValueError(f"$and takes a non-empty list of filters, got {condition!r}")
            tests.extend(compile_where(part) for part in condition)  # the tests are all ANDed anyway
        elif key.startswith("$"):
            raise ValueError(f"unsupported filter operator {key}")
        elif isinstance(condition, dict):
            if not condition:
                raise ValueError(f"no operator for {key}")
            tests.extend(_compile_condition(key, op, operand) for op, operand in condition.items())
        else:
            tests.append(_compile_condition(key, "$eq", condition))
    return lambda meta: all(test(meta) for test in tests)


def _compile_condition(key: str, op: str, operand: Any) -> Predicate:
    if op == "$eq":
        return lambda meta: meta.get(key, _MISSING) == operand
    if op == "$in":
        if not isinstance(operand, list) or not operand:
            raise ValueError(f"$in takes a non-empty list (as Chroma requires), got {operand!r}")
        allowed = list(operand)
        return lambda meta: meta.get(key, _MISSING) in allowed
    raise ValueError(f"unsupported filter operator {op}")


class MemoryVectorIndex:
    """Vectors in one numpy matrix (unit rows), their ids and metadata in parallel lists; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self._metadatas: list[dict[str, Any]] = []
        self._matrix: np.ndarray | None = None  # None until the first upsert fixes the dimension

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Add or replace vectors; a replaced id keeps the metadata keys not given again."""
        rows = np.asarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or len(rows) != len(ids) or len(metadatas) != len(ids):
            raise ValueError("upsert takes one vector (a row) and one metadata dict per id")
        if len(set(ids)) != len(ids):
            raise ValueError("upsert ids must be unique")
        if not ids:
            return
        rows = _unit_rows(rows)
        with self._lock:
            if self._matrix is None:
                self._matrix = np.zeros((0, rows.shape[1]), dtype=np.float32)
            if rows.shape[1] != self._matrix.shape[1]:
                raise ValueError(
                    f"index holds vectors of dimension {self._matrix.shape[1]}, got {rows.shape[1]}"
                )
            new: list[int] = []
            for i, (entry_id, metadata) in enumerate(zip(ids, metadatas, strict=True)):
                row = self._row_of.get(entry_id)
                if row is None:
                    new.append(i)
                    self._row_of[entry_id] = len(self._ids)
                    self._ids.append(entry_id)
                    self._metadatas.append(dict(metadata))
                else:
                    self._matrix[row] = rows[i]
                    self._metadatas[row] = {**self._metadatas[row], **metadata}
            if new:
                self._matrix = np.vstack([self._matrix, rows[new]])

    def delete(self, ids: list[str]) -> None:
        with self._lock:
            gone = {self._row_of[i] for i in ids if i in self._row_of}
            if not gone or self._matrix is None:
                return
            keep = [row for row in range(len(self._ids)) if row not in gone]
            self._matrix = self._matrix[keep]
            self._ids = [self._ids[row] for row in keep]
            self._metadatas = [self._metadatas[row] for row in keep]
            self._row_of = {entry_id: row for row, entry_id in enumerate(self._ids)}

    def ids_of_document(self, doc_id: str) -> list[str]:
        with self._lock:
            return [
                i for i, meta in zip(self._ids, self._metadatas, strict=True) if meta.get("doc_id") == doc_id
            ]

    def count(self) -> int:
        with self._lock:
            return len(self._ids)

    def query(
        self, vector: np.ndarray, *, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to k (id, cosine similarity) pairs, best first (ties: the earlier added first)."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        matches = compile_where(where) if where else None
        query = _unit_rows(np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]
        with self._lock:
            if self._matrix is None or not self._ids:
                return []
            if query.shape[0] != self._matrix.shape[1]:
                raise ValueError(
                    f"index holds vectors of dimension {self._matrix.shape[1]}, got {query.shape[0]}"
                )
            rows = np.arange(len(self._ids))
            if matches is not None:
                rows = rows[np.array([matches(meta) for meta in self._metadatas], dtype=bool)]
            similarities = self._matrix[rows] @ query
            ids = [self._ids[row] for row in rows]
        best = np.argsort(-similarities, kind="stable")[:k]
        return [(ids[i], float(similarities[i])) for i in best]
