"""Per-client rate limits for the HTTP API (429 with Retry-After)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from fastapi import Request

from common.errors import ApplybotError


class RateLimiter:
    """At most `limit` requests per client in any sliding 60-second window, in this process's memory."""

    def __init__(self, limit: int, window_s: float = 60.0, *, max_clients: int = 100_000) -> None:
        self.limit, self.window_s, self.max_clients = limit, window_s, max_clients
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> float:
        """Record a request; return 0 when allowed, else the seconds until the client may ask again."""
        if self.limit <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(client)
            if hits is None:
                if len(self._hits) >= self.max_clients:
                    self._prune(now)
                hits = self._hits[client] = deque()
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(self.window_s - (now - hits[0]), 0.001)
            hits.append(now)
            return 0.0

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window_s]:
            del self._hits[key]
        while len(self._hits) >= self.max_clients:
            self._hits.pop(next(iter(self._hits)))


class RateLimitedError(ApplybotError):
    """A client asked more often than the rate limit allows."""

    http_status = 429

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after_s))
        super().__init__(f"too many questions; try again in {self.retry_after} seconds")


def check_rate_limit(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.limiter.check(client)
    if wait:
        raise RateLimitedError(wait)
