"""The FAQ pages: the list of answers staff wrote, adding one, editing one, retiring and restoring."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.faq import edit_faq
from bot.store import FAQ_STATUSES
from handlers.staff.base import COOKIE_PATH, Refused, Staff
from handlers.staff.forms import _lines, _text
from handlers.staff.queue import ReviewQueue


def _faq_number(value: str) -> int:
    if not value.isdigit() or len(value) > 12:
        raise Refused(404, "no such FAQ entry")
    return int(value)


class FaqPages(ReviewQueue):
    """The FAQ page and its forms; `_edit` serves the JSON API too."""

    async def faq_page(self, request: Request) -> Response:
        staff = await self.who(request)
        status = request.query_params.get("status", "active")
        entries = await run_in_threadpool(
            self.store(request).faq_entries, status=status if status in FAQ_STATUSES else None
        )
        return self.render(
            request,
            "faq.html",
            staff=staff,
            entries=entries,
            status=status if status in FAQ_STATUSES else "all",
            created=request.query_params.get("created", ""),
        )

    async def faq_new(self, request: Request) -> Response:
        staff, form = await self.staff_form(request)
        questions = _lines(_text(form, "questions"))
        answer = _text(form, "answer").strip()
        if not questions or not answer:
            raise Refused(422, "an FAQ answer needs at least one question and the answer text")
        source = _text(form, "source").strip()[:500] or None
        item = await run_in_threadpool(self._publish, request, staff, questions, answer, source, [])
        await self.audit(request, staff.name, "faq_create", f"faq {item['id']}", questions=questions)
        return RedirectResponse(f"{COOKIE_PATH}/faq?created={item['id']}#faq-{item['id']}", status_code=303)

    def _edit(self, request: Request, staff: Staff, faq_id: int, **changes: Any) -> dict[str, Any]:
        assistant = self.assistant(request)
        try:
            return edit_faq(
                self.store(request),
                assistant.index,
                assistant,
                faq_id,
                author=staff.name,
                lock=self.lock(request),
                **changes,
            )
        except KeyError as exc:
            raise Refused(404, f"no FAQ entry {faq_id}") from exc
        except ValueError as exc:
            raise Refused(422, str(exc)) from exc

    async def faq_edit(self, request: Request, faq_id: str) -> Response:
        staff, form = await self.staff_form(request)
        number = _faq_number(faq_id)
        questions = _lines(_text(form, "questions"))
        item = await run_in_threadpool(
            self._edit,
            request,
            staff,
            number,
            questions=questions,
            answer=_text(form, "answer"),
            source=_text(form, "source")[:500],
        )
        await self.audit(request, staff.name, "faq_edit", f"faq {number}", questions=item["questions"])
        return RedirectResponse(f"{COOKIE_PATH}/faq#faq-{number}", status_code=303)

    async def faq_status(self, request: Request, faq_id: str) -> Response:
        staff, form = await self.staff_form(request)
        number = _faq_number(faq_id)
        status = _text(form, "status")
        if status not in FAQ_STATUSES:
            raise Refused(422, "unknown FAQ status")
        await run_in_threadpool(self._edit, request, staff, number, status=status)
        action = "faq_retire" if status == "retired" else "faq_restore"
        await self.audit(request, staff.name, action, f"faq {number}")
        return RedirectResponse(f"{COOKIE_PATH}/faq?status={status}#faq-{number}", status_code=303)
