"""Staff answers flowing back into the knowledge base, and the review queue's grouping of questions.

An FAQ entry is a staff answer to questions the notices do not answer. Every active entry becomes a
search entry of kind "faq" (its text is the staff answer, quoted verbatim by the citation; its
index text is the question variants plus the answer) under the pseudo document "faq", indexed with
`KnowledgeIndex.sync(extra=...)` as soon as it is saved, so the next question finds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import numpy as np

from bot.store import Store
from retrieval.entries import Entry
from retrieval.index import KnowledgeIndex

FAQ_DOC_ID = "faq"
FAQ_TITLE = "常见问题（工作人员答复）"
CLUSTER_THRESHOLD = 0.91  # e5 query cosines: paraphrases >= 0.92, different questions <= 0.88 (measured)


# -- the FAQ in the index ----------------------------------------------------------------------------


def faq_entry(item: dict[str, Any]) -> Entry:
    """The search entry of one FAQ entry (a dict as `Store.faq_entries` returns it)."""
    questions = [str(q) for q in item["questions"]]
    day = str(item.get("updated_at") or item.get("created_at") or "")[:10]
    source = item.get("source") or ""
    return Entry(
        entry_id=f"faq-{item['id']}",
        doc_id=FAQ_DOC_ID,
        kind="faq",
        title=FAQ_TITLE,
        section=source or f"常见问题 第{item['id']}条",
        text=str(item["answer"]),
        index_text="\n".join([*questions, str(item["answer"])]),
        meta={
            "author": item.get("author") or "",
            "date": day,
            "questions_text": "\n".join(questions),
            "faq_id": item["id"],
            "source": source,
        },
    )


def faq_index_extra(store: Store) -> dict[str, tuple[str, list[Entry]]]:
    """The `extra` argument for `KnowledgeIndex.sync`: the active FAQ entries under one version hash.

    With no active entry it is empty, so a sync drops whatever FAQ entries were indexed before.
    """
    items = store.faq_entries(status="active")
    if not items:
        return {}
    entries = [faq_entry(item) for item in items]
    digest = hashlib.sha256(
        json.dumps(
            [[e.entry_id, e.index_text, e.text, e.section, e.meta["date"]] for e in entries],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()[:24]
    return {FAQ_DOC_ID: (f"faq:{digest}", entries)}


def sync_faq(
    store: Store,
    index: KnowledgeIndex,
    assistant: Any = None,
    *,
    lock: AbstractContextManager[Any] | None = None,
) -> dict[str, Any]:
    """Bring the index's FAQ entries in line with the store (only changed entries are embedded)."""
    extra = faq_index_extra(store)
    with lock or contextlib.nullcontext():
        stats = index.sync(extra=extra)
        if assistant is not None:
            assistant.refresh()
    return stats


def publish_faq(
    store: Store,
    index: KnowledgeIndex,
    assistant: Any,
    questions: list[str],
    answer: str,
    source: str | None,
    author: str,
    *,
    resolves: Iterable[str] = (),
    lock: AbstractContextManager[Any] | None = None,
) -> dict[str, Any]:
    """Save an FAQ entry and index it at once; the questions it answers (`resolves`) leave the queue."""
    item = store.add_faq(questions=questions, answer=answer, source=source, author=author)
    resolved = list(resolves)
    if resolved:
        store.set_review_status(resolved, "resolved", actor=author, faq_id=item["id"])
    sync_faq(store, index, assistant, lock=lock)
    return item


def edit_faq(
    store: Store,
    index: KnowledgeIndex,
    assistant: Any,
    faq_id: int,
    *,
    author: str,
    questions: list[str] | None = None,
    answer: str | None = None,
    source: str | None = None,
    status: str | None = None,
    lock: AbstractContextManager[Any] | None = None,
) -> dict[str, Any]:
    """Change, retire (status="retired") or restore an FAQ entry, and re-index at once."""
    item = store.update_faq(
        faq_id, questions=questions, answer=answer, source=source, status=status, author=author
    )
    sync_faq(store, index, assistant, lock=lock)
    return item


