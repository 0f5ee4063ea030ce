"""Fit the relevance curve of retrieval/search.py on the development question sets.

Positives: passages that hold a retrieval question's expected text. Negatives: the other passages
found for those questions, and every passage found for a question the evaluation set marks as
out of scope (escalate: true). A logistic regression on (coverage, dense z-score) is fitted by
gradient descent; the script prints the weights, and the AUC of the fitted and of the current curve.

    python bench/calibrate_relevance.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluation import load_jsonl  # noqa: E402
from bot.services import build_retrieval, ingest_and_index  # noqa: E402
from common.settings import Settings  # noqa: E402
from retrieval.search import calibrated_relevance  # noqa: E402


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), knowledge_dir=ROOT / "knowledge")
        retrieval = build_retrieval(settings)
        ingest_and_index(settings, [ROOT / "knowledge"], retrieval=retrieval)
        searcher = retrieval.index.searcher
        rows: list[tuple[float, float, int]] = []
        for case in load_jsonl(ROOT / "tests" / "data" / "retrieval_dev.jsonl"):
            for hit in searcher.search(case["question"], k=8).hits:
                texts = [hit.entry.text, *hit.entry.meta.get("context", [])]
                rows.append((hit.coverage, hit.dense_z, int(any(case["expect"] in t for t in texts))))
        for case in load_jsonl(ROOT / "tests" / "data" / "eval_dev.jsonl"):
            if case.get("escalate"):
                rows.extend((h.coverage, h.dense_z, 0) for h in searcher.search(case["question"], k=8).hits)
    data = np.array(rows, dtype=np.float64)
    x = np.column_stack([np.ones(len(data)), data[:, 0], np.clip(data[:, 1], -3, 4)])
    y = data[:, 2]
    w = np.zeros(3)
    for _ in range(20000):
        p = 1 / (1 + np.exp(-x @ w))
        w -= 0.5 * x.T @ (p - y) / len(y)
    fitted = 1 / (1 + np.exp(-x @ w))
    current = np.array([calibrated_relevance(c, z) for c, z, _ in rows])
    print(f"{int(y.sum())} positive and {int(len(y) - y.sum())} negative passages")
    print(
        f"fitted: logit = {w[0]:.2f} + {w[1]:.2f} * coverage + {w[2]:.2f} * dense_z   AUC {auc(fitted, y):.3f}"
    )
    print(f"current curve AUC {auc(current, y):.3f}")
    for threshold in (0.25, 0.35, 0.5):
        chosen = fitted >= threshold
        precision = y[chosen].mean() if chosen.any() else 0.0
        recall = y[chosen].sum() / y.sum()
        print(f"  threshold {threshold:.2f}: precision {precision:.3f} recall {recall:.3f}")


if __name__ == "__main__":
    main()
