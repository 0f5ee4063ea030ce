"""The spool: logging writes kept on disk while the database cannot take them, replayed in order."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.store.engine import file_lock, is_unreachable

log = logging.getLogger(__name__)


class Spool:
    """Logging writes the database could not take, one JSON line each, replayed in order.

    `pending.jsonl` takes new lines; a replay first renames it to `replaying.jsonl`, so lines
    appended meanwhile wait for the next replay. A replay stopped half-way keeps what is left in
    `replaying.jsonl`, which the next replay finishes first. Lines the database refuses as wrong
    (not as unreachable) go to `rejected.jsonl` for a person to look at.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pending = root / "pending.jsonl"
        self.replaying = root / "replaying.jsonl"
        self.rejected = root / "rejected.jsonl"
        self._lock = threading.RLock()
        self._replay_lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock, file_lock(self.root / ".lock"):
            yield

    def append(self, item: dict[str, Any], *, rejected: bool = False) -> None:
        line = json.dumps(item, ensure_ascii=False, default=str) + "\n"
        with self._locked(), (self.rejected if rejected else self.pending).open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def __len__(self) -> int:
        return sum(self._count(p) for p in (self.replaying, self.pending))

    def has_pending(self) -> bool:
        return any(p.exists() and p.stat().st_size > 0 for p in (self.replaying, self.pending))

    @staticmethod
    def _count(path: Path) -> int:
        if not path.exists():
            return 0
        with path.open(encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())

    def items(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for path in (self.replaying, self.pending):
            if path.exists():
                out.extend(json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip())
        return out

    @contextlib.contextmanager
    def _replay_guard(self) -> Iterator[None]:
        """One replayer at a time, across threads and processes; appends are not held up by it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._replay_lock, file_lock(self.root / ".replay.lock"):
            yield

    def replay(self, apply: Callable[[dict[str, Any]], None]) -> int:
        """Apply every spooled line in order; stop (keeping the rest) when the database is unreachable."""
        done = 0
        with self._replay_guard():
            while True:
                with self._locked():
                    if not self.replaying.exists():
                        if not self.pending.exists():
                            return done
                        os.replace(self.pending, self.replaying)
                lines = [x for x in self.replaying.read_text(encoding="utf-8").splitlines() if x.strip()]
                for i, line in enumerate(lines):
                    try:
                        item = json.loads(line)
                    except json.JSONDecodeError:
                        self._reject_line(line, "not JSON")
                        continue
                    try:
                        apply(item)
                    except Exception as exc:
                        if is_unreachable(exc):
                            self._rewrite(lines[i:])
                            raise
                        log.error("spooled %s refused by the database: %s", item.get("op"), exc)
                        self._reject_line(line, f"{type(exc).__name__}: {exc}")
                        continue
                    done += 1
                self.replaying.unlink()

    def _rewrite(self, lines: list[str]) -> None:
        tmp = self.replaying.with_suffix(".tmp")
        tmp.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        os.replace(tmp, self.replaying)

    def _reject_line(self, line: str, why: str) -> None:
        with self._locked(), self.rejected.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"line": line, "error": why[:500]}, ensure_ascii=False) + "\n")
