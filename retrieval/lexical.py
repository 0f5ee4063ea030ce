"""BM25 over jieba words plus character bigrams, with a domain dictionary taken from the knowledge base.

Bigrams let an unsegmented name ('社区学习中心') still match; the dictionary (task names, headings,
table cells) keeps jieba from cutting the knowledge base's own terms apart. Tokens are kept per
document, so a re-index tokenises only the documents that changed.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from pathlib import Path

import numpy as np

from retrieval.normalize import CJK_CLASS, normalize_for_search

log = logging.getLogger(__name__)

_CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
_WORD = re.compile(r"[a-z0-9]+(?:[.\-@][a-z0-9]+)*")
# Words that say nothing about which passage answers; dropping them sharpens both BM25 and coverage.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "么",
        "嘛",
        "和",
        "与",
        "及",
        "或",
        "在",
        "是",
        "有",
        "我",
        "我们",
        "你",
        "你们",
        "他",
        "她",
        "它",
        "这",
        "那",
        "这个",
        "那个",
        "哪",
        "哪个",
        "哪些",
        "什么",
        "啥",
        "怎么",
        "怎样",
        "如何",
        "请问",
        "请",
        "一下",
        "可以",
        "能",
        "能不能",
        "可不可以",
        "要",
        "需要",
        "想",
        "问",
        "问下",
        "谁",
        "多少",
        "几",
        "个",
        "吗",
        "么",
        "呐",
        "哦",
        "嗯",
        "the",
        "a",
        "an",
        "of",
        "to",
        "for",
        "is",
        "are",
        "do",
        "does",
        "what",
        "when",
        "how",
        "who",
        "which",
        "can",
        "i",
        "we",
        "our",
        "you",
        "in",
        "on",
        "at",
        "and",
        "or",
        "be",
        "by",
        "it",
        "this",
        "that",
    ]
)


class Tokenizer:
    """Normalise and tokenise text the same way for documents and queries."""

    def __init__(self, words: list[str] | None = None) -> None:
        import jieba

        # jieba and bm25s log every build at DEBUG through their own handlers.
        jieba.setLogLevel(logging.WARNING)
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.tmp_dir = None
        self._lock = threading.Lock()
        self.words: list[str] = []
        for word in words or []:
            self.add_word(word)

    def add_word(self, word: str) -> None:
        """Teach jieba a term of the knowledge base, so it stays one token."""
        word = normalize_for_search(word)
        if 2 <= len(word) <= 20 and word not in self.words:
            self.words.append(word)
            with self._lock:
                self._jieba.add_word(word, freq=2000)

    def is_word(self, word: str) -> bool:
        """Tell whether jieba's dictionary (or a term taught to it) holds the word."""
        with self._lock:
            self._jieba.check_initialized()
            return self._jieba.FREQ.get(normalize_for_search(word), 0) > 0

    def tokens(self, text: str) -> list[str]:
        """Return jieba words (search mode) plus character bigrams of every Chinese run."""
        norm = normalize_for_search(text)
        out: list[str] = []
        with self._lock:
            words = list(self._jieba.cut_for_search(norm))
        out.extend(w for w in words if w.strip() and w not in STOPWORDS and (len(w) > 1 or _CJK_RUN.match(w)))
        for run in _CJK_RUN.findall(norm):
            out.extend("#" + run[i : i + 2] for i in range(len(run) - 1))
        out.extend(w for w in _WORD.findall(norm) if w not in STOPWORDS and w not in out)
        return out


class LexicalIndex:
    """BM25 over tokenised entries; entries are grouped by document for incremental rebuilds."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self._by_doc: dict[str, dict[str, object]] = {}  # doc_id -> {"hash": str, "entries": [[id, tokens]]}
        self._ids: list[str] = []
        self._position: dict[str, int] = {}
        self._tokens: dict[str, frozenset[str]] = {}
        self._bm25 = None
        self._lock = threading.RLock()

    def set_document(self, doc_id: str, content_hash: str, entries: list[tuple[str, str]]) -> None:
        """Replace one document's entries (id, text); call `rebuild` after a batch of changes."""
        tokenised = [[entry_id, _interned(self.tokenizer.tokens(text))] for entry_id, text in entries]
        with self._lock:
            self._by_doc[doc_id] = {"hash": content_hash, "entries": tokenised}

    def remove_document(self, doc_id: str) -> None:
        with self._lock:
            self._by_doc.pop(doc_id, None)

    def document_hash(self, doc_id: str) -> str | None:
        entry = self._by_doc.get(doc_id)
        return str(entry["hash"]) if entry else None

    def doc_ids(self) -> list[str]:
        return list(self._by_doc)

    def rebuild(self) -> None:
        """Rebuild the BM25 matrix from the stored tokens (cheap next to tokenising)."""
        import bm25s

        ids: list[str] = []
        corpus: list[list[str]] = []
        token_sets: dict[str, frozenset[str]] = {}
        with self._lock:
            for doc in self._by_doc.values():
                for entry_id, tokens in doc["entries"]:  # type: ignore[attr-defined]
                    ids.append(entry_id)
                    corpus.append(tokens or ["\x00empty"])
                    token_sets[entry_id] = frozenset(tokens)
        model = None
        if corpus:
            model = bm25s.BM25(k1=1.2, b=0.75)
            model.index(corpus, show_progress=False)
        with self._lock:
            self._ids, self._bm25, self._tokens = ids, model, token_sets
            self._position = {entry_id: i for i, entry_id in enumerate(ids)}

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, *, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Return up to k (entry id, BM25 score) pairs with a positive score, best first."""
        tokens = self.tokenizer.tokens(query)
        with self._lock:
            model, ids = self._bm25, self._ids
        if model is None or not tokens:
            return []
        scores = np.asarray(model.get_scores(tokens), dtype=np.float32)
        if allowed is not None:
            mask = np.zeros(len(ids), dtype=bool)
            for entry_id in allowed:
                pos = self._position.get(entry_id)
                if pos is not None:
                    mask[pos] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def tokens_of(self, entry_id: str) -> frozenset[str]:
        """Return the set of an entry's tokens (for relevance features)."""
        return self._tokens.get(entry_id, frozenset())

    def save(self, path: Path) -> None:
        """Persist tokens and the domain dictionary."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with self._lock:
            data = {"words": self.tokenizer.words, "documents": self._by_doc}
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    def load(self, path: Path) -> bool:
        """Reload what `save` wrote; return False when there is nothing to load."""
        if not path.exists():
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
        for word in data.get("words", []):
            self.tokenizer.add_word(word)
        documents = data.get("documents", {})
        for doc in documents.values():
            for pair in doc["entries"]:
                pair[1] = _interned(pair[1])
        with self._lock:
            self._by_doc = documents
        self.rebuild()
        return True


def _interned(tokens: list[str]) -> list[str]:
    """One string object per distinct token: a large index holds the same few thousand words
    hundreds of thousands of times (docs/benchmarks.md: 4.7x less memory for the token lists)."""
    return [sys.intern(t) for t in tokens]
