"""The review queue: questions grouped by meaning, their review status, answering a group as an FAQ
entry (live handoffs are listed; they are answered on the handoff pages)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.faq import group_questions, publish_faq
from bot.store import REVIEW_STATUSES
from handlers.staff.base import COOKIE_PATH, Refused, Staff, StaffBase
from handlers.staff.forms import _back, _day, _ids, _lines, _safe_next, _text


class ReviewQueue(StaffBase):
    """The queue page and its forms; `_queue` and `_publish` serve the numbers page and the JSON API too."""

    def _filters(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        status = q.get("status", "open")
        return {
            "status": status if status in REVIEW_STATUSES else None,
            "channel": q.get("channel") or None,
            "intent": q.get("intent") or None,
            "task": q.get("task") or None,
            "since": _day(q.get("since")),
            "until": _day(q.get("until")),
        }

    def _queue(self, request: Request, filters: dict[str, Any]) -> list[dict[str, Any]]:
        store, assistant = self.store(request), self.assistant(request)
        items = store.review_items(**filters, low_confidence=self.low_confidence)
        return group_questions(items, assistant.index.embedder, threshold=self.cluster_threshold)

    async def queue_page(self, request: Request) -> Response:
        staff = await self.who(request)
        filters = self._filters(request)
        groups = await run_in_threadpool(self._queue, request, filters)
        store = self.store(request)
        facets = await run_in_threadpool(store.facets)
        handoffs = await run_in_threadpool(store.handoff_threads, status="live")
        return self.render(
            request,
            "queue.html",
            staff=staff,
            groups=groups,
            handoffs=handoffs,
            facets=facets,
            filters={k: (v.isoformat() if isinstance(v, date) else (v or "")) for k, v in filters.items()},
            status_raw=request.query_params.get("status", "open"),
            back=_back(request),
            statuses=REVIEW_STATUSES,
        )

    async def queue_status(self, request: Request) -> Response:
        staff, form = await self.staff_form(request)
        status = _text(form, "status")
        ids = _ids(form)
        if status not in REVIEW_STATUSES or not ids:
            raise Refused(422, "choose a status and at least one question")
        count = await run_in_threadpool(self.store(request).set_review_status, ids, status, actor=staff.name)
        await self.audit(
            request, staff.name, "review_status", f"{count} messages", status=status, message_ids=ids
        )
        return RedirectResponse(_safe_next(_text(form, "back"), "/staff/queue"), status_code=303)

    async def queue_answer(self, request: Request) -> Response:
        staff, form = await self.staff_form(request)
        questions = _lines(_text(form, "questions"))
        answer = _text(form, "answer").strip()
        source = _text(form, "source").strip()[:500] or None
        if not questions or not answer:
            raise Refused(422, "an FAQ answer needs at least one question and the answer text")
        item = await run_in_threadpool(self._publish, request, staff, questions, answer, source, _ids(form))
        await self.audit(
            request, staff.name, "faq_create", f"faq {item['id']}", questions=questions, resolves=_ids(form)
        )
        return RedirectResponse(f"{COOKIE_PATH}/faq?created={item['id']}#faq-{item['id']}", status_code=303)

    def _publish(
        self,
        request: Request,
        staff: Staff,
        questions: list[str],
        answer: str,
        source: str | None,
        resolves: list[str],
    ) -> dict[str, Any]:
        assistant = self.assistant(request)
        try:
            return publish_faq(
                self.store(request),
                assistant.index,
                assistant,
                questions,
                answer,
                source,
                staff.name,
                resolves=resolves,
                lock=self.lock(request),
            )
        except ValueError as exc:
            raise Refused(422, str(exc)) from exc
