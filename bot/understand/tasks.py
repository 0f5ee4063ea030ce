"""Which task a question is about: task names matched by their distinctive character bigrams."""

from __future__ import annotations

import math
import re

from retrieval.normalize import CJK_CLASS, normalize_for_search


def bigrams(text: str) -> set[str]:
    """Character bigrams of every Chinese run, plus lower-case words (for name matching)."""
    norm = normalize_for_search(text)
    grams: set[str] = set()
    for run in re.findall(f"[{CJK_CLASS}]+", norm):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    grams.update(re.findall(r"[a-z0-9]{2,}", norm))
    return grams


class TaskMatcher:
    """Resolve the task a question is about against task names, tolerating partial names and typos.

    Each task name is scored by the idf-weighted share of its character bigrams found in the
    question; bigrams common to many names (建设, 推进) weigh little, distinctive ones decide.
    """

    def __init__(self, names: list[str], *, background: list[str] | None = None) -> None:
        self.names = list(dict.fromkeys(n for n in names if n))
        self._grams = {n: bigrams(n) for n in self.names}
        corpus = [self._grams[n] for n in self.names] + [bigrams(b) for b in background or []]
        df: dict[str, int] = {}
        for grams in corpus:
            for g in grams:
                df[g] = df.get(g, 0) + 1
        n = max(1, len(corpus))
        self._idf = {g: math.log(1 + n / c) for g, c in df.items()}
        self._unique_idf = math.log(1 + n)

    def scores(self, text: str) -> list[tuple[str, float]]:
        """Return (name, evidence) pairs: the summed idf of the name's bigrams found in the text."""
        q = bigrams(text)
        out = [(name, sum(self._idf[g] for g in self._grams[name] & q)) for name in self.names]
        return sorted((kv for kv in out if kv[1] > 0), key=lambda kv: -kv[1])

    def match(self, text: str) -> str | None:
        """Return the task name the text refers to, or None when no name (or no single one) fits."""
        ranked = self.scores(text)
        if not ranked:
            return None
        top = ranked[0][1]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        # Evidence is counted in units of one distinctive bigram (one found in a single name): about
        # one and a half of them clearly ahead of the next name, or more with a smaller lead.
        # Less is chance, and two names that fit about equally are not guessed between.
        clear_lead = top >= 1.3 * self._unique_idf and top > 1.6 * second
        strong = top >= 1.6 * self._unique_idf and second <= 0.8 * top
        return ranked[0][0] if clear_lead or strong else None