class FaqRefresher:
    """Keeps one worker's index in step with FAQ entries and notices published by another worker.

    `maybe_refresh()` is cheap: at most every `interval_s` it reads the FAQ table's fingerprint,
    and re-syncs the index only when that changed. Call it before answering a question.
    """

    def __init__(
        self,
        store: Store,
        index: KnowledgeIndex,
        assistant: Any = None,
        *,
        interval_s: float = 10.0,
        lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.store, self.index, self.assistant = store, index, assistant
        self.interval_s = interval_s
        self.lock = lock
        self._stamp: str | None = None
        self._checked = 0.0
        self._guard = threading.Lock()

    def mark_synced(self) -> None:
        with contextlib.suppress(Exception):
            self._stamp = self._fingerprint()

    def _fingerprint(self) -> str:
        """What another worker may have changed: FAQ entries, notices, staff decisions about notices."""
        from bot.notice_review import NoticeDecisions

        decisions = NoticeDecisions(self.store.sessions).stamp()
        return f"{self.store.faq_stamp()}:{self._documents_stamp()}:{decisions}"

    def _documents_stamp(self) -> str:
        """A fingerprint of the parsed notices: another worker may have published one."""
        manifest = self.index.store.manifest()
        return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16]

    def maybe_refresh(self, *, force: bool = False) -> bool:
        """Re-sync when the FAQ changed since the last look; True when it did. Never raises."""
        now = time.monotonic()
        if not force and now - self._checked < self.interval_s:
            return False
        if not self._guard.acquire(blocking=False):
            return False
        try:
            self._checked = now
            try:
                stamp = self._fingerprint()
            except Exception:
                return False  # the database is away: keep answering from what is indexed
            if stamp == self._stamp:
                return False
            sync_faq(self.store, self.index, self.assistant, lock=self.lock)
            self._stamp = stamp
            return True
        finally:
            self._guard.release()


# -- review queue: group similar questions ------------------------------------------------------------


def _normalized(question: str) -> str:
    return " ".join(question.split()).strip(" ？?。.!！").lower()


def group_questions(
    items: list[dict[str, Any]],
    embedder: Any,
    *,
    threshold: float = CLUSTER_THRESHOLD,
) -> list[dict[str, Any]]:
    """Group review items by the meaning of their questions (greedy leader clustering on cosines).

    Identical questions count once for the embedding; the most asked question leads its group, and
    a question joins the first group whose leader it is at least `threshold` similar to. Groups come
    back most asked first, then most recently asked.
    """
    by_text: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_text.setdefault(_normalized(str(item.get("question", ""))), []).append(item)
    texts = sorted(by_text, key=lambda t: (-len(by_text[t]), -_latest(by_text[t]).timestamp(), t))
    if not texts:
        return []
    vectors = _embed(embedder, [by_text[t][0]["question"] for t in texts])
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for i in range(len(texts)):
        if leaders:
            sims = vectors[leaders] @ vectors[i]
            best = int(np.argmax(sims))
            if float(sims[best]) >= threshold:
                members[leaders[best]].append(i)
                continue
        leaders.append(i)
        members[i] = [i]
    groups = []
    for leader in leaders:
        group_items = [item for i in members[leader] for item in by_text[texts[i]]]
        group_items.sort(key=lambda x: str(x.get("at") or ""), reverse=True)
        distinct: dict[str, dict[str, Any]] = {}
        for item in group_items:
            entry = distinct.setdefault(
                item["question"], {"question": item["question"], "count": 0, "last_at": item.get("at")}
            )
            entry["count"] += 1
        feedback = [fb for item in group_items for fb in item.get("feedback", [])]
        handoffs: dict[str, dict[str, Any]] = {}
        for item in group_items:
            for h in item.get("handoffs", []):
                handoffs.setdefault(h["handoff_id"], h)
        groups.append(
            {
                "key": group_items[-1]["message_id"],
                "question": by_text[texts[leader]][0]["question"],
                "count": len(group_items),
                "last_at": group_items[0].get("at"),
                "questions": list(distinct.values()),
                "message_ids": [item["message_id"] for item in group_items],
                "messages": group_items,
                "channels": sorted({str(i.get("channel")) for i in group_items if i.get("channel")}),
                "escalated": sum(1 for i in group_items if i.get("escalated")),
                "feedback_up": sum(1 for fb in feedback if fb.get("rating") == "up"),
                "feedback_down": sum(1 for fb in feedback if fb.get("rating") == "down"),
                "handoffs": list(handoffs.values()),
            }
        )
    groups.sort(key=lambda g: (-g["count"], _neg_time(g["last_at"])))
    return groups


def _embed(embedder: Any, texts: list[str]) -> np.ndarray:
    vectors = np.asarray(embedder.embed_queries(texts), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12))


def _latest(items: list[dict[str, Any]]) -> datetime:
    return max((_when(i.get("at")) for i in items), default=_when(None))


def _when(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def _neg_time(value: Any) -> float:
    return -_when(value).timestamp()
