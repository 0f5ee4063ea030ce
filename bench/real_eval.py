"""Answers on real notices nobody here wrote: applybot against a BM25 top passage and plain LangChain.

One knowledge base holds every notice of the folder (built by `bench/real_notices.py`, see
docs/real-notices.md) plus `knowledge/`; the questions of each set are asked over it, one session
per conversation, on the date each question gives. Prints accuracy, escalation precision/recall,
answer length and latency per system, and applybot's accuracy per category.

    python bench/real_eval.py [--notices /work/realdata/notices] [--sets tests/data/eval_real_*.jsonl]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.baselines import LangChainEmbeddings, correct  # noqa: E402
from bot.escalation import MemoryUnansweredLog  # noqa: E402
from bot.evaluation import load_jsonl, percentile, run_answer_eval  # noqa: E402
from bot.services import build_assistant, build_retrieval, ingest_and_index  # noqa: E402
from common.settings import Settings  # noqa: E402


def build_knowledge(notices: Path, work: Path) -> Path:
    """Copy the notices and the shipped knowledge into one folder (the knowledge base applybot reads)."""
    folder = work / "knowledge"
    folder.mkdir(parents=True, exist_ok=True)
    for source in [*sorted(notices.glob("*.txt")), *sorted((ROOT / "knowledge").iterdir())]:
        target = folder / source.name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
    return folder


def baseline_scores(name: str, cases: list[dict[str, Any]], answer: Any) -> dict[str, Any]:
    latencies, right, lengths = [], 0, []
    for case in cases:
        started = time.perf_counter()
        text = answer(case["question"])
        latencies.append((time.perf_counter() - started) * 1000)
        right += correct(case, text, False)
        lengths.append(float(len(text)))
    n = len(cases) or 1
    return {
        "system": name,
        "accuracy": round(right / n, 4),
        "escalation_precision": 1.0,
        "escalation_recall": 0.0,
        "answer_chars_p50": percentile(lengths, 0.5),
        "p50_ms": round(percentile(latencies, 0.5), 2),
        "p95_ms": round(percentile(latencies, 0.95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notices", type=Path, default=Path("/work/realdata/notices"))
    parser.add_argument(
        "--work", type=Path, default=Path("/work/realdata/work"), help="kept between runs (embedding cache)"
    )
    parser.add_argument(
        "--sets", nargs="*", default=sorted(glob.glob(str(ROOT / "tests/data/eval_real_*.jsonl")))
    )
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--failures", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench_real.json")
    args = parser.parse_args()

    knowledge = build_knowledge(args.notices, args.work)
    settings = Settings(data_dir=args.work / "data", knowledge_dir=knowledge)
    retrieval = build_retrieval(settings)
    ingest_and_index(settings, [knowledge], retrieval=retrieval, prune=True)
    assistant = build_assistant(settings, retrieval)
    assistant.unanswered = MemoryUnansweredLog()
    documents = retrieval.store.documents()
    print(f"knowledge base: {len(documents)} notices, {len(retrieval.index.entries)} passages")

    report: dict[str, Any] = {"notices": len(documents), "sets": {}}
    all_cases: list[dict[str, Any]] = []
    for path in args.sets:
        cases = load_jsonl(Path(path))
        all_cases += cases
        result = run_answer_eval(assistant, cases)
        # Summaries only: the failures quote notices whose texts carry no licence to be committed.
        report["sets"][Path(path).name] = {k: v for k, v in result.items() if k != "failures"}
        print(
            f"\n{Path(path).name}: {result['n']} questions, accuracy {result['accuracy']:.3f}, "
            f"citations {result['citation_validity']:.3f}, escalation P {result['escalation_precision']:.2f} "
            f"R {result['escalation_recall']:.2f}, p95 {result['p95_ms']} ms"
        )
        for name, row in result["by_category"].items():
            print(f"  {name:<14} {row['n']:>4}  {row['accuracy']:.3f}")
        if args.failures:
            for f in result["failures"]:
                print(json.dumps(f, ensure_ascii=False))
    if not all_cases:
        print("no question sets found")
        return
    overall = run_answer_eval(assistant, all_cases)
    rows = [
        {
            "system": "applybot",
            **{
                k: overall[k]
                for k in (
                    "accuracy",
                    "escalation_precision",
                    "escalation_recall",
                    "answer_chars_p50",
                    "p50_ms",
                    "p95_ms",
                )
            },
        }
    ]
    if args.baselines:
        from langchain_chroma import Chroma

        searcher = retrieval.index.searcher
        rows.append(
            baseline_scores(
                "bm25-top",
                all_cases,
                lambda q: h[0].entry.text if (h := searcher.search(q, k=1, mode="lexical").hits) else "",
            )
        )
        entries = [e for e in retrieval.index.entries.values() if e.kind == "chunk"]
        store = Chroma(
            collection_name="langchain-real",
            embedding_function=LangChainEmbeddings(retrieval.embedder),  # type: ignore[arg-type]
            persist_directory=str(args.work / "langchain-chroma"),
        )
        if store._collection.count() != len(entries):
            store.delete_collection()
            store = Chroma(
                collection_name="langchain-real",
                embedding_function=LangChainEmbeddings(retrieval.embedder),  # type: ignore[arg-type]
                persist_directory=str(args.work / "langchain-chroma"),
            )
            store.add_texts([e.text for e in entries], metadatas=[{"doc_id": e.doc_id} for e in entries])
        retriever = store.as_retriever(search_kwargs={"k": 1})
        rows.append(
            baseline_scores(
                "langchain-top", all_cases, lambda q: d[0].page_content if (d := retriever.invoke(q)) else ""
            )
        )
    print(f"\nall sets, {len(all_cases)} questions, {len(documents)} notices (today as each question gives)")
    print(
        f"{'system':<14} {'accuracy':>8} {'esc P':>6} {'esc R':>6} {'chars p50':>9} {'p50 ms':>7} {'p95 ms':>7}"
    )
    for row in rows:
        print(
            f"{row['system']:<14} {row['accuracy']:>8.3f} {row['escalation_precision']:>6.2f} "
            f"{row['escalation_recall']:>6.2f} {row['answer_chars_p50']:>9.0f} {row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f}"
        )
    report["side_by_side"] = rows
    report["date"] = date.today().isoformat()
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
