"""Retrieval evaluation on CMRC 2018 (dev): hybrid vs dense vs lexical in one run.

    OMP_NUM_THREADS=2 PYTHONPATH=. python bench/cmrc_eval.py \
        --data-dir /tmp/applybot-cmrc --out docs/bench_cmrc.json [--limit N] [--sweep]

Each paragraph context (848) is indexed whole as one "chunk" entry through KnowledgeIndex.sync(extra=...)
over an empty document store; every question (3,219) is asked in each mode. Two hit criteria:
  answer   a retrieved passage contains any gold answer text (what the issue asks for; lenient, since
           short answers such as years or numbers also occur in other passages);
  passage  the retrieved passage is the question's own paragraph (strict).
The data dir is persistent: reruns reuse the embedding cache and the indexes.
--sweep re-fuses the dense and lexical candidate lists offline (same RRF and hit selection as
retrieval/search.py) for other dense weights, candidate counts and without query expansion, to
explain the hybrid result; it changes nothing in retrieval/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bot.evaluation import percentile  # noqa: E402

MODES = ("hybrid", "dense", "lexical")
_T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", flush=True)


def load_cmrc(path: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Return (passages, questions) from a SQuAD-format file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    passages, questions = [], []
    for article in data["data"]:
        for i, para in enumerate(article["paragraphs"]):
            pid = f"cmrc-{para.get('id') or article['id']}-{i}"
            passages.append({"id": pid, "title": article.get("title", ""), "context": para["context"]})
            for qa in para["qas"]:
                answers = sorted({a["text"] for a in qa["answers"] if a["text"].strip()})
                if answers:
                    questions.append(
                        {"id": qa["id"], "question": qa["question"], "answers": answers, "passage": pid}
                    )
    return passages, questions


def scores(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "recall@1": round(sum(r == 1 for r in ranks) / n, 4),
        "recall@3": round(sum(r is not None and r <= 3 for r in ranks) / n, 4),
        "recall@5": round(sum(r is not None and r <= 5 for r in ranks) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 4),
    }


def rank_of(hits: list[Any], q: dict[str, Any]) -> tuple[int | None, int | None]:
    """(rank of the first passage containing a gold answer, rank of the gold passage), 1-based."""
    by_answer = by_passage = None
    for position, hit in enumerate(hits, start=1):
        if by_answer is None and any(a in hit.entry.text for a in q["answers"]):
            by_answer = position
        if by_passage is None and hit.entry.entry_id == q["passage"]:
            by_passage = position
    return by_answer, by_passage


def build_index(args: argparse.Namespace, passages: list[dict[str, str]]) -> tuple[Any, dict[str, Any]]:
    from bot.services import build_retrieval
    from bot.settings import Settings
    from retrieval.entries import Entry

    empty_kb = Path(tempfile.mkdtemp(prefix="applybot-cmrc-empty-"))
    settings = Settings(data_dir=Path(args.data_dir), knowledge_dir=empty_kb, chroma_url="")
    retrieval = build_retrieval(settings)
    embedder = retrieval.embedder
    entries = [
        Entry(
            entry_id=p["id"],
            doc_id=p["id"],
            kind="chunk",
            title=p["title"],
            section=p["title"],
            text=p["context"],
            index_text=p["context"],
            start=0,
            end=len(p["context"]),
        )
        for p in passages
    ]
    # Embed through the cached embedder first (in batches, with progress); sync then hits the cache.
    started = time.perf_counter()
    before = getattr(embedder, "passages_embedded", 0)
    for start in range(0, len(entries), 32):
        embedder.embed_passages([e.index_text for e in entries[start : start + 32]])
        done = getattr(embedder, "passages_embedded", 0) - before
        if done:
            rate = done / (time.perf_counter() - started)
            log(f"embedding passages {start + 32}/{len(entries)} ({done} new, {rate:.1f} passages/s)")
    embed_s = time.perf_counter() - started
    embedded = getattr(embedder, "passages_embedded", 0) - before
    log(f"embedding: {embedded} passages embedded, {len(entries) - embedded} from cache, {embed_s:.1f} s")
    extra = {
        e.entry_id: (hashlib.sha256(f"{e.index_text}\x1f{embedder.name}".encode()).hexdigest()[:16], [e])
        for e in entries
    }
    started = time.perf_counter()
    stats = retrieval.index.sync(extra=extra)
    sync_s = time.perf_counter() - started
    log(f"index.sync: {sync_s:.1f} s, {stats}")
    info = {
        "passages_embedded": embedded,
        "embed_s": round(embed_s, 1),
        "embedding_rate_passages_per_s": round(embedded / embed_s, 2) if embedded else None,
        "sync_s": round(sync_s, 1),
        "sync_stats": stats,
    }
    return retrieval, info


def evaluate(searcher: Any, questions: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """Ask every question in each mode (cold query cache per mode); ranks per question and latency."""
    out: dict[str, Any] = {}
    for mode in MODES:
        searcher.embedder.clear_query_cache()
        ranks_a: list[int | None] = []
        ranks_p: list[int | None] = []
        latencies: list[float] = []
        degraded = 0
        started = time.perf_counter()
        for i, q in enumerate(questions, start=1):
            t = time.perf_counter()
            result = searcher.search(q["question"], k=k, mode=mode)
            latencies.append((time.perf_counter() - t) * 1000)
            degraded += result.degraded
            a, p = rank_of(result.hits, q)
            ranks_a.append(a)
            ranks_p.append(p)
            if i % 500 == 0 or i == len(questions):
                log(
                    f"{mode:<7} {i}/{len(questions)} answer-recall@5 so far "
                    f"{scores(ranks_a)['recall@5']:.3f} ({(time.perf_counter() - started) / i * 1000:.1f} ms/q)"
                )
        out[mode] = {
            "answer": scores(ranks_a),
            "passage": scores(ranks_p),
            "p50_ms": round(statistics.median(latencies), 2),
            "p95_ms": round(percentile(latencies, 0.95), 2),
            "degraded": degraded,
            "_ranks_answer": ranks_a,
            "_ranks_passage": ranks_p,
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }
    return out


def agreement(modes: dict[str, Any], key: str) -> dict[str, int]:
    """How many questions each combination of modes finds within the top 5."""
    counts: dict[str, int] = {}
    n = len(modes["hybrid"][key])
    for i in range(n):
        found = [m for m in MODES if (r := modes[m][key][i]) is not None and r <= 5]
        label = "+".join(found) or "none"
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def sweep(searcher: Any, questions: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Re-fuse cached candidate lists with other settings; same fusion and hit selection as search.py."""
    from retrieval.fusion import reciprocal_rank_fusion
    from retrieval.lexicon import expand_query
    from retrieval.normalize import normalize_for_search
    from retrieval.search import CANDIDATES, DENSE_WEIGHT

    inner = getattr(searcher.embedder, "inner", searcher.embedder)
    deep = 100
    cached: dict[str, list[tuple[str, list[tuple[str, float]], list[tuple[str, float]]]]] = {
        "expanded": [],
        "raw": [],
    }
    started = time.perf_counter()
    for i, q in enumerate(questions, start=1):
        norm = normalize_for_search(q["question"].strip())
        for variant, text in (("expanded", expand_query(norm)), ("raw", norm)):
            if variant == "raw" and text == cached["expanded"][-1][0]:
                cached["raw"].append(cached["expanded"][-1])
                continue
            vector = inner.embed_queries([text])[0]
            dense = [(e, s) for e, s in searcher.vectors.query(vector, k=deep) if e in searcher.entries]
            lexical = searcher.lexical.search(text, k=deep)
            cached[variant].append((text, dense, lexical))
        if i % 500 == 0 or i == len(questions):
            log(
                f"sweep: candidate lists {i}/{len(questions)} ({(time.perf_counter() - started) / i * 1000:.1f} ms/q)"
            )
    settings = [("expanded", w, c) for w in (0.0, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0) for c in (CANDIDATES,)]
    settings += [("expanded", DENSE_WEIGHT, c) for c in (10, 20, 50, 100)]
    settings += [("expanded", w, c) for w in (1.0, 1.5) for c in (50, 100)]
    settings += [("raw", w, c) for w in (DENSE_WEIGHT, 1.0, 1.5) for c in (CANDIDATES, 50)]
    settings += [("raw", -1.0, CANDIDATES), ("raw", -2.0, CANDIDATES)]  # -1: dense only, -2: lexical only
    rows = []
    for variant, weight, cands in settings:
        ranks_a: list[int | None] = []
        ranks_p: list[int | None] = []
        for q, (text, dense, lexical) in zip(questions, cached[variant], strict=True):
            d, lx = dense[:cands], lexical[:cands]
            if weight == -1.0:
                fused = d
            elif weight == -2.0:
                fused = lx
            else:
                fused = reciprocal_rank_fusion([d, lx], weights=[weight, 1.0])
            hits = searcher._hits(text, fused, dict(d), dict(lx), k)
            a, p = rank_of(hits, q)
            ranks_a.append(a)
            ranks_p.append(p)
        label = {-1.0: "dense only", -2.0: "lexical only"}.get(weight, f"dense_weight={weight}")
        rows.append(
            {
                "query": variant,
                "fusion": label,
                "candidates": cands,
                "answer": scores(ranks_a),
                "passage": scores(ranks_p),
            }
        )
        log(
            f"sweep {variant:<8} {label:<18} cand {cands:>3}: answer r@5 {rows[-1]['answer']['recall@5']:.4f} "
            f"passage r@5 {rows[-1]['passage']['recall@5']:.4f} mrr {rows[-1]['passage']['mrr']:.4f}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="/work/shared/benchmarks/cmrc2018/cmrc2018_dev.json")
    parser.add_argument("--data-dir", default="/tmp/applybot-cmrc", help="persistent: reuses embeddings")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="also re-fuse with other weights/candidates")
    parser.add_argument("--out", default="docs/bench_cmrc.json")
    args = parser.parse_args()
    started = time.perf_counter()

    passages, questions = load_cmrc(Path(args.data))
    if args.limit:
        questions = questions[: args.limit]
    lengths = [len(p["context"]) for p in passages]
    contexts = [p["context"] for p in passages]
    ambiguous = sum(sum(any(a in c for a in q["answers"]) for c in contexts) > 1 for q in questions)
    log(
        f"{len(passages)} passages ({min(lengths)}-{max(lengths)} chars, median {statistics.median(lengths):.0f}, "
        f"{sum(n > 500 for n in lengths)} over 500, indexed whole), {len(questions)} questions; "
        f"{ambiguous} questions have a gold answer that also occurs in another passage"
    )

    retrieval, index_info = build_index(args, passages)
    searcher = retrieval.index.searcher
    for mode in MODES:
        searcher.search("预热", k=args.k, mode=mode)
    modes = evaluate(searcher, questions, args.k)
    out: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": args.data,
        "passages": len(passages),
        "questions": len(questions),
        "context_chars": {
            "min": min(lengths),
            "median": statistics.median(lengths),
            "max": max(lengths),
            "over_500": sum(n > 500 for n in lengths),
        },
        "questions_with_answer_in_other_passages": ambiguous,
        "embedder": retrieval.embedder.name,
        "index": index_info,
        "k": args.k,
        "modes": {m: {k: v for k, v in r.items() if not k.startswith("_")} for m, r in modes.items()},
        "top5_agreement_answer": agreement(modes, "_ranks_answer"),
        "top5_agreement_passage": agreement(modes, "_ranks_passage"),
    }
    for key in ("answer", "passage"):
        h = modes["hybrid"][key]["recall@5"]
        out[f"hybrid_beats_both_at_recall@5_{key}"] = (
            h > modes["dense"][key]["recall@5"] and h > modes["lexical"][key]["recall@5"]
        )
    if args.sweep:
        out["sweep"] = sweep(searcher, questions, args.k)
    out["runtime_s"] = round(time.perf_counter() - started, 1)
    out_path = Path(args.out) if Path(args.out).is_absolute() else ROOT / args.out
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    print(f"\n=== CMRC 2018 dev: {len(questions)} questions over {len(passages)} passages, top {args.k} ===")
    print(f"{'mode':<8} {'hit':<8} {'R@1':>7} {'R@3':>7} {'R@5':>7} {'MRR':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for key in ("answer", "passage"):
        for mode in MODES:
            r = modes[mode]
            s = r[key]
            print(
                f"{mode:<8} {key:<8} {s['recall@1']:>7.4f} {s['recall@3']:>7.4f} {s['recall@5']:>7.4f} "
                f"{s['mrr']:>7.4f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}"
            )
    for key in ("answer", "passage"):
        verdict = "YES" if out[f"hybrid_beats_both_at_recall@5_{key}"] else "NO"
        print(f"hybrid beats dense and lexical at recall@5 ({key} hit): {verdict}")
    print(f"top-5 agreement (passage hit): {out['top5_agreement_passage']}")
    print(f"\nwrote {out_path} (runtime {out['runtime_s']:.0f} s)")


if __name__ == "__main__":
    main()
