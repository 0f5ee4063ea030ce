"""The record of what happened: answers given, feedback, and requests for a person.

This JSON Lines journal is the single-machine default; every write is one appended line, so a
crash loses at most the line being written. The staff-review store can replace it behind the same
methods.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Journal:
    """Appends answers, feedback and handoffs to `<data_dir>/journal/*.jsonl`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def _append(self, name: str, record: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock, (self.root / f"{name}.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(line)

    def _read(self, name: str) -> list[dict[str, Any]]:
        path = self.root / f"{name}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def log_answer(self, *, channel: str, question: str, answer: dict[str, Any], latency_ms: float) -> None:
        """Record one question and the answer contract given for it."""
        self._append(
            "messages",
            {"at": _now(), "channel": channel, "question": question, "latency_ms": latency_ms, **answer},
        )

    def feedback(
        self, *, session_id: str, message_id: str, rating: str, comment: str | None
    ) -> dict[str, Any]:
        """Record a thumbs up or down on one answer."""
        record = {
            "at": _now(),
            "session_id": session_id,
            "message_id": message_id,
            "rating": rating,
            "comment": comment,
        }
        self._append("feedback", record)
        return record

    def handoff(self, *, session_id: str, channel: str, note: str | None) -> dict[str, Any]:
        """Record that an applicant asked for a person; staff pick it up from the review pages."""
        record = {
            "at": _now(),
            "handoff_id": uuid.uuid4().hex,
            "session_id": session_id,
            "channel": channel,
            "note": note,
            "status": "open",
        }
        self._append("handoffs", record)
        return record

    def messages(self) -> list[dict[str, Any]]:
        return self._read("messages")

    def feedbacks(self) -> list[dict[str, Any]]:
        return self._read("feedback")

    def handoffs(self) -> list[dict[str, Any]]:
        return self._read("handoffs")
