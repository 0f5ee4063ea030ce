"""Hybrid search: dense (Chroma) and lexical (BM25) rankings fused by RRF, with a relevance signal.

The relevance signal is what the answer layer uses to decide to escalate. Raw cosines from e5
bunch together (0.85-0.93 for anything Chinese), so it is built from two features that do
separate: how much of the question's weighted vocabulary the passage covers, and how far the
passage's cosine stands above the cosines of the rest of the candidate list.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from common.errors import IndexUnavailableError, InvalidQueryError
from retrieval.embeddings import Embedder
from retrieval.entries import Entry
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.lexical import LexicalIndex
from retrieval.lexicon import expand_query
from retrieval.lru import LruCache
from retrieval.normalize import has_cjk, normalize_for_search
from retrieval.vector_store import VectorStore

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "dense", "lexical"]
MAX_QUERY_CHARS = 2000
CANDIDATES = 30
# Fusion settings, measured in one sweep (bench/cmrc_eval.py --sweep, docs/benchmarks.md): lexical
# matches are the stronger signal on both the notices and CMRC, and a small RRF k lets a passage that
# both rankings put on top win clearly. CMRC recall@5: k=60/w=0.7 0.992 (below lexical's 0.997),
# k=5/w=0.5 0.998 (above both); development set: recall@5 0.978, MRR 0.902.
DENSE_WEIGHT = 0.5
FUSION_K = 5
DENSE_CACHE_SIZE = 4096


@dataclass
class SearchFilter:
    """Restrict a search to some documents, a section path prefix, or entry kinds."""

    doc_ids: set[str] | None = None
    section_prefix: str | None = None
    kinds: set[str] | None = None

    def accepts(self, entry: Entry) -> bool:
        if self.doc_ids is not None and entry.doc_id not in self.doc_ids:
            return False
        if self.kinds is not None and entry.kind not in self.kinds:
            return False
        return not (self.section_prefix and not entry.section.startswith(self.section_prefix))


@dataclass
class Hit:
    """One ranked entry with its scores; `relevance` is in [0, 1]."""

    entry: Entry
    score: float
    relevance: float
    dense: float | None = None
    lexical: float | None = None
    coverage: float = 0.0  # relevance features, kept for calibration and debugging
    dense_z: float = 0.0


@dataclass
class SearchResult:
    hits: list[Hit]
    degraded: bool = False
    mode: str = "hybrid"


def check_query(query: str) -> str:
    """Return the query stripped, or raise InvalidQueryError with a reason a person understands."""
    if not isinstance(query, str):
        raise InvalidQueryError("the query must be text")
    stripped = query.strip()
    if not stripped:
        raise InvalidQueryError("the query is empty")
    if len(stripped) > MAX_QUERY_CHARS:
        raise InvalidQueryError(
            f"the query is {len(stripped)} characters long; the limit is {MAX_QUERY_CHARS}"
        )
    return stripped


def _has_content(text: str) -> bool:
    return any(ch.isalnum() for ch in normalize_for_search(text))


class HybridSearcher:
    """Searches the entries of the knowledge base; built once at start-up and shared."""

    def __init__(
        self,
        *,
        entries: dict[str, Entry],
        vectors: VectorStore | None,
        lexical: LexicalIndex,
        embedder: Embedder,
    ) -> None:
        self.entries = entries
        self.vectors = vectors
        self.lexical = lexical
        self.embedder = embedder
        self._degraded_logged = False
        self._lock = threading.Lock()
        self._idf: dict[str, float] = {}
        self.hidden_docs: frozenset[str] = frozenset()  # retired notices: kept, never found
        # Vector-search results by (embedded text, filter): on a busy day most questions are asked
        # before, and the Chroma round trip is then the largest cost of an answer. Cleared whenever
        # the entries change; a question answered while Chroma is down is served from here, whole.
        self._dense_cache: LruCache[tuple[str, str], list[tuple[str, float]]] = LruCache(DENSE_CACHE_SIZE)
        self.refresh_statistics()

    def clear_caches(self) -> None:
        """Forget cached query vectors and vector-search results (benchmarks measure cold queries)."""
        self._dense_cache.clear()
        clear = getattr(self.embedder, "clear_query_cache", None)
        if clear is not None:
            clear()

    def refresh_statistics(self) -> None:
        """Recompute token document frequencies (for the coverage feature) after the entries change."""
        self._dense_cache.clear()
        df: dict[str, int] = {}
        for entry in self.entries.values():
            for token in self.lexical.tokens_of(entry.entry_id):
                df[token] = df.get(token, 0) + 1
        n = max(1, len(self.entries))
        self._max_idf = math.log(1 + n)
        self._idf = {t: math.log(1 + n / c) for t, c in df.items()}

    def search(
        self, query: str, *, k: int = 5, mode: Mode = "hybrid", filters: SearchFilter | None = None
    ) -> SearchResult:
        """Rank entries for a query. Empty or contentless queries give no hits; a down index degrades."""
        query = check_query(query)
        if not _has_content(query) or not self.entries:
            return SearchResult([], mode=mode)
        k = max(1, min(int(k), 50))
        # BM25 also gets the notice wording that colloquial or English words imply. The model reads
        # the question as asked (normalised): it understands colloquial and English wording itself,
        # and the appended words lengthen the embedding, the largest cost of a new question. Measured
        # on the development sets: hybrid recall@5 0.978 and MRR 0.889, answers 0.986 / 0.972 / 0.974,
        # either way; p50 of a new answer 38 -> 33 ms (English first: p95 16.7 -> 13.3 ms).
        normalized = normalize_for_search(query)
        expanded = expand_query(normalized)
        allowed = {e.entry_id for e in self.entries.values() if filters.accepts(e)} if filters else None
        where = self._where(filters)
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        degraded = False
        if mode in ("hybrid", "dense"):
            try:
                dense = self._dense(normalized if has_cjk(query) else query, where=where, allowed=allowed)
            except IndexUnavailableError as exc:
                degraded = True
                with self._lock:
                    if not self._degraded_logged:
                        log.warning("vector index unavailable, answering from lexical search: %s", exc)
                        self._degraded_logged = True
            else:
                self._degraded_logged = False
        if mode in ("hybrid", "lexical") or degraded:
            lexical = self.lexical.search(expanded, k=CANDIDATES, allowed=allowed)
        if mode == "dense" and not degraded:
            fused = dense
        elif mode == "lexical" or degraded:
            fused = lexical
        else:
            fused = reciprocal_rank_fusion([dense, lexical], k=FUSION_K, weights=[DENSE_WEIGHT, 1.0])
        if self.hidden_docs:
            fused = [(i, s) for i, s in fused if self.entries[i].doc_id not in self.hidden_docs]
        hits = self._hits(expanded, fused, dict(dense), dict(lexical), k)
        return SearchResult(hits, degraded=degraded, mode=mode)

    def _where(self, filters: SearchFilter | None) -> dict | None:  # type: ignore[type-arg]
        if not filters:
            return None
        clauses: list[dict] = []  # type: ignore[type-arg]
        if filters.doc_ids is not None:
            clauses.append({"doc_id": {"$in": sorted(filters.doc_ids)}})
        if filters.kinds is not None:
            clauses.append({"kind": {"$in": sorted(filters.kinds)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def _dense(self, query: str, *, where: dict | None, allowed: set[str] | None) -> list[tuple[str, float]]:  # type: ignore[type-arg]
        if self.vectors is None:
            raise IndexUnavailableError("no vector index configured")
        key = (query, json.dumps(where, sort_keys=True))
        found = self._dense_cache.get(key)
        if found is None:
            vector = self.embedder.embed_queries([query])[0]
            found = self.vectors.query(vector, k=CANDIDATES, where=where)
            self._dense_cache.put(key, found)
        return [(i, s) for i, s in found if i in self.entries and (allowed is None or i in allowed)]

    def coverage(self, q_tokens: set[str], entry_id: str) -> float:
        """Return the idf-weighted share of the query's tokens that the entry contains, in [0, 1]."""
        if not q_tokens:
            return 0.0
        e_tokens = self.lexical.tokens_of(entry_id)
        total = sum(self._idf.get(t, self._max_idf) for t in q_tokens)
        got = sum(self._idf.get(t, self._max_idf) for t in q_tokens & e_tokens)
        return got / total if total else 0.0

    def _hits(
        self,
        query: str,
        fused: Iterable[tuple[str, float]],
        dense: dict[str, float],
        lexical: dict[str, float],
        k: int,
    ) -> list[Hit]:
        cosines = np.array(list(dense.values()), dtype=np.float32)
        mean, spread = (
            (float(cosines.mean()), float(cosines.std()) or 0.01) if len(cosines) > 2 else (0.0, 0.0)
        )
        hits: list[Hit] = []
        taken: list[tuple[str, int, int]] = []
        q_tokens = set(self.lexical.tokenizer.tokens(query))
        for entry_id, score in fused:
            entry = self.entries.get(entry_id)
            if entry is None:
                continue
            # Overlapping passages of one document say the same thing: keep the better-ranked one.
            if entry.kind != "faq" and any(
                d == entry.doc_id and entry.start < e and s < entry.end for d, s, e in taken
            ):
                continue
            taken.append((entry.doc_id, entry.start, entry.end))
            cos = dense.get(entry_id)
            z = (cos - mean) / spread if cos is not None and spread else 0.0
            cover = self.coverage(q_tokens, entry_id)
            relevance = calibrated_relevance(cover, z)
            hits.append(Hit(entry, score, relevance, cos, lexical.get(entry_id), cover, z))
            if len(hits) >= k:
                break
        return hits


def calibrated_relevance(coverage: float, dense_z: float) -> float:
    """Map (coverage, dense z-score) to a probability-like relevance with a logistic curve.

    The weights were fitted by logistic regression with `bench/calibrate_relevance.py` on the
    development question sets (the right passage vs other passages and out-of-scope questions'
    passages: 136 positives, 696 negatives, AUC 0.87), so the value reads as the chance that the
    passage is the one that answers.
    """
    logit = -5.18 + 7.64 * coverage + 0.93 * max(-3.0, min(dense_z, 4.0))
    return 1.0 / (1.0 + math.exp(-logit))
