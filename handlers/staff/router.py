"""`staff_router`: every staff page and endpoint on one APIRouter under /staff."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from fastapi import APIRouter

from bot.store import Store
from common.settings import Settings
from handlers.staff.api import StaffApi
from handlers.staff.auth import StaffAuth
from handlers.staff.exports import StaffExports
from handlers.staff.handoffs import HandoffPages
from handlers.staff.knowledge import KnowledgePages
from handlers.staff.numbers import NumbersPages


def staff_router(
    settings: Settings,
    *,
    store: Store | None = None,
    assistant: Any = None,
    conversation: Any = None,
    lock: AbstractContextManager[Any] | None = None,
) -> APIRouter:
    """The staff pages and JSON endpoints, to be included in the app (they live under /staff).

    The store, assistant and conversation service are the app's (`app.state`) unless given; every
    knob (sign-in limits, review thresholds, upload size) comes from `settings`.
    """
    return StaffPages(settings, store=store, assistant=assistant, conversation=conversation, lock=lock).router


class StaffPages(StaffAuth, StaffApi, NumbersPages, KnowledgePages, StaffExports, HandoffPages):
    """All the staff pages and endpoints; `self.router` holds their routes."""

    def _routes(self) -> None:
        r = self.router
        html, api = self.html_route, self.json_route
        r.add_api_route("", html(self.home), methods=["GET"], include_in_schema=False)
        r.add_api_route("/", html(self.home), methods=["GET"], include_in_schema=False)
        r.add_api_route("/login", html(self.login_form), methods=["GET"], include_in_schema=False)
        r.add_api_route("/login", html(self.login), methods=["POST"], include_in_schema=False)
        r.add_api_route("/logout", html(self.logout), methods=["POST"], include_in_schema=False)
        r.add_api_route("/queue", html(self.queue_page), methods=["GET"], include_in_schema=False)
        r.add_api_route("/queue/status", html(self.queue_status), methods=["POST"], include_in_schema=False)
        r.add_api_route("/queue/answer", html(self.queue_answer), methods=["POST"], include_in_schema=False)
        r.add_api_route("/handoffs", html(self.handoffs_page), methods=["GET"], include_in_schema=False)
        r.add_api_route("/handoff.js", html(self.handoff_script), methods=["GET"], include_in_schema=False)
        r.add_api_route(
            "/handoffs/{handoff_id}", html(self.handoff_page), methods=["GET"], include_in_schema=False
        )
        for action, page in (
            ("claim", self.handoff_claim),
            ("reply", self.handoff_reply),
            ("close", self.handoff_close),
        ):
            r.add_api_route(
                f"/handoffs/{{handoff_id}}/{action}", html(page), methods=["POST"], include_in_schema=False
            )
        r.add_api_route(
            "/api/handoffs/{handoff_id}/messages", api(self.handoff_messages), methods=["GET"], tags=["staff"]
        )
        r.add_api_route("/api/handoffs", api(self.api_handoffs), methods=["GET"], tags=["staff"])
        r.add_api_route(
            "/api/handoffs/{handoff_id}/reply", api(self.api_handoff_reply), methods=["POST"], tags=["staff"]
        )
        r.add_api_route("/faq", html(self.faq_page), methods=["GET"], include_in_schema=False)
        r.add_api_route("/faq/new", html(self.faq_new), methods=["POST"], include_in_schema=False)
        r.add_api_route("/faq/{faq_id}", html(self.faq_edit), methods=["POST"], include_in_schema=False)
        r.add_api_route(
            "/faq/{faq_id}/status", html(self.faq_status), methods=["POST"], include_in_schema=False
        )
        r.add_api_route("/knowledge", html(self.knowledge_page), methods=["GET"], include_in_schema=False)
        r.add_api_route(
            "/knowledge/upload", html(self.knowledge_upload), methods=["POST"], include_in_schema=False
        )
        r.add_api_route(
            "/knowledge/publish", html(self.knowledge_publish), methods=["POST"], include_in_schema=False
        )
        r.add_api_route(
            "/knowledge/relation", html(self.knowledge_relation), methods=["POST"], include_in_schema=False
        )
        r.add_api_route(
            "/knowledge/status", html(self.knowledge_status), methods=["POST"], include_in_schema=False
        )
        r.add_api_route(
            "/knowledge/compare", html(self.knowledge_compare), methods=["GET"], include_in_schema=False
        )
        r.add_api_route("/numbers", html(self.numbers_page), methods=["GET"], include_in_schema=False)
        r.add_api_route("/audit", html(self.audit_page), methods=["GET"], include_in_schema=False)
        r.add_api_route(
            "/export/messages.csv", html(self.export_messages), methods=["GET"], include_in_schema=False
        )
        r.add_api_route("/export/faq.csv", html(self.export_faq), methods=["GET"], include_in_schema=False)
        r.add_api_route("/api/queue", api(self.api_queue), methods=["GET"], tags=["staff"])
        r.add_api_route("/api/stats", api(self.api_stats), methods=["GET"], tags=["staff"])
        r.add_api_route("/api/faq", api(self.api_faq_list), methods=["GET"], tags=["staff"])
        r.add_api_route("/api/faq", api(self.api_faq_create), methods=["POST"], tags=["staff"])
        r.add_api_route("/api/faq/{faq_id}", api(self.api_faq_edit), methods=["POST"], tags=["staff"])
        r.add_api_route("/api/queue/status", api(self.api_queue_status), methods=["POST"], tags=["staff"])
