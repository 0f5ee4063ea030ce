"""The HTTP API as its tests call it: the settings of an app under test (the shipped notice, small
limits, no allowed origins) and asking a question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from common.settings import Settings
from tests.support.paths import KNOWLEDGE

DEADLINE_Q = "社区学习中心啥时候截止"


def api_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "knowledge_dir": KNOWLEDGE,
        "today": "2026-11-28",
        "max_question_chars": 500,
        "max_body_bytes": 16_384,
        "rate_limit_per_minute": 1000,
        "allowed_origins": "",
    }
    values.update(overrides)
    return Settings(**values)


def ask(client: TestClient, question: Any, **extra: Any) -> Any:
    return client.post("/api/ask", json={"question": question, **extra})
