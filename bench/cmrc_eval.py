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
retrieval/search.py) for other dense weights, RRF k, candidate counts, a min-max score fusion and
without query expansion, on CMRC and on the shipped knowledge base's dev questions, to explain the
hybrid result; it changes nothing in retrieval/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
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

sys.path.insert(0, str(ROOT / "bench"))
from provenance import git_info  # noqa: E402

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
    from common.settings import Settings
    from retrieval.entries import Entry

    empty_kb = Path(args.data_dir) / "no-documents"  # the store stays empty: CMRC comes in as extra entries
    empty_kb.mkdir(parents=True, exist_ok=True)
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
            log(
                f"embedding passages {min(start + 32, len(entries))}/{len(entries)} ({done} new, {rate:.1f} passages/s)"
            )
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
        searcher.clear_caches()
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


def minmax_fusion(rankings: list[list[tuple[str, float]]], weights: list[float]) -> list[tuple[str, float]]:
    """Score fusion for comparison: each list's scores min-max scaled to [0, 1], then a weighted sum."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        lo, hi = min(s for _, s in ranking), max(s for _, s in ranking)
        for item_id, s in ranking:
            scores[item_id] = scores.get(item_id, 0.0) + weight * ((s - lo) / (hi - lo) if hi > lo else 1.0)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def fusion_variants() -> list[tuple[str, str, int, Any]]:
    """(label, query variant, candidates per list, fuse(dense, lexical)) for the offline sweep."""
    import retrieval.search as search
    from retrieval.fusion import RRF_K, reciprocal_rank_fusion
    from retrieval.search import CANDIDATES, DENSE_WEIGHT

    shipped_k = int(getattr(search, "FUSION_K", RRF_K))  # what HybridSearcher.search passes to RRF

    def rrf(w: float, rrf_k: int = RRF_K) -> Any:
        return lambda d, lx: reciprocal_rank_fusion([d, lx], weights=[w, 1.0], k=rrf_k)

    def mm(alpha: float) -> Any:
        return lambda d, lx: minmax_fusion([d, lx], [alpha, 1.0 - alpha])

    c = CANDIDATES
    out = [
        (
            f"shipped: rrf k={shipped_k} dense_weight={DENSE_WEIGHT}",
            "expanded",
            c,
            rrf(DENSE_WEIGHT, shipped_k),
        )
    ]
    out += [("dense only", "expanded", c, lambda d, lx: d), ("lexical only", "expanded", c, lambda d, lx: lx)]
    out += [(f"rrf k={RRF_K} dense_weight={w}", "expanded", c, rrf(w)) for w in (0.3, 0.5, 1.0, 1.5, 2.0)]
    out += [
        (f"rrf k={RRF_K} dense_weight={DENSE_WEIGHT}", "expanded", n, rrf(DENSE_WEIGHT))
        for n in (10, 20, 50, 100)
    ]
    out += [
        (f"rrf k={rk} dense_weight={w}", "expanded", c, rrf(w, rk))
        for rk in (5, 10, 20)
        for w in (0.5, 0.7, 1.0)
    ]
    out += [(f"min-max score fusion dense={a}", "expanded", c, mm(a)) for a in (0.2, 0.3, 0.4, 0.5)]
    out += [
        (
            f"no query expansion, rrf k={shipped_k} dense_weight={DENSE_WEIGHT}",
            "raw",
            c,
            rrf(DENSE_WEIGHT, shipped_k),
        )
    ]
    return out


def candidate_lists(searcher: Any, texts: list[str], label: str) -> dict[str, list[Any]]:
    """Dense and lexical candidates (100 deep) per question, for the expanded and the raw query."""
    from retrieval.lexicon import expand_query
    from retrieval.normalize import normalize_for_search

    inner = getattr(searcher.embedder, "inner", searcher.embedder)
    cached: dict[str, list[Any]] = {"expanded": [], "raw": []}
    started = time.perf_counter()
    try:  # search.py embeds a question without Chinese as written, not expanded
        from retrieval.normalize import has_cjk
    except ImportError:
        has_cjk = None
    for i, question in enumerate(texts, start=1):
        stripped = question.strip()
        norm = normalize_for_search(stripped)
        for variant, text in (("expanded", expand_query(norm)), ("raw", norm)):
            if variant == "raw" and text == cached["expanded"][-1][0]:
                cached["raw"].append(cached["expanded"][-1])
                continue
            dense_text = stripped if variant == "expanded" and has_cjk and not has_cjk(stripped) else text
            vector = inner.embed_queries([dense_text])[0]
            dense = [(e, s) for e, s in searcher.vectors.query(vector, k=100) if e in searcher.entries]
            cached[variant].append((text, dense, searcher.lexical.search(text, k=100)))
        if i % 500 == 0 or i == len(texts):
            log(
                f"sweep {label}: candidate lists {i}/{len(texts)} ({(time.perf_counter() - started) / i * 1000:.1f} ms/q)"
            )
    return cached


def sweep(
    searcher: Any, items: list[dict[str, Any]], k: int, rank_fn: Any, label: str
) -> list[dict[str, Any]]:
    """Re-fuse cached candidate lists with other settings; hits are picked by HybridSearcher._hits as in search."""
    cached = candidate_lists(searcher, [q["question"] for q in items], label)
    rows = []
    for name, variant, cands, fuse in fusion_variants():
        ranks_a: list[int | None] = []
        ranks_p: list[int | None] = []
        for q, (text, dense, lexical) in zip(items, cached[variant], strict=True):
            d, lx = dense[:cands], lexical[:cands]
            a, p = rank_fn(searcher._hits(text, fuse(d, lx), dict(d), dict(lx), k), q)
            ranks_a.append(a)
            ranks_p.append(p)
        row: dict[str, Any] = {
            "fusion": name,
            "query": variant,
            "candidates": cands,
            "answer": scores(ranks_a),
        }
        if any(p is not None for p in ranks_p):
            row["passage"] = scores(ranks_p)
        rows.append(row)
        log(
            f"sweep {label}: {name:<52} cand {cands:>3}: answer R@5 {row['answer']['recall@5']:.4f} "
            f"R@1 {row['answer']['recall@1']:.4f} MRR {row['answer']['mrr']:.4f}"
        )
    return rows


def dev_sweep(k: int) -> dict[str, Any]:
    """The same fusion sweep on the shipped knowledge base and tests/data/retrieval_dev.jsonl."""
    from bot.evaluation import load_jsonl
    from bot.services import build_retrieval, ingest_and_index
    from common.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="applybot-cmrc-dev-"))
    try:
        settings = Settings(data_dir=tmp, knowledge_dir=ROOT / "knowledge", chroma_url="")
        ingest_and_index(settings, [Path(settings.knowledge_dir)])
        searcher = build_retrieval(settings).index.searcher
        cases = load_jsonl(ROOT / "tests" / "data" / "retrieval_dev.jsonl")

        def rank_fn(hits: list[Any], case: dict[str, Any]) -> tuple[int | None, None]:
            for position, hit in enumerate(
                hits, start=1
            ):  # the hit test of bot.evaluation.run_retrieval_eval
                if any(case["expect"] in t for t in [hit.entry.text, *hit.entry.meta.get("context", [])]):
                    return position, None
            return None, None

        return {"questions": len(cases), "rows": sweep(searcher, cases, k, rank_fn, "dev")}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
    git_at_start = git_info()
    log(f"code: {git_at_start}")

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
        "git": git_at_start,
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
        out["sweep"] = sweep(searcher, questions, args.k, rank_of, "cmrc")
        live = {key: modes["hybrid"][key] for key in ("answer", "passage")}
        mirrored = {key: out["sweep"][0].get(key) for key in ("answer", "passage")}
        out["sweep_reproduces_live_hybrid"] = live == mirrored
        if live != mirrored:
            log(
                f"WARNING: the sweep's 'shipped' row {mirrored} differs from live hybrid {live}: "
                "retrieval/search.py has changed in a way the sweep does not mirror"
            )
        out["sweep_dev"] = dev_sweep(args.k)
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
    for key, label in (("sweep", "CMRC"), ("sweep_dev", "shipped KB dev set")):
        rows = out.get(key)
        rows = rows["rows"] if isinstance(rows, dict) else rows
        if rows:
            print(f"\nfusion sweep on {label} (answer hit; offline re-fusion of the same candidate lists)")
            print(f"{'fusion':<56} {'query':<9} {'cand':>4} {'R@1':>7} {'R@5':>7} {'MRR':>7}")
            for r in rows:
                a = r["answer"]
                print(
                    f"{r['fusion']:<56} {r['query']:<9} {r['candidates']:>4} {a['recall@1']:>7.4f} "
                    f"{a['recall@5']:>7.4f} {a['mrr']:>7.4f}"
                )
    print(f"\nwrote {out_path} (runtime {out['runtime_s']:.0f} s)")


if __name__ == "__main__":
    main()
