"""Answer latency in-process: every question of the development set, cold query cache, repeated passes.

Prints p50/p95/p99 per pass and min/median/max over passes (the machine's noise), and writes JSON.
Target (issue 4): p95 <= 30 ms on this 2-core machine.

    python bench/answer_bench.py [--repeat 3] [--out docs/bench_answers.json]
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

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.escalation import MemoryUnansweredLog  # noqa: E402
from bot.evaluation import load_jsonl, percentile  # noqa: E402
from bot.services import build_assistant, build_retrieval, ingest_and_index  # noqa: E402
from common.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "eval_dev.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench_answers.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), knowledge_dir=ROOT / "knowledge", today="2026-11-28")
        retrieval = build_retrieval(settings)
        ingest_and_index(settings, [ROOT / "knowledge"], retrieval=retrieval)
        assistant = build_assistant(settings, retrieval)
        assistant.unanswered = MemoryUnansweredLog()
        cases = load_jsonl(args.questions)
        passes = []
        for n in range(args.repeat):
            retrieval.index.searcher.clear_caches()
            latencies = []
            for i, case in enumerate(cases):
                session = f"bench-{n}-{i}"
                today = date.fromisoformat(case["today"]) if case.get("today") else None
                for earlier in case.get("history", []):
                    assistant.ask(earlier, session_id=session, today=today)
                started = time.perf_counter()
                assistant.ask(case["question"], session_id=session, today=today)
                latencies.append((time.perf_counter() - started) * 1000)
            row = {
                q: round(percentile(latencies, v), 2)
                for q, v in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99))
            }
            row["load_1m"] = round(os.getloadavg()[0], 2)
            passes.append(row)
            print(
                f"pass {n + 1}: p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms  p99 {row['p99_ms']} ms  (load {row['load_1m']})"
            )
        summary = {
            key: {
                "min": min(p[key] for p in passes),
                "median": statistics.median(p[key] for p in passes),
                "max": max(p[key] for p in passes),
            }
            for key in ("p50_ms", "p95_ms", "p99_ms")
        }
        print(f"{len(cases)} questions x {args.repeat} passes (cold query cache)")
        for key, value in summary.items():
            print(f"  {key}: min {value['min']}  median {value['median']}  max {value['max']}")
        verdict = "meets" if summary["p95_ms"]["median"] <= 30 else "misses"
        print(f"target p95 <= 30 ms: {verdict} (median p95 {summary['p95_ms']['median']} ms)")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps({"questions": len(cases), "passes": passes, "summary": summary}, indent=2),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
