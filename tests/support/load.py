"""Load for the reliability tests: questions at a fixed concurrency through one httpx client, every
outcome recorded, while a scenario (a fault, a restart) runs beside it; and the questions to ask."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.paths import DATA

CONCURRENCY = 32


@dataclass
class Outcome:
    started: float
    ended: float
    status: int | None
    error: str | None = None
    data: dict[str, Any] | None = None


@dataclass
class Load:
    """Questions at a fixed concurrency through one httpx.AsyncClient, until `limit` or `stop()`."""

    url: str
    questions: list[str]
    limit: int
    concurrency: int = CONCURRENCY
    timeout_s: float = 30.0
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._next = 0
        self._stopped = False

    def stop(self) -> None:
        self._stopped = True

    async def run(self) -> list[Outcome]:
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout_s, limits=limits) as client:
            await asyncio.gather(*(self._worker(client) for _ in range(self.concurrency)))
        return self.outcomes

    async def _worker(self, client: httpx.AsyncClient) -> None:
        while not self._stopped and self._next < self.limit:
            i = self._next
            self._next += 1
            question = self.questions[i % len(self.questions)]
            started = time.monotonic()
            try:
                response = await client.post("/api/ask", json={"question": question})
            except httpx.HTTPError as exc:
                self.outcomes.append(Outcome(started, time.monotonic(), None, f"{type(exc).__name__}: {exc}"))
                await asyncio.sleep(0.05)  # a dead connection: do not spin while the pool reconnects
                continue
            data = response.json() if response.status_code == 200 else None
            error = None if response.status_code == 200 else response.text[:300]
            self.outcomes.append(Outcome(started, time.monotonic(), response.status_code, error, data))

    def answered(self, *, since: float = 0.0) -> list[Outcome]:
        """200 answers to questions sent at or after `since` (time.monotonic())."""
        return [o for o in self.outcomes if o.status == 200 and o.started >= since]

    async def wait_answered(self, count: int, *, since: float = 0.0, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.answered(since=since)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.answered(since=since))} of {count} answers came back")
            if len(self.outcomes) >= self.limit:
                raise AssertionError(
                    f"the load ran out of questions before the scenario ended: {self.failures()}"
                )
            await asyncio.sleep(0.05)

    def statuses(self) -> Counter[int | None]:
        return Counter(o.status for o in self.outcomes)

    def failures(self) -> list[str]:
        """What went wrong, for assertion messages: status and error of the first few failures."""
        return [f"{o.status}: {o.error}" for o in self.outcomes if o.status != 200][:5]

    def server_errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is not None and o.status >= 500]


def load_questions() -> list[str]:
    rows = [json.loads(line) for line in (DATA / "eval_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r["question"] for r in rows if r.get("question")]


def unseen_questions(count: int) -> list[str]:
    """Each question once (numbered variants): none is answered from a worker's search caches."""
    base = load_questions()
    return [f"{base[i % len(base)]} ({i})" for i in range(count)]


def run_scenario(load: Load, scenario: Callable[[Load], Any], timeout_s: float) -> None:
    """Run the load and, beside it, the scenario (which stops the load when it is done)."""

    async def main() -> None:
        async def drive() -> None:
            try:
                await scenario(load)
            finally:
                load.stop()

        await asyncio.wait_for(asyncio.gather(load.run(), drive()), timeout=timeout_s)

    asyncio.run(main())
