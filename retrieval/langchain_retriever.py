"""applybot's hybrid search as a LangChain retriever, so it composes into LangChain chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.search import HybridSearcher, SearchFilter


class ApplybotRetriever(BaseRetriever):
    """Return the best passages as `Document`s carrying title, section, offsets, kind and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 5
    mode: str = "hybrid"
    filters: SearchFilter | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        result = self.searcher.search(query, k=self.k, mode=self.mode, filters=self.filters)  # type: ignore[arg-type]
        documents = []
        for rank, hit in enumerate(result.hits, start=1):
            entry = hit.entry
            metadata: dict[str, Any] = {
                "id": entry.entry_id,
                "doc_id": entry.doc_id,
                "title": entry.title,
                "section": entry.section,
                "kind": entry.kind,
                "start": entry.start,
                "end": entry.end,
                "rank": rank,
                "score": hit.score,
                "relevance": hit.relevance,
                "dense_score": hit.dense,
                "lexical_score": hit.lexical,
                "degraded": result.degraded,
                **{k: v for k, v in entry.meta.items() if isinstance(v, str | int | float)},
            }
            documents.append(Document(page_content=entry.text, metadata=metadata, id=entry.entry_id))
        return documents
