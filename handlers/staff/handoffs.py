"""Live handoffs on the staff pages: open threads first with their waiting time, then claim,
reply and close — the same threads the widget and the Telegram bot read, through the conversation
service (so every reply is audited there, whichever surface it was typed on)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.conversation import ConversationService
from common.errors import HandoffClosedError, HandoffNotFoundError, InvalidQueryError
from handlers.staff.base import SECURITY_HEADERS, Refused, StaffBase
from handlers.staff.forms import _text

_HANDOFF_ID = re.compile(r"^[0-9a-f]{32}$")
STATIC_DIR = Path(__file__).parent.parent / "static"
VIA = "staff page"


class HandoffPages(StaffBase):
    """/staff/handoffs: the list, one thread, and claim / reply / close (forms and JSON)."""

    def conversation(self, request: Request) -> ConversationService:
        service: ConversationService | None = self._conversation or getattr(
            request.app.state, "conversation", None
        )
        if service is None:
            raise Refused(503, "the conversation service is not ready yet")
        return service

    def _handoff_id(self, handoff_id: str) -> str:
        if not _HANDOFF_ID.match(handoff_id):
            raise Refused(404, "no such handoff")
        return handoff_id

    async def handoffs_page(self, request: Request) -> Response:
        staff = await self.who(request)
        show = request.query_params.get("show", "live")
        threads = await run_in_threadpool(
            self.store(request).handoff_threads, status=None if show == "all" else "live"
        )
        return self.render(request, "handoffs.html", staff=staff, threads=threads, show=show)

    async def handoff_page(self, request: Request, handoff_id: str) -> Response:
        staff = await self.who(request)
        thread = await self._act(request, self.conversation(request).thread, self._handoff_id(handoff_id))
        questions = await run_in_threadpool(self._questions, request, thread["session_id"])
        return self.render(
            request,
            "handoff.html",
            staff=staff,
            h=thread,
            questions=questions,
            last_id=max((m["id"] for m in thread["replies"]), default=0),
            notice=request.query_params.get("done"),
        )

    def _questions(self, request: Request, session_id: str) -> list[str]:
        """What the applicant asked the assistant before asking for a person."""
        threads = self.store(request).handoff_threads(status=None, limit=500)
        return next((t["questions"] for t in threads if t["session_id"] == session_id), [])

    async def handoff_claim(self, request: Request, handoff_id: str) -> Response:
        staff, _ = await self.staff_form(request)
        await self._act(
            request, self.conversation(request).claim, self._handoff_id(handoff_id), staff=staff.name, via=VIA
        )
        return self._back_to(handoff_id, "claimed")

    async def handoff_reply(self, request: Request, handoff_id: str) -> Response:
        staff, form = await self.staff_form(request)
        text = _text(form, "text")
        await self._act(
            request,
            self.conversation(request).staff_reply,
            self._handoff_id(handoff_id),
            text,
            staff=staff.name,
            via=VIA,
        )
        if _text(form, "close"):
            await self._act(
                request, self.conversation(request).close, handoff_id, by=staff.name, role="staff", via=VIA
            )
        return self._back_to(handoff_id, "replied")

    async def handoff_close(self, request: Request, handoff_id: str) -> Response:
        staff, _ = await self.staff_form(request)
        await self._act(
            request,
            self.conversation(request).close,
            self._handoff_id(handoff_id),
            by=staff.name,
            role="staff",
            via=VIA,
        )
        return self._back_to(handoff_id, "closed")

    async def _act(self, request: Request, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run_in_threadpool(call, *args, **kwargs)
        except HandoffNotFoundError as exc:
            raise Refused(404, "no such handoff") from exc
        except HandoffClosedError as exc:
            raise Refused(409, "该人工对话已结束，申请人不会收到这条回复。") from exc
        except InvalidQueryError as exc:
            raise Refused(422, str(exc)) from exc

    def _back_to(self, handoff_id: str, done: str) -> Response:
        return RedirectResponse(f"/staff/handoffs/{handoff_id}?done={done}", status_code=303)

    async def handoff_messages(self, request: Request, handoff_id: str) -> dict[str, Any]:
        """JSON for the thread page's live view (and API clients): status and messages after `after`."""
        await self.who(request, api=True)
        after = request.query_params.get("after", "0")
        since = int(after) if after.isdigit() else 0
        thread = await self._act(
            request, self.conversation(request).thread, self._handoff_id(handoff_id), after=since
        )
        return {
            "handoff_id": thread["handoff_id"],
            "status": thread["status"],
            "claimed_by": thread["claimed_by"],
            "messages": thread["replies"],
        }

    async def api_handoffs(self, request: Request) -> list[dict[str, Any]]:
        """JSON: live threads, longest waiting first (`?show=all` adds closed ones)."""
        await self.who(request, api=True)
        show = request.query_params.get("show", "live")
        threads = await run_in_threadpool(
            self.store(request).handoff_threads, status=None if show == "all" else "live"
        )
        return [{k: v for k, v in t.items() if k != "token_hash"} for t in threads]

    async def api_handoff_reply(self, request: Request, handoff_id: str) -> dict[str, Any]:
        """JSON: `{"text": …, "close": false}` from a staff token (or a session with its CSRF token)."""
        staff = await self.who(request, api=True)
        self.check_csrf(request, staff, None)
        try:
            body = await request.json()
        except ValueError as exc:
            raise Refused(400, "the body is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise Refused(422, "a text is required")
        service = self.conversation(request)
        message = await self._act(
            request,
            service.staff_reply,
            self._handoff_id(handoff_id),
            body["text"],
            staff=staff.name,
            via="staff api",
        )
        if body.get("close") is True:
            await self._act(request, service.close, handoff_id, by=staff.name, role="staff", via="staff api")
        result: dict[str, Any] = message
        return result

    async def handoff_script(self, request: Request) -> Response:
        await self.who(request)
        return FileResponse(
            STATIC_DIR / "staff-handoff.js",
            media_type="application/javascript; charset=utf-8",
            headers=SECURITY_HEADERS,
        )
