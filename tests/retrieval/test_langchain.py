"""The LangChain retriever: Documents with full metadata, composable in a chain."""

from __future__ import annotations

import pytest
from langchain_core.runnables import RunnableLambda

from bot.services import Retrieval
from retrieval.langchain_retriever import ApplybotRetriever
from retrieval.search import SearchFilter

pytestmark = pytest.mark.integration


def test_documents_carry_the_citation_metadata(seed_retrieval: Retrieval) -> None:
    retriever = ApplybotRetriever(searcher=seed_retrieval.index.searcher, k=3)
    docs = retriever.invoke("社区学习中心啥时候截止")
    assert 1 <= len(docs) <= 3
    top = docs[0]
    assert {"doc_id", "title", "section", "kind", "start", "end", "score", "relevance"} <= set(top.metadata)
    text = next(d.text for d in seed_retrieval.store.documents() if d.doc_id == top.metadata["doc_id"])
    assert text[top.metadata["start"] : top.metadata["end"]] == top.page_content
    assert any("推进县域社区学习中心建设" in d.page_content for d in docs)


def test_it_composes_into_a_chain_with_filters(seed_retrieval: Retrieval) -> None:
    retriever = ApplybotRetriever(
        searcher=seed_retrieval.index.searcher, k=2, filters=SearchFilter(kinds={"record"})
    )
    chain = retriever | RunnableLambda(lambda docs: [d.metadata["kind"] for d in docs])
    assert chain.invoke("截止时间") == ["record", "record"]
