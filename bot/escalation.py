"""Where questions the documents do not answer go, so staff can answer them."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol


class UnansweredLog(Protocol):
    def record(self, *, question: str, session_id: str, answer: dict[str, Any], reason: str) -> None: ...


class JsonlUnansweredLog:
    """Appends one JSON line per unanswered question to a file under the data directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, *, question: str, session_id: str, answer: dict[str, Any], reason: str) -> None:
        line = {
            "at": datetime.now(UTC).isoformat(),
            "question": question,
            "session_id": session_id,
            "reason": reason,
            "message_id": answer.get("message_id"),
            "task": answer.get("task"),
            "intent": answer.get("intent"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [
            json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]


class MemoryUnansweredLog:
    """Keeps unanswered questions in memory (tests, one-off runs)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def record(self, *, question: str, session_id: str, answer: dict[str, Any], reason: str) -> None:
        self.items.append({"question": question, "session_id": session_id, "reason": reason, **answer})
