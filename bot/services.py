"""Build applybot's long-lived parts once, at start-up, and hand them to the channels."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.settings import Settings
from retrieval.embeddings import Embedder, build_embedder
from retrieval.index import KnowledgeIndex
from retrieval.ingest import IngestReport, ingest_paths
from retrieval.store import DocumentStore
from retrieval.vectors import VectorIndex, collection_name, make_client

log = logging.getLogger(__name__)


@dataclass
class Retrieval:
    """The knowledge base and its indexes, ready to search."""

    settings: Settings
    store: DocumentStore
    embedder: Embedder
    index: KnowledgeIndex


def build_retrieval(settings: Settings) -> Retrieval:
    """Open the document store, the embedder and the indexes named by the settings."""
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = DocumentStore(data_dir / "kb")
    embedder = build_embedder(
        settings.embedding_backend,
        settings.embedding_model,
        cache_path=data_dir / "cache" / "embeddings.sqlite",
    )
    client = make_client(chroma_url=settings.chroma_url, data_dir=data_dir)
    vectors = VectorIndex(
        client,
        name=collection_name(embedder.name),
        backend=settings.embedding_backend,
        model=settings.embedding_model,
    )
    index_dir = data_dir / "index" / collection_name(embedder.name)
    index = KnowledgeIndex(store=store, vectors=vectors, embedder=embedder, index_dir=index_dir)
    return Retrieval(settings=settings, store=store, embedder=embedder, index=index)


def ingest_and_index(
    settings: Settings,
    paths: list[Path],
    *,
    prune: bool = False,
    show_progress: bool = False,
    retrieval: Retrieval | None = None,
    store: Any = None,
) -> tuple[IngestReport, dict[str, Any]]:
    """Ingest files into the document store, then bring the indexes up to date (staff FAQ included)."""
    retrieval = retrieval or build_retrieval(settings)
    files_seen = 0

    def progress(path: Path) -> None:
        nonlocal files_seen
        files_seen += 1
        if show_progress:
            print(f"\r[{files_seen}] {path.name[:60]:<60}", end="", flush=True)

    report = ingest_paths(
        paths, store=retrieval.store, root=Path(settings.knowledge_dir), prune=prune, on_file=progress
    )
    if show_progress and files_seen:
        print()
    extra = None
    if store is not None:
        from bot.faq import faq_index_extra

        extra = faq_index_extra(store)
    stats = retrieval.index.sync(extra=extra)
    return report, stats


def build_assistant(settings: Settings, retrieval: Retrieval | None = None, *, store: Any = None) -> Any:
    """Build the assistant over the indexes, with the clock, sessions and unanswered log the settings name.

    With a store (the staff-review database) sessions and unanswered questions live in it, so several
    workers share them, and the staff FAQ is indexed beside the notices.
    """
    from bot.assistant import Assistant
    from bot.clock import make_clock
    from bot.escalation import JsonlUnansweredLog
    from bot.sessions import MemorySessionStore

    retrieval = retrieval or build_retrieval(settings)
    rephraser = None
    if settings.llm_base_url:
        from bot.rephrase import LlmRephraser

        rephraser = LlmRephraser(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout_s=settings.llm_timeout_s,
        )
    sessions: Any = MemorySessionStore()
    decisions = None
    unanswered: Any = JsonlUnansweredLog(Path(settings.data_dir) / "unanswered.jsonl")
    if store is not None:
        from bot.faq import sync_faq
        from bot.notice_review import NoticeDecisions
        from bot.store import DbSessionStore, DbUnansweredLog

        sessions, unanswered = DbSessionStore(store), DbUnansweredLog(store)
        decisions = NoticeDecisions(store.sessions).current
        sync_faq(store, retrieval.index)
    return Assistant(
        index=retrieval.index,
        clock=make_clock(timezone=settings.timezone, today=settings.today),
        sessions=sessions,
        unanswered=unanswered,
        max_question_chars=settings.max_question_chars,
        min_relevance=settings.min_relevance,
        no_answer_text=settings.no_answer_text,
        fallback_contact=settings.fallback_contact,
        rephraser=rephraser,
        decisions=decisions,
    )
