"""The handoff threads between applicant chats and the staff chat, kept as JSON under the data dir."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _now() -> str:
    return datetime.now(UTC).isoformat()


class TelegramHandoffs:
    """Handoff threads between applicant chats and the staff chat, persisted under the data dir.

    `handoffs.json` holds each applicant chat's thread (open or closed) and which staff-chat
    messages belong to which applicant chat, so a staff reply finds its applicant after a restart.
    `handoff_messages.jsonl` records every message that crossed a thread, and every closing.
    """

    MAX_LINKS = 50_000

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "handoffs.json"
        self.log_path = directory / "handoff_messages.jsonl"
        self._lock = threading.Lock()
        self._threads: dict[str, dict[str, Any]] = {}
        self._links: dict[str, int] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._threads = dict(data.get("threads", {}))
            self._links = {k: int(v) for k, v in data.get("links", {}).items()}

    def _save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(
            json.dumps({"threads": self._threads, "links": self._links}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)

    def open(self, *, chat_id: int, handoff_id: str, applicant: str, question: str) -> dict[str, Any]:
        thread = {
            "handoff_id": handoff_id,
            "chat_id": chat_id,
            "applicant": applicant,
            "question": question,
            "status": "open",
            "opened_at": _now(),
            "closed_at": None,
            "closed_by": None,
            "staff_message_id": None,
        }
        with self._lock:
            self._threads[str(chat_id)] = thread
            self._save()
        self.record("open", chat_id=chat_id, text=question, by=applicant)
        return dict(thread)

    def thread(self, chat_id: int) -> dict[str, Any] | None:
        with self._lock:
            thread = self._threads.get(str(chat_id))
            return dict(thread) if thread else None

    def is_open(self, chat_id: int) -> bool:
        thread = self.thread(chat_id)
        return bool(thread and thread["status"] == "open")

    def link(self, staff_message_id: int, chat_id: int, *, head: bool = False) -> None:
        """Remember that a staff-chat message belongs to an applicant's thread."""
        with self._lock:
            self._links[str(staff_message_id)] = chat_id
            while len(self._links) > self.MAX_LINKS:
                self._links.pop(next(iter(self._links)))
            thread = self._threads.get(str(chat_id))
            if head and thread is not None:
                thread["staff_message_id"] = staff_message_id
            self._save()

    def chat_for(self, staff_message_id: int) -> int | None:
        with self._lock:
            return self._links.get(str(staff_message_id))

    def close(self, chat_id: int, *, by: str) -> dict[str, Any] | None:
        """Close an open thread; None when there is none open."""
        with self._lock:
            thread = self._threads.get(str(chat_id))
            if not thread or thread["status"] != "open":
                return None
            thread.update(status="closed", closed_at=_now(), closed_by=by)
            self._save()
            closed = dict(thread)
        self.record("close", chat_id=chat_id, text=None, by=by)
        return closed

    def record(self, event: str, *, chat_id: int, text: str | None, by: str | None) -> dict[str, Any]:
        """Append one event (open, applicant, staff_reply, close, undelivered) to the message log."""
        thread = self.thread(chat_id)
        entry = {
            "at": _now(),
            "event": event,
            "handoff_id": thread["handoff_id"] if thread else None,
            "chat_id": chat_id,
            "by": by,
            "text": text,
        }
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return entry

    def events(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
