"""Conversation context for follow-ups, keyed by session id."""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class SessionContext:
    """What the last turns established: the task, the intents and who is asking."""

    task: str | None = None
    doc_id: str | None = None  # the notice the conversation is about
    choices: list[str] = field(default_factory=list)  # notices offered to choose from (doc ids)
    pending: str | None = None  # the question waiting for that choice
    asked: str | None = None  # what the last question asked for (date, place …), for "研究生呢？"
    intents: list[str] = field(default_factory=list)
    applicant: str | None = None
    applicant_aliases: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)  # the last question's own words (for "X呢？")
    language: str | None = None
    turns: list[tuple[str, str]] = field(default_factory=list)  # (question, answer), newest last


class SessionStore(Protocol):
    def get(self, session_id: str) -> SessionContext: ...

    def put(self, session_id: str, context: SessionContext) -> None: ...


class MemorySessionStore:
    """Sessions in this process's memory, forgotten after `ttl_s` idle or beyond `capacity`."""

    def __init__(self, *, capacity: int = 10_000, ttl_s: float = 6 * 3600) -> None:
        self._data: OrderedDict[str, tuple[float, SessionContext]] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity, self._ttl = capacity, ttl_s

    def get(self, session_id: str) -> SessionContext:
        with self._lock:
            item = self._data.get(session_id)
            if item is None or time.monotonic() - item[0] > self._ttl:
                return SessionContext()
            # A copy: two questions of one session in flight must not edit the same object.
            return copy.deepcopy(item[1])

    def put(self, session_id: str, context: SessionContext) -> None:
        context.turns = context.turns[-6:]
        with self._lock:
            self._data[session_id] = (time.monotonic(), context)
            self._data.move_to_end(session_id)
            while len(self._data) > self._capacity:
                self._data.popitem(last=False)
