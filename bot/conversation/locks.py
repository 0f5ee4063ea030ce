"""Per-session ordering: two questions of one conversation are answered one after the other."""

from __future__ import annotations

import contextlib
import threading
import zlib
from typing import Any


class SessionLocks:
    """Striped locks, so memory stays flat however many sessions there are."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]
        self._none = contextlib.nullcontext()

    def for_session(self, session_id: str | None) -> contextlib.AbstractContextManager[Any]:
        if session_id is None:
            return self._none  # a new session: nobody else can hold it yet
        return self._locks[zlib.crc32(session_id.encode()) % len(self._locks)]
