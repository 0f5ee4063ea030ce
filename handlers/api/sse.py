"""Server-Sent Events for `/api/ask/stream`: the answer text in `delta` pieces, then the whole answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

STREAM_PIECE_CHARS = 6  # characters per "delta" event
STREAM_PIECE_DELAY_S = 0.012  # a short pause between deltas, so a reader sees the answer arrive


def _pieces(text: str, size: int = STREAM_PIECE_CHARS) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def sse_stream(data: dict[str, Any]) -> AsyncIterator[bytes]:
    for piece in _pieces(str(data["answer"])):
        yield _event("delta", {"text": piece})
        await asyncio.sleep(STREAM_PIECE_DELAY_S)
    yield _event("answer", data)
