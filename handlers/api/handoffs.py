"""The web widget's side of a handoff thread: ask for a person, then read and write the thread.

The applicant proves the thread is theirs with the token issued when they asked for a person
(a query parameter, because EventSource cannot send headers). Replies arrive as Server-Sent
Events; `GET /api/handoff/{id}` is the polling fallback and what a reloaded page reads.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from bot.conversation import ConversationService
from handlers.api.models import (
    ERRORS,
    HandoffPublic,
    HandoffRequest,
    ThreadClose,
    ThreadMessageIn,
    ThreadMessagePublic,
    ThreadPublic,
)

# How often an open event stream looks for new messages, how often it sends a keep-alive comment,
# and how long one stream lasts before the browser reconnects (EventSource does so by itself).
POLL_S = 1.0
PING_S = 15.0
STREAM_S = 300.0

router = APIRouter(tags=["handoff"])


def _service(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.conversation
    return service


def public_message(message: dict[str, Any]) -> dict[str, Any]:
    """What the applicant sees of a thread message: staff are "工作人员", never a login name."""
    return {"id": message["id"], "role": message["role"], "text": message["text"], "at": message["at"]}


def public_thread(thread: dict[str, Any]) -> dict[str, Any]:
    return {
        "handoff_id": thread["handoff_id"],
        "status": thread["status"],
        "messages": [public_message(m) for m in thread.get("replies", [])],
    }


@router.post("/api/handoff", response_model=HandoffPublic, responses=ERRORS)
async def request_handoff(body: HandoffRequest, request: Request) -> dict[str, Any]:
    """The applicant wants a person: open a thread staff answer in, and give the people to contact."""
    started = await run_in_threadpool(
        _service(request).handoff, session_id=body.session_id, channel=body.channel, note=body.note
    )
    record = started.thread
    out: dict[str, Any] = {
        "at": record.get("at"),
        "handoff_id": record["handoff_id"],
        "session_id": record["session_id"],
        "status": record.get("status", "open"),
        "contacts": started.contacts,
        "thread_token": started.token,
        "messages": [public_message(m) for m in started.thread.get("replies", [])],
    }
    return out


@router.get("/api/handoff/{handoff_id}", response_model=ThreadPublic, responses=ERRORS)
async def read_thread(
    handoff_id: str, request: Request, token: str = Query(max_length=64), after: int = 0
) -> dict[str, Any]:
    """The thread's status and the messages after `after` (the polling fallback)."""
    thread = await run_in_threadpool(
        _service(request).applicant_thread, handoff_id, token, after=max(0, after)
    )
    return public_thread(thread)


@router.post("/api/handoff/{handoff_id}/messages", response_model=ThreadMessagePublic, responses=ERRORS)
async def write_thread(handoff_id: str, body: ThreadMessageIn, request: Request) -> dict[str, Any]:
    """The applicant writes to staff; 409 once the thread is closed."""
    service = _service(request)
    await run_in_threadpool(service.applicant_thread, handoff_id, body.token)
    message = await run_in_threadpool(service.applicant_message, handoff_id, body.text, author="申请人")
    return public_message(message)


@router.post("/api/handoff/{handoff_id}/close", response_model=ThreadPublic, responses=ERRORS)
async def close_thread(handoff_id: str, body: ThreadClose, request: Request) -> dict[str, Any]:
    """The applicant ends the thread."""
    service = _service(request)
    await run_in_threadpool(service.applicant_thread, handoff_id, body.token)
    thread, _ = await run_in_threadpool(service.close, handoff_id, by="申请人", role="applicant", via="web")
    return public_thread(thread)


@router.get(
    "/api/handoff/{handoff_id}/events",
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
    response_class=StreamingResponse,
)
async def thread_events(
    handoff_id: str, request: Request, token: str = Query(max_length=64), after: int = 0
) -> StreamingResponse:
    """Server-Sent Events: each new thread message as `message` (its id as the event id), then
    `status` when the thread closes. A reconnecting browser resumes after Last-Event-ID."""
    service = _service(request)
    await run_in_threadpool(service.applicant_thread, handoff_id, token)  # 404 before the stream starts
    last = request.headers.get("last-event-id", "")
    after = max(after, int(last)) if last.isdigit() else after
    return StreamingResponse(
        _thread_stream(service, handoff_id, after, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _thread_stream(
    service: ConversationService, handoff_id: str, after: int, request: Request
) -> AsyncIterator[bytes]:
    started = pinged = time.monotonic()
    yield b"retry: 3000\n\n"
    while time.monotonic() - started < STREAM_S:
        if await request.is_disconnected():
            return
        try:
            thread = await run_in_threadpool(service.thread, handoff_id, after=after)
        except Exception:  # the database is away for a moment: keep the stream, try again
            thread = None
        if thread is not None:
            for message in thread.get("replies", []):  # only those after `after`
                after = message["id"]
                data = json.dumps(public_message(message), ensure_ascii=False)
                yield f"id: {after}\nevent: message\ndata: {data}\n\n".encode()
            if thread["status"] == "closed":
                yield f"event: status\ndata: {json.dumps({'status': 'closed'})}\n\n".encode()
                return
        if time.monotonic() - pinged >= PING_S:
            pinged = time.monotonic()
            yield b": ping\n\n"
        await asyncio.sleep(POLL_S)
