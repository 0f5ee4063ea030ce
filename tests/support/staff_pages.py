"""Signing in to the staff pages through their forms, and the CSRF token a signed-in page carries."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"


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
