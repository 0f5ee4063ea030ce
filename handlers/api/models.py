"""The request and response models of the HTTP API (its OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SESSION_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"


class AskRequest(BaseModel):
    """A question; without a session id a new session is started."""

    model_config = ConfigDict(extra="ignore")

    question: str = Field(
        description="The applicant's question (its length limit is checked by the assistant)."
    )
    session_id: str | None = Field(
        None, pattern=SESSION_PATTERN, description="Session for follow-up questions."
    )
    channel: Literal["web", "api"] = Field("api", description="Who asks: the web widget or an API client.")


class CitationPublic(BaseModel):
    doc_id: str
    title: str
    section: str
    quote: str
    kind: str


class ContactPublic(BaseModel):
    name: str | None = None
    department: str | None = None
    phone: str | None = None
    email: str | None = None


class NoticeOptionPublic(BaseModel):
    doc_id: str
    title: str


class DeadlineRefPublic(BaseModel):
    key: str
    what: str
    date: str


class DeadlinePublic(BaseModel):
    """A deadline of a notice in force; `calendar` is its .ics file."""

    key: str
    doc_id: str
    notice: str
    what: str
    date: str
    time: str | None
    start: str | None = Field(None, description="When the deadline closes a window: the day it opens.")
    days_left: int
    changed_from: str | None
    changed_by: str | None
    calendar: str


class AnswerPublic(BaseModel):
    """The answer contract every channel shares."""

    answer: str
    citations: list[CitationPublic]
    escalated: bool
    contacts: list[ContactPublic]
    confidence: float
    intent: str
    task: str | None
    session_id: str
    message_id: str
    language: str
    degraded: bool
    clarify: list[NoticeOptionPublic] = Field(
        default_factory=list,
        description="Notices to choose from; send the chosen title as the next question.",
    )
    deadlines: list[DeadlineRefPublic] = Field(
        default_factory=list,
        description="Deadlines the answer gives; GET /api/deadlines/{key}.ics adds one to a calendar.",
    )


class FeedbackRequest(BaseModel):
    session_id: str = Field(pattern=SESSION_PATTERN)
    message_id: str = Field(pattern=SESSION_PATTERN)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


class FeedbackPublic(BaseModel):
    at: str
    session_id: str
    message_id: str
    rating: Literal["up", "down"]
    comment: str | None


class HandoffRequest(BaseModel):
    session_id: str = Field(pattern=SESSION_PATTERN)
    note: str | None = Field(None, max_length=2000)
    channel: Literal["web", "api"] = "api"


class ThreadMessagePublic(BaseModel):
    """A message in a thread with staff, as the applicant sees it (staff are not named)."""

    id: int
    role: Literal["applicant", "staff", "system"]
    text: str
    at: str | None


class HandoffPublic(BaseModel):
    handoff_id: str
    session_id: str
    status: str = Field(description="open, claimed (a staff member is answering) or closed")
    contacts: list[ContactPublic]
    thread_token: str | None = Field(
        None, description="Web applicants only: the token to read and write the thread with (shown once)."
    )
    messages: list[ThreadMessagePublic] = []


class ThreadPublic(BaseModel):
    handoff_id: str
    status: str
    messages: list[ThreadMessagePublic]


class ThreadMessageIn(BaseModel):
    token: str = Field(max_length=64)
    text: str = Field(
        max_length=4000, description="The message (its length limit is checked by the service)."
    )


class ThreadClose(BaseModel):
    token: str = Field(max_length=64)


class ErrorPublic(BaseModel):
    error: str


class HealthPublic(BaseModel):
    status: str
    documents: int | None = None
    degraded: bool | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic} for status in (400, 404, 409, 413, 422, 429, 503)
}
