"""The per-user message rate limit of the Telegram bot."""

from __future__ import annotations

import time
from collections import OrderedDict, deque


class UserRateLimiter:
    """At most `limit` messages per user in any sliding window, in memory; warns once per window."""

    def __init__(self, limit: int, window_s: float = 60.0, max_users: int = 100_000) -> None:
        self.limit, self.window_s, self.max_users = limit, window_s, max_users
        self._hits: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: dict[int, float] = {}

    def check(self, user_id: int, now: float | None = None) -> float:
        """Record a message; 0 when allowed, else the seconds until the user may write again."""
        if self.limit <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(user_id, deque())
        self._hits.move_to_end(user_id)
        while hits and now - hits[0] >= self.window_s:
            hits.popleft()
        while len(self._hits) > self.max_users:
            old, _ = self._hits.popitem(last=False)
            self._warned.pop(old, None)
        if len(hits) >= self.limit:
            return max(self.window_s - (now - hits[0]), 0.001)
        hits.append(now)
        self._warned.pop(user_id, None)
        return 0.0

    def should_warn(self, user_id: int, now: float | None = None) -> bool:
        """True the first time in a window that a user is over the limit (later ones are ignored)."""
        now = time.monotonic() if now is None else now
        last = self._warned.get(user_id)
        if last is not None and now - last < self.window_s:
            return False
        self._warned[user_id] = now
        return True
