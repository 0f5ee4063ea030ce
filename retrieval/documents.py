"""Which documents hold a question's words: the notice-level half of two-stage retrieval.

With hundreds of notices of one kind, a passage that shares a word or two with a question is found
in many of them; the notice the question is about is the one that holds most of its distinctive
words (in its title above all). Scores are idf-weighted shares in [0, 1], computed by plain
substring tests over each document's normalised text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from retrieval.normalize import normalize_for_search


class DocumentWords:
    """Normalised title and text of every document, for idf-weighted word shares."""

    def __init__(self, documents: Iterable[tuple[str, str, str]]) -> None:
        """Build from (doc_id, title, text) triples."""
        self.texts: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        for doc_id, title, text in documents:
            self.texts[doc_id] = normalize_for_search(text)
            self.titles[doc_id] = normalize_for_search(title)

    def shares(
        self, words: Iterable[str], *, title_aliases: dict[str, set[str]] | None = None
    ) -> dict[str, float]:
        """Each document's idf-weighted share of the words; a word in its title counts twice.

        `title_aliases` maps a word to documents whose title it shortens (综测 for 综合测评), which
        count as holding it in their title.
        """
        n = len(self.texts)
        total = 0.0
        shares: dict[str, float] = {}
        for raw in set(words):
            word = normalize_for_search(raw)
            if not word:
                continue
            holders = {d for d, t in self.texts.items() if word in t}
            aliased = (title_aliases or {}).get(raw, set())
            owners = holders | aliased
            if not owners or len(owners) == n:
                continue  # in every document (or none): says nothing about which
            idf = math.log(1 + n / len(owners))
            total += 2 * idf
            for doc_id in owners:
                in_title = word in self.titles[doc_id] or doc_id in aliased
                shares[doc_id] = shares.get(doc_id, 0.0) + idf * (2 if in_title else 1)
        return {d: v / total for d, v in shares.items()} if total else {}
