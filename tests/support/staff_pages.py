"""The staff pages as tests drive them: the staff router alone in an app, questions logged for the
review queue, signing in through the forms, and the CSRF token a signed-in page carries."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.conversation import ConversationService
from bot.store import Store
from common.settings import Settings
from handlers.staff import staff_router

PASSWORD = "correct horse battery staple"


def staff_app(settings: Settings, store: Store, assistant: Assistant) -> FastAPI:
    """An app that serves the staff pages (and nothing else) over this store and assistant."""
    app = FastAPI()
    conversation = ConversationService(assistant, store)
    app.include_router(staff_router(settings, store=store, assistant=assistant, conversation=conversation))
    return app


def log_question(store: Store, assistant: Assistant, question: str, channel: str = "web") -> dict[str, Any]:
    """Ask the assistant and journal the answer as a channel would; returns the answer's contract."""
    answer = assistant.ask(question).to_dict()
    store.log_answer(channel=channel, question=question, answer=answer, latency_ms=10.0)
    return answer


def login_csrf(client: TestClient) -> str:
    page = client.get("/staff/login")
    assert page.status_code == 200
    return hidden(page.text, "csrf_token")


def login(client: TestClient, name: str, password: str, **extra: str) -> Any:
    token = login_csrf(client)
    return client.post(
        "/staff/login", data={"name": name, "password": password, "csrf_token": token, **extra}
    )


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)


def csrf_of(client: TestClient) -> str:
    return hidden(client.get("/staff/faq").text, "csrf_token")
