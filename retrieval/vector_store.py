"""What the retrieval code needs from a dense vector index, whichever holds the vectors.

Implementations: `retrieval.vectors.VectorIndex` (Chroma, embedded or a server) and
`retrieval.memory_vectors.MemoryVectorIndex` (numpy, in memory).
tests/retrieval/test_vector_store_contract.py runs the same tests against each.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class VectorStore(Protocol):
    """Entry vectors by id, each with flat metadata (applybot writes doc_id, kind, section and title).

    Similarity is cosine. `where` filters use Chroma's syntax, as much of it as applybot builds:
    {"key": value}, {"key": {"$eq": value}}, {"key": {"$in": [value, ...]}} and {"$and": [filter, ...]}.
    """

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Add vectors, or replace those whose id is present: the metadata keys given overwrite, others stay."""
        ...

    def delete(self, ids: list[str]) -> None:
        """Remove these ids; ids not present are ignored."""
        ...

    def ids_of_document(self, doc_id: str) -> list[str]:
        """Return the ids whose metadata has this doc_id, in no particular order."""
        ...

    def count(self) -> int:
        """Return how many vectors the index holds."""
        ...

    def query(
        self, vector: np.ndarray, *, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to k (id, cosine similarity) pairs, best first; k >= 1.

        Raises IndexUnavailableError when the index cannot be reached (search then falls back to lexical).
        """
        ...
