"""The staff JSON API under /staff/api (the pages' twins, for a session or a bearer token) and its bodies."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from bot.store import FAQ_STATUSES, REVIEW_STATUSES
from handlers.staff.base import Refused
from handlers.staff.faq import FaqPages, _faq_number
from handlers.staff.forms import _int

# -- JSON bodies ------------------------------------------------------------------------------------------


class FaqIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[str] = Field(min_length=1, max_length=50)
    answer: str = Field(min_length=1, max_length=10_000)
    source: str | None = Field(None, max_length=500)
    resolves: list[str] = Field(default_factory=list, max_length=1000)


class FaqPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[str] | None = Field(None, min_length=1, max_length=50)
    answer: str | None = Field(None, min_length=1, max_length=10_000)
    source: str | None = Field(None, max_length=500)
    status: str | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_ids: list[str] = Field(min_length=1, max_length=1000)
    status: str


class StaffApi(FaqPages):
    """The JSON endpoints: the queue, the numbers, the FAQ (list, create, edit), review status."""

    async def api_queue(self, request: Request) -> Any:
        await self.who(request, api=True)
        filters = self._filters(request)
        if request.query_params.get("status") == "all":
            filters["status"] = None
        groups = await run_in_threadpool(self._queue, request, filters)
        return {"groups": groups, "count": sum(g["count"] for g in groups)}

    async def api_stats(self, request: Request) -> Any:
        await self.who(request, api=True)
        days = _int(request.query_params.get("days"), 30, 1, 365)
        return await run_in_threadpool(
            self.store(request).stats, days=days, low_confidence=self.low_confidence
        )

    async def api_faq_list(self, request: Request) -> Any:
        await self.who(request, api=True)
        status = request.query_params.get("status", "active")
        entries = await run_in_threadpool(
            self.store(request).faq_entries, status=status if status in FAQ_STATUSES else None
        )
        return {"entries": entries}

    async def _json(self, request: Request, model: type[BaseModel]) -> Any:
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            errors = exc.errors()
            where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
            message = errors[0]["msg"] if errors else "invalid"
            raise Refused(422, f"invalid request: {where or 'body'}: {message}") from exc

    async def api_faq_create(self, request: Request) -> Any:
        staff = await self.who(request, api=True)
        self.check_csrf(request, staff, None)
        body: FaqIn = await self._json(request, FaqIn)
        questions = [q.strip() for q in body.questions if q.strip()]
        if not questions or not body.answer.strip():
            raise Refused(422, "an FAQ answer needs at least one question and the answer text")
        item = await run_in_threadpool(
            self._publish, request, staff, questions, body.answer, body.source, body.resolves
        )
        await self.audit(
            request, staff.name, "faq_create", f"faq {item['id']}", questions=questions, via=staff.via
        )
        return JSONResponse({**item, "indexed": True}, status_code=201, headers={"Cache-Control": "no-store"})

    async def api_faq_edit(self, request: Request, faq_id: str) -> Any:
        staff = await self.who(request, api=True)
        self.check_csrf(request, staff, None)
        number = _faq_number(faq_id)
        body: FaqPatch = await self._json(request, FaqPatch)
        if body.status is not None and body.status not in FAQ_STATUSES:
            raise Refused(422, f"status must be one of {', '.join(FAQ_STATUSES)}")
        changes = body.model_dump(exclude_none=True)
        item = await run_in_threadpool(self._edit, request, staff, number, **changes)
        await self.audit(
            request, staff.name, "faq_edit", f"faq {number}", changes=sorted(changes), via=staff.via
        )
        return item

    async def api_queue_status(self, request: Request) -> Any:
        staff = await self.who(request, api=True)
        self.check_csrf(request, staff, None)
        body: StatusIn = await self._json(request, StatusIn)
        if body.status not in REVIEW_STATUSES:
            raise Refused(422, f"status must be one of {', '.join(REVIEW_STATUSES)}")
        count = await run_in_threadpool(
            self.store(request).set_review_status, body.message_ids, body.status, actor=staff.name
        )
        await self.audit(
            request, staff.name, "review_status", f"{count} messages", status=body.status, via=staff.via
        )
        return {"updated": count}
